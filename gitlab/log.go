package gitlab

import (
	"fmt"
	"strings"

	"github.com/self-heal/self-heal/pkg/ci"
)

// summaryTitle heads the collapsed section that holds the report.
const summaryTitle = "self-heal report"

// Summary writes the Markdown report into a collapsed section of the job
// log, GitLab having no job summary. An empty report writes nothing.
func (p *Platform) Summary(markdown string) error {
	if strings.TrimSpace(markdown) == "" {
		return nil
	}
	end := p.section(summaryTitle, true)
	_, err := fmt.Fprintln(p.out, strings.TrimRight(markdown, "\n"))
	end()
	if err != nil {
		return fmt.Errorf("write report to the job log: %w", err)
	}
	return nil
}

// ANSI colours of the job log, by annotation level.
var levelColour = map[string]string{
	"error":   "\x1b[31;1m",
	"warning": "\x1b[33;1m",
	"notice":  "\x1b[36;1m",
}

// Annotate writes a as a coloured line of the job log, GitLab having no
// annotations: "ERROR: title: message". Unknown levels print uncoloured.
func (p *Platform) Annotate(a ci.Annotation) error {
	level := strings.ToLower(a.Level)
	if level == "" {
		level = "notice"
	}
	head := strings.ToUpper(level)
	if a.Title != "" {
		head += ": " + oneLine(a.Title)
	}
	msg := strings.TrimRight(a.Message, "\n")
	if c, ok := levelColour[level]; ok {
		head = c + head + "\x1b[0m"
	}
	line := head
	if msg != "" {
		line += ": " + msg
	}
	if _, err := fmt.Fprintln(p.out, line); err != nil {
		return fmt.Errorf("write annotation to the job log: %w", err)
	}
	return nil
}

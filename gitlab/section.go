package gitlab

import (
	"fmt"
	"strings"
)

// Sections fold log lines in GitLab's job log. The markers are escape
// sequences on a line of their own; the log viewer hides them and shows
// the header with the section's duration:
// https://docs.gitlab.com/ci/jobs/job_logs/#custom-collapsible-sections
const (
	sectionStart = "\x1b[0Ksection_start:%d:%s%s\r\x1b[0K%s\n"
	sectionEnd   = "\x1b[0Ksection_end:%d:%s\r\x1b[0K\n"
)

// StartGroup opens an expanded section titled title; the returned
// function closes it. Each call gets a section name of its own.
func (p *Platform) StartGroup(title string) (end func()) {
	return p.section(title, false)
}

// section writes a section start and returns the function that writes its
// end. Errors writing to the job log are ignored: there is nowhere else to
// report them.
func (p *Platform) section(title string, collapsed bool) func() {
	name := p.sectionName(title)
	opts := ""
	if collapsed {
		opts = "[collapsed=true]"
	}
	_, _ = fmt.Fprintf(p.out, sectionStart, p.now().Unix(), name, opts, oneLine(title))
	return func() { _, _ = fmt.Fprintf(p.out, sectionEnd, p.now().Unix(), name) }
}

// sectionName turns title into a section name GitLab accepts (letters,
// digits, '_', '.' and '-'), made unique by a suffix when it repeats.
func (p *Platform) sectionName(title string) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '_'
	}, title)
	if name == "" {
		name = "self-heal"
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen[name]++
	if n := p.seen[name]; n > 1 {
		name = fmt.Sprintf("%s_%d", name, n)
	}
	return name
}

// oneLine keeps a header on one line: a newline would end the marker.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

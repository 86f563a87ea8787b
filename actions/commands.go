package actions

import (
	"errors"
	"fmt"
	"strings"

	"github.com/self-heal/self-heal/pkg/ci"
)

// delimiter is the heredoc delimiter go-githubactions writes around
// multi-line values in environment files. A value holding it on a line of
// its own would end the value early and inject the rest as new entries.
const delimiter = "_GitHubActionsFileCommandDelimeter_"

// StartGroup folds the log lines that follow under title (::group::) until
// the returned function is called (::endgroup::).
func (p *Platform) StartGroup(title string) func() {
	_ = safely("start group", func() { p.gha.Group(title) })
	return func() { _ = safely("end group", p.gha.EndGroup) }
}

// Annotate attaches an ::error, ::warning or ::notice annotation with a
// title to the run. An unknown level is a notice.
func (p *Platform) Annotate(a ci.Annotation) error {
	gha := p.gha
	if a.Title != "" {
		gha = gha.WithFieldsMap(map[string]string{"title": a.Title})
	}
	return safely("annotate", func() {
		switch a.Level {
		case "error":
			gha.Errorf("%s", a.Message)
		case "warning":
			gha.Warningf("%s", a.Message)
		default:
			gha.Noticef("%s", a.Message)
		}
	})
}

// Summary appends markdown to the job summary (GITHUB_STEP_SUMMARY).
func (p *Platform) Summary(markdown string) error {
	if p.getenv("GITHUB_STEP_SUMMARY") == "" {
		return errors.New("job summary: GITHUB_STEP_SUMMARY is not set")
	}
	return safely("job summary", func() { p.gha.AddStepSummary(markdown) })
}

// SetOutput sets a step output (GITHUB_OUTPUT).
func (p *Platform) SetOutput(name, value string) error {
	if p.getenv("GITHUB_OUTPUT") == "" {
		return fmt.Errorf("output %s: GITHUB_OUTPUT is not set", name)
	}
	if strings.Contains(value, delimiter) || strings.Contains(name, delimiter) {
		return fmt.Errorf("output %s: the value holds the environment file delimiter", name)
	}
	return safely("output "+name, func() { p.gha.SetOutput(name, value) })
}

// Mask hides secret in the job log from now on (::add-mask::). The runner
// masks line by line, so each line of a multi-line secret is masked too.
func (p *Platform) Mask(secret string) {
	for _, line := range strings.Split(secret, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		_ = safely("mask", func() { p.gha.AddMask(line) })
	}
}

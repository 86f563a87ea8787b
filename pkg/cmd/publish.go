package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/self-heal/self-heal/pkg/ci"
	"github.com/self-heal/self-heal/pkg/redact"
	"github.com/self-heal/self-heal/pkg/report"
)

// publishFlags control what a run shows on its CI platform.
type publishFlags struct {
	comment bool
	// flags is the command's flag set, where --report is read from.
	flags *pflag.FlagSet
}

func (f *publishFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&f.comment, "comment", true,
		"post the report as a sticky comment on the pull or merge request")
	f.flags = fs
}

// reportPath is the JSON report's absolute path, or "" when none was
// written.
func (f *publishFlags) reportPath(env *Env) string {
	if f.flags == nil {
		return ""
	}
	fl := f.flags.Lookup("report")
	if fl == nil || fl.Value.String() == "" {
		return ""
	}
	path := absFrom(env.Dir, fl.Value.String())
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	return path
}

// publishRun shows the run's report on the CI platform: step outputs, an
// annotation per recognised failure, the job summary and the sticky
// comment, each through the platform's optional interfaces. Everything
// passes through the redactor first. Failures here are warnings, one each;
// they never change the exit code.
func publishRun(ctx context.Context, env *Env, f *publishFlags, run *report.Run,
	red *redact.Redactor,
) {
	pub := &publisher{env: env, red: red}
	r, err := redactRun(run, red)
	if err != nil {
		pub.warn(fmt.Errorf("publish the report: %w", err))
		return
	}
	info := env.Platform.Info()
	key := commentKey(info, r)

	pub.outputs(append(runOutputs([]*report.Run{r}), output{"report", f.reportPath(env)}))
	pub.annotate(annotations(r))
	pub.summary(report.Markdown(r, markdownOptions(info, "", report.MaxSummary)))
	if f.comment {
		pub.comment(ctx, key, report.Markdown(r, markdownOptions(info, key, report.MaxComment)))
	}
}

// commentKey names the sticky comment of a run: one per job, stack and
// environment.
func commentKey(info ci.Info, r *report.Run) string {
	key := info.Job
	if key == "" {
		key = "self-heal"
	}
	key += ":" + r.Stack
	if r.Environment != "" {
		key += "@" + r.Environment
	}
	return key
}

func markdownOptions(info ci.Info, key string, limit int) report.MarkdownOptions {
	return report.MarkdownOptions{Key: key, Job: info.Job, RunURL: info.RunURL, Limit: limit}
}

// publisher hands redacted text to the platform's optional interfaces
// and turns each failure into one warning.
type publisher struct {
	env *Env
	red *redact.Redactor
}

// warn shows one warning: as a warning annotation where the platform
// has them, else on stderr.
func (p *publisher) warn(err error) {
	msg := p.red.String(err.Error())
	if a, ok := p.env.Platform.(ci.Annotator); ok {
		if a.Annotate(ci.Annotation{Level: "warning", Title: "self-heal", Message: msg}) == nil {
			return
		}
	}
	fmt.Fprintf(p.env.Stderr, "self-heal: warning: %s\n", msg)
}

// output is one step output.
type output struct{ name, value string }

func (p *publisher) outputs(outs []output) {
	o, ok := p.env.Platform.(ci.Outputter)
	if !ok {
		return
	}
	for _, out := range outs {
		if err := o.SetOutput(out.name, p.red.String(out.value)); err != nil {
			p.warn(fmt.Errorf("set the step outputs: %w", err))
			return
		}
	}
}

func (p *publisher) annotate(list []ci.Annotation) {
	a, ok := p.env.Platform.(ci.Annotator)
	if !ok {
		return
	}
	for _, an := range list {
		an.Title, an.Message = p.red.String(an.Title), p.red.String(an.Message)
		if err := a.Annotate(an); err != nil {
			fmt.Fprintf(p.env.Stderr, "self-heal: warning: annotate the failure: %s\n",
				p.red.String(err.Error()))
			return
		}
	}
}

func (p *publisher) summary(markdown string) {
	s, ok := p.env.Platform.(ci.Summarizer)
	if !ok {
		return
	}
	if err := s.Summary(p.red.String(markdown)); err != nil {
		p.warn(fmt.Errorf("write the job summary: %w", err))
	}
}

func (p *publisher) comment(ctx context.Context, key, markdown string) {
	c, ok := p.env.Platform.(ci.Commenter)
	if !ok {
		return
	}
	err := c.Comment(ctx, key, p.red.String(markdown))
	if err != nil && !errors.Is(err, ci.ErrNoChangeRequest) {
		p.warn(fmt.Errorf("the report was not posted as a comment (the job summary and "+
			"annotations carry it): %w", err))
	}
}

// runOutputs are the step outputs of one run or of several merged:
// the worst outcome, whether any healed, the attempts, the patterns and
// the fixes applied.
func runOutputs(runs []*report.Run) []output {
	var patterns, fixes []string
	attempts, healed := 0, false
	for _, r := range runs {
		attempts += len(r.Attempts)
		healed = healed || r.Outcome == report.Healed
		if m := r.LastMatch(); m != nil && !slices.Contains(patterns, m.ID) {
			patterns = append(patterns, m.ID)
		}
		for _, f := range r.AppliedFixes() {
			if !slices.Contains(fixes, f.Fixer) {
				fixes = append(fixes, f.Fixer)
			}
		}
	}
	return []output{
		{"outcome", string(worstOutcome(runs))},
		{"healed", strconv.FormatBool(healed)},
		{"attempts", strconv.Itoa(attempts)},
		{"pattern", strings.Join(patterns, ",")},
		{"fixes", strings.Join(fixes, ",")},
	}
}

// outcomeRank orders outcomes from best to worst.
var outcomeRank = []report.Outcome{
	report.Succeeded, report.Healed, report.Planned, report.Cancelled, report.Refused,
	report.Failed,
}

func worstOutcome(runs []*report.Run) report.Outcome {
	worst := -1
	for _, r := range runs {
		worst = max(worst, slices.Index(outcomeRank, r.Outcome))
	}
	if worst < 0 {
		return ""
	}
	return outcomeRank[worst]
}

// annotations returns one annotation per recognised failure: an error when
// the run did not end green, a warning when it healed, a notice in a dry
// run.
func annotations(r *report.Run) []ci.Annotation {
	level := "error"
	switch r.Outcome {
	case report.Healed:
		level = "warning"
	case report.Planned:
		level = "notice"
	}
	var out []ci.Annotation
	seen := map[string]bool{}
	for _, a := range r.Attempts {
		if a.Match == nil || seen[a.Fingerprint] {
			continue
		}
		seen[a.Fingerprint] = true
		out = append(out, ci.Annotation{
			Level: level, Title: "self-heal: " + a.Match.Title, Message: annotationText(r, a),
		})
	}
	return out
}

func annotationText(r *report.Run, a report.Attempt) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Pattern %s recognised the failure of attempt %d.", a.Match.ID, a.Number)
	if a.Match.Hint != "" {
		fmt.Fprintf(&b, "\nHint: %s", strings.Join(strings.Fields(a.Match.Hint), " "))
	}
	for _, f := range a.Fixes {
		fmt.Fprintf(&b, "\n%s: %s", f.Fixer, fixWords(f))
	}
	fmt.Fprintf(&b, "\nOutcome: %s after %d attempt(s)", r.Outcome, len(r.Attempts))
	if r.StopReason != "" {
		fmt.Fprintf(&b, " (%s)", r.StopReason)
	}
	b.WriteString(".")
	return b.String()
}

// fixWords says in a line what became of a fix.
func fixWords(f report.Fix) string {
	switch {
	case f.Error != "":
		return "failed: " + f.Error
	case f.Refused != "":
		return "refused: " + f.Refused
	case f.Applied && len(f.Changed) > 0:
		return "applied: " + strings.Join(f.Changed, "; ")
	case f.Applied:
		return "applied, changed nothing"
	}
	return f.Verdict + ": " + f.Action
}

// redactRun returns a copy of run with every string passed through red, so
// that renderers work on text that may leave the job. Redacting before
// rendering matters: a renderer that shortens an excerpt could otherwise
// cut a secret in two, and neither half would be recognised.
func redactRun(run *report.Run, red *redact.Redactor) (*report.Run, error) {
	b, err := json.Marshal(run)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if b, err = json.Marshal(redactTree(tree, red)); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	out := &report.Run{}
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return out, nil
}

// redactTree redacts every string of a decoded JSON value in place.
func redactTree(v any, red *redact.Redactor) any {
	switch t := v.(type) {
	case string:
		return red.String(t)
	case []any:
		for i := range t {
			t[i] = redactTree(t[i], red)
		}
	case map[string]any:
		for k := range t {
			t[k] = redactTree(t[k], red)
		}
	}
	return v
}

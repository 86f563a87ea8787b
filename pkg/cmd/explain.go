package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/heal"
	"github.com/self-heal/self-heal/pkg/logscan"
	"github.com/self-heal/self-heal/pkg/pattern"
	"github.com/self-heal/self-heal/pkg/policy"
	"github.com/self-heal/self-heal/pkg/redact"
	"github.com/self-heal/self-heal/pkg/report"
)

type explainFlags struct {
	command     string
	format      string
	check       bool
	patterns    []string
	environment string
}

// explanation is the stable JSON shape of `explain --format json`.
type explanation struct {
	Pattern     *explainedPattern `json:"pattern"`
	AlsoMatched []string          `json:"also_matched"`
	Plan        []explainedFix    `json:"plan"`
	Hint        string            `json:"hint"`
}

type explainedPattern struct {
	ID       string            `json:"id"`
	Title    string            `json:"title"`
	Category string            `json:"category"`
	Source   string            `json:"source"`
	Captures map[string]string `json:"captures"`
	Lines    []int             `json:"lines"`
}

type explainedFix struct {
	Fixer   string `json:"fixer"`
	Safety  string `json:"safety"`
	Action  string `json:"action"`
	Refused string `json:"refused"`
}

func newExplainCmd(env *Env) *cobra.Command {
	f := &explainFlags{}
	c := &cobra.Command{
		Use:   "explain [flags] FILE|-",
		Short: "Say which pattern a saved log matches and what would be done",
		Long: "Reads a saved log (or - for standard input) and prints the pattern that recognises the\n" +
			"failure, its captures, other patterns that also matched, and the plan. Fixers check live\n" +
			"state only with --check.\n\n" +
			"Exit status: 0 when a pattern matched, 1 when none did, 2 on error.",
		Example: `self-heal explain --command "terraform apply" --format json build.log`,
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runExplain(c, env, f, args[0])
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.command, "command", "", "the command that printed the log, to scope patterns")
	fl.StringVar(&f.format, "format", "text", "output format: text or json")
	fl.BoolVar(&f.check, "check", false, "let fixers read live state to plan")
	fl.StringArrayVar(&f.patterns, "patterns", nil, "extra pattern file or directory (repeatable)")
	fl.StringVar(&f.environment, "environment", "", "deployment environment for the policy")
	return c
}

func runExplain(c *cobra.Command, env *Env, f *explainFlags, name string) error {
	if f.format != "text" && f.format != "json" {
		return &usageError{msg: fmt.Sprintf("--format must be text or json, got %q", f.format),
			example: c.Example}
	}
	cfg, err := policy.ReadConfig(display(env.Dir, filepath.Join(env.Dir, policy.ConfigPath)))
	if err != nil {
		return err
	}
	pol, err := effectivePolicy(env, cfg, f.environment, nil)
	if err != nil {
		return err
	}
	set, err := loadPatterns(env, env.Dir, f.patterns, cfg.DisabledPatterns...)
	if err != nil {
		return err
	}
	w, err := scanLog(env, name, heal.HotScan(set.Matcher()))
	if err != nil {
		return err
	}
	cmd := heal.Classify(strings.Fields(f.command), env.Dir)
	texts := windowTexts(w)
	q := cmd.Query()
	q.Stack = ""
	m := set.Matcher().Match(pattern.NewText(texts), q)
	ex := explanation{AlsoMatched: []string{}, Plan: []explainedFix{}}
	if m != nil {
		ex = explain(c, env, f, set, pol, m, w, cmd)
	}

	if err := writeExplanation(env, f.format, ex, redact.New(env.Environ)); err != nil {
		return err
	}
	if m == nil {
		return withCode(ExitNoMatch, nil)
	}
	return nil
}

func explain(c *cobra.Command, env *Env, f *explainFlags, set *pattern.Set, pol *policy.Policy,
	m *pattern.Result,
	w logscan.Window, cmd heal.Command,
) explanation {
	rm := heal.MatchReport(m, w)
	eng := heal.New(heal.Options{
		Patterns: set, Registry: env.Registry, Environment: pol.Environment, Platform: env.Platform,
		Policy: pol,
	})
	step := fixer.Step{Dir: env.Dir, Args: strings.Fields(f.command), Env: env.Environ,
		Tool: cmd.Tool, Goal: cmd.Goal, Stack: cmd.Stack, Environment: f.environment}
	ex := explanation{
		Pattern: &explainedPattern{
			ID: rm.ID, Title: rm.Title, Category: rm.Category, Source: rm.Source,
			Captures: rm.Captures, Lines: rm.Lines,
		},
		AlsoMatched: rm.AlsoMatched,
		Plan:        []explainedFix{},
		Hint:        rm.Hint,
	}
	for _, fx := range eng.Plan(c.Context(), rm, m.Pattern, step, f.check) {
		ex.Plan = append(ex.Plan, explainedFix{
			Fixer: fx.Fixer, Safety: fx.Safety, Action: fixAction(fx), Refused: fx.Refused,
		})
	}
	return ex
}

func fixAction(f report.Fix) string {
	if f.Error != "" {
		return f.Error
	}
	return f.Action
}

func scanLog(env *Env, name string, o logscan.Options) (logscan.Window, error) {
	r := env.Stdin
	if name != "-" {
		file, err := os.Open(absFrom(env.Dir, name))
		if err != nil {
			return logscan.Window{}, fmt.Errorf("read log: %w", err)
		}
		defer func() { _ = file.Close() }()
		r = file
	}
	w, err := logscan.Scan(r, o)
	if err != nil {
		return logscan.Window{}, fmt.Errorf("read log %s: %w", name, err)
	}
	return w, nil
}

func windowTexts(w logscan.Window) []string {
	out := make([]string, len(w.Lines))
	for i, l := range w.Lines {
		out[i] = l.Text
	}
	return out
}

func writeExplanation(env *Env, format string, ex explanation, red *redact.Redactor) error {
	var b strings.Builder
	if format == "json" {
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // hints quote shell placeholders such as <ID>
		if err := enc.Encode(ex); err != nil {
			return err
		}
	} else {
		writeExplanationText(&b, ex)
	}
	_, err := io.WriteString(env.Stdout, red.String(b.String()))
	return err
}

func writeExplanationText(b *strings.Builder, ex explanation) {
	if ex.Pattern == nil {
		b.WriteString("no pattern matched\n")
		return
	}
	p := ex.Pattern
	fmt.Fprintf(b, "pattern:  %s (%s)\n", p.ID, p.Title)
	fmt.Fprintf(b, "category: %s\nsource:   %s\n", p.Category, p.Source)
	fmt.Fprintf(b, "lines:    %s\n", joinInts(p.Lines))
	for _, k := range sortedKeys(p.Captures) {
		fmt.Fprintf(b, "capture:  %s = %s\n", k, p.Captures[k])
	}
	if len(ex.AlsoMatched) > 0 {
		fmt.Fprintf(b, "also:     %s\n", strings.Join(ex.AlsoMatched, ", "))
	}
	if ex.Hint != "" {
		fmt.Fprintf(b, "hint:     %s\n", ex.Hint)
	}
	if len(ex.Plan) == 0 {
		b.WriteString("plan:     no automatic fix\n")
	}
	for i, f := range ex.Plan {
		fmt.Fprintf(b, "plan %d:   %s [%s]: %s\n", i+1, f.Fixer, f.Safety, f.Action)
		if f.Refused != "" {
			fmt.Fprintf(b, "          refused: %s\n", f.Refused)
		}
	}
}

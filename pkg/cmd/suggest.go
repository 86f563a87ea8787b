package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/self-heal/self-heal/pkg/ledger"
	"github.com/self-heal/self-heal/pkg/logscan"
	"github.com/self-heal/self-heal/pkg/pattern"
	"github.com/self-heal/self-heal/pkg/redact"
	"github.com/self-heal/self-heal/pkg/suggest"
)

type suggestFlags struct {
	ledger string
	since  string
	out    string
	top    int
}

// suggestFile is the stub file --out writes.
const suggestFile = "suggested.yaml"

func newSuggestCmd(env *Env) *cobra.Command {
	f := &suggestFlags{}
	c := &cobra.Command{
		Use:   "suggest [LOG...]",
		Short: "Suggest pattern stubs for failures that no pattern recognised",
		Long: "Learns from the given logs, or without LOG from the unknown failures in the ledger:\n" +
			"normalises their failure windows into templates (ids, numbers, hex, quoted names,\n" +
			"timestamps, ARNs, URLs and paths become placeholders), groups alike failures and prints,\n" +
			"largest group first, a pattern stub for each: its match is the group's stable wording,\n" +
			"its captures the variable parts. Review the stubs, then check them with\n" +
			"`self-heal patterns lint` and `self-heal patterns test`.\n\n" +
			"--out DIR writes DIR/" + suggestFile + " and each group's failure windows under\n" +
			"DIR/testdata/, with the stubs' examples pointing at them.",
		Example: "self-heal suggest --out .self-heal/patterns/new failed-*.log",
		RunE: func(c *cobra.Command, args []string) error {
			return runSuggest(c, env, f, args)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.ledger, "ledger", "", "the ledger to learn from when no LOG is given "+
		"(default: $"+LedgerEnv+", else "+ledger.DefaultDir+")")
	fl.StringVar(&f.since, "since", "", "only ledger runs since a date (2026-01-31) or an age (30d)")
	fl.StringVar(&f.out, "out", "", "write the stubs and their example logs into this directory")
	fl.IntVar(&f.top, "top", 0, "print only the largest N groups (0: all)")
	return c
}

func runSuggest(c *cobra.Command, env *Env, f *suggestFlags, args []string) error {
	since, err := parseSince(f.since, time.Now())
	if err != nil {
		return &usageError{msg: "--since: " + err.Error(), example: c.Example}
	}
	var failures []suggest.Failure
	if len(args) > 0 {
		failures, err = logFailures(env, args)
		if err == nil {
			failures, err = unrecognised(env, failures)
		}
	} else {
		failures, err = ledgerFailures(c.Context(), env, f.ledger, since)
	}
	if err != nil {
		return err
	}

	sugs := suggest.Suggest(failures, suggest.Options{})
	if f.top > 0 && len(sugs) > f.top {
		sugs = sugs[:f.top]
	}
	if len(sugs) == 0 {
		fmt.Fprintf(env.Stderr, "self-heal: no failure to learn from (%d read)\n", len(failures))
		return nil
	}
	if f.out != "" {
		return writeSuggestions(env, absFrom(env.Dir, f.out), sugs, failures)
	}
	for _, s := range sugs {
		if len(args) > 0 {
			s.Pattern.Examples.Match = failureNames(s, failures)
		}
	}
	return printStubs(env, sugs, failures, len(args) > 0)
}

// logFailures reads each log's failure window as a run would see it,
// with the environment's secrets masked: stubs and their examples are
// meant to be committed.
func logFailures(env *Env, names []string) ([]suggest.Failure, error) {
	red := redact.New(env.Environ)
	var out []suggest.Failure
	for _, name := range names {
		file, err := os.Open(absFrom(env.Dir, name))
		if err != nil {
			return nil, fmt.Errorf("read log: %w", err)
		}
		w, err := logscan.Scan(file, logscan.Options{})
		_ = file.Close()
		if err != nil {
			return nil, fmt.Errorf("read log %s: %w", name, err)
		}
		lines := windowTexts(w)
		for i, l := range lines {
			lines[i] = red.String(l)
		}
		out = append(out, suggest.Failure{Name: name, Lines: lines})
	}
	return out, nil
}

// unrecognised drops the logs that a pattern already recognises: a stub
// learnt from them would, as a repository pattern, take over from the
// pattern that knows them.
func unrecognised(env *Env, failures []suggest.Failure) ([]suggest.Failure, error) {
	set, err := loadPatterns(env, env.Dir, nil)
	if err != nil {
		return nil, err
	}
	var out []suggest.Failure
	for _, f := range failures {
		if m := set.Matcher().Match(pattern.NewText(f.Lines), pattern.Query{}); m != nil {
			fmt.Fprintf(env.Stderr, "self-heal: %s is already recognised by pattern %s; skipped\n",
				f.Name, m.Pattern.ID)
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

// ledgerFailures collects the failure windows of unknown failures.
func ledgerFailures(ctx context.Context, env *Env, url string, since time.Time) ([]suggest.Failure, error) {
	store, err := openLedger(ctx, env, url)
	if err != nil {
		return nil, err
	}
	var out []suggest.Failure
	problems, err := store.Walk(ctx, since, func(r *ledger.Record) error {
		for _, a := range r.Attempts {
			if !a.Unknown() || a.Window == "" {
				continue
			}
			out = append(out, suggest.Failure{
				Name: fmt.Sprintf("%s-attempt-%d", r.ID, a.Number), Lines: windowLines(a.Window),
				Tool: r.Tool,
			})
		}
		return nil
	})
	warnProblems(env, problems)
	return out, err
}

// windowLines splits a stored window, leaving out the mark of cut lines.
func windowLines(w string) []string {
	var out []string
	for _, l := range strings.Split(w, "\n") {
		if !ledger.OmittedMarker(l) {
			out = append(out, l)
		}
	}
	return out
}

func failureNames(s suggest.Suggestion, failures []suggest.Failure) []string {
	names := make([]string, len(s.Failures))
	for i, n := range s.Failures {
		names[i] = failures[n].Name
	}
	return names
}

// printStubs writes the stub file on stdout, after a comment that says
// what each stub groups.
func printStubs(env *Env, sugs []suggest.Suggestion, failures []suggest.Failure, fromLogs bool) error {
	data, err := stubFile(sugs, failures, fromLogs)
	if err != nil {
		return err
	}
	_, err = env.Stdout.Write(data)
	return err
}

func stubFile(sugs []suggest.Suggestion, failures []suggest.Failure, withExamples bool) ([]byte, error) {
	pats := make([]*pattern.Pattern, len(sugs))
	var b strings.Builder
	fmt.Fprintf(&b, "# Pattern stubs that `self-heal suggest` learnt from %d failures no pattern "+
		"recognised,\n# largest group first. Review each: give it a lasting id, check its title, "+
		"category\n# and match, and add fixes. Then run `self-heal patterns lint` and "+
		"`self-heal patterns test`.\n", len(failures))
	if !withExamples {
		b.WriteString("# Run `self-heal suggest --out DIR` to save the failure windows as examples.\n")
	}
	for i, s := range sugs {
		pats[i] = s.Pattern
		fmt.Fprintf(&b, "#\n# %s: %d failure(s)", s.Pattern.ID, len(s.Failures))
		if !s.Apart {
			b.WriteString("; its wording also appears in other failures")
		}
		b.WriteString("\n")
		for _, w := range s.Wording {
			fmt.Fprintf(&b, "#   %s\n", oneLine(w, 110))
		}
	}
	data, err := pattern.Marshal(pats)
	if err != nil {
		return nil, fmt.Errorf("write stubs: %w", err)
	}
	return append([]byte(b.String()+"\n"), data...), nil
}

func oneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	return s
}

// writeSuggestions writes dir/suggested.yaml and each stub's failure
// windows under dir/testdata/<id>/, which the stubs' examples name.
func writeSuggestions(env *Env, dir string, sugs []suggest.Suggestion, failures []suggest.Failure) error {
	for _, s := range sugs {
		sub := filepath.Join("testdata", s.Pattern.ID)
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("write examples: %w", err)
		}
		for k, n := range s.Failures {
			body := strings.Join(failures[n].Lines, "\n") + "\n"
			name := filepath.Join(dir, sub, fmt.Sprintf("%02d.log", k+1))
			if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
				return fmt.Errorf("write examples: %w", err)
			}
		}
		s.Pattern.Examples.Match = []string{filepath.ToSlash(sub) + "/*.log"}
	}
	data, err := stubFile(sugs, failures, true)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, suggestFile)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write stubs: %w", err)
	}
	fmt.Fprintf(env.Stderr, "self-heal: wrote %d stubs to %s\n", len(sugs), path)
	return nil
}

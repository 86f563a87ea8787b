package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/self-heal/self-heal/pkg/heal"
	"github.com/self-heal/self-heal/pkg/logscan"
	"github.com/self-heal/self-heal/pkg/pattern"
)

func newPatternsCmd(env *Env) *cobra.Command {
	c := &cobra.Command{
		Use:   "patterns",
		Short: "Test, lint, list and convert pattern files",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(
		newPatternsTestCmd(env),
		newPatternsLintCmd(env),
		newPatternsListCmd(env),
		newPatternsSchemaCmd(env),
		newPatternsImportCmd(env),
	)
	return c
}

// scanLines returns the ScanFunc every pattern command uses: the same
// normalisation and failure window as a run with the set's patterns.
func scanLines(set *pattern.Set) pattern.ScanFunc {
	o := heal.HotScan(set.Matcher())
	return func(r io.Reader) ([]string, error) {
		w, err := logscan.Scan(r, o)
		if err != nil {
			return nil, err
		}
		return windowTexts(w), nil
	}
}

func newPatternsTestCmd(env *Env) *cobra.Command {
	var verbose bool
	c := &cobra.Command{
		Use:   "test [PATH...]",
		Short: "Run every example of every pattern (built-in and repository)",
		Long: "Loads the built-in patterns, the repository's .self-heal/patterns and each PATH, and\n" +
			"checks every example: a match example must be recognised by its own pattern, a\n" +
			"no_match example must not match it.\n\nExit status: 0 all passed, 1 some failed, 2 on error.",
		Example: "self-heal patterns test .self-heal/patterns/ours.yaml",
		RunE: func(_ *cobra.Command, args []string) error {
			set, err := loadPatterns(env, env.Dir, args)
			if err != nil {
				return err
			}
			results := set.TestExamples(scanLines(set))
			failed := 0
			for _, r := range results {
				if !r.OK {
					failed++
					fmt.Fprintf(env.Stdout, "FAIL %s %s %s: %s\n", r.Pattern, r.Want, r.File, r.Msg)
				} else if verbose {
					fmt.Fprintf(env.Stdout, "ok   %s %s %s\n", r.Pattern, r.Want, r.File)
				}
			}
			fmt.Fprintf(env.Stdout, "%d passed, %d failed\n", len(results)-failed, failed)
			if failed > 0 {
				return withCode(ExitNoMatch, nil)
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, "list passing examples too")
	return c
}

func newPatternsLintCmd(env *Env) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:   "lint [PATH...]",
		Short: "Check pattern files: schema, regexes, fixers, scope and overlaps",
		Long: "Reports schema and regex errors with file:line:col, unknown fixers, fixer inputs that\n" +
			"nothing supplies, patterns that can never match in their scope, and examples that two\n" +
			"patterns both match. Once there are patterns besides the built-in ones, warnings about\n" +
			"the built-in catalogue alone are counted, not listed, unless --all.\n\n" +
			"Exit status: 0 clean (warnings allowed), 1 problems found, 2 on error.",
		Example: "self-heal patterns lint .self-heal/patterns",
		RunE: func(_ *cobra.Command, args []string) error {
			problems := schemaProblems(env, args)
			set, err := loadPatterns(env, env.Dir, args)
			if err != nil {
				var pe *pattern.Error
				if !errors.As(err, &pe) {
					return err // not a problem in a file: lint could not run
				}
				for _, e := range flatten(err) {
					fmt.Fprintln(env.Stdout, e)
				}
				return withCode(ExitNoMatch, nil)
			}
			for _, p := range problems {
				fmt.Fprintln(env.Stdout, p)
			}
			errs := len(problems)
			findings := set.Lint(scanLines(set))
			// Warnings about the catalogue alone are not the user's to act
			// on once they have patterns of their own.
			hide := !all && slices.ContainsFunc(set.Patterns, func(p *pattern.Pattern) bool { return !p.Builtin })
			hidden := 0
			for _, f := range findings {
				if hide && f.Warning && f.Builtin {
					hidden++
					continue
				}
				fmt.Fprintln(env.Stdout, f)
				if !f.Warning {
					errs++
				}
			}
			if hidden > 0 {
				fmt.Fprintf(env.Stderr, "self-heal: %d warnings about the built-in catalogue alone not shown; "+
					"--all shows them\n", hidden)
			}
			if errs > 0 {
				return withCode(ExitNoMatch, nil)
			}
			fmt.Fprintf(env.Stdout, "%d patterns, no problems\n", len(set.Patterns))
			return nil
		},
	}
	c.Flags().BoolVar(&all, "all", false, "also list warnings about the built-in catalogue alone")
	return c
}

// schemaProblems validates the repository's and the named files against
// the JSON Schema.
func schemaProblems(env *Env, args []string) []string {
	var out []string
	paths := append([]string{absFrom(env.Dir, RepoPatternDir)}, args...)
	for _, p := range paths {
		files, err := pattern.Files(absFrom(env.Dir, p))
		if err != nil {
			continue
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				out = append(out, err.Error())
				continue
			}
			if err := pattern.ValidateSchema(f, data); err != nil {
				out = append(out, err.Error())
			}
		}
	}
	return out
}

// flatten splits a joined error into its parts.
func flatten(err error) []error {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

func newPatternsListCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "list [PATH...]",
		Short: "List the active patterns in match order",
		RunE: func(_ *cobra.Command, args []string) error {
			set, err := loadPatterns(env, env.Dir, args)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tCATEGORY\tTOOLS\tFIXERS\tSOURCE")
			for _, p := range set.Patterns {
				var fixers []string
				for _, f := range p.Fixes {
					fixers = append(fixers, f.Use)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.ID, p.Category, orAny(p.When.Tools),
					orDash(fixers), p.Source())
			}
			return tw.Flush()
		},
	}
}

func orAny(xs []string) string {
	if len(xs) == 0 {
		return "any"
	}
	return strings.Join(xs, ",")
}

func orDash(xs []string) string {
	if len(xs) == 0 {
		return "-"
	}
	return strings.Join(xs, ",")
}

func newPatternsSchemaCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the pattern file format",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := env.Stdout.Write(pattern.Schema)
			return err
		},
	}
}

func newPatternsImportCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Convert terragrunt retryable_errors and errors { retry } blocks into patterns",
		Long: "Reads a terragrunt.hcl and prints a pattern file that retries the same errors with\n" +
			"the same attempts and sleep. Review it, then save it under .self-heal/patterns/.",
		Example: "self-heal patterns import terragrunt.hcl > .self-heal/patterns/terragrunt.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := absFrom(env.Dir, args[0])
			data, err := os.ReadFile(name)
			if err != nil {
				return fmt.Errorf("read terragrunt config: %w", err)
			}
			pats, notes, err := pattern.ImportTerragrunt(args[0], data)
			if err != nil {
				return err
			}
			for _, n := range notes {
				fmt.Fprintf(env.Stderr, "self-heal: note: %s\n", n)
			}
			out, err := pattern.Marshal(pats)
			if err != nil {
				return err
			}
			_, err = env.Stdout.Write(out)
			return err
		},
	}
}

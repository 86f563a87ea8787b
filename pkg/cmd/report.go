package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/self-heal/self-heal/pkg/redact"
	"github.com/self-heal/self-heal/pkg/report"
)

type reportMergeFlags struct {
	comment bool
	key     string
}

func newReportCmd(env *Env) *cobra.Command {
	c := &cobra.Command{
		Use:   "report",
		Short: "Work with the JSON reports that `run --report` writes",
	}
	c.AddCommand(newReportMergeCmd(env))
	return c
}

func newReportMergeCmd(env *Env) *cobra.Command {
	f := &reportMergeFlags{}
	c := &cobra.Command{
		Use:   "merge [flags] REPORT|DIR...",
		Short: "Merge the reports of several runs (a matrix) into one report and comment",
		Long: "Reads JSON reports (files, or directories searched for *.json), prints one Markdown\n" +
			"report for all of them, and on a CI platform writes it to the job summary, sets the\n" +
			"step outputs and posts it as one sticky comment on the pull or merge request.\n\n" +
			"Exit status: 0 when the reports were merged, whatever their outcomes; 2 when a\n" +
			"report could not be read.",
		Example: "self-heal report merge --key deploy reports/",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runReportMerge(c, env, f, args)
		},
	}
	fl := c.Flags()
	fl.BoolVar(&f.comment, "comment", true,
		"post the merged report as a sticky comment on the pull or merge request")
	fl.StringVar(&f.key, "key", "",
		"name of the sticky comment (default: the job's name and \"merged\")")
	return c
}

func runReportMerge(c *cobra.Command, env *Env, f *reportMergeFlags, args []string) error {
	runs, err := readReports(env, args)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		return &usageError{msg: "no JSON report found in " + strings.Join(args, ", "),
			example: c.Example}
	}
	red := redact.New(env.Environ)
	for i, r := range runs {
		if runs[i], err = redactRun(r, red); err != nil {
			return fmt.Errorf("redact report: %w", err)
		}
	}

	info := env.Platform.Info()
	key := f.key
	if key == "" {
		key = commentKey(info, &report.Run{Stack: "merged"})
	}
	pub := &publisher{env: env, red: red}
	pub.outputs(runOutputs(runs))
	pub.summary(report.MarkdownMerged(runs, markdownOptions(info, "", report.MaxSummary)))
	md := report.MarkdownMerged(runs, markdownOptions(info, key, report.MaxComment))
	if f.comment {
		pub.comment(c.Context(), key, md)
	}
	_, err = fmt.Fprint(env.Stdout, red.String(md))
	return err
}

// readReports reads every report named, expanding directories to the
// *.json files below them in lexical order. A file named on the command
// line must be a run report; a JSON file found in a directory that is not
// one is skipped with a warning.
func readReports(env *Env, args []string) ([]*report.Run, error) {
	var runs []*report.Run
	for _, a := range args {
		p := absFrom(env.Dir, a)
		found, err := jsonFiles(p)
		if err != nil {
			return nil, err
		}
		for _, path := range found {
			r, err := readReport(path)
			var notRun *notRunReport
			switch {
			case errors.As(err, &notRun) && path != p:
				fmt.Fprintf(env.Stderr, "self-heal: warning: skipped %s: %v\n", path, err)
			case err != nil:
				return nil, err
			default:
				runs = append(runs, r)
			}
		}
	}
	return runs, nil
}

// notRunReport is valid JSON that is not a run report.
type notRunReport struct{ path string }

func (e *notRunReport) Error() string {
	return e.path + " is not a self-heal run report: it has no command or outcome"
}

func readReport(path string) (*report.Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	r := &report.Run{}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	if len(r.Command) == 0 || r.Outcome == "" {
		return nil, &notRunReport{path: path}
	}
	return r, nil
}

func jsonFiles(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var out []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
			out = append(out, path)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read reports in %s: %w", p, err)
	}
	sort.Strings(out)
	return out, nil
}

package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/self-heal/self-heal/pkg/ledger"
)

type statsFlags struct {
	ledger  string
	since   string
	repo    string
	stack   string
	pattern string
	format  string
	minutes float64
}

func newStatsCmd(env *Env) *cobra.Command {
	f := &statsFlags{}
	c := &cobra.Command{
		Use:   "stats",
		Short: "Show what the fixes achieved, from the ledger",
		Long: "Reads the ledger (a directory or an S3 prefix) and shows, per pattern and fixer, runs,\n" +
			"heals, success rate, median and p90 time to heal and refusals by reason; patterns that\n" +
			"matched but never led to a green run come first. The weekly table counts failed runs,\n" +
			"those healed automatically, those that still needed a person and the hours saved.\n\n" +
			"--format markdown adds Mermaid charts, for a job summary or an issue.",
		Example: "self-heal stats --since 30d --format markdown >> \"$GITHUB_STEP_SUMMARY\"",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runStats(c, env, f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.ledger, "ledger", "", "the ledger: a directory or s3://bucket/prefix "+
		"(default: $"+LedgerEnv+", else "+ledger.DefaultDir+")")
	fl.StringVar(&f.since, "since", "", "only runs since a date (2026-01-31) or an age (30d, 2w, 12h)")
	fl.StringVar(&f.repo, "repo", "", "only runs of repositories matching this glob")
	fl.StringVar(&f.stack, "stack", "", "only runs of stacks matching this glob")
	fl.StringVar(&f.pattern, "pattern", "", "only runs in which this pattern recognised a failure")
	fl.StringVar(&f.format, "format", "text", "output format: text, markdown or json")
	fl.Float64Var(&f.minutes, "minutes-per-intervention", ledger.DefaultMinutesPerIntervention,
		"minutes a person spends on a failed step, for hours saved")
	return c
}

func runStats(c *cobra.Command, env *Env, f *statsFlags) error {
	write, ok := statsWriters[f.format]
	if !ok {
		return &usageError{msg: fmt.Sprintf("--format %q: want text, markdown or json", f.format),
			example: c.Example}
	}
	since, err := parseSince(f.since, time.Now())
	if err != nil {
		return &usageError{msg: "--since: " + err.Error(), example: c.Example}
	}
	if !(f.minutes > 0) || math.IsInf(f.minutes, 1) { // also rejects NaN
		return &usageError{msg: "--minutes-per-intervention must be positive", example: c.Example}
	}
	filter := ledger.Filter{Since: since, Repo: f.repo, Stack: f.stack, Pattern: f.pattern}

	sum, err := collectStats(c.Context(), env, f.ledger, filter, f.minutes)
	if err != nil {
		return err
	}
	return write(env.Stdout, sum)
}

var statsWriters = map[string]func(io.Writer, ledger.Summary) error{
	"text": ledger.WriteText, "markdown": ledger.WriteMarkdown, "json": ledger.WriteJSON,
}

// collectStats walks the ledger and counts the runs the filter selects.
func collectStats(ctx context.Context, env *Env, url string, filter ledger.Filter, minutes float64,
) (ledger.Summary, error) {
	store, err := openLedger(ctx, env, url)
	if err != nil {
		return ledger.Summary{}, err
	}
	if local, ok := store.(*ledger.Local); ok {
		if _, err := os.Stat(local.Dir); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(env.Stderr, "self-heal: warning: ledger %s does not exist: no runs recorded there\n",
				local.Dir)
		}
	}
	stats := ledger.NewStats(minutes)
	problems, err := store.Walk(ctx, filter.Since, func(r *ledger.Record) error {
		if filter.Match(r) {
			stats.Add(r)
		}
		return nil
	})
	warnProblems(env, problems)
	if err != nil {
		return ledger.Summary{}, err
	}
	return stats.Summary(), nil
}

// parseSince reads a date (2026-01-31), a time (RFC 3339), an age in
// days or weeks (30d, 2w) or a Go duration (12h) before now. "" is the
// zero time: no limit.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			if v, err := strconv.Atoi(n); err == nil && v >= 0 {
				if int64(v) > math.MaxInt64/int64(unit) {
					return time.Time{}, nil // further back than a Duration reaches: no limit
				}
				return now.Add(-time.Duration(v) * unit), nil
			}
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2026-01-31), a time or an age (30d, 2w, 12h)", s)
}

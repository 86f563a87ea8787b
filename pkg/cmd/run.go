package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/self-heal/self-heal/pkg/heal"
	"github.com/self-heal/self-heal/pkg/ledger"
	"github.com/self-heal/self-heal/pkg/policy"
	"github.com/self-heal/self-heal/pkg/redact"
	"github.com/self-heal/self-heal/pkg/report"
	"github.com/self-heal/self-heal/pkg/strictyaml"
)

type runFlags struct {
	patterns    []string
	report      string
	artifactDir string
	workDir     string
	maxAttempts int
	timeout     time.Duration
	fixTimeout  time.Duration
	dryRun      bool
	environment string
	allow       []string
	verbose     bool
	changed     func(name string) bool

	// Each concern that acts after the run keeps its own flags.
	ledger  ledgerFlags
	publish publishFlags
}

func newRunCmd(env *Env) *cobra.Command {
	f := &runFlags{}
	c := &cobra.Command{
		Use:   "run [flags] -- COMMAND [ARGS...]",
		Short: "Run a step, heal known failures and run it again",
		Long: "Runs COMMAND with its output passed through unchanged. When it fails, recognises the\n" +
			"failure, applies the allowed fixes, backs off and runs it again.\n\n" +
			"Exit status: 0 when the step succeeded or was healed; otherwise the step's last exit\n" +
			"status; 125 when self-heal could not start the step.",
		Example: "self-heal run --report heal.json -- terraform apply -auto-approve -input=false",
		RunE: func(c *cobra.Command, args []string) error {
			return runRun(c, env, f, args)
		},
	}
	fl := c.Flags()
	fl.SetInterspersed(false)
	fl.StringArrayVar(&f.patterns, "patterns", nil, "extra pattern file or directory (repeatable)")
	fl.StringVar(&f.report, "report", "", "write the run's report as JSON to this file")
	fl.StringVar(&f.artifactDir, "artifact-dir", "",
		"where backups are written (default: .self-heal/artifacts in the working directory)")
	fl.StringVarP(&f.workDir, "working-directory", "C", "", "run the step in this directory")
	fl.IntVar(&f.maxAttempts, "max-attempts", heal.DefaultMaxAttempts, "re-runs after the first attempt")
	fl.DurationVar(&f.timeout, "timeout", 0, "time budget for the whole run, waits included (0: none)")
	fl.DurationVar(&f.fixTimeout, "fix-timeout", 10*time.Minute, "time budget for one fixer call (0: none)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "run once, match and check, change nothing")
	fl.StringVar(&f.environment, "environment", "", "deployment environment (prod* counts as production)")
	fl.StringSliceVar(&f.allow, "allow", nil, "safety classes allowed to run: safe,disruptive,destructive")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log internals on stderr")
	f.changed = fl.Changed
	f.ledger.register(fl)
	f.publish.register(fl)
	return c
}

func runRun(c *cobra.Command, env *Env, f *runFlags, args []string) (err error) {
	dir, msg := f.check(env, args)
	if msg != "" {
		return withCode(ExitCannotRun, &usageError{msg: msg, example: c.Example})
	}
	var sigs <-chan os.Signal
	if env.Notify != nil {
		var stop func()
		sigs, stop = env.Notify()
		defer stop()
	}
	lastExit := -1
	eng, red, err := buildEngine(env, f, dir, sigs, func(a report.Attempt) { lastExit = a.ExitCode })
	if err != nil {
		return withCode(ExitCannotRun, err)
	}

	// A fault in self-heal after the step ran must not hide its status.
	defer func() {
		if r := recover(); r != nil {
			if lastExit < 0 {
				panic(r)
			}
			fmt.Fprintf(env.Stderr, "self-heal: internal error: %v; exiting with the step's status %d\n",
				r, lastExit)
			err = withCode(lastExit, nil)
		}
	}()
	run := eng.Run(c.Context(), heal.Step{
		Args: args, Dir: dir, Env: env.Environ,
		Stdin: env.Stdin, Stdout: env.Stdout, Stderr: env.Stderr,
	})
	for _, s := range run.Secrets {
		red.Add(s)
	}
	if err := writeRunReport(absFrom(env.Dir, f.report), f.report != "", run, red); err != nil {
		fmt.Fprintf(env.Stderr, "self-heal: warning: %v\n", err)
	}
	publishRun(c.Context(), env, &f.publish, run, red)
	recordRun(c.Context(), env, &f.ledger, run, red)
	return withCode(run.ExitCode, nil)
}

// check validates the command and the flags before anything runs, and
// returns the step's directory, or what is wrong.
func (f *runFlags) check(env *Env, args []string) (dir, problem string) {
	switch {
	case len(args) == 0:
		return "", "run needs a command after --"
	case strings.TrimSpace(args[0]) == "":
		return "", "the command after -- is empty"
	case f.maxAttempts < 0:
		return "", "--max-attempts must not be negative"
	case f.timeout < 0 || f.fixTimeout < 0:
		return "", "--timeout and --fix-timeout must not be negative (0 means no limit)"
	}
	if u := ledgerURL(env, f.ledger.url); u != ledgerOff {
		if err := ledger.CheckURL(u); err != nil {
			source := "--ledger"
			if f.ledger.url == "" {
				source = "$" + LedgerEnv
			}
			return "", fmt.Sprintf("%s %q: %v", source, u, err)
		}
	}
	dir = env.Dir
	if f.workDir != "" {
		dir = absFrom(env.Dir, f.workDir)
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return "", fmt.Sprintf("--working-directory %s is not a directory", f.workDir)
		}
	}
	return dir, ""
}

// buildEngine loads patterns and policy and wires the engine.
func buildEngine(env *Env, f *runFlags, dir string, sigs <-chan os.Signal, observe func(report.Attempt),
) (*heal.Engine, *redact.Redactor, error) {
	cfg, err := policy.ReadConfig(display(env.Dir, filepath.Join(dir, policy.ConfigPath)))
	if err != nil {
		return nil, nil, err
	}
	set, err := loadPatterns(env, dir, f.patterns, cfg.DisabledPatterns...)
	if err != nil {
		return nil, nil, err
	}
	pol, err := effectivePolicy(env, cfg, f.environment, f.allow)
	if err != nil {
		return nil, nil, err
	}
	if err := checkConfigFixers(env, cfg); err != nil {
		return nil, nil, err
	}
	f.applyBudgets(cfg.Budgets)
	// Fixers report their progress (polls, deletions) at Info.
	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	// Backups can hold secrets (terraform state), so by default they go
	// to a directory of their own that the repository ignores.
	artifacts := filepath.Join(dir, ".self-heal", "artifacts")
	if f.artifactDir != "" {
		artifacts = absFrom(env.Dir, f.artifactDir)
	}
	eng := heal.New(heal.Options{
		Patterns: set, Registry: env.Registry, Policy: pol, Platform: env.Platform,
		MaxAttempts: f.maxAttempts, Timeout: f.timeout, FixTimeout: f.fixTimeout,
		DryRun: f.dryRun, ArtifactDir: artifacts, Environment: pol.Environment,
		Log: logger(env, level), Status: env.Stderr, Signals: sigs, OnAttempt: observe,
	})
	return eng, redact.New(env.Environ), nil
}

// applyBudgets takes the configuration's budgets where no flag set them.
func (f *runFlags) applyBudgets(b policy.Budgets) {
	if b.HasAttempts && !f.changed("max-attempts") {
		f.maxAttempts = b.Attempts
	}
	if b.Time > 0 && !f.changed("timeout") {
		f.timeout = b.Time
	}
	if b.FixTime > 0 && !f.changed("fix-timeout") {
		f.fixTimeout = b.FixTime
	}
}

// writeRunReport writes the redacted JSON report, when asked for.
func writeRunReport(path string, want bool, run *report.Run, red *redact.Redactor) error {
	if !want {
		return nil
	}
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, run); err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.WriteFile(path, red.Bytes(buf.Bytes()), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func absFrom(base, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// checkConfigFixers rejects fixers in the configuration that do not
// exist: a misspelt name under disable would leave the real fixer on, and
// one under allow would allow nothing.
func checkConfigFixers(env *Env, cfg *policy.Config) error {
	var errs []error
	for _, r := range cfg.FixerRefs {
		if _, ok := env.Registry.Lookup(r.Value); ok {
			continue
		}
		hint := ""
		if s := env.Registry.Suggest(r.Value); s != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", s)
		}
		errs = append(errs, &strictyaml.Error{Pos: r.Pos, Path: r.Path,
			Msg: fmt.Sprintf("unknown fixer %q%s; `self-heal fixers` lists them", r.Value, hint)})
	}
	return errors.Join(errs...)
}

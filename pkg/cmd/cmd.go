// Package cmd is the self-heal command line: one file per command, every
// command built from an [Env] that carries streams, environment and the
// wiring main.go chose. Commands return errors; [Main] maps them to exit
// codes in one place.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/self-heal/self-heal/pkg/ci"
	"github.com/self-heal/self-heal/pkg/fixer"
)

// Exit codes. `run` passes the step's own code through; the rest are
// self-heal's.
const (
	// ExitOK: the step succeeded (first try or healed), or a command did
	// what was asked.
	ExitOK = 0
	// ExitNoMatch: explain found no pattern, or a check found problems.
	ExitNoMatch = 1
	// ExitError: explain, patterns or another command could not work
	// (bad input, unreadable file).
	ExitError = 2
	// ExitCannotRun: self-heal run could not start the step (bad flags,
	// bad pattern file). The step did not run.
	ExitCannotRun = 125
)

// Env is everything a command may touch of the outside world.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Environ is the process environment in os.Environ form.
	Environ []string
	// Dir is the working directory.
	Dir string
	// Builtins holds the embedded pattern files at its root.
	Builtins fs.FS
	// Registry holds every fixer.
	Registry *fixer.Registry
	// Platform is the CI platform detected from the environment.
	Platform ci.Platform
	// Notify starts delivering SIGINT and SIGTERM on the returned channel
	// until stop is called; nil means signals are not caught.
	Notify func() (sigs <-chan os.Signal, stop func())
	// Version is the binary's version.
	Version string
}

// Getenv looks a variable up in the environment.
func (e *Env) Getenv(key string) string {
	return fixer.Step{Env: e.Environ}.Getenv(key)
}

// exitError carries an exit code with the error that caused it.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// withCode attaches an exit code to err; a nil err with a code is a
// silent exit.
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// usageError is a problem with the command line; it carries an example.
type usageError struct {
	msg     string
	example string
}

func (e *usageError) Error() string { return e.msg }

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, env *Env) int {
	root := newRoot(env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	return exitCode(env, err)
}

func exitCode(env *Env, err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	code := ExitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
	}
	fmt.Fprintf(env.Stderr, "self-heal: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) && ue.example != "" {
		fmt.Fprintf(env.Stderr, "example: %s\n", ue.example)
	}
	return code
}

func newRoot(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "self-heal",
		Short: "Run an infrastructure step, recognise known failures, fix them and run it again",
		Long: "self-heal wraps a CI step (terraform, terragrunt, tofu, aws, kubectl, helm), streams its\n" +
			"output unchanged, recognises known failures from pattern files, runs fixers with the\n" +
			"job's credentials, re-runs the step and reports what it did.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       env.Version,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		code := ExitError
		if c.Name() == "run" {
			code = ExitCannotRun
		}
		return withCode(code, &usageError{msg: err.Error(), example: c.Example})
	})
	root.AddCommand(
		newRunCmd(env),
		newExplainCmd(env),
		newPatternsCmd(env),
		newFixersCmd(env),
		newPolicyCmd(env),
		newReportCmd(env),
		newStatsCmd(env), newSuggestCmd(env),
	)
	return root
}

// logger returns the structured logger for internals, on stderr.
func logger(env *Env, level slog.Level) *slog.Logger {
	return slog.New(newStatusHandler(env.Stderr, level))
}

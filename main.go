// Command self-heal runs an infrastructure step, recognises known failures
// in its output, fixes them with the job's credentials and runs it again.
//
// main only wires: it builds the streams, the environment, the fixer
// registry and the CI platform, then hands over to pkg/cmd, which maps
// every outcome to an exit code.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/self-heal/self-heal/actions"
	"github.com/self-heal/self-heal/fixers"
	"github.com/self-heal/self-heal/gitlab"
	"github.com/self-heal/self-heal/patterns"
	"github.com/self-heal/self-heal/pkg/ci"
	"github.com/self-heal/self-heal/pkg/cmd"
	"github.com/self-heal/self-heal/pkg/fixer"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// memoryLimit is the soft limit of the Go heap when GOMEMLIMIT does not
// set one. Without it the collector lets the heap grow to twice what is
// live; with it, the collector runs sooner near the limit, and past it
// works harder (at most half the CPU) rather than fail.
const memoryLimit = 56 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	os.Exit(run())
}

func run() int {
	reg := &fixer.Registry{}
	if err := fixers.Register(reg); err != nil {
		fmt.Fprintf(os.Stderr, "self-heal: %v\n", err)
		return cmd.ExitCannotRun
	}
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(os.Stderr, "self-heal: %v\n", err)
		return cmd.ExitCannotRun
	}

	env := &cmd.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Environ:  os.Environ(),
		Dir:      dir,
		Builtins: patterns.FS,
		Registry: reg,
		Platform: platform(),
		Notify:   notify,
		Version:  version,
	}
	return cmd.Main(context.Background(), os.Args[1:], env)
}

// platform picks the CI adapter the environment describes, or the
// terminal when it describes none.
func platform() ci.Platform {
	switch {
	case actions.Detect(os.Getenv):
		return actions.New(actions.Config{Getenv: os.Getenv, Stdout: os.Stdout,
			HTTPClient: &http.Client{Timeout: 30 * time.Second}})
	case gitlab.Detected(os.Getenv):
		return gitlab.New(os.Getenv,
			gitlab.WithWriter(os.Stderr),
			gitlab.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}))
	}
	return ci.Local{W: os.Stderr}
}

// notify catches SIGINT and SIGTERM so that `run` can forward them to the
// step's process group instead of dying first.
func notify() (<-chan os.Signal, func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	return sigs, func() { signal.Stop(sigs) }
}

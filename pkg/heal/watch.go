package heal

import (
	"context"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// watch starts every registered [fixer.Watcher] for one execution of the
// step and returns a function that stops them all, in reverse order. A
// watcher that panics is skipped, so evidence-keeping never breaks a run.
func (l *loop) watch(ctx context.Context) func() {
	if l.e.o.Registry == nil {
		return func() {}
	}
	step := l.fixerStep()
	var stops []func()
	for _, fx := range l.e.o.Registry.All() {
		w, ok := fx.(fixer.Watcher)
		if !ok {
			continue
		}
		if stop := startWatch(ctx, w, step); stop != nil {
			stops = append(stops, stop)
		}
	}
	return func() {
		for i := len(stops) - 1; i >= 0; i-- {
			runGuarded(stops[i])
		}
	}
}

func startWatch(ctx context.Context, w fixer.Watcher, step fixer.Step) (stop func()) {
	defer func() {
		if recover() != nil {
			stop = nil
		}
	}()
	return w.Watch(ctx, step)
}

func runGuarded(fn func()) {
	defer func() { _ = recover() }()
	fn()
}

// fixerStep describes the step as fixers see it.
func (l *loop) fixerStep() fixer.Step {
	return fixer.Step{
		Dir: l.step.Dir, Args: l.step.Args, Env: l.env,
		Tool: l.cmd.Tool, Goal: l.cmd.Goal, Stack: l.cmd.Stack,
		ArtifactDir: l.e.o.ArtifactDir, Environment: l.e.o.Environment,
	}
}

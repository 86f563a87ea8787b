// Package wait holds the fixers whose only remedy is time: they change
// nothing and let the engine re-run the step after the pattern's back-off.
//
// It does not decide how long to wait; the pattern's retry policy does.
package wait

import (
	"context"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Backoff is the wait.backoff fixer: it asks for a re-run of the step after
// the pattern's back-off and changes nothing. The zero value is ready to
// use and safe for concurrent use.
type Backoff struct{}

var (
	_ fixer.Fixer   = Backoff{}
	_ fixer.Retrier = Backoff{}
)

// Name returns "wait.backoff".
func (Backoff) Name() string { return "wait.backoff" }

// Safety returns [fixer.Safe]: waiting harms nothing.
func (Backoff) Safety() fixer.Safety { return fixer.Safe }

// Describe says what the fixer does in one line.
func (Backoff) Describe() string {
	return "re-run the step after the pattern's back-off; changes nothing"
}

// Inputs returns nil: the back-off itself comes from the pattern's retry
// policy.
func (Backoff) Inputs() []fixer.Input { return nil }

// RetryOnly returns true, so the engine accepts that Apply changes nothing.
func (Backoff) RetryOnly() bool { return true }

// Check always plans to act: a re-run is all this fixer does.
func (Backoff) Check(context.Context, fixer.Request) (fixer.Plan, error) {
	return fixer.Plan{
		Verdict: fixer.Act,
		Action:  "re-run the step after the back-off",
	}, nil
}

// Apply changes nothing and returns an empty result.
func (Backoff) Apply(context.Context, fixer.Request) (fixer.Result, error) {
	return fixer.Result{}, nil
}

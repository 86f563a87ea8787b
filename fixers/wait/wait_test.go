package wait_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/fixers/wait"
	"github.com/self-heal/self-heal/pkg/fixer"
)

func TestBackoff_CheckAndApply(t *testing.T) {
	t.Parallel()
	var f fixer.Fixer = wait.Backoff{}

	plan, err := f.Check(context.Background(), fixer.Request{})
	if err != nil {
		t.Fatalf("Check() error = %v", err)
	}
	want := fixer.Plan{Verdict: fixer.Act, Action: "re-run the step after the back-off"}
	if diff := cmp.Diff(want, plan); diff != "" {
		t.Errorf("Check() mismatch (-want +got):\n%s", diff)
	}

	res, err := f.Apply(context.Background(), fixer.Request{})
	if err != nil {
		t.Fatalf("Apply() error = %v", err)
	}
	if diff := cmp.Diff(fixer.Result{}, res); diff != "" {
		t.Errorf("Apply() changed something (-want +got):\n%s", diff)
	}

	r, ok := f.(fixer.Retrier)
	if !ok || !r.RetryOnly() {
		t.Errorf("Backoff is not a retry-only fixer")
	}
	if got := f.Safety(); got != fixer.Safe {
		t.Errorf("Safety() = %v, want safe", got)
	}
}

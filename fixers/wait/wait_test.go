package wait_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/fixers/wait"
	"github.com/self-heal/self-heal/pkg/fixer"
)

// TestBackoff_CheckAndApply runs the fixer twice in a row. By design it
// keeps no state and acts the same way each time: it plans a re-run, and
// Apply changes nothing and says so in its notes.
func TestBackoff_CheckAndApply(t *testing.T) {
	t.Parallel()
	var f fixer.Fixer = wait.Backoff{}
	for _, run := range []string{"first", "second"} {
		plan, err := f.Check(context.Background(), fixer.Request{})
		if err != nil {
			t.Fatalf("%s Check() error = %v", run, err)
		}
		want := fixer.Plan{Verdict: fixer.Act, Action: "re-run the step after the back-off"}
		if diff := cmp.Diff(want, plan); diff != "" {
			t.Errorf("%s Check() mismatch (-want +got):\n%s", run, diff)
		}

		res, err := f.Apply(context.Background(), fixer.Request{})
		if err != nil {
			t.Fatalf("%s Apply() error = %v", run, err)
		}
		wantRes := fixer.Result{Notes: []string{
			"changed nothing: the step is re-run after the back-off"}}
		if diff := cmp.Diff(wantRes, res); diff != "" {
			t.Errorf("%s Apply() mismatch (-want +got):\n%s", run, diff)
		}
	}

	r, ok := f.(fixer.Retrier)
	if !ok || !r.RetryOnly() {
		t.Errorf("Backoff is not a retry-only fixer")
	}
	if got := f.Safety(); got != fixer.Safe {
		t.Errorf("Safety() = %v, want safe", got)
	}
}

func TestBackoff_RetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		values    fixer.Values
		wantWait  time.Duration
		wantSleep bool
	}{
		{"no hint", fixer.Values{}, 0, false},
		{"bare seconds", fixer.Values{"retry_after": "12"}, 12 * time.Second, true},
		{"go duration", fixer.Values{"retry_after": "1500ms"}, 1500 * time.Millisecond, true},
		{"words", fixer.Values{"retry_after": "2 minutes"}, 2 * time.Minute, true},
		{"fraction", fixer.Values{"retry_after": "1.5 seconds"}, 1500 * time.Millisecond, true},
		{"bounded", fixer.Values{"retry_after": "3600", "max_retry_after": "1m"}, time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var slept []time.Duration
			b := wait.Backoff{Sleep: func(_ context.Context, d time.Duration) error {
				slept = append(slept, d)
				return nil
			}}
			res, err := b.Apply(context.Background(), fixer.Request{Values: tt.values})
			if err != nil {
				t.Fatalf("Apply() error = %v", err)
			}
			if len(res.Changed) != 0 || len(res.Notes) != 1 ||
				!strings.Contains(res.Notes[0], "changed nothing") {
				t.Errorf("Apply() changed %q, notes %q; want nothing changed, and said",
					res.Changed, res.Notes)
			}
			var want []time.Duration
			if tt.wantSleep {
				want = []time.Duration{tt.wantWait}
			}
			if diff := cmp.Diff(want, slept); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBackoff_RetryAfterInCheck(t *testing.T) {
	t.Parallel()
	plan, err := wait.Backoff{}.Check(context.Background(),
		fixer.Request{Values: fixer.Values{"retry_after": "30"}})
	if err != nil {
		t.Fatalf("Check() error = %v", err)
	}
	want := fixer.Plan{Verdict: fixer.Act,
		Action:   "re-run the step after the back-off, waiting first the 30s the error asks for",
		Evidence: []string{"the error asks to retry after 30"}}
	if diff := cmp.Diff(want, plan); diff != "" {
		t.Errorf("Check() mismatch (-want +got):\n%s", diff)
	}
	if _, err := (wait.Backoff{}).Check(context.Background(),
		fixer.Request{Values: fixer.Values{"retry_after": "soon"}}); err == nil {
		t.Errorf("Check() with hint %q: error = nil, want a parse error", "soon")
	}
}

func TestBackoff_RetryAfterCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := wait.Backoff{}.Apply(ctx, fixer.Request{Values: fixer.Values{"retry_after": "60"}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Apply() on a cancelled run = %v, want context.Canceled", err)
	}
}

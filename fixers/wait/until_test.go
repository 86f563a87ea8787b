package wait

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// script is a condition that answers a fixed sequence of polls; the last
// answer repeats.
type script struct {
	mu    sync.Mutex
	plans []fixer.Plan
	polls int
}

func (*script) Name() string          { return "test.script" }
func (*script) Describe() string      { return "the script says so" }
func (*script) Inputs() []fixer.Input { return []fixer.Input{{Name: "extra"}} }

func (s *script) Poll(context.Context, fixer.Request) (fixer.Plan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.plans[min(s.polls, len(s.plans)-1)]
	s.polls++
	return p, nil
}

func waiting(status string) fixer.Plan { return fixer.Plan{Verdict: fixer.Wait, Action: status} }

func TestUntil_Check(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values fixer.Values
		poll   fixer.Plan
		want   fixer.Plan
	}{
		{
			name:   "not yet",
			values: fixer.Values{"condition": "test.script", "timeout": "1m"},
			poll:   fixer.Plan{Verdict: fixer.Wait, Action: "busy", Evidence: []string{"e"}},
			want: fixer.Plan{Verdict: fixer.Act,
				Action:   "wait up to 1m0s until the script says so (now: busy)",
				Evidence: []string{"e"}},
		},
		{
			name:   "already holds",
			values: fixer.Values{"condition": "test.script"},
			poll:   fixer.Plan{Verdict: fixer.Nothing, Action: "ready"},
			want:   fixer.Plan{Verdict: fixer.Nothing, Action: "nothing to wait for: ready"},
		},
		{
			name:   "refused",
			values: fixer.Values{"condition": "test.script"},
			poll:   fixer.Plan{Verdict: fixer.Refuse, Action: "never"},
			want:   fixer.Plan{Verdict: fixer.Refuse, Action: "never"},
		},
		{
			name:   "unknown condition",
			values: fixer.Values{"condition": "test.other"},
			want: fixer.Plan{Verdict: fixer.Refuse,
				Action: `unknown condition "test.other"; known conditions: test.script`},
		},
		{
			name: "no condition",
			want: fixer.Plan{Verdict: fixer.Refuse, Action: "wait.until needs " +
				"`with: {condition: ...}`; known conditions: test.script"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := NewUntil(&script{plans: []fixer.Plan{tt.poll}})
			got, err := u.Check(context.Background(), fixer.Request{Values: tt.values})
			if err != nil {
				t.Fatalf("Check() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUntil_Apply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		plans     []fixer.Plan
		timeout   string
		wantPolls int
		wantErr   string
		want      fixer.Result
	}{
		{"holds after three polls", []fixer.Plan{waiting("a"), waiting("b"),
			{Verdict: fixer.Nothing, Action: "done"}}, "1h", 3, "",
			fixer.Result{Notes: []string{"the script says so (after 20s, 3 polls): done"}, Settled: true}},
		// Nothing was waited for, so nothing settled: the pattern's back-off
		// still bounds the re-runs.
		{"holds at once", []fixer.Plan{{Verdict: fixer.Nothing, Action: "done"}}, "1h", 1, "",
			fixer.Result{Notes: []string{"the script says so already: done"}}},
		{"times out", []fixer.Plan{waiting("still busy")}, "35s", 4,
			"the script says so did not hold within 35s: still busy", fixer.Result{}},
		{"refused midway", []fixer.Plan{waiting("a"), {Verdict: fixer.Refuse, Action: "gone"}},
			"1h", 2, "stop waiting until the script says so: gone", fixer.Result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &script{plans: tt.plans}
			u := NewUntil(s)
			// A virtual clock would need the fixer to take one; the waits
			// are counted instead, and timeout is compared with the time
			// slept so far.
			var slept time.Duration
			u.sleep = func(_ context.Context, d time.Duration) error {
				slept += d
				return nil
			}
			var logs bytes.Buffer
			req := fixer.Request{
				Values: fixer.Values{"condition": "test.script", "timeout": tt.timeout,
					"interval": "10s"},
				Log: slog.New(slog.NewTextHandler(&logs, nil)),
			}
			res, err := applyWithClock(u, req, &slept)
			if got := errText(err); got != tt.wantErr {
				t.Errorf("Apply() error = %q, want %q", got, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, res); diff != "" {
				t.Errorf("Apply() mismatch (-want +got):\n%s", diff)
			}
			if s.polls != tt.wantPolls {
				t.Errorf("Apply() polled %d times, want %d", s.polls, tt.wantPolls)
			}
			if got := strings.Count(logs.String(), "test.script: poll "); got != tt.wantPolls {
				t.Errorf("Apply() logged %d progress lines, want %d:\n%s", got, tt.wantPolls,
					logs.String())
			}
		})
	}
}

// applyWithClock runs Apply with a clock that advances by the time slept.
func applyWithClock(u *Until, req fixer.Request, slept *time.Duration) (fixer.Result, error) {
	start := time.Now()
	u.now = func() time.Time { return start.Add(*slept) }
	return u.Apply(context.Background(), req)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestUntil_Inputs(t *testing.T) {
	t.Parallel()
	u := NewUntil(&script{})
	var names []string
	for _, in := range u.Inputs() {
		names = append(names, in.Name)
	}
	if diff := cmp.Diff([]string{"condition", "timeout", "interval", "extra"}, names); diff != "" {
		t.Errorf("Inputs() names mismatch (-want +got):\n%s", diff)
	}
	if !u.RetryOnly() || u.Safety() != fixer.Safe {
		t.Errorf("wait.until must be a safe, retry-only fixer")
	}
}

package heal_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/heal"
	"github.com/self-heal/self-heal/pkg/pattern"
	"github.com/self-heal/self-heal/pkg/policy"
	"github.com/self-heal/self-heal/pkg/report"
)

// fileFixer repairs the test step by creating the file it looks for. Its
// behaviour is chosen per test through the fields.
type fileFixer struct {
	name    string
	safety  fixer.Safety
	verdict fixer.Verdict
	noop    bool // Apply changes nothing
	panics  bool
	hangs   bool
	retry   bool
	settles bool // Apply waits for the marker instead of making it
}

func (f *fileFixer) Name() string          { return f.name }
func (f *fileFixer) Safety() fixer.Safety  { return f.safety }
func (f *fileFixer) Describe() string      { return "creates the marker file" }
func (f *fileFixer) Inputs() []fixer.Input { return []fixer.Input{{Name: "file", Type: fixer.String}} }
func (f *fileFixer) RetryOnly() bool       { return f.retry }

func (f *fileFixer) Check(_ context.Context, req fixer.Request) (fixer.Plan, error) {
	return fixer.Plan{Verdict: f.verdict, Action: "create " + req.Values["file"],
		Evidence: []string{"the step asked for " + req.Values["file"]}}, nil
}

func (f *fileFixer) Apply(_ context.Context, req fixer.Request) (fixer.Result, error) {
	if f.panics {
		panic("broken fixer")
	}
	if f.hangs {
		select {} // ignores its context, as a stuck SDK call would
	}
	if f.retry {
		return fixer.Result{Notes: []string{"changed nothing: the step is re-run"}}, nil
	}
	if f.noop {
		return fixer.Result{}, nil
	}
	p := filepath.Join(req.Step.Dir, req.Values["file"])
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		return fixer.Result{}, err
	}
	if f.settles {
		// The marker stands for a cause that cleared while the fixer waited.
		return fixer.Result{Notes: []string{req.Values["file"] + " appeared"}, Settled: true}, nil
	}
	return fixer.Result{Changed: []string{"created " + req.Values["file"]}}, nil
}

// The step fails with a recognisable message until the marker exists.
const stepScript = `if [ -f marker ]; then echo healthy; exit 0; fi
echo "Error: marker missing: marker" >&2; exit 3`

const healPatterns = `version: 1
patterns:
  - id: marker-missing
    title: The marker file is missing
    category: state
    hint: Create the marker.
    match: {any: ["marker missing"]}
    capture: {file: 'marker missing: (\S+)'}
    fixes: [{use: test.fix}]
    retry: {attempts: 3, initial: 1s, max: 3s, jitter: 0, budget: 1h}
`

// syncBuffer takes the step's stdout and stderr at once: the engine copies
// the two streams concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	t      *testing.T
	dir    string
	out    syncBuffer
	status bytes.Buffer
	sleeps []time.Duration
	mu     sync.Mutex
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return &harness{t: t, dir: t.TempDir()}
}

func (h *harness) engine(fx fixer.Fixer, patterns string, mod func(*heal.Options)) *heal.Engine {
	h.t.Helper()
	reg := &fixer.Registry{}
	reg.MustRegister(fx)
	f, err := pattern.Parse("test.yaml", []byte(patterns))
	if err != nil {
		h.t.Fatal(err)
	}
	set, err := pattern.Compile([]pattern.Layer{{Files: []*pattern.File{f}}}, reg)
	if err != nil {
		h.t.Fatal(err)
	}
	o := heal.Options{
		Patterns: set, Registry: reg, MaxAttempts: 3, ArtifactDir: h.dir, Status: &h.status,
		Sleep: func(_ context.Context, d time.Duration) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.sleeps = append(h.sleeps, d)
			return nil
		},
	}
	if mod != nil {
		mod(&o)
	}
	return heal.New(o)
}

// TestEngine_Run_settledWaitSkipsBackOff: after a fix that waited until
// the cause cleared, the re-run comes at once; a retry-only fix leaves the
// pattern's back-off in place.
func TestEngine_Run_settledWaitSkipsBackOff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fixer      *fileFixer
		wantSleeps []time.Duration
	}{
		{"settled", &fileFixer{name: "test.fix", settles: true}, nil},
		{"retry only", &fileFixer{name: "test.fix", retry: true},
			[]time.Duration{time.Second, 2 * time.Second, 3 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			run := h.run(h.engine(tt.fixer, healPatterns, nil), stepScript)
			var slept []time.Duration
			for _, d := range h.sleeps {
				if d > 0 {
					slept = append(slept, d)
				}
			}
			if diff := cmp.Diff(tt.wantSleeps, slept); diff != "" {
				t.Errorf("back-off sleeps (-want +got):\n%s\nstatus:\n%s", diff, h.status.String())
			}
			if tt.fixer.settles && run.Outcome != report.Healed {
				t.Errorf("outcome = %s, want healed\n%s", run.Outcome, h.status.String())
			}
			if tt.fixer.settles && strings.Contains(h.status.String(), "changed nothing") {
				t.Errorf("a settled wait was reported as changing nothing:\n%s", h.status.String())
			}
			// A note that says nothing changed is not repeated by a line
			// of the engine's own.
			n := strings.Count(h.status.String(), "test.fix: changed nothing")
			if tt.fixer.retry && n != len(tt.wantSleeps) {
				t.Errorf("%d lines say the retry changed nothing, want one per attempt (%d):\n%s",
					n, len(tt.wantSleeps), h.status.String())
			}
		})
	}
}

func (h *harness) run(e *heal.Engine, script string) *report.Run {
	h.t.Helper()
	return e.Run(context.Background(), heal.Step{
		Args: []string{"sh", "-c", script}, Dir: h.dir, Env: os.Environ(),
		Stdout: &h.out, Stderr: &h.out,
	})
}

func TestEngine_Run(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		fixer       *fileFixer
		script      string
		mod         func(*heal.Options)
		wantOutcome report.Outcome
		wantExit    int
		wantTries   int
		wantReason  string
		wantMarker  bool
	}{
		{
			name: "passes first time", fixer: &fileFixer{name: "test.fix"},
			script: "echo fine", wantOutcome: report.Succeeded, wantTries: 1,
		},
		{
			name: "heals", fixer: &fileFixer{name: "test.fix"}, script: stepScript,
			wantOutcome: report.Healed, wantTries: 2, wantMarker: true,
		},
		{
			name: "unknown failure", fixer: &fileFixer{name: "test.fix"},
			script: "echo something else >&2; exit 7", wantOutcome: report.Failed, wantExit: 7, wantTries: 1,
			wantReason: "no pattern recognised the failure",
		},
		{
			name: "fixer refuses", fixer: &fileFixer{name: "test.fix", verdict: fixer.Refuse}, script: stepScript,
			wantOutcome: report.Refused, wantExit: 3, wantTries: 1, wantReason: "a fix was refused",
		},
		{
			name: "no progress stops the loop", fixer: &fileFixer{name: "test.fix", noop: true}, script: stepScript,
			wantOutcome: report.Failed, wantExit: 3, wantTries: 2,
			wantReason: "the same failure remained after a fix that changed nothing",
		},
		{
			name: "panicking fixer keeps the step's code", fixer: &fileFixer{name: "test.fix", panics: true},
			script: stepScript, wantOutcome: report.Failed, wantExit: 3, wantTries: 1, wantReason: "a fix failed",
		},
		{
			name: "hanging fixer is cut off by its budget", fixer: &fileFixer{name: "test.fix", hangs: true},
			script: stepScript, mod: func(o *heal.Options) { o.FixTimeout = 50 * time.Millisecond },
			wantOutcome: report.Failed, wantExit: 3, wantTries: 1, wantReason: "a fix failed",
		},
		{
			name: "production refuses destructive", fixer: &fileFixer{name: "test.fix", safety: fixer.Destructive},
			script: stepScript, mod: func(o *heal.Options) { o.Policy = &policy.Policy{Environment: "production"} },
			wantOutcome: report.Refused, wantExit: 3, wantTries: 1, wantReason: "a fix was refused",
		},
		{
			name: "dry run changes nothing", fixer: &fileFixer{name: "test.fix"}, script: stepScript,
			mod:         func(o *heal.Options) { o.DryRun = true },
			wantOutcome: report.Planned, wantExit: 3, wantTries: 1, wantReason: "dry run",
		},
		{
			name: "retry only exhausts attempts", fixer: &fileFixer{name: "test.fix", retry: true}, script: stepScript,
			wantOutcome: report.Failed, wantExit: 3, wantTries: 4, wantReason: "attempts exhausted",
		},
		{
			name: "max attempts zero", fixer: &fileFixer{name: "test.fix"}, script: stepScript,
			mod:         func(o *heal.Options) { o.MaxAttempts = 0 },
			wantOutcome: report.Failed, wantExit: 3, wantTries: 1, wantReason: "attempts exhausted",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			run := h.run(h.engine(tt.fixer, healPatterns, tt.mod), tt.script)
			got := []any{run.Outcome, run.ExitCode, len(run.Attempts), run.StopReason}
			want := []any{tt.wantOutcome, tt.wantExit, tt.wantTries, tt.wantReason}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("outcome, exit, attempts, reason (-want +got):\n%s\nstatus:\n%s", diff, h.status.String())
			}
			_, err := os.Stat(filepath.Join(h.dir, "marker"))
			if (err == nil) != tt.wantMarker {
				t.Errorf("marker exists = %v, want %v", err == nil, tt.wantMarker)
			}
		})
	}
}

func TestEngine_Run_report(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	run := h.run(h.engine(&fileFixer{name: "test.fix"}, healPatterns, nil), stepScript)
	first := run.Attempts[0]
	if first.Match == nil || first.Match.ID != "marker-missing" || first.Match.Captures["file"] != "marker" {
		t.Fatalf("first attempt match = %+v, want marker-missing capturing the file", first.Match)
	}
	if diff := cmp.Diff([]int{1}, first.Match.Lines); diff != "" {
		t.Errorf("match lines (-want +got):\n%s", diff)
	}
	want := report.Fix{
		Fixer: "test.fix", Safety: "safe", Verdict: "act", Action: "create marker",
		Evidence: []string{"the step asked for marker"}, Applied: true, Changed: []string{"created marker"},
	}
	got := first.Fixes[0]
	got.Elapsed = 0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fix (-want +got):\n%s", diff)
	}
	if run.TimeToGreen <= 0 {
		t.Errorf("TimeToGreen = %v, want > 0", run.TimeToGreen)
	}
	for _, line := range []string{"self-heal: attempt 1: sh -c", "recognised marker-missing",
		"test.fix: created marker", "self-heal: healed after 2 attempts"} {
		if !strings.Contains(h.status.String(), line) {
			t.Errorf("status lacks %q:\n%s", line, h.status.String())
		}
	}
	if !strings.Contains(h.out.String(), "Error: marker missing: marker\nhealthy\n") {
		t.Errorf("step output not passed through: %q", h.out.String())
	}
}

func TestEngine_Run_backoffWaits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run(h.engine(&fileFixer{name: "test.fix", retry: true}, healPatterns, nil), stepScript)
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}
	if diff := cmp.Diff(want, h.sleeps); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

func TestEngine_Run_waitVerdictBacksOff(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	run := h.run(h.engine(&fileFixer{name: "test.fix", verdict: fixer.Wait}, healPatterns, nil), stepScript)
	if run.Outcome != report.Failed || len(run.Attempts) != 4 || len(h.sleeps) != 3 {
		t.Errorf("outcome %s after %d attempts and %d waits; want failed after 4 attempts and 3 waits",
			run.Outcome, len(run.Attempts), len(h.sleeps))
	}
	if run.Attempts[0].Fixes[0].Applied {
		t.Error("a fix with a wait verdict was applied")
	}
}

func TestEngine_Run_passThroughIsExact(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	script := `printf '\033[31mred\033[0m\r\nbin:\001\377\n'; printf 'no newline'`
	h.run(h.engine(&fileFixer{name: "test.fix"}, healPatterns, nil), script)
	want := "\033[31mred\033[0m\r\nbin:\001\377\nno newline"
	if got := h.out.String(); got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

func TestEngine_Run_signalForwarded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sigs := make(chan os.Signal, 1)
	e := h.engine(&fileFixer{name: "test.fix"}, healPatterns, func(o *heal.Options) { o.Signals = sigs })
	go func() {
		time.Sleep(300 * time.Millisecond)
		sigs <- syscall.SIGTERM
	}()
	script := `trap 'echo got-term; exit 143' TERM; echo "Error: marker missing: marker"; sleep 20 & wait`
	run := h.run(e, script)
	if run.Outcome != report.Cancelled || len(run.Attempts) != 1 || run.ExitCode != 143 {
		t.Errorf("outcome %s, attempts %d, exit %d; want cancelled, 1, 143", run.Outcome, len(run.Attempts),
			run.ExitCode)
	}
	if !strings.Contains(h.out.String(), "got-term") {
		t.Errorf("child did not see SIGTERM; output %q", h.out.String())
	}
}

func TestEngine_Run_missingProgram(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.engine(&fileFixer{name: "test.fix"}, healPatterns, nil)
	run := e.Run(context.Background(), heal.Step{
		Args: []string{"no-such-program-here"}, Dir: h.dir, Stdout: &h.out, Stderr: &h.out,
	})
	if run.ExitCode != 127 || run.Outcome != report.Failed {
		t.Errorf("exit %d outcome %s, want 127 failed", run.ExitCode, run.Outcome)
	}
}

func TestEngine_Run_backgroundChildDoesNotHoldTheRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	start := time.Now()
	run := h.run(h.engine(&fileFixer{name: "test.fix"}, healPatterns, nil), "sleep 30 & echo started; exit 0")
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("run took %s: it waited for the step's background child", elapsed)
	}
	if run.Outcome != report.Succeeded || !strings.Contains(h.out.String(), "started") {
		t.Errorf("outcome %s, output %q", run.Outcome, h.out.String())
	}
}

func TestEngine_Run_statusStartsOnItsOwnLine(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var both bytes.Buffer
	e := h.engine(&fileFixer{name: "test.fix"}, healPatterns, func(o *heal.Options) { o.Status = &both })
	e.Run(context.Background(), heal.Step{
		Args: []string{"printf", "partial"}, Dir: h.dir, Stdout: &both, Stderr: &both,
	})
	if !strings.Contains(both.String(), "partial\nself-heal: succeeded") {
		t.Errorf("status glued to the step's last line: %q", both.String())
	}
}

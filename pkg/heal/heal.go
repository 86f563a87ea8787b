// Package heal is the engine of self-heal: it runs a step, recognises its
// failure, plans and guards the fixes, applies them, backs off and runs the
// step again until it passes or a budget is spent. It reports everything it
// did in a [report.Run].
//
// The engine knows no CI platform, tool or fixer in particular; those are
// handed to it.
package heal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/self-heal/self-heal/pkg/ci"
	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/logscan"
	"github.com/self-heal/self-heal/pkg/pattern"
	"github.com/self-heal/self-heal/pkg/policy"
	"github.com/self-heal/self-heal/pkg/report"
)

// DefaultMaxAttempts is how many times a failing step is re-run.
const DefaultMaxAttempts = 3

// Options configure an [Engine]. Patterns and Registry are required; the
// rest have working defaults.
type Options struct {
	Patterns *pattern.Set
	Registry *fixer.Registry
	Policy   *policy.Policy
	Platform ci.Platform
	// MaxAttempts is the number of re-runs after the first attempt.
	MaxAttempts int
	// Timeout bounds the whole run, waits and fixes included; 0 is none.
	Timeout time.Duration
	// FixTimeout bounds one fixer's Check or Apply; 0 is none.
	FixTimeout  time.Duration
	DryRun      bool
	ArtifactDir string
	Environment string
	// Scan bounds the failure window; a nil Scan.Hot becomes [HotScan]
	// of the patterns.
	Scan logscan.Options
	Log  *slog.Logger
	// Status receives one plain line per attempt and the closing summary.
	Status io.Writer
	// Signals delivers SIGINT/SIGTERM to forward to the step.
	Signals <-chan os.Signal

	// OnAttempt, when set, is called after each execution of the step.
	OnAttempt func(report.Attempt)

	// Sleep waits between attempts; tests inject an instant one.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now and Rand are the clock and the jitter source.
	Now  func() time.Time
	Rand func() float64
}

// Engine runs and heals steps. It is not safe for concurrent Runs.
type Engine struct {
	o Options
}

// New returns an engine with defaults filled in.
func New(o Options) *Engine {
	if o.MaxAttempts < 0 {
		o.MaxAttempts = 0
	}
	if o.Policy == nil {
		o.Policy = &policy.Policy{Environment: o.Environment}
	}
	if o.Platform == nil {
		o.Platform = ci.Local{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Status == nil {
		o.Status = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Scan.Hot == nil && o.Patterns != nil {
		hot := HotScan(o.Patterns.Matcher())
		o.Scan.Hot, o.Scan.HotFind = hot.Hot, hot.HotFind
	}
	if o.Sleep == nil {
		o.Sleep = func(ctx context.Context, d time.Duration) error { return sleep(ctx, d, o.Signals) }
	}
	return &Engine{o: o}
}

// stop reasons, shown in the report.
const (
	stopUnknown    = "no pattern recognised the failure"
	stopGiveUp     = "the pattern has no automatic fix"
	stopAttempts   = "attempts exhausted"
	stopDeadline   = "time budget spent"
	stopCancelled  = "cancelled"
	stopRefused    = "a fix was refused"
	stopFixFailed  = "a fix failed"
	stopNoProgress = "the same failure remained after a fix that changed nothing"
	stopRepeat     = "the same fix was already applied to this failure"
	stopDryRun     = "dry run"
)

// Run executes the step until it passes or a budget is spent.
func (e *Engine) Run(ctx context.Context, s Step) *report.Run {
	cmd := Classify(s.Args, s.Dir)
	l := &loop{
		e:       e,
		step:    s,
		env:     s.Env,
		cmd:     cmd,
		applied: map[string]bool{},
		reruns:  map[string]int{},
		run: &report.Run{
			Command: s.Args, Dir: s.Dir, Tool: cmd.Tool, Goal: cmd.Goal, Stack: cmd.Stack,
			Environment: e.o.Environment, DryRun: e.o.DryRun, Started: e.o.Now(),
		},
	}
	if e.o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.o.Timeout)
		defer cancel()
	}
	l.loop(ctx)
	l.run.Duration = report.Duration(e.o.Now().Sub(l.run.Started))
	e.printSummary(l.run)
	return l.run
}

// loop is the state of one Run.
type loop struct {
	e    *Engine
	step Step
	env  []string
	cmd  Command
	run  *report.Run
	// applied records fingerprint+fixer pairs already applied.
	applied map[string]bool
	// reruns counts re-runs caused by each pattern.
	reruns map[string]int
	// firstFailure is when the first attempt failed.
	firstFailure time.Time
	// idleFingerprint is set when the last fixes changed nothing.
	idleFingerprint string
}

func (l *loop) loop(ctx context.Context) {
	for n := 1; ; n++ {
		att, signalled := l.attempt(ctx, n)
		if l.e.o.OnAttempt != nil {
			l.e.o.OnAttempt(att)
		}
		l.run.Attempts = append(l.run.Attempts, att)
		l.run.ExitCode = att.ExitCode
		if att.ExitCode == 0 {
			l.finishGreen(att)
			return
		}
		if l.firstFailure.IsZero() {
			l.firstFailure = att.Started
		}
		if signalled || ctx.Err() != nil {
			l.stop(report.Cancelled, cancelReason(ctx))
			return
		}
		last := &l.run.Attempts[len(l.run.Attempts)-1]
		if !l.afterFailure(ctx, last, n) {
			return
		}
	}
}

func cancelReason(ctx context.Context) string {
	if ctx.Err() == context.DeadlineExceeded {
		return stopDeadline
	}
	return stopCancelled
}

func (l *loop) finishGreen(att report.Attempt) {
	if len(l.run.Attempts) == 1 {
		l.run.Outcome = report.Succeeded
		return
	}
	l.run.Outcome = report.Healed
	l.run.TimeToGreen = report.Duration(att.Started.Add(time.Duration(att.Duration)).Sub(l.firstFailure))
}

func (l *loop) stop(o report.Outcome, reason string) {
	l.run.Outcome = o
	l.run.StopReason = reason
}

// attempt runs the step once and, on failure, recognises what happened.
func (l *loop) attempt(ctx context.Context, n int) (report.Attempt, bool) {
	o := l.e.o
	o.Log.Debug("attempt started", "attempt", n, "max_attempts", o.MaxAttempts+1)
	l.e.statusf("attempt %d: %s", n, strings.Join(l.step.Args, " "))
	end := o.Platform.StartGroup("self-heal attempt " + itoa(n))
	defer end()

	scanner := logscan.New(o.Scan)
	att := report.Attempt{Number: n, Started: o.Now()}
	streams := [2]io.Writer{scanner.Stream(), scanner.Stream()}
	stopWatch := l.watch(ctx)
	res, signalled, err := execute(ctx, l.step, l.env, func(i int) io.Writer { return streams[i] }, o.Signals)
	stopWatch()
	scanner.Close()
	att.Duration = report.Duration(o.Now().Sub(att.Started))
	att.ExitCode, att.Signal = res.code, res.signal
	if res.midLine {
		_, _ = io.WriteString(o.Status, "\n")
	}
	if err != nil {
		l.run.Warnings = append(l.run.Warnings, err.Error())
		l.e.statusf("%v", err)
	}
	if att.ExitCode != 0 {
		l.recognise(&att, scanner.Window())
	}
	return att, signalled
}

// recognise matches the failure window and records the match.
func (l *loop) recognise(att *report.Attempt, w logscan.Window) {
	texts := make([]string, len(w.Lines))
	for i, ln := range w.Lines {
		texts[i] = ln.Text
	}
	att.Excerpt = excerpt(texts)
	m := l.e.o.Patterns.Matcher().Match(pattern.NewText(texts), l.cmd.Query())
	if m == nil {
		att.Fingerprint = unknownFingerprint(texts)
		l.e.statusf("attempt %d failed (exit %d); no pattern recognised the failure", att.Number, att.ExitCode)
		return
	}
	att.Match = MatchReport(m, w)
	att.Fingerprint = fingerprint(m)
	l.e.statusf("attempt %d failed (exit %d); recognised %s: %s",
		att.Number, att.ExitCode, m.Pattern.ID, m.Pattern.Title)
}

// MatchReport converts a matcher result to the report's form, with line
// numbers of the original output.
func MatchReport(m *pattern.Result, w logscan.Window) *report.Match {
	p := m.Pattern
	r := &report.Match{
		ID: p.ID, Title: p.Title, Category: p.Category, Hint: p.Hint, Source: p.Source(),
		Hash: p.Hash, Captures: m.Captures, Lines: []int{}, AlsoMatched: []string{},
	}
	for _, i := range m.Lines {
		if i < len(w.Lines) {
			r.Lines = append(r.Lines, w.Lines[i].N)
		}
	}
	for _, a := range m.Also {
		r.AlsoMatched = append(r.AlsoMatched, a.ID)
	}
	return r
}

// afterFailure decides, fixes and waits after a failed attempt. It
// returns false when the loop must stop.
func (l *loop) afterFailure(ctx context.Context, att *report.Attempt, n int) bool {
	if att.Match == nil {
		l.stop(report.Failed, stopUnknown)
		return false
	}
	p := l.e.o.Patterns.Lookup(att.Match.ID)
	if p.Decision() == pattern.GiveUp && !l.e.o.DryRun {
		l.stop(report.Failed, stopGiveUp)
		return false
	}
	if l.idleFingerprint != "" && l.idleFingerprint == att.Fingerprint {
		l.stop(report.Failed, stopNoProgress)
		return false
	}
	if !l.e.o.DryRun && !l.budgetLeft(p, n) {
		return false
	}

	acted, ok := l.fix(ctx, att, p)
	if !ok || l.e.o.DryRun {
		return false
	}
	l.reruns[p.ID]++
	wait := time.Duration(0)
	if !acted {
		wait = Backoff(p.Retry, l.reruns[p.ID], l.e.o.Rand)
	}
	return l.wait(ctx, att, p, wait)
}

// budgetLeft checks the attempt budgets of the run and of the pattern.
func (l *loop) budgetLeft(p *pattern.Pattern, n int) bool {
	if n > l.e.o.MaxAttempts || l.reruns[p.ID] >= p.Retry.Attempts {
		l.stop(report.Failed, stopAttempts)
		return false
	}
	if p.Retry.Budget > 0 && !l.firstFailure.IsZero() && l.e.o.Now().Sub(l.firstFailure) > p.Retry.Budget {
		l.stop(report.Failed, stopDeadline)
		return false
	}
	return true
}

func (l *loop) wait(ctx context.Context, att *report.Attempt, p *pattern.Pattern, d time.Duration) bool {
	if d > 0 && p.Retry.Budget > 0 {
		left := p.Retry.Budget - l.e.o.Now().Sub(l.firstFailure)
		if left <= 0 {
			l.stop(report.Failed, stopDeadline)
			return false
		}
		d = min(d, left)
	}
	att.Wait = report.Duration(d)
	if d > 0 {
		l.e.statusf("waiting %s before attempt %d", report.Duration(d), att.Number+1)
	}
	if err := l.e.o.Sleep(ctx, d); err != nil {
		l.stop(report.Cancelled, cancelReason(ctx))
		return false
	}
	return true
}

// fingerprint identifies a recognised failure by pattern and captures.
func fingerprint(m *pattern.Result) string {
	keys := make([]string, 0, len(m.Captures))
	for k := range m.Captures {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	h.Write([]byte(m.Pattern.ID))
	for _, k := range keys {
		h.Write([]byte("\x00" + k + "=" + m.Captures[k]))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

var digits = regexp.MustCompile(`[0-9]+`)

// unknownFingerprint identifies an unrecognised failure by its last lines
// with numbers masked, so the same failure hashes alike across runs.
func unknownFingerprint(lines []string) string {
	tail := lines[max(0, len(lines)-20):]
	h := sha256.New()
	for _, l := range tail {
		h.Write([]byte(digits.ReplaceAllString(l, "0") + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// excerpt keeps the end of the failure window for reports.
func excerpt(lines []string) string {
	const maxLines, maxBytes = 200, 64 << 10
	lines = lines[max(0, len(lines)-maxLines):]
	s := strings.Join(lines, "\n")
	if len(s) > maxBytes {
		s = s[len(s)-maxBytes:]
	}
	return s
}

func (e *Engine) printSummary(r *report.Run) {
	_ = report.WriteText(e.o.Status, r)
}

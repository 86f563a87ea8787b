// Package wait holds the fixers whose only remedy is time: they change
// nothing and let the engine re-run the step after the pattern's back-off.
//
// It does not decide how long to wait; the pattern's retry policy does,
// and a retry-after hint that the failure prints.
package wait

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Backoff is the wait.backoff fixer: it asks for a re-run of the step after
// the pattern's back-off and changes nothing. When the error names a wait
// of its own (a retry-after hint, captured as retry_after), Apply waits
// that long first, so the re-run comes no sooner than the service asked.
// The zero value is ready to use and safe for concurrent use.
type Backoff struct {
	// Sleep waits for a retry-after hint; nil waits on a timer. Tests
	// replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// defaultMaxRetryAfter bounds the wait a retry-after hint can ask for.
const defaultMaxRetryAfter = 5 * time.Minute

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
	return "re-run the step after the pattern's back-off, and no sooner than a retry-after " +
		"hint asks; changes nothing"
}

// Inputs lists the retry-after hint and its bound; the back-off itself
// comes from the pattern's retry policy.
func (Backoff) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "retry_after", Type: fixer.String,
			Doc: `a wait the error asks for: "30" (seconds), "30s", "2 minutes", "500ms"`},
		{Name: "max_retry_after", Type: fixer.Duration, Default: defaultMaxRetryAfter.String(),
			Doc: "the longest retry-after hint honoured"},
	}
}

// RetryOnly returns true, so the engine accepts that Apply changes nothing.
func (Backoff) RetryOnly() bool { return true }

// Check always plans to act: a re-run is all this fixer does.
func (Backoff) Check(_ context.Context, req fixer.Request) (fixer.Plan, error) {
	hint, err := retryAfter(req.Values)
	if err != nil {
		return fixer.Plan{}, err
	}
	plan := fixer.Plan{Verdict: fixer.Act, Action: "re-run the step after the back-off"}
	if hint > 0 {
		plan.Action += fmt.Sprintf(", waiting first the %s the error asks for", hint)
		plan.Evidence = []string{"the error asks to retry after " + req.Values["retry_after"]}
	}
	return plan, nil
}

// unchanged is the note of every Apply: it keeps no state, so a second
// run in a row does exactly what the first did, which is nothing.
const unchanged = "changed nothing: the step is re-run after the back-off"

// Apply waits for the retry-after hint, if any, and changes nothing, as
// its notes say. It returns the context's error when the run is cancelled
// while waiting.
func (b Backoff) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	hint, err := retryAfter(req.Values)
	if err != nil {
		return fixer.Result{}, err
	}
	if hint <= 0 {
		return fixer.Result{Notes: []string{unchanged}}, nil
	}
	if req.Log != nil {
		req.Log.Info("waiting as the error asks", "retry_after", hint.String())
	}
	sleep := b.Sleep
	if sleep == nil {
		sleep = timerSleep
	}
	if err := sleep(ctx, hint); err != nil {
		return fixer.Result{}, err
	}
	return fixer.Result{Notes: []string{fmt.Sprintf("waited %s as the error asked; %s", hint,
		unchanged)}}, nil
}

// retryAfter parses the retry_after input, bounded by max_retry_after; 0
// means no hint.
func retryAfter(v fixer.Values) (time.Duration, error) {
	s := strings.TrimSpace(v.String("retry_after", ""))
	if s == "" {
		return 0, nil
	}
	d, err := ParseRetryAfter(s)
	if err != nil {
		return 0, err
	}
	limit, err := v.Duration("max_retry_after", defaultMaxRetryAfter)
	if err != nil {
		return 0, err
	}
	return min(d, limit), nil
}

var hintForm = regexp.MustCompile(`^(\d+(?:\.\d+)?)\s*([a-z]*)$`)

// hintUnits are the units a retry-after hint may carry.
var hintUnits = map[string]time.Duration{
	"": time.Second, "ms": time.Millisecond, "s": time.Second, "sec": time.Second,
	"secs": time.Second, "second": time.Second, "seconds": time.Second, "m": time.Minute,
	"min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
}

// ParseRetryAfter reads a retry-after hint as services print it: a number
// of seconds ("30", as the Retry-After header has it) or a number with a
// unit ("30s", "1.5 seconds", "2 minutes", "500ms").
func ParseRetryAfter(s string) (time.Duration, error) {
	m := hintForm.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("retry-after hint %q: want a number of seconds or a duration", s)
	}
	unit, ok := hintUnits[m[2]]
	if !ok {
		return 0, fmt.Errorf("retry-after hint %q: unknown unit %q", s, m[2])
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("retry-after hint %q: %w", s, err)
	}
	return time.Duration(n * float64(unit)), nil
}

func timerSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package wait

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Defaults of the wait.until inputs.
const (
	defaultUntilTimeout  = 5 * time.Minute
	defaultUntilInterval = 10 * time.Second
)

// Condition is one live condition that [Until] can wait for, such as "the
// IAM role is assumable". Implementations live beside the SDK they use and
// satisfy this interface without importing this package.
type Condition interface {
	// Name is what a pattern's `with: {condition: ...}` names.
	Name() string
	// Describe says in a few words what holds once the wait is over.
	Describe() string
	// Inputs lists the values the condition reads besides the wait's own.
	Inputs() []fixer.Input
	// Poll reads live state once and changes nothing. Its verdict is
	// [fixer.Nothing] when the condition holds, [fixer.Wait] when it does
	// not hold yet, and [fixer.Refuse] when waiting cannot make it hold.
	// Action describes the state in one line for progress and reports.
	Poll(ctx context.Context, req fixer.Request) (fixer.Plan, error)
}

// Until is the wait.until fixer: it polls a named [Condition] until it
// holds, with a progress line per poll, and then lets the engine re-run
// the step. It changes nothing. Create it with [NewUntil]; it is safe for
// concurrent use once created.
type Until struct {
	conds map[string]Condition
	// sleep waits between polls and now reads the clock; tests replace
	// both.
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
}

var (
	_ fixer.Fixer   = (*Until)(nil)
	_ fixer.Retrier = (*Until)(nil)
)

// NewUntil returns the fixer with the given conditions. It panics when two
// conditions share a name, which is a wiring mistake.
func NewUntil(conds ...Condition) *Until {
	u := &Until{conds: map[string]Condition{}, sleep: sleepCtx, now: time.Now}
	for _, c := range conds {
		if _, dup := u.conds[c.Name()]; dup {
			panic("wait.until: condition " + c.Name() + " registered twice")
		}
		u.conds[c.Name()] = c
	}
	return u
}

// Name returns "wait.until".
func (*Until) Name() string { return "wait.until" }

// Safety returns [fixer.Safe]: polling harms nothing.
func (*Until) Safety() fixer.Safety { return fixer.Safe }

// Describe says what the fixer does in one line.
func (*Until) Describe() string {
	return "poll a named condition until it holds, then re-run the step; changes nothing"
}

// RetryOnly returns true, so the engine accepts that Apply changes nothing.
func (*Until) RetryOnly() bool { return true }

// Inputs lists condition, timeout and interval, then the inputs of every
// condition, each once.
func (u *Until) Inputs() []fixer.Input {
	ins := []fixer.Input{
		{Name: "condition", Type: fixer.String, Required: true,
			Doc: "condition to wait for: " + strings.Join(u.names(), ", ")},
		{Name: "timeout", Type: fixer.Duration, Default: defaultUntilTimeout.String(),
			Doc: "give up when the condition does not hold after this long"},
		{Name: "interval", Type: fixer.Duration, Default: defaultUntilInterval.String(),
			Doc: "time between two polls"},
	}
	seen := map[string]bool{"condition": true, "timeout": true, "interval": true}
	for _, name := range u.names() {
		for _, in := range u.conds[name].Inputs() {
			if !seen[in.Name] {
				seen[in.Name] = true
				ins = append(ins, in)
			}
		}
	}
	return ins
}

func (u *Until) names() []string {
	names := make([]string, 0, len(u.conds))
	for n := range u.conds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Check polls the condition once. It plans to wait when the condition does
// not hold yet, says there is nothing to wait for when it holds, and
// passes a refusal of the condition on.
func (u *Until) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	c, err := u.condition(req.Values)
	if err != nil {
		return fixer.Plan{Verdict: fixer.Refuse, Action: err.Error()}, nil
	}
	timeout, _, err := durations(req.Values)
	if err != nil {
		return fixer.Plan{}, err
	}

	plan, err := c.Poll(ctx, req)
	if err != nil {
		return fixer.Plan{}, fmt.Errorf("poll %s: %w", c.Name(), err)
	}
	switch plan.Verdict {
	case fixer.Refuse:
		return plan, nil
	case fixer.Nothing, fixer.Act:
		plan.Verdict = fixer.Nothing
		plan.Action = "nothing to wait for: " + plan.Action
		return plan, nil
	}
	plan.Verdict = fixer.Act
	plan.Action = fmt.Sprintf("wait up to %s until %s (now: %s)", timeout, c.Describe(),
		plan.Action)
	return plan, nil
}

// Apply polls the condition every interval until it holds, logging one
// progress line per poll. It returns an error when the condition refuses,
// when timeout passes first, or when ctx ends.
func (u *Until) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	c, err := u.condition(req.Values)
	if err != nil {
		return fixer.Result{}, err
	}
	timeout, interval, err := durations(req.Values)
	if err != nil {
		return fixer.Result{}, err
	}

	log := req.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := u.now()
	for n := 1; ; n++ {
		plan, err := c.Poll(ctx, req)
		if err != nil {
			return fixer.Result{}, fmt.Errorf("poll %s: %w", c.Name(), err)
		}
		elapsed := u.now().Sub(start).Round(time.Second)
		log.Info(fmt.Sprintf("%s: poll %d after %s: %s", c.Name(), n, elapsed, plan.Action))
		switch plan.Verdict {
		case fixer.Nothing, fixer.Act:
			// Only a wait that outlasted the first poll settled anything: a
			// condition that already held leaves the pattern's back-off to
			// bound the re-runs.
			if n == 1 {
				return fixer.Result{Notes: []string{c.Describe() + " already: " + plan.Action}}, nil
			}
			note := fmt.Sprintf("%s (after %s, %d polls): %s", c.Describe(), elapsed, n, plan.Action)
			return fixer.Result{Notes: []string{note}, Settled: true}, nil
		case fixer.Refuse:
			return fixer.Result{}, fmt.Errorf("stop waiting until %s: %s", c.Describe(),
				plan.Action)
		}
		if elapsed+interval > timeout {
			return fixer.Result{}, fmt.Errorf("%s did not hold within %s: %s",
				c.Describe(), timeout, plan.Action)
		}
		if err := u.sleep(ctx, interval); err != nil {
			return fixer.Result{}, fmt.Errorf("wait until %s: %w", c.Describe(), err)
		}
	}
}

// condition finds the condition a request names.
func (u *Until) condition(v fixer.Values) (Condition, error) {
	name := v.String("condition", "")
	if name == "" {
		return nil, errors.New("wait.until needs `with: {condition: ...}`; known conditions: " +
			strings.Join(u.names(), ", "))
	}
	c, ok := u.conds[name]
	if !ok {
		return nil, fmt.Errorf("unknown condition %q; known conditions: %s", name,
			strings.Join(u.names(), ", "))
	}
	return c, nil
}

func durations(v fixer.Values) (timeout, interval time.Duration, err error) {
	timeout, err = v.Duration("timeout", defaultUntilTimeout)
	if err != nil {
		return 0, 0, err
	}
	interval, err = v.Duration("interval", defaultUntilInterval)
	if err != nil {
		return 0, 0, err
	}
	if interval <= 0 {
		return 0, 0, fmt.Errorf("input interval: must be positive, got %s", interval)
	}
	return timeout, interval, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package heal

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/pattern"
	"github.com/self-heal/self-heal/pkg/policy"
	"github.com/self-heal/self-heal/pkg/report"
)

// fix plans the pattern's fixes in order, asks the policy about each and
// applies the allowed ones. It reports whether a fix changed something or
// waited until the failure's cause cleared (acted), and ok=false when the
// loop must stop.
func (l *loop) fix(ctx context.Context, att *report.Attempt, p *pattern.Pattern) (acted, ok bool) {
	idle := false
	for _, f := range p.Fixes {
		st := l.fixOne(ctx, att, p, f)
		if st.stop {
			return acted, st.ok
		}
		acted = acted || st.changed
		idle = idle || st.idle
	}
	if l.e.o.DryRun {
		return acted, l.dryStop()
	}
	if idle && !acted {
		l.idleFingerprint = att.Fingerprint
	}
	return acted, true
}

// fixStep is what one fix did to the loop: stop it (ok says whether the
// run goes on to back off), or go on after changing something or nothing.
type fixStep struct {
	stop, ok      bool
	changed, idle bool
}

func (l *loop) fixOne(ctx context.Context, att *report.Attempt, p *pattern.Pattern, f pattern.Fix) fixStep {
	o := l.e.o
	fx, _ := o.Registry.Lookup(f.Use)
	req := l.request(att, f)
	fr, plan, dec := l.e.plan(ctx, fx, f, p, req, true)
	switch {
	case fr.Error != "":
		return l.record(att, fr, report.Failed, stopFixFailed)
	case plan.Verdict == fixer.Refuse || fr.Refused != "":
		return l.record(att, fr, report.Refused, stopRefused)
	case plan.Verdict == fixer.Wait:
		l.e.statusf("%s: %s", fx.Name(), plan.Action)
		att.Fixes = append(att.Fixes, fr)
		return fixStep{stop: true, ok: !o.DryRun || l.dryStop()}
	case plan.Verdict == fixer.Nothing || o.DryRun:
		att.Fixes = append(att.Fixes, fr)
		return fixStep{}
	}

	key := att.Fingerprint + "\x00" + f.Use
	if l.applied[key] && !f.RetryOnly {
		return l.record(att, fr, report.Failed, stopRepeat)
	}
	l.applied[key] = true
	res, err := l.apply(ctx, fx, req, dec, &fr)
	att.Fixes = append(att.Fixes, fr)
	if err != nil {
		l.stop(report.Failed, stopFixFailed)
		return fixStep{stop: true}
	}
	l.absorb(res)
	changed := len(res.Changed) > 0 || res.Settled
	return fixStep{changed: changed, idle: !f.RetryOnly && !changed}
}

func (l *loop) dryStop() bool {
	l.stop(report.Planned, stopDryRun)
	return false
}

func (l *loop) record(att *report.Attempt, fr report.Fix, o report.Outcome, reason string) fixStep {
	att.Fixes = append(att.Fixes, fr)
	if fr.Refused != "" {
		l.e.statusf("%s refused: %s", fr.Fixer, fr.Refused)
	}
	if fr.Error != "" {
		l.e.statusf("%s failed: %s", fr.Fixer, fr.Error)
	}
	if l.e.o.DryRun && o == report.Refused {
		o = report.Planned
	}
	l.stop(o, reason)
	return fixStep{stop: true}
}

// request builds a fixer's inputs: captures overlaid with `with:`.
func (l *loop) request(att *report.Attempt, f pattern.Fix) fixer.Request {
	values := fixer.Values{}
	maps.Copy(values, att.Match.Captures)
	maps.Copy(values, f.With)
	return fixer.Request{
		Values:  values,
		Step:    l.fixerStep(),
		Failure: att.Excerpt,
		Log:     l.e.o.Log.With("fixer", f.Use, "pattern", att.Match.ID),
		DryRun:  l.e.o.DryRun,
	}
}

// apply backs up when the policy asks for it, then applies the fix.
func (l *loop) apply(ctx context.Context, fx fixer.Fixer, req fixer.Request, dec policy.Decision,
	fr *report.Fix,
) (fixer.Result, error) {
	start := l.e.o.Now()
	defer func() { fr.Elapsed = report.Duration(l.e.o.Now().Sub(start)) }()
	if dec.NeedsBackup {
		b, ok := fx.(fixer.Backupper)
		if !ok {
			fr.Refused = "the policy requires a backup first and " + fx.Name() + " cannot make one"
			fr.Rule = dec.Rule
			return fixer.Result{}, fmt.Errorf("%s", fr.Refused)
		}
		path, err := guard(ctx, l.e.o.FixTimeout, fx.Name()+" backup", func(c context.Context) (string, error) {
			return b.Backup(c, req)
		})
		if err != nil {
			fr.Error = "backup failed, fix not applied: " + err.Error()
			return fixer.Result{}, err
		}
		fr.Backups = append(fr.Backups, path)
	}
	res, err := guard(ctx, l.e.o.FixTimeout, fx.Name(), func(c context.Context) (fixer.Result, error) {
		return fx.Apply(c, req)
	})
	fr.Applied = true
	fr.Changed, fr.Notes = res.Changed, res.Notes
	fr.Backups = append(fr.Backups, res.Backups...)
	if err != nil {
		fr.Error = err.Error()
		l.e.statusf("%s failed: %v", fx.Name(), err)
		return res, err
	}
	said := false // a note that says already that nothing changed
	for _, n := range res.Notes {
		l.e.statusf("%s: %s", fx.Name(), n)
		said = said || strings.HasPrefix(n, "changed nothing")
	}
	if len(res.Changed) == 0 && !res.Settled && !said {
		l.e.statusf("%s: changed nothing", fx.Name())
	}
	for _, c := range res.Changed {
		l.e.statusf("%s: %s", fx.Name(), c)
	}
	return res, nil
}

// absorb carries a fix's environment and secrets into later attempts.
func (l *loop) absorb(res fixer.Result) {
	for k, v := range res.Env {
		l.env = append(l.env, k+"="+v)
	}
	if m, ok := l.e.o.Platform.(interface{ Mask(string) }); ok {
		for _, s := range res.Secrets {
			m.Mask(s)
		}
	}
	l.run.Secrets = append(l.run.Secrets, res.Secrets...)
}

// plan asks the policy about one fix and, when the policy allows it and
// check is set, lets the fixer check live state. A fix the policy refuses
// is not checked: its refusal and rule are the plan.
func (e *Engine) plan(ctx context.Context, fx fixer.Fixer, f pattern.Fix, p *pattern.Pattern,
	req fixer.Request, check bool,
) (report.Fix, fixer.Plan, policy.Decision) {
	fr := report.Fix{Fixer: fx.Name(), Safety: fx.Safety().String(), Verdict: "unchecked"}
	dec := e.o.Policy.Decide(policy.Subject{
		Fixer: fx.Name(), Safety: fx.Safety(), Pattern: p.ID, Stack: req.Step.Stack, RetryOnly: f.RetryOnly,
	})
	if !dec.Allowed {
		fr.Refused, fr.Rule, fr.Action = dec.Reason, dec.Rule, fx.Describe()
		return fr, fixer.Plan{Verdict: fixer.Refuse, Action: dec.Reason}, dec
	}
	if !check {
		return fr, fixer.Plan{}, dec
	}
	plan, err := guard(ctx, e.o.FixTimeout, fx.Name()+" check", func(c context.Context) (fixer.Plan, error) {
		return fx.Check(c, req)
	})
	if err != nil {
		fr.Error = "check: " + err.Error()
		return fr, plan, dec
	}
	fr.Verdict, fr.Action, fr.Evidence = plan.Verdict.String(), plan.Action, plan.Evidence
	if plan.Verdict == fixer.Refuse {
		fr.Refused = plan.Action
		fr.Rule = "live check"
	}
	return fr, plan, dec
}

// guard runs a fixer call with a time budget and turns a panic into an
// error, so a broken fixer never takes the run down with it.
func guard[T any](ctx context.Context, budget time.Duration, what string,
	fn func(context.Context) (T, error),
) (T, error) {
	if budget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, budget)
		defer cancel()
	}
	type outcome struct {
		v   T
		err error
	}
	ch := make(chan outcome, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- outcome{err: fmt.Errorf("%s panicked: %v", what, r)}
			}
		}()
		v, err := fn(ctx)
		ch <- outcome{v, err}
	}()
	select {
	case out := <-ch:
		return out.v, out.err
	case <-ctx.Done():
		var zero T
		if ctx.Err() == context.DeadlineExceeded {
			return zero, fmt.Errorf("%s exceeded its time budget", what)
		}
		return zero, fmt.Errorf("%s: %w", what, ctx.Err())
	}
}

func itoa(n int) string { return fmt.Sprint(n) }

// statusf prints one plain status line.
func (e *Engine) statusf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	_, _ = fmt.Fprintf(e.o.Status, "self-heal: %s\n", strings.TrimRight(line, "\n"))
}

// Plan lists what the pattern's fixes would do for a recognised failure,
// with the policy's decision on each. With check set, every fixer's Check
// reads live state; without it, the plan shows each fixer's description.
func (e *Engine) Plan(ctx context.Context, m *report.Match, p *pattern.Pattern, step fixer.Step,
	check bool,
) []report.Fix {
	var out []report.Fix
	for _, f := range p.Fixes {
		fx, ok := e.o.Registry.Lookup(f.Use)
		if !ok {
			continue
		}
		values := fixer.Values{}
		maps.Copy(values, m.Captures)
		maps.Copy(values, f.With)
		req := fixer.Request{Values: values, Step: step, Log: e.o.Log, DryRun: true}
		fr, _, _ := e.plan(ctx, fx, f, p, req, check)
		if !check && fr.Refused == "" {
			fr.Action = fx.Describe()
		}
		out = append(out, fr)
	}
	return out
}

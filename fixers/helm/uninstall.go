package helm

import (
	"context"
	"fmt"
	"time"

	release "helm.sh/helm/v4/pkg/release/v1"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// UninstallRelease is the helm.uninstall-release fixer for releases that
// hold no deployed revision ("has no deployed releases"): every revision
// failed, or an uninstall was interrupted, or its history was kept. It
// uninstalls what remains, objects and records, so that the re-run
// installs the release afresh. It is the destructive half of recovering a
// release, kept apart from [Recover] so that the policy sees its class.
type UninstallRelease struct {
	now func() time.Time
}

var (
	_ fixer.Fixer     = (*UninstallRelease)(nil)
	_ fixer.Backupper = (*UninstallRelease)(nil)
)

// NewUninstallRelease returns the fixer, reading the wall clock.
func NewUninstallRelease() *UninstallRelease { return &UninstallRelease{now: time.Now} }

// Name returns "helm.uninstall-release".
func (*UninstallRelease) Name() string { return "helm.uninstall-release" }

// Safety returns [fixer.Destructive]: the release's objects are deleted.
func (*UninstallRelease) Safety() fixer.Safety { return fixer.Destructive }

// Describe says what the fixer does in one line.
func (*UninstallRelease) Describe() string {
	return "uninstall what remains of a release with no deployed revision, so the re-run " +
		"installs it afresh"
}

// Inputs lists the release and the pending threshold.
func (*UninstallRelease) Inputs() []fixer.Input {
	return []fixer.Input{
		releaseInput, namespaceInput,
		{Name: "min_age", Type: fixer.Duration,
			Doc: "how long a pending revision must be left alone; the step's --timeout when unset"},
		{Name: "timeout", Type: fixer.Duration, Default: "5m",
			Doc: "time allowed for the uninstall"},
	}
}

// Check refuses a release that has a deployed revision, has nothing to do
// for one without history (uninstalled already), and otherwise says what
// Apply would remove.
func (u *UninstallRelease) Check(_ context.Context, req fixer.Request) (fixer.Plan, error) {
	t, rels, plan, done, err := u.inspect(req)
	if done || err != nil {
		return plan, err
	}
	last := rels[len(rels)-1]
	return fixer.Plan{
		Verdict: fixer.Act,
		Evidence: []string{
			fmt.Sprintf("%s: revisions %s", t, summary(rels)),
			"no revision is deployed: helm cannot upgrade from any of them",
		},
		Action: fmt.Sprintf("uninstall what remains of %s (its objects at revision %d and "+
			"its %d release records) so that the re-run installs it afresh", t, last.Version,
			len(rels)),
	}, nil
}

// inspect reads the history; done is set with the plan to return when the
// fixer must not uninstall.
func (u *UninstallRelease) inspect(req fixer.Request,
) (*target, []*release.Release, fixer.Plan, bool, error) {
	t, err := newTarget(req)
	if err != nil {
		return nil, nil, fixer.Plan{}, true, err
	}
	rels, err := t.history()
	if err != nil {
		return nil, nil, fixer.Plan{}, true, err
	}
	if len(rels) == 0 {
		return t, nil, fixer.Plan{Verdict: fixer.Nothing, Action: t.String() + " has no " +
			"history: nothing remains to uninstall; an install (helm upgrade --install) " +
			"creates it afresh"}, true, nil
	}
	if d := lastDeployed(rels); d != nil {
		return t, rels, fixer.Plan{Verdict: fixer.Refuse, Action: fmt.Sprintf(
			"%s has deployed revision %d: it is not uninstalled", t, d.Version)}, true, nil
	}
	last := rels[len(rels)-1]
	if statusOf(last).IsPending() {
		limit, err := threshold(req)
		if err != nil {
			return nil, nil, fixer.Plan{}, true, err
		}
		if since := u.now().Sub(last.Info.LastDeployed).Round(time.Second); since < limit {
			return t, rels, fixer.Plan{Verdict: fixer.Wait, Action: fmt.Sprintf(
				"wait: revision %d of %s has been %s for %s, less than %s", last.Version, t,
				statusOf(last), since, limit)}, true, nil
		}
	}
	return t, rels, fixer.Plan{}, false, nil
}

// Apply uninstalls the release and deletes what its hooks left.
func (u *UninstallRelease) Apply(_ context.Context, req fixer.Request) (fixer.Result, error) {
	t, rels, plan, done, err := u.inspect(req)
	if err != nil {
		return fixer.Result{}, err
	}
	if done {
		if plan.Verdict == fixer.Refuse {
			return fixer.Result{}, fmt.Errorf("not applied: %s", plan.Action)
		}
		return fixer.Result{Notes: []string{"uninstalled nothing: " + plan.Action}}, nil
	}
	timeout, err := req.Values.Duration("timeout", defaultHelmTimeout)
	if err != nil {
		return fixer.Result{}, err
	}
	return uninstall(t, rels, timeout, "no revision deployed: "+summary(rels))
}

// Backup writes the release's records to the artifact directory.
func (u *UninstallRelease) Backup(_ context.Context, req fixer.Request) (string, error) {
	t, err := newTarget(req)
	if err != nil {
		return "", err
	}
	return backupHistory(t, req.Step, u.Name(), u.now())
}

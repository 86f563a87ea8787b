package helm

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/resource"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Recover is the helm.recover-release fixer. A release left in
// pending-install, pending-upgrade or pending-rollback by a helm that was
// killed blocks every later operation ("another operation is in
// progress"). Once the pending revision is older than the step's helm
// timeout (or min_age), no helm can still be working on it: the fixer marks
// it failed and rolls the release back to its last deployed revision,
// which deletes the objects only the stuck revision created. A release
// that never deployed is uninstalled instead.
type Recover struct {
	now func() time.Time
}

var (
	_ fixer.Fixer     = (*Recover)(nil)
	_ fixer.Backupper = (*Recover)(nil)
)

// NewRecover returns the fixer, reading the wall clock.
func NewRecover() *Recover { return &Recover{now: time.Now} }

// Name returns "helm.recover-release".
func (*Recover) Name() string { return "helm.recover-release" }

// Safety returns [fixer.Disruptive]: the release is rolled back.
func (*Recover) Safety() fixer.Safety { return fixer.Disruptive }

// Describe says what the fixer does in one line.
func (*Recover) Describe() string {
	return "roll a release left pending back to its last deployed revision, or uninstall it " +
		"when it never deployed"
}

// Inputs lists the release and the thresholds.
func (*Recover) Inputs() []fixer.Input {
	return []fixer.Input{
		releaseInput, namespaceInput,
		{Name: "min_age", Type: fixer.Duration,
			Doc: "how long a revision must have been pending; the step's --timeout (5m) " +
				"when unset"},
		{Name: "timeout", Type: fixer.Duration, Default: "5m",
			Doc: "time allowed for the rollback's hooks"},
	}
}

// pending is what the fixer learnt about a release.
type pending struct {
	t         *target
	rels      []*release.Release
	stuck     *release.Release
	deployed  *release.Release
	age       time.Duration
	threshold time.Duration
}

// Check reads the release's history and says what Apply would do.
func (r *Recover) Check(_ context.Context, req fixer.Request) (fixer.Plan, error) {
	p, plan, done, err := r.inspect(req)
	if done || err != nil {
		return plan, err
	}
	ev := []string{
		fmt.Sprintf("%s: revisions %s", p.t, summary(p.rels)),
		fmt.Sprintf("revision %d has been %s for %s, longer than %s: no helm is still "+
			"working on it", p.stuck.Version, statusOf(p.stuck), p.age, p.threshold),
	}
	if p.deployed == nil {
		ev = append(ev, "no revision was ever deployed")
		return fixer.Plan{Verdict: fixer.Act, Evidence: ev, Action: fmt.Sprintf(
			"uninstall %s, whose only revisions never deployed", p.t)}, nil
	}
	created, err := createdBy(p.t, p.stuck, p.deployed)
	if err != nil {
		return fixer.Plan{}, err
	}
	if len(created) > 0 {
		ev = append(ev, fmt.Sprintf("objects revision %d added to revision %d: %s",
			p.stuck.Version, p.deployed.Version, strings.Join(infoNames(created), ", ")))
	}
	return fixer.Plan{Verdict: fixer.Act, Evidence: ev, Action: fmt.Sprintf(
		"mark revision %d of %s failed and roll back to revision %d, its last deployed one, "+
			"deleting the objects only revision %d created", p.stuck.Version, p.t,
		p.deployed.Version, p.stuck.Version)}, nil
}

// inspect reads the history. done is set with the plan to return when
// nothing is pending or the pending revision is too young.
func (r *Recover) inspect(req fixer.Request) (*pending, fixer.Plan, bool, error) {
	t, err := newTarget(req)
	if err != nil {
		return nil, fixer.Plan{}, true, err
	}
	rels, err := t.history()
	if err != nil {
		return nil, fixer.Plan{}, true, err
	}
	if len(rels) == 0 {
		return nil, fixer.Plan{Verdict: fixer.Nothing, Action: t.String() + " does not exist"},
			true, nil
	}
	p := &pending{t: t, rels: rels, stuck: rels[len(rels)-1], deployed: lastDeployed(rels)}
	if !statusOf(p.stuck).IsPending() {
		return p, fixer.Plan{Verdict: fixer.Nothing, Action: fmt.Sprintf(
			"%s is %s at revision %d: nothing is pending", t, statusOf(p.stuck),
			p.stuck.Version)}, true, nil
	}
	if p.threshold, err = threshold(req); err != nil {
		return nil, fixer.Plan{}, true, err
	}
	p.age = r.now().Sub(p.stuck.Info.LastDeployed).Round(time.Second)
	if p.age < p.threshold {
		plan := fixer.Plan{Verdict: fixer.Wait, Action: fmt.Sprintf(
			"wait: revision %d of %s has been %s for %s, less than %s; a helm may still be "+
				"working on it", p.stuck.Version, t, statusOf(p.stuck), p.age, p.threshold)}
		return p, plan, true, nil
	}
	return p, fixer.Plan{}, false, nil
}

// threshold is min_age, else the step's helm --timeout, else helm's
// default: a helm that started the pending operation with that timeout
// has given up by then.
func threshold(req fixer.Request) (time.Duration, error) {
	d, err := req.Values.Duration("min_age", 0)
	if err != nil || d > 0 {
		return d, err
	}
	d, _ = stepTimeout(req.Step.Args)
	return d, nil
}

// createdBy lists the objects of the stuck revision's manifest that the
// deployed revision lacks.
func createdBy(t *target, stuck, deployed *release.Release) (kube.ResourceList, error) {
	cur, err := t.cfg.KubeClient.Build(strings.NewReader(stuck.Manifest), false)
	if err != nil {
		return nil, fmt.Errorf("read the manifest of revision %d: %w", stuck.Version, err)
	}
	old, err := t.cfg.KubeClient.Build(strings.NewReader(deployed.Manifest), false)
	if err != nil {
		return nil, fmt.Errorf("read the manifest of revision %d: %w", deployed.Version, err)
	}
	return cur.Difference(old), nil
}

func infoNames(list kube.ResourceList) []string {
	out := make([]string, len(list))
	for i, info := range list {
		out[i] = infoName(info)
	}
	return out
}

func infoName(info *resource.Info) string {
	kind := info.Mapping.GroupVersionKind.Kind
	if info.Namespace == "" {
		return kind + " " + info.Name
	}
	return kind + " " + info.Namespace + "/" + info.Name
}

// Apply rolls the release back, or uninstalls it when it never deployed.
func (r *Recover) Apply(_ context.Context, req fixer.Request) (fixer.Result, error) {
	p, plan, done, err := r.inspect(req)
	if err != nil {
		return fixer.Result{}, err
	}
	if done {
		if plan.Verdict == fixer.Wait {
			return fixer.Result{}, fmt.Errorf("not applied: %s", plan.Action)
		}
		return fixer.Result{}, nil
	}
	timeout, err := req.Values.Duration("timeout", defaultHelmTimeout)
	if err != nil {
		return fixer.Result{}, err
	}
	if p.deployed == nil {
		return uninstall(p.t, p.rels, timeout, fmt.Sprintf(
			"revision %d was %s for %s and none ever deployed", p.stuck.Version,
			statusOf(p.stuck), p.age))
	}
	return r.rollback(p, timeout)
}

// rollback marks the stuck revision failed, rolls back to the deployed
// one and makes sure the objects only the stuck one created are gone.
func (r *Recover) rollback(p *pending, timeout time.Duration) (fixer.Result, error) {
	var res fixer.Result
	created, err := createdBy(p.t, p.stuck, p.deployed)
	if err != nil {
		return res, err
	}
	was := statusOf(p.stuck)
	p.stuck.SetStatus(common.StatusFailed, fmt.Sprintf(
		"abandoned after %s in %s; rolled back by self-heal", p.age, was))
	if err := p.t.cfg.Releases.Update(p.stuck); err != nil {
		return res, fmt.Errorf("mark revision %d of %s failed: %w", p.stuck.Version, p.t, err)
	}
	res.Changed = append(res.Changed, fmt.Sprintf("marked revision %d of %s failed (it was %s "+
		"for %s)", p.stuck.Version, p.t, was, p.age))

	rb := action.NewRollback(p.t.cfg)
	rb.Version = p.deployed.Version
	rb.WaitStrategy = kube.HookOnlyStrategy
	rb.Timeout = timeout
	rb.Description = fmt.Sprintf("Rollback to %d by self-heal: revision %d was left %s",
		p.deployed.Version, p.stuck.Version, was)
	if err := rb.Run(p.t.name); err != nil {
		return res, fmt.Errorf("roll %s back to revision %d: %w", p.t, p.deployed.Version, err)
	}
	res.Changed = append(res.Changed, fmt.Sprintf("rolled %s back to revision %d (as revision %d)",
		p.t, p.deployed.Version, p.stuck.Version+1))
	gone, err := deleteLeft(p.t, created)
	res.Changed = append(res.Changed, gone...)
	return res, err
}

// deleteLeft makes sure every object of list is gone, deleting the ones
// that remain, and names each one.
func deleteLeft(t *target, list kube.ResourceList) ([]string, error) {
	var out, left []string
	var remain kube.ResourceList
	for _, info := range list {
		err := info.Get()
		switch {
		case apierrors.IsNotFound(err):
			out = append(out, "deleted "+infoName(info)+" (created by the abandoned revision)")
		case err != nil:
			return out, fmt.Errorf("read %s: %w", infoName(info), err)
		default:
			remain = append(remain, info)
			left = append(left, infoName(info))
		}
	}
	if len(remain) == 0 {
		return out, nil
	}
	_, errs := t.cfg.KubeClient.Delete(remain, metav1.DeletePropagationBackground)
	if len(errs) > 0 {
		return out, fmt.Errorf("delete %s: %v", strings.Join(left, ", "), errs)
	}
	for _, name := range left {
		out = append(out, "deleted "+name+" (created by the abandoned revision)")
	}
	return out, nil
}

// uninstall removes what remains of a release: its objects (hooks are not
// run: a hook may be what broke it), the objects its hooks left, and its
// records.
func uninstall(t *target, rels []*release.Release, timeout time.Duration, why string,
) (fixer.Result, error) {
	var res fixer.Result
	last := rels[len(rels)-1]
	objects, err := t.cfg.KubeClient.Build(strings.NewReader(last.Manifest), false)
	if err != nil {
		return res, fmt.Errorf("read the manifest of revision %d: %w", last.Version, err)
	}
	existing := existingOf(objects)

	u := action.NewUninstall(t.cfg)
	u.DisableHooks = true
	u.WaitStrategy = kube.HookOnlyStrategy
	u.Timeout = timeout
	u.Description = "uninstalled by self-heal: " + why
	if _, err := u.Run(t.name); err != nil {
		return res, fmt.Errorf("uninstall %s: %w", t, err)
	}
	res.Changed = append(res.Changed, fmt.Sprintf("uninstalled %s (%s) and removed its %d "+
		"release records", t, why, len(rels)))
	for _, info := range existing {
		res.Changed = append(res.Changed, "deleted "+infoName(info))
	}
	hooks, err := deleteHookObjects(t, last)
	res.Changed = append(res.Changed, hooks...)
	return res, err
}

// existingOf returns the objects of list that exist in the cluster.
func existingOf(list kube.ResourceList) kube.ResourceList {
	var out kube.ResourceList
	for _, info := range list {
		if info.Get() == nil {
			out = append(out, info)
		}
	}
	return out
}

// deleteHookObjects deletes the objects the revision's hooks created that
// still exist.
func deleteHookObjects(t *target, rel *release.Release) ([]string, error) {
	var manifests []string
	for _, h := range rel.Hooks {
		manifests = append(manifests, h.Manifest)
	}
	if len(manifests) == 0 {
		return nil, nil
	}
	list, err := t.cfg.KubeClient.Build(strings.NewReader(strings.Join(manifests, "\n---\n")),
		false)
	if err != nil {
		return nil, fmt.Errorf("read the hooks of revision %d: %w", rel.Version, err)
	}
	existing := existingOf(list)
	if len(existing) == 0 {
		return nil, nil
	}
	_, errs := t.cfg.KubeClient.Delete(existing, metav1.DeletePropagationBackground)
	if len(errs) > 0 {
		return nil, fmt.Errorf("delete the hook objects of %s: %v", t, errs)
	}
	var out []string
	for _, info := range existing {
		out = append(out, "deleted "+infoName(info)+" (left by a hook)")
	}
	return out, nil
}

// Backup writes the release's records to the artifact directory.
func (r *Recover) Backup(_ context.Context, req fixer.Request) (string, error) {
	t, err := newTarget(req)
	if err != nil {
		return "", err
	}
	return backupHistory(t, req.Step, r.Name(), r.now())
}

// backupHistory saves every revision of the release as JSON, readable by
// the owner only.
func backupHistory(t *target, step fixer.Step, fixerName string, now time.Time) (string, error) {
	rels, err := t.history()
	if err != nil {
		return "", err
	}
	body, err := json.MarshalIndent(rels, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode the history of %s: %w", t, err)
	}
	dir := step.ArtifactDir
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create backup directory: %w", err)
	}
	name := fmt.Sprintf("%s-%s-%s.json", strings.ReplaceAll(fixerName, ".", "-"), t.name,
		now.UTC().Format("20060102T150405.000Z"))
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		return "", fmt.Errorf("write backup: %w", err)
	}
	return path, nil
}

package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/self-heal/self-heal/fixers/kube/kubeconfig"
	"github.com/self-heal/self-heal/pkg/fixer"
)

// RemoveFinalizers is the kube.remove-finalizers fixer. It removes the
// finalizers of the object a failure names once that object has been
// waiting for deletion longer than a threshold, so its controllers have
// had their chance. For a namespace, the objects in it that have waited
// that long are cleared too: their finalizers are what hold it.
type RemoveFinalizers struct {
	now  func() time.Time
	poll time.Duration
}

var (
	_ fixer.Fixer     = (*RemoveFinalizers)(nil)
	_ fixer.Backupper = (*RemoveFinalizers)(nil)
)

// NewRemoveFinalizers returns the fixer, reading the wall clock.
func NewRemoveFinalizers() *RemoveFinalizers {
	return &RemoveFinalizers{now: time.Now, poll: 500 * time.Millisecond}
}

// Name returns "kube.remove-finalizers".
func (*RemoveFinalizers) Name() string { return "kube.remove-finalizers" }

// Safety returns [fixer.Disruptive]: a finalizer's clean-up is skipped.
func (*RemoveFinalizers) Safety() fixer.Safety { return fixer.Disruptive }

// Describe says what the fixer does in one line.
func (*RemoveFinalizers) Describe() string {
	return "remove the finalizers of an object whose deletion has waited on them too long"
}

// Inputs lists the object and the threshold.
func (*RemoveFinalizers) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "resource", Type: fixer.String,
			Doc: `the object's kind or resource ("configmaps", "Deployment.apps"); ` +
				"namespaces when unset"},
		{Name: "name", Type: fixer.String,
			Doc: "the object's name; the namespace input when unset"},
		{Name: "namespace", Type: fixer.String,
			Doc: "the object's namespace (else the step's), or the namespace being deleted"},
		{Name: "finalizer", Type: fixer.String, Doc: "remove only this finalizer"},
		{Name: "min_age", Type: fixer.Duration, Default: "5m",
			Doc: "how long the object must have been marked for deletion"},
	}
}

// stuckObject is one object whose finalizers the fixer would remove.
type stuckObject struct {
	ref    Ref
	obj    *unstructured.Unstructured
	remove []string
	keep   []string
}

func (s stuckObject) String() string {
	return fmt.Sprintf("finalizers %s of %s", strings.Join(s.remove, ", "), s.ref)
}

// finTarget is the parsed request.
type finTarget struct {
	ref       Ref
	finalizer string
	minAge    time.Duration
}

func (r *RemoveFinalizers) target(req fixer.Request, a *kubeconfig.Access,
	c *kubeconfig.Clients,
) (finTarget, error) {
	v := req.Values
	t := finTarget{finalizer: v.String("finalizer", "")}
	var err error
	if t.minAge, err = v.Duration("min_age", 5*time.Minute); err != nil {
		return t, err
	}
	resource, name, ns := v.String("resource", ""), v.String("name", ""), v.String("namespace", "")
	if resource == "" || isNamespaceResource(resource) {
		if name == "" {
			name = ns
		}
		t.ref = namespaceRef(name)
	} else {
		if ns == "" {
			ns = manifestNamespace(req.Step, strings.TrimSuffix(resource, "s"), name)
		}
		if ns == "" {
			ns = a.Namespace()
		}
		if t.ref, err = refFor(c.Mapper, resource, ns, name); err != nil {
			return t, err
		}
	}
	if t.ref.Name == "" {
		return t, fmt.Errorf("the failure names no object")
	}
	return t, nil
}

func isNamespaceResource(s string) bool {
	switch strings.ToLower(s) {
	case "namespace", "namespaces", "ns":
		return true
	}
	return false
}

// Check finds the finalizers that hold the object and says whether they
// have waited long enough.
func (r *RemoveFinalizers) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	a, c, err := access(req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	t, err := r.target(req, a, c)
	if err != nil {
		return fixer.Plan{}, err
	}
	stuck, plan, err := r.find(ctx, c, t)
	if err != nil || plan.Verdict != fixer.Act {
		return plan, err
	}
	for _, s := range stuck {
		since := age(r.now(), s.obj.GetDeletionTimestamp().Time)
		plan.Evidence = append(plan.Evidence, fmt.Sprintf("%s has been marked for deletion "+
			"for %s, longer than min_age %s, and still carries %s", s.ref, since, t.minAge,
			strings.Join(s.remove, ", ")))
	}
	return plan, nil
}

// find reads the object and returns what holds it, with the plan.
func (r *RemoveFinalizers) find(ctx context.Context, c *kubeconfig.Clients, t finTarget,
) ([]stuckObject, fixer.Plan, error) {
	obj, found, err := get(ctx, c.Dynamic, t.ref)
	if err != nil {
		return nil, fixer.Plan{}, err
	}
	if !found {
		return nil, fixer.Plan{Verdict: fixer.Nothing, Action: t.ref.String() + " is gone"}, nil
	}
	ts := obj.GetDeletionTimestamp()
	if ts == nil {
		return nil, fixer.Plan{Verdict: fixer.Nothing, Action: t.ref.String() +
			" is not being deleted; its finalizers hold nothing"}, nil
	}
	if since := age(r.now(), ts.Time); since < t.minAge {
		return nil, fixer.Plan{Verdict: fixer.Wait, Action: fmt.Sprintf(
			"wait: %s has been marked for deletion for %s, less than min_age %s; its "+
				"controllers may still be at work", t.ref, since, t.minAge)}, nil
	}
	stuck := r.stuckOf(t, t.ref, obj)
	if t.ref.Kind == "Namespace" {
		inside, err := r.stuckInside(ctx, c, t)
		if err != nil {
			return nil, fixer.Plan{}, err
		}
		stuck = append(stuck, inside...)
	}
	if len(stuck) == 0 {
		return nil, fixer.Plan{Verdict: fixer.Nothing, Action: t.ref.String() +
			" is held by no finalizer this fixer removes"}, nil
	}
	names := make([]string, len(stuck))
	for i, s := range stuck {
		names[i] = s.String()
	}
	return stuck, fixer.Plan{Verdict: fixer.Act,
		Action: "remove " + strings.Join(names, "; ")}, nil
}

// stuckOf returns the finalizers of obj to remove: all of them, or only
// the one the failure named.
func (r *RemoveFinalizers) stuckOf(t finTarget, ref Ref, obj *unstructured.Unstructured,
) []stuckObject {
	fins := obj.GetFinalizers()
	s := stuckObject{ref: ref, obj: obj}
	for _, f := range fins {
		if t.finalizer != "" && f != t.finalizer {
			s.keep = append(s.keep, f)
			continue
		}
		s.remove = append(s.remove, f)
	}
	if len(s.remove) == 0 {
		return nil
	}
	return []stuckObject{s}
}

// stuckInside returns the objects of a terminating namespace that have
// waited for deletion longer than min_age.
func (r *RemoveFinalizers) stuckInside(ctx context.Context, c *kubeconfig.Clients, t finTarget,
) ([]stuckObject, error) {
	lists, err := preferredNamespaced(c)
	if err != nil {
		return nil, err
	}
	left, err := listLeft(ctx, c, lists, t.ref.Name)
	if err != nil {
		return nil, err
	}
	var out []stuckObject
	for _, l := range left {
		ts := l.obj.GetDeletionTimestamp()
		if ts == nil || r.now().Sub(ts.Time) < t.minAge {
			continue
		}
		out = append(out, r.stuckOf(t, l.ref, l.obj)...)
	}
	return out, nil
}

// Apply removes the finalizers Check found, then waits briefly for the
// objects to go.
func (r *RemoveFinalizers) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	a, c, err := access(req.Step)
	if err != nil {
		return fixer.Result{}, err
	}
	t, err := r.target(req, a, c)
	if err != nil {
		return fixer.Result{}, err
	}
	stuck, plan, err := r.find(ctx, c, t)
	if err != nil {
		return fixer.Result{}, err
	}
	if plan.Verdict == fixer.Wait {
		return fixer.Result{}, fmt.Errorf("not applied: %s", plan.Action)
	}
	var res fixer.Result
	for _, s := range stuck {
		if err := removeFinalizers(ctx, c.Dynamic, s.ref, s.obj, s.keep); err != nil {
			return res, err
		}
		res.Changed = append(res.Changed, "removed "+s.String())
	}
	for _, s := range stuck {
		if len(s.keep) == 0 && r.waitGone(ctx, c, s.ref) {
			res.Changed = append(res.Changed, s.ref.String()+" is gone")
		}
	}
	return res, nil
}

// waitGone waits up to five seconds for an object to disappear.
func (r *RemoveFinalizers) waitGone(ctx context.Context, c *kubeconfig.Clients, ref Ref) bool {
	for range 10 {
		_, found, err := get(ctx, c.Dynamic, ref)
		if err == nil && !found {
			return true
		}
		if sleep(ctx, r.poll) != nil {
			return false
		}
	}
	return false
}

// Backup saves the objects whose finalizers Apply would remove.
func (r *RemoveFinalizers) Backup(ctx context.Context, req fixer.Request) (string, error) {
	a, c, err := access(req.Step)
	if err != nil {
		return "", err
	}
	t, err := r.target(req, a, c)
	if err != nil {
		return "", err
	}
	stuck, _, err := r.find(ctx, c, t)
	if err != nil {
		return "", err
	}
	objs := make([]unstructured.Unstructured, 0, len(stuck))
	for _, s := range stuck {
		objs = append(objs, *s.obj)
	}
	return writeBackup(req.Step, r.Name(), r.now(), objs)
}

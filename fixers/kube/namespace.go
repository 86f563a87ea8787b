package kube

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/self-heal/self-heal/fixers/kube/kubeconfig"
	"github.com/self-heal/self-heal/pkg/fixer"
)

// ProtectedNamespaces are never finalized, whatever the inputs say.
var ProtectedNamespaces = []string{"kube-system", "kube-public", "kube-node-lease", "default"}

// UnstickNamespace is the kube.unstick-namespace fixer. A namespace stays
// Terminating when objects in it keep finalizers that no controller
// removes, or when no namespace controller runs. The fixer deletes what is
// left in the namespace, removes the finalizers no controller removes
// within a grace period, and then finalizes the namespace.
//
// Finalizing alone is not enough: the objects would stay in etcd and come
// back when a namespace of the same name is created again.
type UnstickNamespace struct {
	now  func() time.Time
	poll time.Duration
}

var (
	_ fixer.Fixer     = (*UnstickNamespace)(nil)
	_ fixer.Backupper = (*UnstickNamespace)(nil)
)

// NewUnstickNamespace returns the fixer, reading the wall clock.
func NewUnstickNamespace() *UnstickNamespace {
	return &UnstickNamespace{now: time.Now, poll: time.Second}
}

// Name returns "kube.unstick-namespace".
func (*UnstickNamespace) Name() string { return "kube.unstick-namespace" }

// Safety returns [fixer.Disruptive]: it deletes objects and bypasses
// finalizers.
func (*UnstickNamespace) Safety() fixer.Safety { return fixer.Disruptive }

// Describe says what the fixer does in one line.
func (*UnstickNamespace) Describe() string {
	return "delete what is left in a terminating namespace, drop finalizers no controller " +
		"removes, then finalize it"
}

// Inputs lists the namespace and the thresholds.
func (*UnstickNamespace) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "namespace", Type: fixer.String, Required: true,
			Doc: "the terminating namespace (a capture)"},
		{Name: "min_age", Type: fixer.Duration, Default: "5m",
			Doc: "how long the namespace must have been terminating while a namespace " +
				"controller runs"},
		{Name: "grace", Type: fixer.Duration, Default: "30s",
			Doc: "how long a deleted object's controllers get to remove its finalizers"},
		{Name: "protect", Type: fixer.String,
			Doc: "more namespaces never to touch, comma-separated"},
	}
}

// nsInputs are the parsed inputs of one request.
type nsInputs struct {
	name          string
	minAge, grace time.Duration
	protected     []string
}

func parseNSInputs(v fixer.Values) (nsInputs, error) {
	in := nsInputs{name: v.String("namespace", "")}
	var err error
	if in.minAge, err = v.Duration("min_age", 5*time.Minute); err != nil {
		return in, err
	}
	if in.grace, err = v.Duration("grace", 30*time.Second); err != nil {
		return in, err
	}
	in.protected = append(slices.Clone(ProtectedNamespaces), splitList(v.String("protect", ""))...)
	return in, nil
}

// Check reads the namespace and says what Apply would delete and
// finalize.
func (u *UnstickNamespace) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	in, err := parseNSInputs(req.Values)
	if err != nil {
		return fixer.Plan{}, err
	}
	if plan, done := refuseNamespace(in); done {
		return plan, nil
	}
	_, c, err := access(req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	ns, plan, done, err := u.terminating(ctx, c, in)
	if done || err != nil {
		return plan, err
	}
	s, err := surveyNamespace(ctx, c, ns)
	if err != nil {
		return fixer.Plan{}, err
	}
	return fixer.Plan{
		Verdict: fixer.Act,
		Action: fmt.Sprintf("delete the %d objects left in namespace %s, remove the finalizers "+
			"no controller removes within %s, then finalize the namespace", len(s.left), in.name,
			in.grace),
		Evidence: append(plan.Evidence, s.evidence()...),
	}, nil
}

// refuseNamespace refuses a missing or protected namespace before any
// call to the cluster.
func refuseNamespace(in nsInputs) (fixer.Plan, bool) {
	switch {
	case in.name == "":
		return fixer.Plan{Verdict: fixer.Refuse,
			Action: "the failure names no namespace"}, true
	case slices.Contains(in.protected, in.name):
		return fixer.Plan{Verdict: fixer.Refuse, Action: fmt.Sprintf(
			"namespace %s is protected: self-heal never finalizes it", in.name)}, true
	}
	return fixer.Plan{}, false
}

// terminating reads the namespace. done is set, with the plan to return,
// when there is nothing to do yet or at all.
func (u *UnstickNamespace) terminating(ctx context.Context, c *kubeconfig.Clients, in nsInputs,
) (*corev1.Namespace, fixer.Plan, bool, error) {
	ns, err := c.Kube.CoreV1().Namespaces().Get(ctx, in.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fixer.Plan{Verdict: fixer.Nothing,
			Action: "namespace " + in.name + " is gone"}, true, nil
	}
	if err != nil {
		return nil, fixer.Plan{}, true, fmt.Errorf("get namespace %s: %w", in.name, err)
	}
	if ns.DeletionTimestamp == nil {
		return nil, fixer.Plan{Verdict: fixer.Nothing,
			Action: "namespace " + in.name + " is not terminating"}, true, nil
	}
	now := u.now()
	since := age(now, ns.DeletionTimestamp.Time)
	running, note, err := controllerManager(ctx, c, now)
	if err != nil {
		return nil, fixer.Plan{}, true, err
	}
	ev := []string{fmt.Sprintf("namespace %s has been terminating for %s", in.name, since), note}
	if running && since < in.minAge {
		return nil, fixer.Plan{Verdict: fixer.Wait, Evidence: ev, Action: fmt.Sprintf(
			"wait: the namespace controller runs and the namespace has been terminating for "+
				"%s, less than min_age %s", since, in.minAge)}, true, nil
	}
	return ns, fixer.Plan{Evidence: ev}, false, nil
}

// Apply deletes the objects left in the namespace, removes the finalizers
// that outlive the grace period, and finalizes the namespace.
func (u *UnstickNamespace) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	in, err := parseNSInputs(req.Values)
	if err != nil {
		return fixer.Result{}, err
	}
	if plan, done := refuseNamespace(in); done {
		return fixer.Result{}, fmt.Errorf("%s", plan.Action)
	}
	_, c, err := access(req.Step)
	if err != nil {
		return fixer.Result{}, err
	}
	ns, plan, done, err := u.terminating(ctx, c, in)
	if err != nil || done {
		if plan.Verdict == fixer.Wait {
			return fixer.Result{}, fmt.Errorf("not applied: %s", plan.Action)
		}
		return fixer.Result{}, err
	}

	var res fixer.Result
	if err := u.clearObjects(ctx, c, ns, in, &res, req); err != nil {
		return res, err
	}
	err = u.finalize(ctx, c, in.name, &res)
	return res, err
}

// clearObjects deletes what is left, waits the grace period for
// controllers, and removes the finalizers that remain.
func (u *UnstickNamespace) clearObjects(ctx context.Context, c *kubeconfig.Clients,
	ns *corev1.Namespace, in nsInputs, res *fixer.Result, req fixer.Request,
) error {
	s, err := surveyNamespace(ctx, c, ns)
	if err != nil {
		return err
	}
	for _, l := range s.left {
		if l.obj.GetDeletionTimestamp() != nil {
			continue
		}
		if err := deleteObject(ctx, c, l); err != nil {
			return err
		}
		res.Changed = append(res.Changed, "deleted "+l.ref.String())
	}
	deadline := u.now().Add(in.grace)
	for {
		s, err = surveyNamespace(ctx, c, ns)
		if err != nil {
			return err
		}
		stuck := u.stuck(s.left, in.grace)
		if len(stuck) == len(s.left) || !u.now().Before(deadline) {
			return u.dropFinalizers(ctx, c, stuck, in.grace, res, req)
		}
		if err := sleep(ctx, u.poll); err != nil {
			return err
		}
	}
}

// stuck returns the objects whose deletion is older than grace: their
// finalizers' controllers have had their chance.
func (u *UnstickNamespace) stuck(left []leftover, grace time.Duration) []leftover {
	var out []leftover
	now := u.now()
	for _, l := range left {
		if ts := l.obj.GetDeletionTimestamp(); ts != nil && now.Sub(ts.Time) >= grace {
			out = append(out, l)
		}
	}
	return out
}

func (u *UnstickNamespace) dropFinalizers(ctx context.Context, c *kubeconfig.Clients,
	stuck []leftover, grace time.Duration, res *fixer.Result, req fixer.Request,
) error {
	for _, l := range stuck {
		fins := l.obj.GetFinalizers()
		if len(fins) == 0 {
			continue
		}
		req.Log.Info("removing finalizers no controller removed", "object", l.ref.String(),
			"finalizers", strings.Join(fins, ","))
		if err := removeFinalizers(ctx, c.Dynamic, l.ref, l.obj, nil); err != nil {
			return err
		}
		res.Changed = append(res.Changed, fmt.Sprintf(
			"removed finalizers %s from %s (no controller removed them within %s of its deletion)",
			strings.Join(fins, ", "), l.ref, grace))
	}
	return nil
}

// deleteObject deletes one leftover, only if it is still the object that
// was listed.
func deleteObject(ctx context.Context, c *kubeconfig.Clients, l leftover) error {
	uid := l.obj.GetUID()
	bg := metav1.DeletePropagationBackground
	err := l.ref.client(c.Dynamic).Delete(ctx, l.ref.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &uid}, PropagationPolicy: &bg,
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s: %w", l.ref, err)
	}
	return nil
}

// finalize empties the namespace's finalizers and waits until it is gone.
func (u *UnstickNamespace) finalize(ctx context.Context, c *kubeconfig.Clients, name string,
	res *fixer.Result,
) error {
	nsClient := c.Kube.CoreV1().Namespaces()
	ns, err := nsClient.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		res.Changed = append(res.Changed, "namespace "+name+" is gone")
		return nil
	}
	if err != nil {
		return fmt.Errorf("get namespace %s: %w", name, err)
	}
	if meta := ns.GetFinalizers(); len(meta) > 0 {
		patch := fmt.Sprintf(`[{"op":"test","path":"/metadata/resourceVersion","value":%q},`+
			`{"op":"replace","path":"/metadata/finalizers","value":[]}]`, ns.ResourceVersion)
		if _, err := nsClient.Patch(ctx, name, types.JSONPatchType, []byte(patch),
			metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("remove finalizers of namespace %s: %w", name, err)
		}
		res.Changed = append(res.Changed, fmt.Sprintf("removed finalizers %s from namespace %s",
			strings.Join(meta, ", "), name))
	}
	if err := u.finalizeSpec(ctx, c, name, res); err != nil {
		return err
	}
	return u.waitGone(ctx, c, name, res)
}

func (u *UnstickNamespace) finalizeSpec(ctx context.Context, c *kubeconfig.Clients, name string,
	res *fixer.Result,
) error {
	nsClient := c.Kube.CoreV1().Namespaces()
	ns, err := nsClient.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get namespace %s: %w", name, err)
	}
	if len(ns.Spec.Finalizers) == 0 {
		return nil
	}
	fins := make([]string, len(ns.Spec.Finalizers))
	for i, f := range ns.Spec.Finalizers {
		fins[i] = string(f)
	}
	ns.Spec.Finalizers = nil
	if _, err := nsClient.Finalize(ctx, ns, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("finalize namespace %s: %w", name, err)
	}
	res.Changed = append(res.Changed, fmt.Sprintf("finalized namespace %s (spec.finalizers %s)",
		name, strings.Join(fins, ", ")))
	return nil
}

// waitGone waits a little for the API server to remove the namespace.
func (u *UnstickNamespace) waitGone(ctx context.Context, c *kubeconfig.Clients, name string,
	res *fixer.Result,
) error {
	for range 30 {
		_, err := c.Kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			res.Changed = append(res.Changed, "namespace "+name+" is gone")
			return nil
		}
		if err := sleep(ctx, u.poll); err != nil {
			return err
		}
	}
	return fmt.Errorf("namespace %s is still there after it was finalized", name)
}

// Backup saves every object left in the namespace, and the namespace, to
// the artifact directory before Apply deletes them.
func (u *UnstickNamespace) Backup(ctx context.Context, req fixer.Request) (string, error) {
	in, err := parseNSInputs(req.Values)
	if err != nil {
		return "", err
	}
	_, c, err := access(req.Step)
	if err != nil {
		return "", err
	}
	ns, err := c.Kube.CoreV1().Namespaces().Get(ctx, in.name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("get namespace %s: %w", in.name, err)
	}
	s, err := surveyNamespace(ctx, c, ns)
	if err != nil {
		return "", err
	}
	objs := make([]unstructured.Unstructured, 0, len(s.left)+1)
	for _, l := range s.left {
		objs = append(objs, *l.obj)
	}
	nsObj, found, err := get(ctx, c.Dynamic, namespaceRef(in.name))
	if err != nil {
		return "", err
	}
	if found {
		objs = append(objs, *nsObj)
	}
	return writeBackup(req.Step, u.Name(), u.now(), objs)
}

func namespaceRef(name string) Ref {
	return Ref{Resource: corev1.SchemeGroupVersion.WithResource("namespaces"),
		Kind: "Namespace", Name: name}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/self-heal/self-heal/fixers/kube/kubeconfig"
	"github.com/self-heal/self-heal/pkg/fixer"
)

// RecreateObject is the kube.recreate-object fixer: it deletes an object
// whose immutable fields the step changes, so that the re-run creates it
// anew. It only acts on kinds the pattern allows explicitly, and never on
// PersistentVolumeClaims (their data), Services of type LoadBalancer
// (their cloud load balancer and address) or Namespaces (everything in
// them).
type RecreateObject struct {
	now  func() time.Time
	poll time.Duration
}

var (
	_ fixer.Fixer     = (*RecreateObject)(nil)
	_ fixer.Backupper = (*RecreateObject)(nil)
)

// NewRecreateObject returns the fixer, reading the wall clock.
func NewRecreateObject() *RecreateObject {
	return &RecreateObject{now: time.Now, poll: 500 * time.Millisecond}
}

// Name returns "kube.recreate-object".
func (*RecreateObject) Name() string { return "kube.recreate-object" }

// Safety returns [fixer.Destructive]: the object is deleted.
func (*RecreateObject) Safety() fixer.Safety { return fixer.Destructive }

// Describe says what the fixer does in one line.
func (*RecreateObject) Describe() string {
	return "delete an object whose immutable fields changed so the re-run creates it " +
		"(explicitly allowed kinds only)"
}

// Inputs lists the object and the allowed kinds.
func (*RecreateObject) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "kind", Type: fixer.String, Required: true, Doc: "the object's kind (a capture)"},
		{Name: "name", Type: fixer.String, Required: true, Doc: "the object's name (a capture)"},
		{Name: "namespace", Type: fixer.String,
			Doc: "the object's namespace; else its manifest's, else the step's"},
		{Name: "field", Type: fixer.String, Doc: "the immutable field (a capture), for the report"},
		{Name: "kinds", Type: fixer.String,
			Doc: "kinds that may be recreated, comma-separated; empty refuses every kind"},
		{Name: "timeout", Type: fixer.Duration, Default: "2m",
			Doc: "how long to wait for the deleted object to go"},
	}
}

// neverRecreated are the kinds whose deletion loses more than the object.
var neverRecreated = map[string]string{
	"PersistentVolumeClaim": "deleting a PersistentVolumeClaim can delete its volume's data",
	"PersistentVolume":      "deleting a PersistentVolume can delete its data",
	"Namespace":             "deleting a Namespace deletes everything in it",
}

// recreateTarget is the parsed request with the object read.
type recreateTarget struct {
	ref   Ref
	obj   *unstructured.Unstructured
	field string
	dyn   dynamic.Interface
}

// Check refuses kinds that are not allowed or never recreated, and says
// what Apply would delete.
func (r *RecreateObject) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	t, plan, done, err := r.inspect(ctx, req)
	if done || err != nil {
		return plan, err
	}
	ev := []string{fmt.Sprintf("%s exists (uid %s, created %s ago)", t.ref, t.obj.GetUID(),
		age(r.now(), t.obj.GetCreationTimestamp().Time))}
	if t.field != "" {
		ev = append(ev, "the step changes "+t.field+", which cannot change in place")
	}
	if rel := t.obj.GetAnnotations()["meta.helm.sh/release-name"]; rel != "" {
		ev = append(ev, "the object belongs to Helm release "+rel)
	}
	return fixer.Plan{Verdict: fixer.Act, Evidence: ev, Action: fmt.Sprintf(
		"delete %s so that the re-run creates it with the new immutable fields", t.ref)}, nil
}

// inspect parses the request, applies the refusals and reads the object.
// done is set with the plan to return when Apply must not delete.
func (r *RecreateObject) inspect(ctx context.Context, req fixer.Request,
) (recreateTarget, fixer.Plan, bool, error) {
	v := req.Values
	kind := v.String("kind", "")
	if reason, ok := neverRecreated[canonicalKind(kind)]; ok {
		return recreateTarget{}, refusal(fmt.Sprintf("never recreates a %s: %s", kind, reason)),
			true, nil
	}
	a, c, err := access(req.Step)
	if err != nil {
		return recreateTarget{}, fixer.Plan{}, true, err
	}
	t, err := r.target(a, c, req.Step, v)
	if err != nil {
		return t, fixer.Plan{}, true, err
	}
	if reason, ok := neverRecreated[t.ref.Kind]; ok {
		return t, refusal(fmt.Sprintf("never recreates a %s: %s", t.ref.Kind, reason)), true, nil
	}
	if !kindAllowed(splitList(v.String("kinds", "")), t.ref) {
		return t, refusal(fmt.Sprintf("recreating %s deletes it, which needs an explicit allow: "+
			"add %s to this fixer's kinds input (with: {kinds: %s}) in a repository pattern",
			t.ref, t.ref.Kind, t.ref.Kind)), true, nil
	}
	obj, found, err := get(ctx, c.Dynamic, t.ref)
	if err != nil || !found {
		return t, fixer.Plan{Verdict: fixer.Nothing, Action: t.ref.String() +
			" does not exist; the re-run creates it"}, true, err
	}
	t.obj = obj
	if plan, bad := r.guard(t); bad {
		return t, plan, true, nil
	}
	return t, fixer.Plan{}, false, nil
}

// target resolves the object: its namespace is the input, else the one
// the step's manifests give it, else the step's.
func (r *RecreateObject) target(a *kubeconfig.Access, c *kubeconfig.Clients, step fixer.Step,
	v fixer.Values,
) (recreateTarget, error) {
	name := v.String("name", "")
	if name == "" {
		return recreateTarget{}, fmt.Errorf("the failure names no object")
	}
	ns := v.String("namespace", manifestNamespace(step, v.String("kind", ""), name))
	if ns == "" {
		ns = a.Namespace()
	}
	ref, err := refFor(c.Mapper, v.String("kind", ""), ns, name)
	if err != nil {
		return recreateTarget{}, err
	}
	return recreateTarget{ref: ref, field: v.String("field", ""), dyn: c.Dynamic}, nil
}

// guard refuses objects whose deletion would lose more than the object.
func (r *RecreateObject) guard(t recreateTarget) (fixer.Plan, bool) {
	if t.ref.Kind == "Service" {
		typ, _, _ := unstructured.NestedString(t.obj.Object, "spec", "type")
		if typ == "LoadBalancer" {
			return refusal("never recreates a Service of type LoadBalancer: its load balancer " +
				"and address would be released"), true
		}
	}
	for _, o := range t.obj.GetOwnerReferences() {
		if o.Controller != nil && *o.Controller {
			return refusal(fmt.Sprintf("%s is managed by %s %s, which would recreate it as it "+
				"was: change the owner instead", t.ref, o.Kind, o.Name)), true
		}
	}
	return fixer.Plan{}, false
}

func refusal(action string) fixer.Plan {
	return fixer.Plan{Verdict: fixer.Refuse, Action: action}
}

// canonicalKind spells a kind the way the API does, for the few kinds the
// fixer refuses before asking the cluster.
func canonicalKind(kind string) string {
	name, _, _ := strings.Cut(kind, ".")
	for k := range neverRecreated {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	switch strings.ToLower(name) {
	case "pvc", "persistentvolumeclaims":
		return "PersistentVolumeClaim"
	case "pv", "persistentvolumes":
		return "PersistentVolume"
	case "ns", "namespaces":
		return "Namespace"
	}
	return name
}

// kindAllowed reports whether the allow list names the object's kind or
// resource.
func kindAllowed(allowed []string, ref Ref) bool {
	for _, a := range allowed {
		name, group, _ := strings.Cut(a, ".")
		if group != "" && group != ref.Resource.Group {
			continue
		}
		if strings.EqualFold(name, ref.Kind) || strings.EqualFold(name, ref.Resource.Resource) {
			return true
		}
	}
	return false
}

// Apply deletes the object, only if it is still the one Check saw, and
// waits until it is gone. An object that is gone already is not touched,
// and the notes say so.
func (r *RecreateObject) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	t, plan, done, err := r.inspect(ctx, req)
	if err != nil {
		return fixer.Result{}, err
	}
	if done {
		if plan.Verdict == fixer.Refuse {
			return fixer.Result{}, fmt.Errorf("not applied: %s", plan.Action)
		}
		return fixer.Result{Notes: []string{"deleted nothing: " + plan.Action}}, nil
	}
	timeout, err := req.Values.Duration("timeout", 2*time.Minute)
	if err != nil {
		return fixer.Result{}, err
	}
	uid := t.obj.GetUID()
	bg := metav1.DeletePropagationBackground
	err = t.ref.client(t.dyn).Delete(ctx, t.ref.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &uid}, PropagationPolicy: &bg,
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fixer.Result{}, fmt.Errorf("delete %s: %w", t.ref, err)
	}
	res := fixer.Result{Changed: []string{fmt.Sprintf("deleted %s (uid %s); the re-run creates it",
		t.ref, uid)}}
	return res, r.waitGone(ctx, t.dyn, t.ref, timeout)
}

func (r *RecreateObject) waitGone(ctx context.Context, dyn dynamic.Interface, ref Ref,
	timeout time.Duration,
) error {
	deadline := r.now().Add(timeout)
	for r.now().Before(deadline) {
		_, found, err := get(ctx, dyn, ref)
		if err != nil {
			return err
		}
		if !found {
			return nil
		}
		if err := sleep(ctx, r.poll); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s is still there %s after its deletion (a finalizer?)", ref, timeout)
}

// Backup saves the object before Apply deletes it.
func (r *RecreateObject) Backup(ctx context.Context, req fixer.Request) (string, error) {
	t, plan, done, err := r.inspect(ctx, req)
	if err != nil {
		return "", err
	}
	if done {
		return "", fmt.Errorf("nothing to back up: %s", plan.Action)
	}
	return writeBackup(req.Step, r.Name(), r.now(), []unstructured.Unstructured{*t.obj})
}

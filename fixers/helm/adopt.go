package helm

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/self-heal/self-heal/fixers/kube/kubeconfig"
	"github.com/self-heal/self-heal/pkg/fixer"
)

// Helm's ownership metadata, as the SDK checks it before it takes over an
// existing object.
const (
	managedByLabel      = "app.kubernetes.io/managed-by"
	managedByHelm       = "Helm"
	releaseNameKey      = "meta.helm.sh/release-name"
	releaseNamespaceKey = "meta.helm.sh/release-namespace"
)

// AdoptResource is the helm.adopt-resource fixer: an install or upgrade
// fails because an object it renders already exists without Helm's
// ownership metadata (an earlier uninstall kept it, or a script made it).
// The fixer gives the orphan the release's label and annotations so that
// the re-run takes it over. It refuses an object that another release or
// another tool owns: adopting it would take it from its owner.
type AdoptResource struct {
	now func() time.Time
}

var (
	_ fixer.Fixer     = (*AdoptResource)(nil)
	_ fixer.Backupper = (*AdoptResource)(nil)
)

// NewAdoptResource returns the fixer, reading the wall clock.
func NewAdoptResource() *AdoptResource { return &AdoptResource{now: time.Now} }

// Name returns "helm.adopt-resource".
func (*AdoptResource) Name() string { return "helm.adopt-resource" }

// Safety returns [fixer.Disruptive]: the release will manage the object.
func (*AdoptResource) Safety() fixer.Safety { return fixer.Disruptive }

// Describe says what the fixer does in one line.
func (*AdoptResource) Describe() string {
	return "give an orphaned object the release's ownership label and annotations"
}

// Inputs lists the object and the release that wants it.
func (*AdoptResource) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "kind", Type: fixer.String, Required: true, Doc: "the object's kind (a capture)"},
		{Name: "name", Type: fixer.String, Required: true, Doc: "the object's name (a capture)"},
		{Name: "namespace", Type: fixer.String, Doc: "the object's namespace (a capture)"},
		{Name: "release", Type: fixer.String,
			Doc: "the release that wants the object (a capture); the step's when unset"},
		{Name: "release_namespace", Type: fixer.String,
			Doc: "the release's namespace (a capture); the step's when unset"},
	}
}

// orphan is the object and the ownership it should get.
type orphan struct {
	name      string
	kind      string
	namespace string
	release   string
	relNS     string
	client    dynamic.ResourceInterface
	obj       *unstructured.Unstructured
}

func (o *orphan) String() string {
	if o.namespace == "" {
		return o.kind + " " + o.name
	}
	return o.kind + " " + o.namespace + "/" + o.name
}

// Check reads the object's metadata and refuses an owned object.
func (a *AdoptResource) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	o, plan, done, err := a.inspect(ctx, req)
	if done || err != nil {
		return plan, err
	}
	return fixer.Plan{
		Verdict:  fixer.Act,
		Evidence: a.evidence(o),
		Action: fmt.Sprintf("label %s %s=%s and annotate it %s=%s, %s=%s so that release %s "+
			"adopts it", o, managedByLabel, managedByHelm, releaseNameKey, o.release,
			releaseNamespaceKey, o.relNS, o.release),
	}, nil
}

// evidence says why the object is an orphan, and who set its fields.
func (a *AdoptResource) evidence(o *orphan) []string {
	ev := []string{fmt.Sprintf("%s exists (created %s ago) and no release or tool claims it: %s",
		o, a.now().Sub(o.obj.GetCreationTimestamp().Time).Round(time.Second), ownership(o.obj))}
	if others := otherManagers(o.obj); len(others) > 0 {
		ev = append(ev, fmt.Sprintf("its fields were set by %s; Helm's server-side apply "+
			"would conflict with them, so helm takes them over (fields the chart does not "+
			"set are dropped at the next apply)", strings.Join(others, ", ")))
	}
	return ev
}

// ownership renders the ownership metadata an object carries.
func ownership(obj *unstructured.Unstructured) string {
	var parts []string
	if v, ok := obj.GetLabels()[managedByLabel]; ok {
		parts = append(parts, fmt.Sprintf("label %s=%q", managedByLabel, v))
	}
	for _, k := range []string{releaseNameKey, releaseNamespaceKey} {
		if v, ok := obj.GetAnnotations()[k]; ok {
			parts = append(parts, fmt.Sprintf("annotation %s=%q", k, v))
		}
	}
	if len(parts) == 0 {
		return "it has no Helm ownership metadata"
	}
	return "it has only " + strings.Join(parts, ", ")
}

// inspect parses the request and reads the object. done is set with the
// plan to return when the fixer must not adopt.
func (a *AdoptResource) inspect(ctx context.Context, req fixer.Request,
) (*orphan, fixer.Plan, bool, error) {
	acc := kubeconfig.ForStep(req.Step)
	o, err := a.orphanOf(acc, req)
	if err != nil {
		return nil, fixer.Plan{}, true, err
	}
	o.obj, err = o.client.Get(ctx, o.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return o, fixer.Plan{Verdict: fixer.Nothing, Action: o.String() +
			" does not exist; the re-run creates it"}, true, nil
	}
	if err != nil {
		return nil, fixer.Plan{}, true, fmt.Errorf("get %s: %w", o, err)
	}
	if plan, refused := ownedElsewhere(o); refused {
		return o, plan, true, nil
	}
	if adopted(o) {
		return o, fixer.Plan{Verdict: fixer.Nothing, Action: fmt.Sprintf(
			"%s already belongs to release %s", o, o.release)}, true, nil
	}
	return o, fixer.Plan{}, false, nil
}

// orphanOf resolves the object the request names.
func (a *AdoptResource) orphanOf(acc *kubeconfig.Access, req fixer.Request) (*orphan, error) {
	v := req.Values
	o := &orphan{
		kind: v.String("kind", ""), name: v.String("name", ""),
		release: v.String("release", releaseArg(req.Step.Args)),
		relNS:   v.String("release_namespace", acc.Namespace()),
	}
	if o.name == "" || o.kind == "" || o.release == "" {
		return nil, fmt.Errorf("the failure names no object or no release")
	}
	c, err := acc.Clients()
	if err != nil {
		return nil, err
	}
	m, err := kubeconfig.Mapping(c.Mapper, o.kind)
	if err != nil {
		return nil, err
	}
	o.kind = m.GroupVersionKind.Kind
	res := c.Dynamic.Resource(m.Resource)
	o.client = res
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		o.namespace = v.String("namespace", acc.Namespace())
		o.client = res.Namespace(o.namespace)
	}
	return o, nil
}

// ownedElsewhere refuses an object that another release, another tool or
// another object manages.
func ownedElsewhere(o *orphan) (fixer.Plan, bool) {
	labels, ann := o.obj.GetLabels(), o.obj.GetAnnotations()
	refuse := func(why string) (fixer.Plan, bool) {
		return fixer.Plan{Verdict: fixer.Refuse, Action: fmt.Sprintf(
			"%s %s: adopting it into release %s would take it from its owner", o, why,
			o.release)}, true
	}
	if v, ok := ann[releaseNameKey]; ok && v != o.release {
		return refuse(fmt.Sprintf("belongs to Helm release %q (%s)", v, releaseNameKey))
	}
	if v, ok := ann[releaseNamespaceKey]; ok && v != o.relNS {
		return refuse(fmt.Sprintf("belongs to a release in namespace %q (%s)", v,
			releaseNamespaceKey))
	}
	if v, ok := labels[managedByLabel]; ok && v != managedByHelm {
		return refuse(fmt.Sprintf("is managed by %q (%s)", v, managedByLabel))
	}
	for _, ref := range o.obj.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller {
			return refuse(fmt.Sprintf("is controlled by %s %s", ref.Kind, ref.Name))
		}
	}
	return fixer.Plan{}, false
}

func adopted(o *orphan) bool {
	ann := o.obj.GetAnnotations()
	return o.obj.GetLabels()[managedByLabel] == managedByHelm &&
		ann[releaseNameKey] == o.release && ann[releaseNamespaceKey] == o.relNS
}

// Apply adds the ownership metadata with a merge patch that fails if the
// object changed since it was read.
func (a *AdoptResource) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	o, plan, done, err := a.inspect(ctx, req)
	if err != nil {
		return fixer.Result{}, err
	}
	if done {
		if plan.Verdict == fixer.Refuse {
			return fixer.Result{}, fmt.Errorf("not applied: %s", plan.Action)
		}
		return fixer.Result{}, nil
	}
	meta := map[string]any{
		"resourceVersion": o.obj.GetResourceVersion(),
		"labels":          map[string]string{managedByLabel: managedByHelm},
		"annotations": map[string]string{
			releaseNameKey: o.release, releaseNamespaceKey: o.relNS,
		},
	}
	others := otherManagers(o.obj)
	if len(others) > 0 {
		fields, err := handOver(o.obj)
		if err != nil {
			return fixer.Result{}, err
		}
		meta["managedFields"] = fields
	}
	patch, err := json.Marshal(map[string]any{"metadata": meta})
	if err != nil {
		return fixer.Result{}, fmt.Errorf("encode ownership patch: %w", err)
	}
	if _, err := o.client.Patch(ctx, o.name, types.MergePatchType, patch,
		metav1.PatchOptions{FieldManager: "helm"}); err != nil {
		return fixer.Result{}, fmt.Errorf("adopt %s: %w", o, err)
	}
	res := fixer.Result{Changed: []string{fmt.Sprintf("%s now belongs to release %s in "+
		"namespace %s (%s=%s, %s, %s)", o, o.release, o.relNS, managedByLabel, managedByHelm,
		releaseNameKey, releaseNamespaceKey)}}
	if len(others) > 0 {
		res.Changed = append(res.Changed, fmt.Sprintf("handed the fields of %s from %s to "+
			"helm, so that the release's server-side apply owns them", o,
			strings.Join(others, ", ")))
	}
	return res, nil
}

// otherManagers lists the managers of an object's fields other than
// helm's server-side apply. Helm 4 applies server-side: a field another
// manager set to another value is a conflict.
func otherManagers(obj *unstructured.Unstructured) []string {
	var out []string
	for _, m := range obj.GetManagedFields() {
		if isHelmApply(m) || m.Subresource != "" || slices.Contains(out, m.Manager) {
			continue
		}
		out = append(out, m.Manager)
	}
	return out
}

func isHelmApply(m metav1.ManagedFieldsEntry) bool {
	return m.Manager == "helm" && m.Operation == metav1.ManagedFieldsOperationApply
}

// handOver returns the object's managed fields with every field outside
// subresources owned by helm's server-side apply, as if the release had
// applied the object. The next apply of the release then sets its fields
// without conflicts, and drops the fields the chart does not set: the
// object ends as the chart renders it.
func handOver(obj *unstructured.Unstructured) ([]map[string]any, error) {
	owned := map[string]any{}
	var out []map[string]any
	for _, m := range obj.GetManagedFields() {
		if m.Subresource != "" {
			entry, err := runtimeToMap(m)
			if err != nil {
				return nil, err
			}
			out = append(out, entry)
			continue
		}
		if m.FieldsV1 == nil {
			continue
		}
		var set map[string]any
		if err := json.Unmarshal(m.FieldsV1.GetRawBytes(), &set); err != nil {
			return nil, fmt.Errorf("read the managed fields of %s: %w", obj.GetName(), err)
		}
		mergeSets(owned, set)
	}
	out = append(out, map[string]any{
		"manager": "helm", "operation": string(metav1.ManagedFieldsOperationApply),
		"apiVersion": obj.GetAPIVersion(), "time": metav1.Now().UTC().Format(time.RFC3339),
		"fieldsType": "FieldsV1", "fieldsV1": owned,
	})
	return out, nil
}

// mergeSets adds the field set src to dst (both in the FieldsV1 form:
// nested maps whose leaves are empty maps).
func mergeSets(dst, src map[string]any) {
	for k, v := range src {
		sub, ok := v.(map[string]any)
		if !ok {
			dst[k] = v
			continue
		}
		cur, ok := dst[k].(map[string]any)
		if !ok {
			cur = map[string]any{}
			dst[k] = cur
		}
		mergeSets(cur, sub)
	}
}

func runtimeToMap(m metav1.ManagedFieldsEntry) (map[string]any, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode managed fields: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("decode managed fields: %w", err)
	}
	return out, nil
}

// Backup saves the object before Apply changes its metadata.
func (a *AdoptResource) Backup(ctx context.Context, req fixer.Request) (string, error) {
	o, plan, done, err := a.inspect(ctx, req)
	if err != nil {
		return "", err
	}
	if done {
		return "", fmt.Errorf("nothing to back up: %s", plan.Action)
	}
	body, err := json.MarshalIndent(o.obj.Object, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", o, err)
	}
	dir := req.Step.ArtifactDir
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create backup directory: %w", err)
	}
	path := filepath.Join(dir, fmt.Sprintf("helm-adopt-resource-%s-%s.json", o.name,
		a.now().UTC().Format("20060102T150405.000Z")))
	if err := os.WriteFile(path, body, 0o600); err != nil {
		return "", fmt.Errorf("write backup: %w", err)
	}
	return path, nil
}

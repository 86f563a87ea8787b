// Package kube holds the fixers that repair Kubernetes objects through the
// API server: kube.unstick-namespace, kube.remove-finalizers,
// kube.recreate-object and kube.refresh-token.
//
// Every fixer reaches the cluster with the step's own kubeconfig (see
// package kubeconfig) through client-go; none shells out to kubectl. Check
// only reads; Apply changes the objects it names in its result and nothing
// else, and a second Apply finds nothing left to do.
package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/self-heal/self-heal/fixers/kube/kubeconfig"
	"github.com/self-heal/self-heal/pkg/fixer"
)

// Ref names one object of the cluster.
type Ref struct {
	Resource  schema.GroupVersionResource
	Kind      string
	Namespace string
	Name      string
}

// String renders the reference as "Kind namespace/name" (or "Kind name"
// for cluster-scoped objects).
func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// client returns the dynamic client for the reference's resource.
func (r Ref) client(dyn dynamic.Interface) dynamic.ResourceInterface {
	c := dyn.Resource(r.Resource)
	if r.Namespace == "" {
		return c
	}
	return c.Namespace(r.Namespace)
}

// refFor builds the reference to name of what, placing it in namespace
// when the resource is namespaced.
func refFor(mapper meta.RESTMapper, what, namespace, name string) (Ref, error) {
	m, err := kubeconfig.Mapping(mapper, what)
	if err != nil {
		return Ref{}, err
	}
	ref := Ref{Resource: m.Resource, Kind: m.GroupVersionKind.Kind, Name: name}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ref.Namespace = namespace
	}
	return ref, nil
}

// get reads the object a reference names; found is false when it does not
// exist.
func get(ctx context.Context, dyn dynamic.Interface, r Ref,
) (*unstructured.Unstructured, bool, error) {
	obj, err := r.client(dyn).Get(ctx, r.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get %s: %w", r, err)
	}
	return obj, true, nil
}

// removeFinalizers clears the finalizers of an object with a JSON patch
// that first tests the resourceVersion it was read at, so a finalizer a
// controller adds meanwhile is never dropped unseen.
func removeFinalizers(ctx context.Context, dyn dynamic.Interface, r Ref,
	obj *unstructured.Unstructured, keep []string,
) error {
	patch := []map[string]any{
		{"op": "test", "path": "/metadata/resourceVersion", "value": obj.GetResourceVersion()},
		{"op": "replace", "path": "/metadata/finalizers", "value": keepOrEmpty(keep)},
	}
	body, err := json.Marshal(patch)
	if err != nil {
		return fmt.Errorf("encode finalizer patch: %w", err)
	}
	_, err = r.client(dyn).Patch(ctx, r.Name, "application/json-patch+json", body,
		metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("remove finalizers of %s: %w", r, err)
	}
	return nil
}

func keepOrEmpty(keep []string) []string {
	if keep == nil {
		return []string{}
	}
	return keep
}

// age renders how long ago t was, rounded to the second.
func age(now time.Time, t time.Time) time.Duration {
	return now.Sub(t).Round(time.Second)
}

// writeBackup saves objects as a JSON list in the step's artifact
// directory, readable by the owner only, and returns the file's path.
func writeBackup(step fixer.Step, fixerName string, now time.Time,
	objs []unstructured.Unstructured,
) (string, error) {
	dir := step.ArtifactDir
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create backup directory: %w", err)
	}
	items := make([]any, 0, len(objs))
	for _, o := range objs {
		items = append(items, o.Object)
	}
	body, err := json.MarshalIndent(map[string]any{
		"apiVersion": "v1", "kind": "List", "items": items,
	}, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode backup: %w", err)
	}
	name := fmt.Sprintf("%s-%s.json", strings.ReplaceAll(fixerName, ".", "-"),
		now.UTC().Format("20060102T150405.000Z"))
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		return "", fmt.Errorf("write backup: %w", err)
	}
	return path, nil
}

// access returns the step's cluster clients.
func access(step fixer.Step) (*kubeconfig.Access, *kubeconfig.Clients, error) {
	a := kubeconfig.ForStep(step)
	c, err := a.Clients()
	if err != nil {
		return nil, nil, err
	}
	return a, c, nil
}

// splitList splits a comma-separated input into its trimmed, non-empty
// items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

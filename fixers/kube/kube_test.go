package kube

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/self-heal/self-heal/pkg/fixer"
)

func TestKindAllowed(t *testing.T) {
	t.Parallel()
	deploy := Ref{Resource: schema.GroupVersionResource{Group: "apps", Version: "v1",
		Resource: "deployments"}, Kind: "Deployment"}
	tests := []struct {
		name    string
		allowed []string
		want    bool
	}{
		{"nothing allowed", nil, false},
		{"by kind", []string{"Deployment"}, true},
		{"by kind, any case", []string{"deployment"}, true},
		{"by resource", []string{"deployments"}, true},
		{"by kind and group", []string{"Deployment.apps"}, true},
		{"another group", []string{"Deployment.example.com"}, false},
		{"another kind", []string{"StatefulSet", "Job"}, false},
	}
	for _, tt := range tests {
		if got := kindAllowed(tt.allowed, deploy); got != tt.want {
			t.Errorf("%s: kindAllowed(%q) = %v, want %v", tt.name, tt.allowed, got, tt.want)
		}
	}
}

func TestCanonicalKind(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"pvc": "PersistentVolumeClaim", "PersistentVolumeClaim": "PersistentVolumeClaim",
		"persistentvolumeclaims": "PersistentVolumeClaim", "ns": "Namespace",
		"namespace": "Namespace", "Deployment.apps": "Deployment", "pv": "PersistentVolume",
	} {
		if got := canonicalKind(in); got != want {
			t.Errorf("canonicalKind(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestManifestNamespace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("app.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
`)
	if err := os.Mkdir(filepath.Join(dir, "more"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("more/job.json", `{"apiVersion": "batch/v1", "kind": "Job",
		"metadata": {"name": "migrate", "namespace": "db"}}`)

	tests := []struct {
		name            string
		args            []string
		kind, obj, want string
	}{
		{"second document", []string{"kubectl", "apply", "-f", "app.yaml"},
			"Deployment", "web", "apps"},
		{"kind with group", []string{"kubectl", "apply", "--filename=app.yaml"},
			"deployment.apps", "web", "apps"},
		{"directory", []string{"kubectl", "apply", "-f", "more"}, "Job", "migrate", "db"},
		{"not in the manifests", []string{"kubectl", "apply", "-f", "app.yaml"},
			"Service", "web", ""},
		{"stdin", []string{"kubectl", "apply", "-f", "-"}, "Deployment", "web", ""},
	}
	for _, tt := range tests {
		step := fixer.Step{Dir: dir, Args: tt.args}
		if got := manifestNamespace(step, tt.kind, tt.obj); got != tt.want {
			t.Errorf("%s: manifestNamespace() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLeaseFresh(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	lease := func(renewed *time.Time) *coordinationv1.Lease {
		l := &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{
			LeaseDurationSeconds: ptr.To[int32](15)}}
		if renewed != nil {
			l.Spec.RenewTime = &metav1.MicroTime{Time: *renewed}
		}
		return l
	}
	recent, old := now.Add(-10*time.Second), now.Add(-5*time.Minute)
	tests := []struct {
		name  string
		lease *coordinationv1.Lease
		want  bool
	}{
		{"renewed ten seconds ago", lease(&recent), true},
		{"renewed five minutes ago", lease(&old), false},
		{"never renewed", lease(nil), false},
	}
	for _, tt := range tests {
		got, why, err := leaseFresh(tt.lease, now)
		if err != nil || got != tt.want || why == "" {
			t.Errorf("%s: leaseFresh() = %v %q, %v; want %v with a reason", tt.name, got, why,
				err, tt.want)
		}
	}
}

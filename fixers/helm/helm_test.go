package helm

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/self-heal/self-heal/pkg/fixer"
)

func TestReleaseArg(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"helm", "upgrade", "--install", "web", "./chart"}, "web"},
		{[]string{"helm", "upgrade", "-n", "prod", "--timeout", "5m", "web", "./chart"}, "web"},
		{[]string{"helm", "--kube-context=x", "install", "--wait", "api", "repo/api"}, "api"},
		{[]string{"/usr/local/bin/helm", "rollback", "web", "3"}, "web"},
		{[]string{"env", "A=1", "helm", "uninstall", "web", "--keep-history"}, "web"},
		{[]string{"helm", "upgrade", "--set", "a=b", "-f", "v.yaml", "web", "."}, "web"},
		{[]string{"helm", "repo", "update"}, ""},
		{[]string{"helm", "list"}, ""},
		{[]string{"kubectl", "apply", "-f", "x"}, ""},
	}
	for _, tt := range tests {
		if got := releaseArg(tt.args); got != tt.want {
			t.Errorf("releaseArg(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestThreshold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values fixer.Values
		args   []string
		want   time.Duration
	}{
		{"helm's default", nil, []string{"helm", "upgrade", "x", "."}, 5 * time.Minute},
		{"the step's --timeout", nil, []string{"helm", "upgrade", "--timeout=90s"},
			90 * time.Second},
		{"min_age wins", fixer.Values{"min_age": "20m"}, []string{"helm", "--timeout", "1m"},
			20 * time.Minute},
	}
	for _, tt := range tests {
		got, err := threshold(fixer.Request{Values: tt.values, Step: fixer.Step{Args: tt.args}})
		if err != nil || got != tt.want {
			t.Errorf("%s: threshold() = %s, %v; want %s", tt.name, got, err, tt.want)
		}
	}
}

func TestOwnedElsewhere(t *testing.T) {
	t.Parallel()
	obj := func(labels, ann map[string]string, controlled bool) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetName("settings")
		u.SetLabels(labels)
		u.SetAnnotations(ann)
		if controlled {
			yes := true
			u.SetOwnerReferences([]metav1.OwnerReference{{Kind: "Operator", Name: "op",
				Controller: &yes}})
		}
		return u
	}
	tests := []struct {
		name   string
		obj    *unstructured.Unstructured
		refuse bool
	}{
		{"orphan", obj(nil, nil, false), false},
		{"labelled for Helm only", obj(map[string]string{managedByLabel: "Helm"}, nil, false),
			false},
		{"another release", obj(nil, map[string]string{releaseNameKey: "api"}, false), true},
		{"another namespace", obj(nil, map[string]string{releaseNamespaceKey: "prod"}, false),
			true},
		{"another tool", obj(map[string]string{managedByLabel: "argocd"}, nil, false), true},
		{"a controller's object", obj(nil, nil, true), true},
	}
	for _, tt := range tests {
		o := &orphan{kind: "ConfigMap", name: "settings", namespace: "site", release: "web",
			relNS: "site", obj: tt.obj}
		plan, refused := ownedElsewhere(o)
		if refused != tt.refuse || (refused && plan.Verdict != fixer.Refuse) {
			t.Errorf("%s: ownedElsewhere() = %v %q, want refused %v", tt.name, plan.Verdict,
				plan.Action, tt.refuse)
		}
	}
}

func TestHandOver(t *testing.T) {
	t.Parallel()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetName("settings")
	fields := metav1.NewFieldsV1
	u.SetManagedFields([]metav1.ManagedFieldsEntry{
		{Manager: "kubectl-create", Operation: metav1.ManagedFieldsOperationUpdate,
			APIVersion: "v1", FieldsType: "FieldsV1",
			FieldsV1: fields(`{"f:data":{".":{},"f:value":{}}}`)},
		{Manager: "kubectl-label", Operation: metav1.ManagedFieldsOperationUpdate,
			APIVersion: "v1", FieldsType: "FieldsV1",
			FieldsV1: fields(`{"f:metadata":{"f:labels":{".":{},"f:team":{}}}}`)},
		{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1",
			FieldsType: "FieldsV1", Subresource: "status", FieldsV1: fields(`{"f:status":{}}`)},
	})
	if diff := cmp.Diff([]string{"kubectl-create", "kubectl-label"}, otherManagers(u)); diff != "" {
		t.Errorf("otherManagers() mismatch (-want +got):\n%s", diff)
	}

	out, err := handOver(u)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0]["subresource"] != "status" || out[0]["manager"] != "kubelet" {
		t.Fatalf("handOver() = %v, want the status entry kept and one helm entry", out)
	}
	helm := out[1]
	got, _ := json.Marshal(helm["fieldsV1"])
	want := `{"f:data":{".":{},"f:value":{}},"f:metadata":{"f:labels":{".":{},"f:team":{}}}}`
	if helm["manager"] != "helm" || helm["operation"] != "Apply" || string(got) != want {
		t.Errorf("handOver() helm entry = %v %v %s, want helm Apply %s", helm["manager"],
			helm["operation"], got, want)
	}
}

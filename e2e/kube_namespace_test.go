//go:build e2e

package e2e

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/self-heal/self-heal/e2e/cluster"
	"github.com/self-heal/self-heal/fixers/kube"
	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/pattern"
	"github.com/self-heal/self-heal/pkg/report"
)

// drainFinalizer is a finalizer whose controller does not exist.
const drainFinalizer = "shop.example.com/drain"

// leaveTerminating creates namespace ns with a ConfigMap that carries a
// finalizer, another ConfigMap and a Secret, then deletes the namespace.
// With no namespace controller, it stays Terminating for good.
func leaveTerminating(t *testing.T, c *cluster.Cluster, ns string) types {
	t.Helper()
	created := types{}
	n, err := c.Kube.CoreV1().Namespaces().Create(ctx(t), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created["namespace"] = string(n.UID)
	cms := c.Kube.CoreV1().ConfigMaps(ns)
	for _, cm := range []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{Name: "orders", Finalizers: []string{drainFinalizer}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "plain"}},
	} {
		if _, err := cms.Create(ctx(t), cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Kube.CoreV1().Secrets(ns).Create(ctx(t), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "token"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Kube.CoreV1().Namespaces().Delete(ctx(t), ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	n, err = c.Kube.CoreV1().Namespaces().Get(ctx(t), ns, getOpts)
	if err != nil || n.Status.Phase != corev1.NamespaceTerminating {
		t.Fatalf("namespace %s after delete: %v, %v; want Terminating", ns, n.Status.Phase, err)
	}
	return created
}

// types maps what a test created to its UID.
type types map[string]string

// shopManifest is what the healed step applies: the namespace again, with
// one ConfigMap.
const shopManifest = `
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  currency: EUR
`

// TestKubeNamespace_TerminatingIsUnstuck applies a namespace that is still
// Terminating from an earlier delete: self-heal must delete what is left
// in it, drop the finalizer no controller removes, finalize it, and
// re-run the apply, without touching another namespace.
func TestKubeNamespace_TerminatingIsUnstuck(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	old := leaveTerminating(t, c, "shop")
	kubectl(t, c, "create", "namespace", "bystander")
	kubectl(t, c, "-n", "bystander", "create", "configmap", "keep", "--from-literal=a=b")
	kubectl(t, c, "-n", "bystander", "patch", "configmap", "keep", "--type=merge",
		"-p", `{"metadata":{"finalizers":["`+drainFinalizer+`"]}}`)

	dir := t.TempDir()
	manifest := writeFile(t, dir, "shop.yaml", shopManifest)
	r := step{dir: dir, env: c.Env(""), args: []string{"kubectl", "apply", "-f", manifest}}.run(t)

	if r.exit != 0 || r.report.Outcome != report.Healed {
		t.Fatalf("self-heal exit %d, outcome %s; want 0, healed\n%s", r.exit, r.report.Outcome,
			r.output)
	}
	if !strings.Contains(r.output, "because it is being terminated") {
		t.Errorf("the step's output lacks the terminating namespace error")
	}
	f := r.only(t, "k8s-namespace-terminating", "kube.unstick-namespace")
	for _, want := range [][]string{
		{"deleted ConfigMap shop/orders"}, {"deleted ConfigMap shop/plain"},
		{"deleted Secret shop/token"},
		{"removed finalizers " + drainFinalizer + " from ConfigMap shop/orders"},
		{"finalized namespace shop", "kubernetes"}, {"namespace shop is gone"},
	} {
		if !changedHas(f.Changed, want...) {
			t.Errorf("unstick-namespace changed %q, want a line with %q", f.Changed, want)
		}
	}
	if !slices.ContainsFunc(f.Evidence, func(s string) bool {
		return strings.Contains(s, "no kube-controller-manager lease")
	}) {
		t.Errorf("evidence %q does not say that no namespace controller runs", f.Evidence)
	}

	// The namespace is new, holds only what the step applied, and nothing
	// of the old one came back.
	ns, err := c.Kube.CoreV1().Namespaces().Get(ctx(t), "shop", getOpts)
	if err != nil || string(ns.UID) == old["namespace"] || ns.DeletionTimestamp != nil {
		t.Fatalf("namespace shop after the heal: %+v, %v; want a new, live one", ns, err)
	}
	cms, err := c.Kube.CoreV1().ConfigMaps("shop").List(ctx(t), metav1.ListOptions{})
	if err != nil || len(cms.Items) != 1 || cms.Items[0].Name != "settings" {
		t.Errorf("ConfigMaps in shop = %v, %v; want only settings", names(cms), err)
	}
	secrets, _ := c.Kube.CoreV1().Secrets("shop").List(ctx(t), metav1.ListOptions{})
	if len(secrets.Items) != 0 {
		t.Errorf("Secrets in shop = %d, want none (token must not come back)", len(secrets.Items))
	}

	checkIdempotent(t, kube.NewUnstickNamespace(), fixer.Values{"namespace": "shop"},
		c.Env(""))

	// The other namespace and its finalizer are untouched.
	keep, err := c.Kube.CoreV1().ConfigMaps("bystander").Get(ctx(t), "keep", getOpts)
	if err != nil || keep.DeletionTimestamp != nil || !slices.Equal(keep.Finalizers,
		[]string{drainFinalizer}) {
		t.Errorf("bystander/keep = %+v, %v; want it untouched", keep, err)
	}
}

func names(list *corev1.ConfigMapList) []string {
	if list == nil {
		return nil
	}
	var out []string
	for _, cm := range list.Items {
		out = append(out, cm.Name)
	}
	return out
}

// TestKubeNamespace_ProtectedIsRefused makes a namespace the repository
// protects stay Terminating: self-heal must refuse to touch it and leave
// everything in it as it was.
func TestKubeNamespace_ProtectedIsRefused(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	leaveTerminating(t, c, "shop")

	dir := t.TempDir()
	manifest := writeFile(t, dir, "shop.yaml", shopManifest)
	r := step{
		dir: dir, env: c.Env(""), args: []string{"kubectl", "apply", "-f", manifest},
		tune: map[string]func(*pattern.Pattern){
			"k8s-namespace-terminating": with("kube.unstick-namespace", "protect", "shop"),
		},
	}.run(t)

	if r.exit == 0 || r.report.Outcome != report.Refused {
		t.Fatalf("self-heal exit %d, outcome %s; want a refusal\n%s", r.exit, r.report.Outcome,
			r.output)
	}
	f := r.only(t, "k8s-namespace-terminating", "kube.unstick-namespace")
	if f.Applied || !strings.Contains(f.Refused, "namespace shop is protected") {
		t.Errorf("fix applied %v, refused %q; want a refusal naming the protection", f.Applied,
			f.Refused)
	}
	ns, err := c.Kube.CoreV1().Namespaces().Get(ctx(t), "shop", getOpts)
	if err != nil || ns.DeletionTimestamp == nil || len(ns.Spec.Finalizers) == 0 {
		t.Errorf("namespace shop = %+v, %v; want it still Terminating, finalizers intact", ns, err)
	}
	orders, err := c.Kube.CoreV1().ConfigMaps("shop").Get(ctx(t), "orders", getOpts)
	if err != nil || orders.DeletionTimestamp != nil || len(orders.Finalizers) != 1 {
		t.Errorf("shop/orders = %+v, %v; want it untouched", orders, err)
	}
	if _, err := c.Kube.CoreV1().ConfigMaps("shop").Get(ctx(t), "plain", getOpts); err != nil {
		t.Errorf("shop/plain: %v; want it untouched", err)
	}
}

// TestKubeNamespace_SystemNamespacesAreNeverFinalized asks the fixer
// itself about the namespaces Kubernetes needs: it must refuse each one,
// whatever its inputs say, and change nothing.
func TestKubeNamespace_SystemNamespacesAreNeverFinalized(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	f := kube.NewUnstickNamespace()
	for _, ns := range []string{"kube-system", "kube-public", "kube-node-lease", "default"} {
		req := fixer.Request{
			Values: fixer.Values{"namespace": ns, "min_age": "0s", "grace": "0s"},
			Step:   fixer.Step{Env: c.Env("")},
		}
		plan, err := f.Check(ctx(t), req)
		if err != nil || plan.Verdict != fixer.Refuse ||
			!strings.Contains(plan.Action, "protected") {
			t.Errorf("Check(%s) = %v %q, %v; want a refusal", ns, plan.Verdict, plan.Action, err)
		}
		if _, err := f.Apply(ctx(t), req); err == nil {
			t.Errorf("Apply(%s) error = nil, want a refusal", ns)
		}
		got, err := c.Kube.CoreV1().Namespaces().Get(ctx(t), ns, getOpts)
		if apierrors.IsNotFound(err) && ns == "kube-node-lease" {
			continue
		}
		if err != nil || got.DeletionTimestamp != nil {
			t.Errorf("namespace %s = %+v, %v; want it untouched", ns, got, err)
		}
	}
}

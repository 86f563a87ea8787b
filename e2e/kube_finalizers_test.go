//go:build e2e

package e2e

import (
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/self-heal/self-heal/e2e/cluster"
	"github.com/self-heal/self-heal/fixers/kube"
	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/pattern"
	"github.com/self-heal/self-heal/pkg/report"
)

// flushFinalizer is held by no controller on the test cluster.
const flushFinalizer = "cache.example.com/flush"

// cacheWithFinalizer creates namespace app with two ConfigMaps, cache and
// keep, both carrying a finalizer no controller removes.
func cacheWithFinalizer(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	kubectl(t, c, "create", "namespace", "app")
	for _, name := range []string{"cache", "keep"} {
		kubectl(t, c, "-n", "app", "create", "configmap", name, "--from-literal=a=b")
		kubectl(t, c, "-n", "app", "patch", "configmap", name, "--type=merge",
			"-p", `{"metadata":{"finalizers":["`+flushFinalizer+`"]}}`)
	}
}

// deleteCache is the step: delete the cache ConfigMap and wait for it.
var deleteCache = []string{"kubectl", "-n", "app", "delete", "configmap", "cache",
	"--ignore-not-found", "--timeout=5s"}

// TestKubeFinalizers_StuckDeletionIsReleased deletes an object whose
// finalizer no controller removes: the delete times out, and self-heal
// must remove that object's finalizer once the deletion is older than
// min_age, and re-run the delete, leaving another object with the same
// finalizer alone.
func TestKubeFinalizers_StuckDeletionIsReleased(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	cacheWithFinalizer(t, c)

	r := step{env: c.Env(""), args: deleteCache, tune: map[string]func(*pattern.Pattern){
		"k8s-finalizer-stuck": with("kube.remove-finalizers", "min_age", "3s"),
	}}.run(t)

	if r.exit != 0 || r.report.Outcome != report.Healed {
		t.Fatalf("self-heal exit %d, outcome %s; want 0, healed\n%s", r.exit, r.report.Outcome,
			r.output)
	}
	if !strings.Contains(r.output, "timed out waiting for the condition on configmaps/cache") {
		t.Errorf("the step's output lacks kubectl's timeout")
	}
	f := r.only(t, "k8s-finalizer-stuck", "kube.remove-finalizers")
	if !changedHas(f.Changed, "removed finalizers "+flushFinalizer+" of ConfigMap app/cache") ||
		!changedHas(f.Changed, "ConfigMap app/cache is gone") {
		t.Errorf("remove-finalizers changed %q, want the finalizer removed and cache gone",
			f.Changed)
	}
	if len(f.Evidence) == 0 || !strings.Contains(f.Evidence[0], "marked for deletion for") {
		t.Errorf("evidence %q does not say how long the deletion waited", f.Evidence)
	}
	_, err := c.Kube.CoreV1().ConfigMaps("app").Get(ctx(t), "cache", getOpts)
	if !apierrors.IsNotFound(err) {
		t.Errorf("app/cache: %v; want it gone", err)
	}
	checkIdempotent(t, kube.NewRemoveFinalizers(), fixer.Values{"resource": "configmaps",
		"name": "cache", "namespace": "app"}, c.Env(""))
	keep, err := c.Kube.CoreV1().ConfigMaps("app").Get(ctx(t), "keep", getOpts)
	if err != nil || keep.DeletionTimestamp != nil || !slices.Equal(keep.Finalizers,
		[]string{flushFinalizer}) {
		t.Errorf("app/keep = %+v, %v; want it untouched", keep, err)
	}
}

// TestKubeFinalizers_YoungDeletionIsWaitedFor runs the same step with the
// default threshold: a deletion only seconds old may still be in a
// controller's hands, so self-heal waits and re-runs, and never removes
// the finalizer.
func TestKubeFinalizers_YoungDeletionIsWaitedFor(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	cacheWithFinalizer(t, c)

	r := step{env: c.Env(""), args: deleteCache, flags: []string{"--max-attempts", "1"}}.run(t)

	if r.exit == 0 || r.report.Outcome != report.Failed {
		t.Fatalf("self-heal exit %d, outcome %s; want a failure\n%s", r.exit, r.report.Outcome,
			r.output)
	}
	fs := r.fixes("k8s-finalizer-stuck", "kube.remove-finalizers")
	if len(fs) == 0 {
		t.Fatalf("no remove-finalizers plan in the report\n%s", r.output)
	}
	for _, f := range fs {
		if f.Verdict != "wait" || f.Applied || !strings.Contains(f.Action, "less than min_age 5m") {
			t.Errorf("fix verdict %q applied %v action %q; want a wait below min_age", f.Verdict,
				f.Applied, f.Action)
		}
	}
	cache, err := c.Kube.CoreV1().ConfigMaps("app").Get(ctx(t), "cache", getOpts)
	if err != nil || cache.DeletionTimestamp == nil || !slices.Equal(cache.Finalizers,
		[]string{flushFinalizer}) {
		t.Errorf("app/cache = %+v, %v; want it still held by its finalizer", cache, err)
	}
}

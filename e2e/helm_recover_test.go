//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/self-heal/self-heal/e2e/cluster"
	"github.com/self-heal/self-heal/fixers/helm"
	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/report"
)

// shopCharts writes three versions of the shop chart: 0.1.0 (a ConfigMap),
// 0.2.0 (adds a ConfigMap and a Deployment that never becomes ready) and
// 0.3.0 (the ConfigMap and another one).
func shopCharts(t *testing.T) (v1, v2, v3 string) {
	dir := t.TempDir()
	v1 = cluster.WriteChart(t, dir, "shop", "0.1.0", map[string]string{
		"config.yaml": configMap("config", "1")})
	v2 = cluster.WriteChart(t, dir, "shop", "0.2.0", map[string]string{
		"config.yaml": configMap("config", "2"), "extra.yaml": configMap("extra", "2"),
		"web.yaml": deployment("web")})
	v3 = cluster.WriteChart(t, dir, "shop", "0.3.0", map[string]string{
		"config.yaml": configMap("config", "3"), "v3.yaml": configMap("v3", "3")})
	return v1, v2, v3
}

// pendingUpgrade installs shop 0.1.0 with the SDK, then kills a helm
// upgrade to 0.2.0 while it waits for its Deployment: revision 2 stays
// pending-upgrade.
func pendingUpgrade(t *testing.T, c *cluster.Cluster) (v3 string) {
	t.Helper()
	v1, v2, v3 := shopCharts(t)
	c.HelmInstall(t, "store", "shop", v1)
	killPending(t, c, "store", "shop", "pending-upgrade", "deployment/shop-web",
		"upgrade", "shop", v2, "-n", "store", "--wait", "--timeout", "10m")
	return v3
}

// TestHelmRecover_StalePendingUpgradeIsRolledBack meets a release left
// pending-upgrade by a helm that was killed, older than the step's
// --timeout: self-heal must mark that revision failed, roll back to the
// last deployed one (deleting what only the stuck revision created) and
// re-run the upgrade.
func TestHelmRecover_StalePendingUpgradeIsRolledBack(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	v3 := pendingUpgrade(t, c)
	time.Sleep(4 * time.Second) // older than the step's --timeout of 3s

	r := step{env: c.Env(""), args: []string{"helm", "upgrade", "shop", v3, "-n", "store",
		"--timeout", "3s"}}.run(t)

	if r.exit != 0 || r.report.Outcome != report.Healed {
		t.Fatalf("self-heal exit %d, outcome %s; want 0, healed\n%s", r.exit, r.report.Outcome,
			r.output)
	}
	if !strings.Contains(r.output, "another operation (install/upgrade/rollback) is in progress") {
		t.Errorf("the step's output lacks helm's pending error")
	}
	f := r.only(t, "helm-another-operation-in-progress", "helm.recover-release")
	for _, want := range []string{
		"marked revision 2 of release shop in namespace store failed",
		"rolled release shop in namespace store back to revision 1 (as revision 3)",
		"deleted Deployment store/shop-web (created by the abandoned revision)",
		"deleted ConfigMap store/shop-extra (created by the abandoned revision)",
	} {
		if !changedHas(f.Changed, want) {
			t.Errorf("recover-release changed %q, want %q", f.Changed, want)
		}
	}
	if got := cluster.Statuses(c.HelmHistory(t, "store", "shop")); got !=
		"1:superseded 2:failed 3:superseded 4:deployed" {
		t.Errorf("history = %s, want 1:superseded 2:failed 3:superseded 4:deployed", got)
	}
	for kind, names := range map[string][]string{
		"deployment": {"shop-web"}, "configmap": {"shop-extra"},
	} {
		for _, n := range names {
			if exists(t, c, "store", kind, n) {
				t.Errorf("%s %s still exists, want it cleaned up", kind, n)
			}
		}
	}
	checkIdempotent(t, helm.NewRecover(), fixer.Values{"release": "shop", "namespace": "store"},
		c.Env(""))
	for _, n := range []string{"shop-config", "shop-v3"} {
		if !exists(t, c, "store", "configmap", n) {
			t.Errorf("configmap %s is missing after the upgrade", n)
		}
	}
}

// TestHelmRecover_YoungPendingReleaseIsLeftAlone meets the same pending
// release seconds after the kill, with a step whose --timeout is ten
// minutes: another helm may still be at work, so self-heal must wait and
// never touch the release.
func TestHelmRecover_YoungPendingReleaseIsLeftAlone(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	v3 := pendingUpgrade(t, c)

	r := step{env: c.Env(""), flags: []string{"--max-attempts", "1"},
		args: []string{"helm", "upgrade", "shop", v3, "-n", "store", "--timeout", "10m"}}.run(t)

	if r.exit == 0 || r.report.Outcome != report.Failed {
		t.Fatalf("self-heal exit %d, outcome %s; want a failure\n%s", r.exit, r.report.Outcome,
			r.output)
	}
	fs := r.fixes("helm-another-operation-in-progress", "helm.recover-release")
	if len(fs) == 0 {
		t.Fatalf("no recover-release plan in the report\n%s", r.output)
	}
	for _, f := range fs {
		if f.Verdict != "wait" || f.Applied || !strings.Contains(f.Action, "less than 10m") {
			t.Errorf("fix verdict %q applied %v action %q; want a wait below 10m", f.Verdict,
				f.Applied, f.Action)
		}
	}
	if got := cluster.Statuses(c.HelmHistory(t, "store", "shop")); got !=
		"1:deployed 2:pending-upgrade" {
		t.Errorf("history = %s, want it untouched (1:deployed 2:pending-upgrade)", got)
	}
	if !exists(t, c, "store", "deployment", "shop-web") {
		t.Errorf("deployment shop-web is gone, want it untouched")
	}
}

// TestHelmRecover_NeverDeployedReleaseIsUninstalled kills a first install
// while it waits: the release was never deployed, so self-heal must
// uninstall it and let the re-run install it afresh.
func TestHelmRecover_NeverDeployedReleaseIsUninstalled(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	_, v2, v3 := shopCharts(t)
	kubectl(t, c, "create", "namespace", "store")
	killPending(t, c, "store", "shop", "pending-install", "deployment/shop-web",
		"install", "shop", v2, "-n", "store", "--wait", "--timeout", "10m")
	time.Sleep(4 * time.Second)

	r := step{env: c.Env(""), args: []string{"helm", "upgrade", "--install", "shop", v3,
		"-n", "store", "--timeout", "3s"}}.run(t)

	if r.exit != 0 || r.report.Outcome != report.Healed {
		t.Fatalf("self-heal exit %d, outcome %s; want 0, healed\n%s", r.exit, r.report.Outcome,
			r.output)
	}
	f := r.only(t, "helm-another-operation-in-progress", "helm.recover-release")
	if !changedHas(f.Changed, "uninstalled release shop in namespace store") ||
		!changedHas(f.Changed, "deleted Deployment store/shop-web") {
		t.Errorf("recover-release changed %q, want the release uninstalled", f.Changed)
	}
	if got := cluster.Statuses(c.HelmHistory(t, "store", "shop")); got != "1:deployed" {
		t.Errorf("history = %s, want a fresh 1:deployed", got)
	}
	if exists(t, c, "store", "deployment", "shop-web") ||
		exists(t, c, "store", "configmap", "shop-extra") {
		t.Errorf("objects of the abandoned install are left")
	}
	if !exists(t, c, "store", "configmap", "shop-v3") {
		t.Errorf("configmap shop-v3 is missing after the install")
	}
}

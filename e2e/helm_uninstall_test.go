//go:build e2e

package e2e

import (
	"strings"
	"testing"

	"github.com/self-heal/self-heal/e2e/cluster"
	"github.com/self-heal/self-heal/fixers/helm"
	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/report"
)

// drainHook is a pre-delete hook Job; with no controller-manager it never
// completes, so an uninstall waits on it for good.
const drainHook = `
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-drain
  annotations:
    helm.sh/hook: pre-delete
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: drain
        image: registry.example.com/drain:1.0
`

// TestHelmUninstall_ReleaseWithoutDeployedRevisionIsReinstalled kills an
// uninstall while its pre-delete hook runs: the release's only revision is
// left "uninstalling", and `helm upgrade --install` then fails with "has
// no deployed releases". self-heal must uninstall what remains (the
// objects, the hook's Job, the records) and let the re-run install afresh.
func TestHelmUninstall_ReleaseWithoutDeployedRevisionIsReinstalled(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	chart := cluster.WriteChart(t, t.TempDir(), "shop", "0.1.0", map[string]string{
		"config.yaml": configMap("config", "1"), "drain.yaml": drainHook})
	c.HelmInstall(t, "store", "shop", chart)
	killPending(t, c, "store", "shop", "uninstalling", "job/shop-drain",
		"uninstall", "shop", "-n", "store", "--timeout", "10m")

	r := step{env: c.Env(""), args: []string{"helm", "upgrade", "--install", "shop", chart,
		"-n", "store", "--timeout", "3s"}}.run(t)

	if r.exit != 0 || r.report.Outcome != report.Healed {
		t.Fatalf("self-heal exit %d, outcome %s; want 0, healed\n%s", r.exit, r.report.Outcome,
			r.output)
	}
	if !strings.Contains(r.output, `"shop" has no deployed releases`) {
		t.Errorf("the step's output lacks helm's error")
	}
	f := r.only(t, "helm-no-deployed-releases", "helm.uninstall-release")
	for _, want := range []string{
		"uninstalled release shop in namespace store (no revision deployed: 1 uninstalling)",
		"deleted ConfigMap store/shop-config", "deleted Job store/shop-drain (left by a hook)",
	} {
		if !changedHas(f.Changed, want) {
			t.Errorf("uninstall-release changed %q, want %q", f.Changed, want)
		}
	}
	if f.Safety != "destructive" {
		t.Errorf("uninstall-release safety %q, want destructive", f.Safety)
	}
	if got := cluster.Statuses(c.HelmHistory(t, "store", "shop")); got != "1:deployed" {
		t.Errorf("history = %s, want a fresh 1:deployed", got)
	}
	if exists(t, c, "store", "job", "shop-drain") {
		t.Errorf("the hook's Job is left")
	}
	if !exists(t, c, "store", "configmap", "shop-config") {
		t.Errorf("configmap shop-config is missing after the install")
	}
}

// TestHelmUninstall_DeployedReleaseIsRefused asks the fixer about a
// release that has a deployed revision: it must refuse, and Apply must
// leave the release as it was.
func TestHelmUninstall_DeployedReleaseIsRefused(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	chart := cluster.WriteChart(t, t.TempDir(), "shop", "0.1.0", map[string]string{
		"config.yaml": configMap("config", "1")})
	c.HelmInstall(t, "store", "shop", chart)

	f := helm.NewUninstallRelease()
	req := fixer.Request{Values: fixer.Values{"release": "shop", "namespace": "store"},
		Step: fixer.Step{Env: c.Env("")}}
	plan, err := f.Check(ctx(t), req)
	if err != nil || plan.Verdict != fixer.Refuse ||
		!strings.Contains(plan.Action, "has deployed revision 1") {
		t.Errorf("Check = %v %q, %v; want a refusal naming revision 1", plan.Verdict,
			plan.Action, err)
	}
	if _, err := f.Apply(ctx(t), req); err == nil {
		t.Errorf("Apply error = nil, want a refusal")
	}
	if got := cluster.Statuses(c.HelmHistory(t, "store", "shop")); got != "1:deployed" {
		t.Errorf("history = %s, want it untouched", got)
	}
}

// TestHelmUninstall_SecondRunHasNothingToDo runs the fixer twice in a row
// on a release whose only revision was left "uninstalling": the first run
// uninstalls what remains; the second finds no history, says that nothing
// remains, and uninstalls nothing.
func TestHelmUninstall_SecondRunHasNothingToDo(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	chart := cluster.WriteChart(t, t.TempDir(), "shop", "0.1.0", map[string]string{
		"config.yaml": configMap("config", "1"), "drain.yaml": drainHook})
	c.HelmInstall(t, "store", "shop", chart)
	killPending(t, c, "store", "shop", "uninstalling", "job/shop-drain",
		"uninstall", "shop", "-n", "store", "--timeout", "10m")

	req := fixer.Request{Values: fixer.Values{"release": "shop", "namespace": "store"},
		Step: fixer.Step{Env: c.Env(""), ArtifactDir: t.TempDir()}}
	res := twice(t, helm.NewUninstallRelease(), req, "has no history",
		"nothing remains to uninstall")
	contains(t, "second apply's notes", strings.Join(res.Notes, "\n"), "uninstalled nothing")
	if h := c.HelmHistory(t, "store", "shop"); len(h) != 0 {
		t.Errorf("history = %s, want none", cluster.Statuses(h))
	}
}

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

// webChart writes a chart whose release renders the ConfigMap
// web-settings.
func webChart(t *testing.T) string {
	return cluster.WriteChart(t, t.TempDir(), "web", "0.1.0", map[string]string{
		"settings.yaml": configMap("settings", "chart")})
}

// installWeb is the step: install the web release.
func installWeb(chart string) []string {
	return []string{"helm", "upgrade", "--install", "web", chart, "-n", "site", "--timeout", "30s"}
}

// ownership returns the Helm label and annotations of site/web-settings.
func ownership(t *testing.T, c *cluster.Cluster) string {
	t.Helper()
	return kubectl(t, c, "-n", "site", "get", "configmap", "web-settings", "-o",
		`jsonpath={.metadata.labels.app\.kubernetes\.io/managed-by} `+
			`{.metadata.annotations.meta\.helm\.sh/release-name} `+
			`{.metadata.annotations.meta\.helm\.sh/release-namespace}`)
}

// TestHelmAdopt_OrphanIsAdopted installs a release whose ConfigMap a
// script created earlier: self-heal must give it the release's ownership
// metadata and re-run the install, which then takes it over.
func TestHelmAdopt_OrphanIsAdopted(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	kubectl(t, c, "create", "namespace", "site")
	kubectl(t, c, "-n", "site", "create", "configmap", "web-settings",
		"--from-literal=value=script")
	before := kubectl(t, c, "-n", "site", "get", "configmap", "web-settings", "-o",
		"jsonpath={.metadata.uid}")

	r := step{env: c.Env(""), args: installWeb(webChart(t))}.run(t)

	if r.exit != 0 || r.report.Outcome != report.Healed {
		t.Fatalf("self-heal exit %d, outcome %s; want 0, healed\n%s", r.exit, r.report.Outcome,
			r.output)
	}
	if !strings.Contains(r.output, "invalid ownership metadata") {
		t.Errorf("the step's output lacks helm's ownership error")
	}
	f := r.only(t, "helm-invalid-ownership-metadata", "helm.adopt-resource")
	if !changedHas(f.Changed, "ConfigMap site/web-settings now belongs to release web") {
		t.Errorf("adopt-resource changed %q, want web-settings adopted", f.Changed)
	}
	if got := ownership(t, c); got != "Helm web site" {
		t.Errorf("web-settings ownership = %q, want Helm web site", got)
	}
	if got := cluster.Statuses(c.HelmHistory(t, "site", "web")); got != "1:deployed" {
		t.Errorf("history = %s, want 1:deployed", got)
	}
	checkIdempotent(t, helm.NewAdoptResource(), fixer.Values{"kind": "ConfigMap",
		"name": "web-settings", "namespace": "site", "release": "web",
		"release_namespace": "site"}, c.Env(""))
	if v := kubectl(t, c, "-n", "site", "get", "configmap", "web-settings", "-o",
		"jsonpath={.data.value}"); v != "chart" {
		t.Errorf("web-settings value = %q, want the chart's", v)
	}
	if now := kubectl(t, c, "-n", "site", "get", "configmap", "web-settings", "-o",
		"jsonpath={.metadata.uid}"); now != before {
		t.Errorf("web-settings uid %s, want the adopted object %s, not a new one", now, before)
	}
}

// TestHelmAdopt_OtherReleasesObjectIsNotAdopted installs a release whose
// ConfigMap belongs to another release: self-heal must not take it over.
// The pattern leaves the failure unrecognised, and the fixer, asked
// directly, refuses.
func TestHelmAdopt_OtherReleasesObjectIsNotAdopted(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	kubectl(t, c, "create", "namespace", "site")
	kubectl(t, c, "-n", "site", "create", "configmap", "web-settings", "--from-literal=value=api")
	kubectl(t, c, "-n", "site", "label", "configmap", "web-settings",
		"app.kubernetes.io/managed-by=Helm")
	kubectl(t, c, "-n", "site", "annotate", "configmap", "web-settings",
		"meta.helm.sh/release-name=api", "meta.helm.sh/release-namespace=site")

	r := step{env: c.Env(""), args: installWeb(webChart(t))}.run(t)

	if r.exit == 0 || len(r.report.Attempts) != 1 {
		t.Fatalf("self-heal exit %d after %d attempts; want one failed attempt\n%s", r.exit,
			len(r.report.Attempts), r.output)
	}
	if !strings.Contains(r.output, `current value is "api"`) {
		t.Errorf("the step's output lacks helm's ownership conflict\n%s", r.output)
	}
	if got := ownership(t, c); got != "Helm api site" {
		t.Errorf("web-settings ownership = %q, want it still Helm api site", got)
	}

	f := helm.NewAdoptResource()
	req := fixer.Request{Values: fixer.Values{"kind": "ConfigMap", "name": "web-settings",
		"namespace": "site", "release": "web", "release_namespace": "site"},
		Step: fixer.Step{Env: c.Env("")}}
	plan, err := f.Check(ctx(t), req)
	if err != nil || plan.Verdict != fixer.Refuse ||
		!strings.Contains(plan.Action, `belongs to Helm release "api"`) {
		t.Errorf("Check = %v %q, %v; want a refusal naming release api", plan.Verdict,
			plan.Action, err)
	}
	if _, err := f.Apply(ctx(t), req); err == nil {
		t.Errorf("Apply error = nil, want a refusal")
	}
	if got := ownership(t, c); got != "Helm api site" {
		t.Errorf("web-settings ownership after Apply = %q, want Helm api site", got)
	}
}

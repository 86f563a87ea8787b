//go:build e2e

package e2e

import (
	"strings"
	"testing"

	"github.com/self-heal/self-heal/e2e/cluster"
	"github.com/self-heal/self-heal/fixers/kube"
	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/pattern"
	"github.com/self-heal/self-heal/pkg/report"
)

// webDeployment renders the Deployment web with the given selector label.
func webDeployment(app string) string {
	return strings.ReplaceAll(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  replicas: 1
  selector:
    matchLabels: {app: APP}
  template:
    metadata:
      labels: {app: APP}
    spec:
      containers:
      - name: web
        image: registry.example.com/web:1.0
`, "APP", app)
}

// dataClaim renders the PersistentVolumeClaim data with a storage class.
func dataClaim(class string) string {
	return strings.ReplaceAll(`
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
  namespace: apps
spec:
  storageClassName: CLASS
  accessModes: [ReadWriteOnce]
  resources:
    requests: {storage: 1Gi}
`, "CLASS", class)
}

// edgeService renders the LoadBalancer Service edge with a cluster IP.
func edgeService(ip string) string {
	return strings.ReplaceAll(`
apiVersion: v1
kind: Service
metadata:
  name: edge
  namespace: apps
spec:
  type: LoadBalancer
  clusterIP: "@IP@"
  selector: {app: web}
  ports:
  - {port: 80}
`, "@IP@", ip)
}

// applyUnder runs `kubectl apply` of manifest under self-heal, with the
// recreate fixer's kinds set to allow when it is not empty.
func applyUnder(t *testing.T, c *cluster.Cluster, dir, manifest, allow string) k8sRun {
	t.Helper()
	s := step{dir: dir, env: c.Env(""), args: []string{"kubectl", "apply", "-f",
		writeFile(t, dir, "after.yaml", manifest)}}
	if allow != "" {
		s.tune = map[string]func(*pattern.Pattern){
			"k8s-field-immutable": with("kube.recreate-object", "kinds", allow),
		}
	}
	return s.run(t)
}

// uid returns an object's UID through kubectl.
func uid(t *testing.T, c *cluster.Cluster, kind, name string) string {
	t.Helper()
	return kubectl(t, c, "-n", "apps", "get", kind, name, "-o", "jsonpath={.metadata.uid}")
}

// TestKubeRecreate_AllowedDeploymentIsRecreated changes the selector of a
// Deployment, which Kubernetes refuses in place: with Deployment allowed
// explicitly, self-heal must delete it and re-run the apply, which creates
// it with the new selector.
func TestKubeRecreate_AllowedDeploymentIsRecreated(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	kubectl(t, c, "create", "namespace", "apps")
	dir := t.TempDir()
	kubectl(t, c, "apply", "-f", writeFile(t, dir, "claim.yaml", dataClaim("standard")))
	claim := uid(t, c, "pvc", "data")
	kubectl(t, c, "apply", "-f", writeFile(t, dir, "web.yaml", webDeployment("web")))
	old := uid(t, c, "deployment", "web")

	r := applyUnder(t, c, dir, webDeployment("web-v2"), "Deployment")

	if r.exit != 0 || r.report.Outcome != report.Healed {
		t.Fatalf("self-heal exit %d, outcome %s; want 0, healed\n%s", r.exit, r.report.Outcome,
			r.output)
	}
	if !strings.Contains(r.output, "field is immutable") {
		t.Errorf("the step's output lacks the immutable field error")
	}
	f := r.only(t, "k8s-field-immutable", "kube.recreate-object")
	if !changedHas(f.Changed, "deleted Deployment apps/web (uid "+old+")") {
		t.Errorf("recreate-object changed %q, want the old Deployment deleted", f.Changed)
	}
	if now := uid(t, c, "deployment", "web"); now == old || now == "" {
		t.Errorf("Deployment web uid %q, want a new one (old %s)", now, old)
	}
	sel := kubectl(t, c, "-n", "apps", "get", "deployment", "web", "-o",
		"jsonpath={.spec.selector.matchLabels.app}")
	if sel != "web-v2" {
		t.Errorf("Deployment web selector app=%q, want web-v2", sel)
	}
	if now := uid(t, c, "pvc", "data"); now != claim {
		t.Errorf("PersistentVolumeClaim data uid %q, want it untouched (%s)", now, claim)
	}
}

// TestKubeRecreate_Refusals changes immutable fields that self-heal must
// not fix by deleting: any kind without an explicit allow, and a
// PersistentVolumeClaim or a LoadBalancer Service even when allowed.
func TestKubeRecreate_Refusals(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	kubectl(t, c, "create", "namespace", "apps")
	ip := func(host string) string { return strings.TrimSuffix(c.ServiceCIDR, "0/24") + host }

	for _, tc := range []struct {
		name, kind, object   string
		before, after, allow string
		refusal              string
	}{
		{"deployment without allow", "deployment", "web", webDeployment("web"),
			webDeployment("web-v2"), "", "needs an explicit allow"},
		{"claim even when allowed", "pvc", "data", dataClaim("standard"), dataClaim("fast"),
			"PersistentVolumeClaim,Deployment", "never recreates a PersistentVolumeClaim"},
		{"load balancer even when allowed", "service", "edge", edgeService(ip("50")),
			edgeService(ip("51")), "Service",
			"never recreates a Service of type LoadBalancer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			kubectl(t, c, "apply", "-f", writeFile(t, dir, "before.yaml", tc.before))
			old := uid(t, c, tc.kind, tc.object)
			r := applyUnder(t, c, dir, tc.after, tc.allow)

			if r.exit == 0 || r.report.Outcome != report.Refused {
				t.Fatalf("self-heal exit %d, outcome %s; want a refusal\n%s", r.exit,
					r.report.Outcome, r.output)
			}
			f := r.only(t, "k8s-field-immutable", "kube.recreate-object")
			if f.Applied || !strings.Contains(f.Refused, tc.refusal) {
				t.Errorf("fix applied %v, refused %q; want a refusal with %q", f.Applied,
					f.Refused, tc.refusal)
			}
			if now := uid(t, c, tc.kind, tc.object); now != old {
				t.Errorf("%s %s uid %q, want it untouched (%s)", tc.kind, tc.object, now, old)
			}
			if len(r.report.Attempts) != 1 {
				t.Errorf("%d attempts, want 1: a refusal stops the run", len(r.report.Attempts))
			}
		})
	}
}

// TestKubeRecreate_SecondRunHasNothingToDo runs the fixer twice in a row
// on a Deployment whose selector the step changes: the first run deletes
// it; the second finds it gone, says that the re-run creates it, and
// deletes nothing.
func TestKubeRecreate_SecondRunHasNothingToDo(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	kubectl(t, c, "create", "namespace", "apps")
	dir := t.TempDir()
	kubectl(t, c, "apply", "-f", writeFile(t, dir, "web.yaml", webDeployment("web")))
	after := writeFile(t, dir, "after.yaml", webDeployment("web-v2"))

	req := fixer.Request{
		Values: fixer.Values{"kind": "Deployment", "name": "web", "field": "spec.selector",
			"kinds": "Deployment"},
		Step: fixer.Step{Dir: dir, Env: c.Env(""), Args: []string{"kubectl", "apply", "-f", after},
			ArtifactDir: t.TempDir()},
	}
	res := twice(t, kube.NewRecreateObject(), req, "Deployment apps/web does not exist")
	contains(t, "second apply's notes", strings.Join(res.Notes, "\n"), "deleted nothing")
}

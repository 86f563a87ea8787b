//go:build e2e

package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/self-heal/self-heal/e2e/cluster"
	"github.com/self-heal/self-heal/e2e/harness"
)

// configMap renders a ConfigMap template named after the release.
func configMap(suffix, value string) string {
	return `
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-` + suffix + `
data:
  value: "` + value + `"
`
}

// deployment renders a Deployment template named after the release. With
// no controller-manager on the test cluster it never becomes ready.
func deployment(suffix string) string {
	return `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-` + suffix + `
spec:
  replicas: 1
  selector:
    matchLabels: {app: {{ .Release.Name }}-` + suffix + `}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-` + suffix + `}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.0
`
}

// helmCmd returns the helm CLI with args, against the cluster.
func helmCmd(c *cluster.Cluster, args ...string) *exec.Cmd {
	cmd := exec.Command(c.Tools.Helm, args...)
	cmd.Env = c.Env("")
	return cmd
}

// killPending starts a helm command that waits on an object that never
// becomes ready, and kills it once the last revision of release has status
// and the object (kind/name) exists: the release is left in that status
// for real.
func killPending(t *testing.T, c *cluster.Cluster, ns, release, status, object string,
	args ...string,
) {
	t.Helper()
	kind, name, _ := strings.Cut(object, "/")
	p := harness.Start(t, helmCmd(c, args...))
	harness.Eventually(t, 2*time.Minute, release+" "+status, func() (bool, error) {
		h := c.HelmHistory(t, ns, release)
		if len(h) == 0 || string(h[len(h)-1].Info.Status) != status {
			return false, nil
		}
		return exists(t, c, ns, kind, name), nil
	})
	p.Kill(t)
}

// exists reports whether kind/name exists in ns, through kubectl.
func exists(t *testing.T, c *cluster.Cluster, ns, kind, name string) bool {
	t.Helper()
	out, err := exec.Command("kubectl", "--kubeconfig", c.Kubeconfig, "-n", ns, "get", kind, name,
		"--ignore-not-found", "-o", "name").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl get %s %s: %v\n%s", kind, name, err, out)
	}
	return strings.TrimSpace(string(out)) != ""
}

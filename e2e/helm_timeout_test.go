//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/self-heal/self-heal/e2e/cluster"
	"github.com/self-heal/self-heal/fixers/helm"
	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/pattern"
	"github.com/self-heal/self-heal/pkg/report"
)

// slowRelease is the step: install a release with a Deployment and wait
// five seconds for it to be ready.
func slowRelease(t *testing.T, c *cluster.Cluster) []string {
	t.Helper()
	kubectl(t, c, "create", "namespace", "apps")
	chart := cluster.WriteChart(t, t.TempDir(), "slow", "0.1.0", map[string]string{
		"app.yaml": deployment("app")})
	return []string{"helm", "upgrade", "--install", "slow", chart, "-n", "apps", "--wait",
		"--timeout", "5s"}
}

// checkDiagnosis requires the diagnosis of the never-ready Deployment.
func checkDiagnosis(t *testing.T, f report.Fix) {
	t.Helper()
	ev := strings.Join(f.Evidence, "\n")
	for _, want := range []string{"Deployment apps/slow-app is not ready",
		"has not observed generation 1", "kube-controller-manager", "no pod of it exists"} {
		if !strings.Contains(ev, want) {
			t.Errorf("diagnosis %q lacks %q", f.Evidence, want)
		}
	}
	if !strings.HasPrefix(f.Action, "retry the step once") {
		t.Errorf("diagnose-timeout plan %q, want it to say it retries once", f.Action)
	}
	if len(f.Changed) != 0 || f.Safety != "safe" {
		t.Errorf("diagnose-timeout changed %q (safety %s), want nothing changed", f.Changed,
			f.Safety)
	}
}

// markAvailable does what the Deployment controller and kubelet would
// have done for a slow rollout: report the Deployment's one replica
// ready.
func markAvailable(t *testing.T, c *cluster.Cluster, ns, name string) {
	t.Helper()
	deps := c.Kube.AppsV1().Deployments(ns)
	d, err := deps.Get(ctx(t), name, getOpts)
	if err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1,
		AvailableReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue,
				Reason: "MinimumReplicasAvailable", LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue,
				Reason: "NewReplicaSetAvailable", LastUpdateTime: now, LastTransitionTime: now},
		},
	}
	if _, err := deps.UpdateStatus(ctx(t), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestHelmTimeout_SlowRolloutPassesOnRetry times out waiting for a
// Deployment whose rollout is only slow: self-heal must say what is not
// ready and why, retry once, and the retry passes once the Deployment is
// ready. A second run of the fixer then has nothing to diagnose.
func TestHelmTimeout_SlowRolloutPassesOnRetry(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	args := slowRelease(t, c)

	p, wait := step{env: c.Env(""), args: args}.start(t)
	p.WaitForOutput(t, "recognised helm-timed-out", 2*time.Minute)
	p.WaitForOutput(t, "before attempt 2", time.Minute) // the diagnosis is done
	markAvailable(t, c, "apps", "slow-app")
	r := wait()

	if r.exit != 0 || r.report.Outcome != report.Healed || len(r.report.Attempts) != 2 {
		t.Fatalf("self-heal exit %d, outcome %s after %d attempts; want healed on the retry\n%s",
			r.exit, r.report.Outcome, len(r.report.Attempts), r.output)
	}
	if !strings.Contains(r.output, "not ready") {
		t.Errorf("the step's output lacks helm's readiness error")
	}
	checkDiagnosis(t, r.only(t, "helm-timed-out", "helm.diagnose-timeout"))
	if got := cluster.Statuses(c.HelmHistory(t, "apps", "slow")); got != "1:superseded 2:deployed" {
		t.Errorf("history = %s, want 1:superseded 2:deployed", got)
	}

	// A second run finds every resource ready: nothing to diagnose.
	res := again(t, helm.DiagnoseTimeout{}, fixer.Request{
		Values: fixer.Values{"release": "slow", "namespace": "apps"},
		Step:   fixer.Step{Env: c.Env(""), Args: args}}, "nothing to diagnose", "is ready now")
	contains(t, "second apply's notes", strings.Join(res.Notes, "\n"), "changed nothing")
}

// TestHelmTimeout_BrokenRolloutIsRetriedOnce times out on a Deployment
// that never becomes ready: self-heal must retry exactly once, with the
// diagnosis in the report, and then give up.
func TestHelmTimeout_BrokenRolloutIsRetriedOnce(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	args := slowRelease(t, c)

	r := step{env: c.Env(""), args: args, tune: map[string]func(*pattern.Pattern){
		"helm-timed-out": func(p *pattern.Pattern) { p.Retry.Initial = time.Second },
	}}.run(t)

	if r.exit == 0 || r.report.Outcome != report.Failed || len(r.report.Attempts) != 2 {
		t.Fatalf("self-heal exit %d, outcome %s after %d attempts; want a failure after one "+
			"retry\n%s", r.exit, r.report.Outcome, len(r.report.Attempts), r.output)
	}
	checkDiagnosis(t, r.only(t, "helm-timed-out", "helm.diagnose-timeout"))
	if !strings.Contains(r.report.StopReason, "attempts") {
		t.Errorf("stop reason %q, want attempts exhausted", r.report.StopReason)
	}
}

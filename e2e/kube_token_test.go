//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/self-heal/self-heal/e2e/cluster"
	"github.com/self-heal/self-heal/e2e/harness"
	"github.com/self-heal/self-heal/fixers/kube"
	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/report"
)

// eksCluster is the cluster name EKS tokens are bound to.
const eksCluster = "e2e"

// eksSetup starts moto, an IAM user mapped to cluster-admin and one that
// is not mapped, and a cluster that authenticates EKS tokens.
func eksSetup(t *testing.T) (*cluster.Cluster, string, cluster.IAMUser, cluster.IAMUser) {
	t.Helper()
	moto := harness.StartMoto(t)
	c := context.Background()
	deployer, err := cluster.CreateIAMUser(c, moto, "deployer")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := cluster.CreateIAMUser(c, moto, "stranger")
	if err != nil {
		t.Fatal(err)
	}
	k := cluster.Start(t, cluster.Options{EKS: &cluster.EKS{
		ClusterID: eksCluster, STS: moto,
		Identities: map[string]cluster.Identity{
			deployer.ARN: {Username: "deployer", Groups: []string{"system:masters"}},
		},
	}})
	return k, moto, deployer, stranger
}

// expiredKubeconfig writes a kubeconfig whose token the user signed
// twenty minutes ago: EKS accepts tokens for fifteen.
func expiredKubeconfig(t *testing.T, c *cluster.Cluster, moto string, u cluster.IAMUser,
	name string,
) string {
	t.Helper()
	token, err := cluster.SignToken(context.Background(), u, moto, eksCluster,
		time.Now().Add(-20*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return c.WriteKubeconfig(t, name, clientcmdapi.AuthInfo{Token: token})
}

// TestKubeToken_ExpiredTokenIsRefreshed runs kubectl with an EKS token
// that expired: self-heal must mint a fresh one with the step's AWS
// credentials, prove the API server takes it, and give it to the re-run,
// without changing the job's own kubeconfig or printing the token.
func TestKubeToken_ExpiredTokenIsRefreshed(t *testing.T) {
	t.Parallel()
	c, moto, deployer, _ := eksSetup(t)
	kubeconfig := expiredKubeconfig(t, c, moto, deployer, "deployer")
	before, err := os.ReadFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}

	// TMPDIR keeps the refreshed kubeconfig in the test's directory.
	env := append(c.Env(kubeconfig), deployer.Env(moto)...)
	r := step{env: append(env, "TMPDIR="+t.TempDir()),
		args: []string{"kubectl", "get", "namespace", "kube-system", "-o", "name"}}.run(t)

	if r.exit != 0 || r.report.Outcome != report.Healed {
		t.Fatalf("self-heal exit %d, outcome %s; want 0, healed\n%s", r.exit, r.report.Outcome,
			r.output)
	}
	if !strings.Contains(r.output, "You must be logged in to the server") ||
		!strings.Contains(r.output, "namespace/kube-system") {
		t.Errorf("output lacks the refusal and then the namespace\n%s", r.output)
	}
	f := r.only(t, "k8s-unauthorized", "kube.refresh-token")
	if !changedHas(f.Changed, "minted a fresh EKS token for cluster "+eksCluster) {
		t.Errorf("refresh-token changed %q, want a fresh token for %s", f.Changed, eksCluster)
	}
	wantEvidence := []string{"expired", "authenticates as user deployer"}
	if ev := strings.Join(f.Evidence, "\n"); !strings.Contains(ev, wantEvidence[0]) ||
		!strings.Contains(ev, wantEvidence[1]) {
		t.Errorf("evidence %q, want the old token's expiry and the fresh token's user", f.Evidence)
	}
	if strings.Contains(r.output, "k8s-aws-v1.") {
		t.Errorf("self-heal printed a token")
	}
	after, err := os.ReadFile(kubeconfig)
	if err != nil || string(after) != string(before) {
		t.Errorf("the job's kubeconfig changed: %v", err)
	}
	checkDecisions(t, c.Decisions(), deployer.ARN, "expired", true)
}

// checkDecisions requires that the webhook refused the first token for
// reason and then, if authenticated, let arn in.
func checkDecisions(t *testing.T, ds []cluster.Decision, arn, reason string, authenticated bool) {
	t.Helper()
	if len(ds) < 2 {
		t.Fatalf("token webhook decisions = %+v, want at least two", ds)
	}
	if ds[0].Authenticated || !strings.Contains(ds[0].Reason, reason) {
		t.Errorf("first decision = %+v, want a refusal for %q", ds[0], reason)
	}
	last := ds[len(ds)-1]
	if last.Authenticated != authenticated || last.ARN != arn {
		t.Errorf("last decision = %+v, want %s authenticated=%v", last, arn, authenticated)
	}
}

// TestKubeToken_UnmappedIdentityIsRefused runs the same step as an IAM
// user the cluster does not map: a fresh token is refused too, so
// self-heal must stop after one attempt and say that access must be
// granted.
func TestKubeToken_UnmappedIdentityIsRefused(t *testing.T) {
	t.Parallel()
	c, moto, _, stranger := eksSetup(t)
	kubeconfig := expiredKubeconfig(t, c, moto, stranger, "stranger")

	r := step{env: append(c.Env(kubeconfig), stranger.Env(moto)...),
		args: []string{"kubectl", "get", "namespace", "kube-system", "-o", "name"}}.run(t)

	if r.exit == 0 || r.report.Outcome != report.Refused || len(r.report.Attempts) != 1 {
		t.Fatalf("self-heal exit %d, outcome %s, %d attempts; want one refused attempt\n%s",
			r.exit, r.report.Outcome, len(r.report.Attempts), r.output)
	}
	f := r.only(t, "k8s-unauthorized", "kube.refresh-token")
	for _, want := range []string{stranger.ARN, "access must be granted"} {
		if !strings.Contains(f.Refused, want) {
			t.Errorf("refusal %q lacks %q", f.Refused, want)
		}
	}
	if f.Applied {
		t.Errorf("refresh-token applied, want it refused")
	}
	checkDecisions(t, c.Decisions(), stranger.ARN, "expired", false)
}

// TestKubeToken_SecondRunHasNothingToDo refreshes an expired EKS token
// with the fixer itself, twice in a row. The second run gets the
// KUBECONFIG the first made for the re-run, as the engine passes it on:
// its token is valid and the API server accepts it, so there is nothing
// to refresh and no second token is minted.
func TestKubeToken_SecondRunHasNothingToDo(t *testing.T) {
	t.Parallel()
	c, moto, deployer, _ := eksSetup(t)
	kubeconfig := expiredKubeconfig(t, c, moto, deployer, "deployer")
	env := append(c.Env(kubeconfig), deployer.Env(moto)...)
	fx := kube.NewRefreshToken()
	req := fixer.Request{Step: fixer.Step{Env: env,
		Args: []string{"kubectl", "get", "namespace", "kube-system", "-o", "name"}}}

	plan, err := fx.Check(ctx(t), req)
	if err != nil || plan.Verdict != fixer.Act {
		t.Fatalf("first check = %v %q, %v; want act", plan.Verdict, plan.Action, err)
	}
	res, err := fx.Apply(ctx(t), req)
	if err != nil || len(res.Changed) == 0 || res.Env["KUBECONFIG"] == "" {
		t.Fatalf("first apply changed %q with env %v, %v; want a fresh kubeconfig", res.Changed,
			res.Env, err)
	}
	refreshed := res.Env["KUBECONFIG"]
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Dir(refreshed)) })

	req.Step.Env = nil
	for _, kv := range env {
		if !strings.HasPrefix(kv, "KUBECONFIG=") {
			req.Step.Env = append(req.Step.Env, kv)
		}
	}
	req.Step.Env = append(req.Step.Env, "KUBECONFIG="+refreshed)
	second := again(t, fx, req, "the step's EKS token works")
	contains(t, "second apply's notes", strings.Join(second.Notes, "\n"),
		"kept the step's kubeconfig", "authenticates as user deployer")
}

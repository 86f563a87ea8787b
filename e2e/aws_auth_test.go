//go:build e2e

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/self-heal/self-heal/e2e/harness"
	awsfix "github.com/self-heal/self-heal/fixers/aws"
	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/report"
)

// ciRole is the role the jobs of these tests assume through web identity.
const ciRole = "arn:aws:iam::123456789012:role/ci-deploy"

// expiringWorld is an awsWorld whose AWS traffic goes through the
// stsexpiry proxy, so that sessions expire as on AWS.
func expiringWorld(t *testing.T) (w *awsWorld, moto string) {
	t.Helper()
	harness.SelfHealBinary(t)
	moto = harness.StartMoto(t)
	proxy := serve(t, "stsexpiry", os.Environ(), "-upstream", moto)
	return newAWSWorldAt(t, proxy), moto
}

// session assumes ciRole for seconds through the proxy, which learns when
// the session expires, and puts it into the step's environment.
func (w *awsWorld) session(seconds int32) *sts.AssumeRoleWithWebIdentityOutput {
	w.t.Helper()
	out, err := w.sts.AssumeRoleWithWebIdentity(awsCtx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(ciRole), RoleSessionName: aws.String("ci-job"),
		WebIdentityToken: aws.String("first-oidc-token"), DurationSeconds: aws.Int32(seconds)})
	noErr(w.t, err, "assume the CI role")
	c := out.Credentials
	w.setEnv("AWS_ACCESS_KEY_ID", aws.ToString(c.AccessKeyId))
	w.setEnv("AWS_SECRET_ACCESS_KEY", aws.ToString(c.SecretAccessKey))
	w.setEnv("AWS_SESSION_TOKEN", aws.ToString(c.SessionToken))
	w.setEnv("AWS_ROLE_ARN", ciRole)
	return out
}

// motoSessions returns the secret keys of the sessions moto's STS issued
// for ciRole.
func motoSessions(t *testing.T, moto string) []string {
	t.Helper()
	resp, err := http.Get(moto + "/moto-api/data.json")
	noErr(t, err, "read moto's data")
	defer resp.Body.Close()
	var data struct {
		STS struct {
			AssumedRole []struct {
				RoleARN string `json:"role_arn"`
				Secret  string `json:"secret_access_key"`
			}
		} `json:"sts"`
	}
	noErr(t, json.NewDecoder(resp.Body).Decode(&data), "decode moto's data")
	var out []string
	for _, r := range data.STS.AssumedRole {
		if r.RoleARN == ciRole {
			out = append(out, r.Secret)
		}
	}
	return out
}

// TestAWSCreds_ExpiredApplyRecovered heals a terraform apply whose session
// expires while it runs: terraform cannot save the state (errored.tfstate)
// nor release its lock. self-heal assumes the role again with the token
// file, pushes errored.tfstate with the new credentials, and the run ends
// green with the state terraform had computed; the new credentials reach
// the re-runs only. Terraform runs here, so the test is not parallel.
func TestAWSCreds_ExpiredApplyRecovered(t *testing.T) {
	w, moto := expiringWorld(t)
	a := harness.NewAWS(moto)
	noErr(t, a.CreateBucket(awsCtx, "tfstate"), "create the state bucket")
	var proxy string
	for _, kv := range w.env {
		if v, ok := strings.CutPrefix(kv, "AWS_ENDPOINT_URL="); ok {
			proxy = v
		}
	}
	s := harness.NewStack(t, a, w.env, harness.Backend{Endpoint: proxy, Bucket: "tfstate",
		Key: "app/terraform.tfstate"})
	s.Apply(t, harness.Vars{"sleep": "0", "run_id": "1"})

	w.dir = s.Dir
	token := filepath.Join(t.TempDir(), "token")
	noErr(t, os.WriteFile(token, []byte("second-oidc-token\n"), 0o600), "write token file")
	w.setEnv("AWS_WEB_IDENTITY_TOKEN_FILE", token)
	w.setEnv("TF_VAR_sleep", "12")
	w.setEnv("TF_VAR_run_id", "2")
	first := w.session(6)

	h := w.run(nil, harness.ApplyArgs...)
	h.exitIs(t, 0)
	h.outcomeIs(t, report.Healed)
	for _, want := range []string{"ExpiredToken", `written to the file "errored.tfstate"`,
		"Error releasing the state lock"} {
		if !strings.Contains(h.output, want) {
			t.Errorf("the first attempt's output lacks %q:\n%s", want, h.output)
		}
	}
	f := h.fixOf(t, "aws-expired-token", "aws.refresh-credentials")
	wantApplied(t, f, "assumed role "+ciRole+" again with the token file "+
		"AWS_WEB_IDENTITY_TOKEN_FILE names",
		"pushed errored.tfstate to the state backend with the new credentials")
	if len(f.Backups) != 1 || filepath.Dir(f.Backups[0]) != h.artifacts {
		t.Errorf("refresh-credentials backups = %q, want errored.tfstate kept in %s",
			f.Backups, h.artifacts)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, "errored.tfstate")); !os.IsNotExist(err) {
		t.Errorf("errored.tfstate is still in the stack: %v", err)
	}
	requireHealthy(t, s, "2")
	checkSecretsStayed(t, moto, h, aws.ToString(first.Credentials.SecretAccessKey))
}

// checkSecretsStayed requires a new session for the re-run and that its
// secret appears neither in self-heal's output nor in its report.
func checkSecretsStayed(t *testing.T, moto string, h healed, old string) {
	t.Helper()
	body, err := json.Marshal(h.report)
	noErr(t, err, "encode report")
	fresh := 0
	for _, secret := range motoSessions(t, moto) {
		if secret == old {
			continue
		}
		fresh++
		if strings.Contains(h.output, secret) || strings.Contains(string(body), secret) {
			t.Errorf("the new session's secret leaked into self-heal's output or report")
		}
	}
	if fresh != 1 {
		t.Errorf("moto issued %d new sessions for %s, want 1", fresh, ciRole)
	}
}

// oidcServer is GitHub Actions' ID token endpoint as the runner exposes
// it: it hands out a token to a request that brings the runner's token.
type oidcServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newOIDCServer(t *testing.T) *oidcServer {
	t.Helper()
	s := &oidcServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+" "+
			r.Header.Get("Authorization"))
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer runner-request-token" {
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"count":1,"value":"github-oidc-jwt"}`)
	}))
	t.Cleanup(s.Close)
	return s
}

// TestAWSCreds_GitHubOIDCRefresh heals an aws CLI call whose session
// expired, on a GitHub runner without a token file: self-heal asks the
// runner's OIDC endpoint for a fresh token and assumes the role with it.
func TestAWSCreds_GitHubOIDCRefresh(t *testing.T) {
	t.Parallel()
	w, moto := expiringWorld(t)
	oidc := newOIDCServer(t)
	w.setEnv("ACTIONS_ID_TOKEN_REQUEST_URL", oidc.URL+"/idtoken?api-version=2.0")
	w.setEnv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runner-request-token")
	first := w.session(2)
	time.Sleep(3 * time.Second)

	h := w.run(nil, "aws", "sts", "get-caller-identity")
	h.exitIs(t, 0)
	h.outcomeIs(t, report.Healed)
	if !strings.Contains(h.output, "(ExpiredToken) when calling the GetCallerIdentity") ||
		!strings.Contains(h.output, "assumed-role/ci-deploy/self-heal") {
		t.Errorf("want the expired call, then the new session's identity:\n%s", h.output)
	}
	f := h.fixOf(t, "aws-expired-token", "aws.refresh-credentials")
	wantApplied(t, f, "assumed role "+ciRole+" again with a fresh GitHub Actions OIDC token")
	oidc.mu.Lock()
	seen := strings.Join(oidc.seen, "\n")
	oidc.mu.Unlock()
	want := "GET /idtoken?api-version=2.0&audience=sts.amazonaws.com Bearer runner-request-token"
	if seen != want {
		t.Errorf("OIDC endpoint saw:\n%s\nwant:\n%s", seen, want)
	}
	checkSecretsStayed(t, moto, h, aws.ToString(first.Credentials.SecretAccessKey))
}

// TestAWSCreds_SecondRunHasNothingToDo refreshes an expired session with
// the fixer itself, twice in a row. The second run gets the environment
// the first made for the re-run, as the engine passes it on: STS accepts
// those credentials, so it has nothing to do and assumes no role again.
func TestAWSCreds_SecondRunHasNothingToDo(t *testing.T) {
	t.Parallel()
	w, moto := expiringWorld(t)
	token := filepath.Join(t.TempDir(), "token")
	noErr(t, os.WriteFile(token, []byte("second-oidc-token\n"), 0o600), "write token file")
	w.setEnv("AWS_WEB_IDENTITY_TOKEN_FILE", token)
	first := w.session(2)
	time.Sleep(3 * time.Second)

	fx := awsfix.NewRefreshCredentials(nil)
	req := fixer.Request{
		Failure: "An error occurred (ExpiredToken) when calling the GetCallerIdentity " +
			"operation: The security token included in the request is expired",
		Step: fixer.Step{Tool: "aws", Args: []string{"aws", "sts", "get-caller-identity"},
			Env: w.env, Dir: w.dir},
	}
	plan, err := fx.Check(awsCtx, req)
	noErr(t, err, "first check")
	if plan.Verdict != fixer.Act {
		t.Fatalf("first check: %v (%s), want act", plan.Verdict, plan.Action)
	}
	res, err := fx.Apply(awsCtx, req)
	noErr(t, err, "first apply")
	if len(res.Changed) == 0 || res.Env["AWS_SESSION_TOKEN"] == "" {
		t.Fatalf("first apply changed %q, env %d variables; want a new session", res.Changed,
			len(res.Env))
	}

	req.Step.Env = append([]string(nil), w.env...)
	for k, v := range res.Env {
		req.Step.Env = append(req.Step.Env, k+"="+v)
	}
	second := again(t, fx, req, "credentials work again", "nothing to refresh")
	contains(t, "second apply's notes", strings.Join(second.Notes, "\n"),
		"kept the step's credentials")
	fresh := 0
	for _, secret := range motoSessions(t, moto) {
		if secret != aws.ToString(first.Credentials.SecretAccessKey) {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("moto issued %d new sessions for %s, want 1: the second run assumed again",
			fresh, ciRole)
	}
}

// TestAWSCreds_StaticKeysRefused refuses when the job has no way to renew
// its session: the report says so and the step's code is kept.
func TestAWSCreds_StaticKeysRefused(t *testing.T) {
	t.Parallel()
	w, _ := expiringWorld(t)
	w.session(2)
	time.Sleep(3 * time.Second)

	h := w.run(nil, "aws", "sts", "get-caller-identity")
	h.exitIs(t, 255)
	h.outcomeIs(t, report.Refused)
	f := h.fixOf(t, "aws-expired-token", "aws.refresh-credentials")
	wantRefused(t, f, "cannot be renewed here", "AWS_WEB_IDENTITY_TOKEN_FILE")
}

const ecrRegistry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

// dockerWorld starts the daemon stand-in and points the step's docker at
// it and at a config directory of its own.
func dockerWorld(t *testing.T, w *awsWorld, config string) string {
	t.Helper()
	requireTool(t, "docker")
	dir := t.TempDir()
	if config != "" {
		noErr(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o600),
			"write docker config")
	}
	w.setEnv("DOCKER_HOST", serve(t, "ecrdaemon", w.env))
	w.setEnv("DOCKER_CONFIG", dir)
	_, err := w.ecr.CreateRepository(awsCtx, &ecr.CreateRepositoryInput{
		RepositoryName: aws.String("app")})
	noErr(t, err, "create repository")
	return filepath.Join(dir, "config.json")
}

// TestAWSECR_LoginRenewed heals a docker pull whose ECR login expired:
// self-heal writes a fresh token into the docker configuration the step
// uses, keeping everything else in it, and the re-run pulls. A second run
// of the fixer keeps the fresh login.
func TestAWSECR_LoginRenewed(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	stale := base64.StdEncoding.EncodeToString([]byte("AWS:expired-token"))
	config := dockerWorld(t, w, `{"auths":{"`+ecrRegistry+`":{"auth":"`+stale+`"},`+
		`"ghcr.io":{"auth":"Z2hjcjp0b2tlbg=="}},"psFormat":"table {{.Names}}"}`)

	h := w.run(nil, "docker", "pull", ecrRegistry+"/app:latest")
	h.exitIs(t, 0)
	h.outcomeIs(t, report.Healed)
	if !strings.Contains(h.output, "Your authorization token has expired") {
		t.Errorf("the first pull did not meet the expired login:\n%s", h.output)
	}
	f := h.fixOf(t, "ecr-auth-expired", "aws.ecr-login")
	wantApplied(t, f, "wrote a fresh ECR login for "+ecrRegistry+" into "+config)

	body, err := os.ReadFile(config)
	noErr(t, err, "read docker config")
	var got struct {
		Auths map[string]struct {
			Auth string `json:"auth"`
		} `json:"auths"`
		PSFormat string `json:"psFormat"`
	}
	noErr(t, json.Unmarshal(body, &got), "parse docker config")
	fresh := base64.StdEncoding.EncodeToString([]byte("AWS:123456789012-auth-token"))
	if got.Auths[ecrRegistry].Auth != fresh || got.Auths["ghcr.io"].Auth != "Z2hjcjp0b2tlbg==" ||
		got.PSFormat != "table {{.Names}}" {
		t.Errorf("docker config after healing:\n%s\nwant the fresh login and the rest kept", body)
	}
	if strings.Contains(h.output, fresh) {
		t.Errorf("the login leaked into self-heal's output")
	}

	// A second run finds the fresh login in place and keeps it.
	again(t, awsfix.ECRLogin{}, fixer.Request{Values: fixer.Values{"registry": ecrRegistry},
		Step: fixer.Step{Tool: "docker", Args: []string{"docker", "pull", ecrRegistry + "/app"},
			Env: w.env, Dir: w.dir}}, "already holds a good login", "the token ECR issues now")
	if after, err := os.ReadFile(config); err != nil || string(after) != string(body) {
		t.Errorf("the second run rewrote the docker config (%v):\n%s", err, after)
	}
}

// TestAWSECR_OtherAccountRefused is the near miss of a registry host with
// the wrong account ID: logging in again would not help, so the live check
// refuses and the docker configuration is left alone.
func TestAWSECR_OtherAccountRefused(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	config := dockerWorld(t, w, "")

	other := "210987654321.dkr.ecr.us-east-1.amazonaws.com"
	h := w.run(nil, "docker", "pull", other+"/app:latest")
	h.exitIs(t, 1)
	h.outcomeIs(t, report.Refused)
	f := h.fixOf(t, "ecr-auth-expired", "aws.ecr-login")
	wantRefused(t, f, "registry "+other+" belongs to account 210987654321",
		"account 123456789012's")
	if _, err := os.Stat(config); !os.IsNotExist(err) {
		t.Errorf("docker config was written after a refusal: %v", err)
	}
}

//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/self-heal/self-heal/e2e/harness"
	"github.com/self-heal/self-heal/pkg/report"
)

// ourStack is the stack name self-heal derives for an awsWorld's
// working directory; resources tagged Stack=ourStack are this stack's.
const ourStack = "infra/network"

// awsWorld is one test's moto server, SDK clients for it, and a working
// directory inside a repository whose stack is ourStack.
type awsWorld struct {
	t        *testing.T
	endpoint string
	dir      string
	env      []string

	ec2     *ec2.Client
	elbv2   *elbv2.Client
	elb     *elb.Client
	eks     *eks.Client
	s3      *s3.Client
	rds     *rds.Client
	secrets *secretsmanager.Client
	logs    *cloudwatchlogs.Client
	iam     *iam.Client
	sts     *sts.Client
	acm     *acm.Client
	route53 *route53.Client
	ecr     *ecr.Client
}

// newAWSWorld starts moto and prepares the working directory and the
// step's environment: fake credentials, the moto endpoint for the SDK and
// the aws CLI, and nothing of this process's AWS settings.
func newAWSWorld(t *testing.T) *awsWorld {
	t.Helper()
	// Build first, so that a test's timers start when the steps can run.
	harness.SelfHealBinary(t)
	endpoint := harness.StartMoto(t)
	return newAWSWorldAt(t, endpoint)
}

func newAWSWorldAt(t *testing.T, endpoint string) *awsWorld {
	t.Helper()
	requireTool(t, "aws")
	repo := t.TempDir()
	dir := filepath.Join(repo, filepath.FromSlash(ourStack))
	for _, d := range []string{filepath.Join(repo, ".git"), dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The SDK's default retries stay on, as in a real job: self-heal's
	// calls survive a connection that moto's server drops mid-response.
	env := append(harness.TerraformEnv(t, endpoint),
		"AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=", "HOME="+t.TempDir())
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(endpoint),
	}
	return &awsWorld{
		t: t, endpoint: endpoint, dir: dir, env: env,
		ec2:     ec2.NewFromConfig(cfg),
		elbv2:   elbv2.NewFromConfig(cfg),
		elb:     elb.NewFromConfig(cfg),
		eks:     eks.NewFromConfig(cfg),
		s3:      s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		rds:     rds.NewFromConfig(cfg),
		secrets: secretsmanager.NewFromConfig(cfg),
		logs:    cloudwatchlogs.NewFromConfig(cfg),
		iam:     iam.NewFromConfig(cfg),
		sts:     sts.NewFromConfig(cfg),
		acm:     acm.NewFromConfig(cfg),
		route53: route53.NewFromConfig(cfg),
		ecr:     ecr.NewFromConfig(cfg),
	}
}

// withGuard puts the aws guard (see e2e/cmd/awsguard) first on the step's
// PATH, so that `aws` in a step enforces what moto does not.
func (w *awsWorld) withGuard() {
	w.t.Helper()
	dir := guardDir(w.t)
	for i, kv := range w.env {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			w.env[i] = "PATH=" + dir + string(os.PathListSeparator) + p
			return
		}
	}
	w.env = append(w.env, "PATH="+dir)
}

// requireTool fails the test when a program the steps run is not on PATH.
func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("the %s CLI is not on PATH; the AWS end-to-end tests run it as the failing "+
			"step: %v", name, err)
	}
}

// setEnv sets (or adds) a variable of the step's environment.
func (w *awsWorld) setEnv(key, value string) {
	for i, kv := range w.env {
		if strings.HasPrefix(kv, key+"=") {
			w.env[i] = key + "=" + value
			return
		}
	}
	w.env = append(w.env, key+"="+value)
}

var guardBuild struct {
	once sync.Once
	dir  string
	err  error
}

// guardDir builds e2e/cmd/awsguard as a program named aws, once per test
// binary, and returns its directory.
func guardDir(t *testing.T) string {
	t.Helper()
	guardBuild.once.Do(func() {
		root, err := harness.RepoRoot()
		if err != nil {
			guardBuild.err = err
			return
		}
		guardBuild.dir, guardBuild.err = os.MkdirTemp("", "self-heal-awsguard-")
		if guardBuild.err != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(guardBuild.dir, "aws"),
			"./e2e/cmd/awsguard")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			guardBuild.err = fmt.Errorf("go build awsguard: %w\n%s", err, out)
		}
	})
	if guardBuild.err != nil {
		t.Fatalf("build the aws guard: %v", guardBuild.err)
	}
	return guardBuild.dir
}

var programs struct {
	mu    sync.Mutex
	built map[string]string
}

// program builds e2e/cmd/<name> once per test binary and returns the path
// of the binary.
func program(t *testing.T, name string) string {
	t.Helper()
	programs.mu.Lock()
	defer programs.mu.Unlock()
	if p, ok := programs.built[name]; ok {
		return p
	}
	root, err := harness.RepoRoot()
	noErr(t, err, "find the repository")
	dir, err := os.MkdirTemp("", "self-heal-"+name+"-")
	noErr(t, err, "create a directory for %s", name)
	path := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", path, "./e2e/cmd/"+name)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	if programs.built == nil {
		programs.built = map[string]string{}
	}
	programs.built[name] = path
	return path
}

// serve starts e2e/cmd/<name> with env and returns the URL it prints after
// "listening on ". The test's cleanup stops it by its process group.
func serve(t *testing.T, name string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(program(t, name), args...)
	cmd.Env = env
	p := harness.Start(t, cmd)
	p.WaitForOutput(t, "listening on ", 30*time.Second)
	out := p.Output()
	line := out[strings.Index(out, "listening on ")+len("listening on "):]
	return strings.TrimSpace(strings.SplitN(line, "\n", 2)[0])
}

// run runs `self-heal run --report R --artifact-dir D [flags] -- step...`
// in the world's directory and environment and reads the report.
func (w *awsWorld) run(flags []string, step ...string) healed {
	w.t.Helper()
	bin := harness.SelfHealBinary(w.t)
	tmp := w.t.TempDir()
	h := healed{artifacts: filepath.Join(tmp, "artifacts")}
	reportPath := filepath.Join(tmp, "report.json")
	args := append([]string{"run", "-v", "--report", reportPath, "--artifact-dir",
		h.artifacts}, flags...)
	args = append(append(args, "--"), step...)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env = w.dir, w.env
	out, err := cmd.CombinedOutput()
	h.output = string(out)
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		h.exit = exit.ExitCode()
	case err != nil:
		w.t.Fatalf("run self-heal: %v\n%s", err, out)
	}

	body, err := os.ReadFile(reportPath)
	if err != nil {
		w.t.Fatalf("read report (exit %d): %v\n%s", h.exit, err, out)
	}
	if err := json.Unmarshal(body, &h.report); err != nil {
		w.t.Fatalf("parse report: %v\n%s", err, body)
	}
	return h
}

// explain runs `self-heal explain --check --format json --command cmd log`
// in the world's directory and returns the decoded plan.
func (w *awsWorld) explain(command, logPath string) awsExplained {
	w.t.Helper()
	bin := harness.SelfHealBinary(w.t)
	cmd := exec.Command(bin, "explain", "--check", "--format", "json", "--command", command,
		logPath)
	cmd.Dir, cmd.Env = w.dir, w.env
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			w.t.Fatalf("self-heal explain: %v\n%s%s", err, out, exit.Stderr)
		}
		w.t.Fatalf("self-heal explain: %v", err)
	}
	var ex awsExplained
	if err := json.Unmarshal(out, &ex); err != nil {
		w.t.Fatalf("parse explain output: %v\n%s", err, out)
	}
	return ex
}

// awsExplained is the part of `explain --format json` the tests read.
type awsExplained struct {
	Pattern *struct {
		ID       string            `json:"id"`
		Captures map[string]string `json:"captures"`
	} `json:"pattern"`
	Plan []struct {
		Fixer   string `json:"fixer"`
		Action  string `json:"action"`
		Refused string `json:"refused"`
	} `json:"plan"`
}

// catalogueLog returns the path of a log of the built-in catalogue's examples.
func catalogueLog(t *testing.T, rel string) string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "patterns", "testdata", filepath.FromSlash(rel))
}

// fixOf returns the single fix of fixer under pattern, failing otherwise.
func (h healed) fixOf(t *testing.T, pattern, fixer string) report.Fix {
	t.Helper()
	fixes := h.fixes(pattern, fixer)
	if len(fixes) != 1 {
		t.Fatalf("report has %d %s fixes under %s, want 1:\n%s", len(fixes), fixer, pattern,
			h.output)
	}
	return fixes[0]
}

// exitIs fails the test unless self-heal exited with code.
func (h healed) exitIs(t *testing.T, code int) {
	t.Helper()
	if h.exit != code {
		t.Fatalf("self-heal exit = %d, want %d\n%s", h.exit, code, h.output)
	}
}

// outcomeIs checks the report's outcome.
func (h healed) outcomeIs(t *testing.T, want report.Outcome) {
	t.Helper()
	if h.report.Outcome != want {
		t.Errorf("report outcome = %q (%s), want %q\n%s", h.report.Outcome,
			h.report.StopReason, want, h.output)
	}
}

// wantApplied checks that a fix acted and changed what it was expected to:
// every want string must appear in one of its changes.
func wantApplied(t *testing.T, f report.Fix, want ...string) {
	t.Helper()
	if f.Verdict != "act" || !f.Applied || f.Error != "" {
		t.Errorf("%s: verdict %q, applied %v, error %q; want act, applied, no error",
			f.Fixer, f.Verdict, f.Applied, f.Error)
	}
	all := strings.Join(f.Changed, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("%s changed:\n%s\nwant a change naming %q", f.Fixer, all, w)
		}
	}
}

// wantRefused checks that a fix was refused, by its live check or the
// policy, for a reason that names every want string.
func wantRefused(t *testing.T, f report.Fix, want ...string) {
	t.Helper()
	if f.Applied || len(f.Changed) > 0 || f.Refused == "" {
		t.Errorf("%s: applied %v, changed %q, refused %q; want a refusal that changes nothing",
			f.Fixer, f.Applied, f.Changed, f.Refused)
	}
	for _, w := range want {
		if !strings.Contains(f.Refused, w) {
			t.Errorf("%s refused %q, want the reason to name %q", f.Fixer, f.Refused, w)
		}
	}
}

// ec2TagSpec builds EC2 tag specifications for a resource type.
func ec2TagSpec(typ ec2types.ResourceType, kv ...string) []ec2types.TagSpecification {
	if len(kv) == 0 {
		return nil
	}
	var tags []ec2types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		tags = append(tags, ec2types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return []ec2types.TagSpecification{{ResourceType: typ, Tags: tags}}
}

// noErr fails the test on err, naming what was being done.
func noErr(t *testing.T, err error, format string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
}

// awsCtx is the context of the tests' own AWS calls.
var awsCtx = context.Background()

//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/self-heal/self-heal/e2e/harness"
	"github.com/self-heal/self-heal/fixers/terraform"
	"github.com/self-heal/self-heal/pkg/report"
)

var planStep = []string{"terraform", "plan", "-input=false", "-no-color"}

// TestReplan_InconsistentResultOnce heals an apply whose provider returns
// an inconsistent result once: one re-plan and re-apply.
func TestReplan_InconsistentResultOnce(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	dir, env := providerStack(t, harness.Flaky("r", "inconsistent", 1, "  value = \"v\"\n"))
	h := healIn(t, bin, dir, env, applyStep...)
	requireHealedBy(t, h, "inconsistent-final-plan", "terraform.replan")

	r := localState(t, dir).Resource("selfheal_flaky", "r")
	if r == nil || len(r.Instances) != 1 || r.Instances[0].Attributes["value"] != "v" {
		t.Errorf("selfheal_flaky.r in state = %+v, want value v", r)
	}
}

// TestReplan_RecurrenceIsAProviderBug runs an apply whose provider is
// always inconsistent: one re-plan and re-apply, then a refusal that
// names the provider bug.
func TestReplan_RecurrenceIsAProviderBug(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	dir, env := providerStack(t, harness.Flaky("r", "inconsistent", 99, "  value = \"v\"\n"))
	h := healIn(t, bin, dir, env, applyStep...)
	if h.exit == 0 || h.report.Outcome != report.Refused {
		t.Fatalf("exit %d, outcome %q; want a failure refused as a provider bug\n%s",
			h.exit, h.report.Outcome, h.output)
	}
	fixes := h.fixes("inconsistent-final-plan", "terraform.replan")
	if len(fixes) != 2 || fixes[0].Verdict != "act" || fixes[1].Verdict != "refuse" {
		t.Fatalf("replan fixes = %+v, want act then refuse", fixes)
	}
	contains(t, "refusal", fixes[1].Refused, "selfheal_flaky.r failed the same way",
		"bug in the provider registry.terraform.io/self-heal/selfheal")
	if len(h.report.Attempts) != 2 {
		t.Errorf("attempts = %d, want 2: one re-apply only", len(h.report.Attempts))
	}
}

var h1 = regexp.MustCompile(`"(h1:[^"]+)"`)

// TestLockProviders_AddsChecksums heals a plan that meets a lock file with
// a tampered checksum, and one with only another platform's checksum: the
// lock file keeps the recorded checksums and gains this platform's, and a
// second run of the fixer has nothing to do.
func TestLockProviders_AddsChecksums(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	for _, tc := range []struct{ name, recorded string }{
		{"tampered", "h1:AAAAq74MytdZym6mitcf2dqb9BX6FWZ0oAHJdckWLyo="},
		{"incomplete", "zh:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, env := providerStack(t, harness.Flaky("r", "", 0))
			lockPath := filepath.Join(dir, ".terraform.lock.hcl")
			good := readFile(t, lockPath)
			real := h1.FindStringSubmatch(good)
			if real == nil {
				t.Fatalf("lock file has no h1 checksum:\n%s", good)
			}
			broken := strings.Replace(good, real[1], tc.recorded, 1)
			harness.WriteFiles(t, dir, map[string]string{".terraform.lock.hcl": broken})

			h := healIn(t, bin, dir, env, planStep...)
			requireHealedBy(t, h, "provider-lockfile", "terraform.lock-providers")
			after := readFile(t, lockPath)
			contains(t, "lock file", after, tc.recorded, real[1])
			// A second run finds the checksums accepted and leaves the lock file.
			again(t, terraform.LockProviders{}, healedRequest(t, h, dir, env, planStep...),
				"terraform validate loads every required provider")
			if got := readFile(t, lockPath); got != after {
				t.Errorf("the second run changed the lock file:\n%s", got)
			}

			// The backup is the broken lock file; restoring it brings the failure back.
			f := h.fixes("provider-lockfile", "terraform.lock-providers")[0]
			if len(f.Backups) == 0 || readFile(t, f.Backups[0]) != broken {
				t.Fatalf("backups %q: want the lock file as it was", f.Backups)
			}
			harness.WriteFiles(t, dir, map[string]string{".terraform.lock.hcl": readFile(t, f.Backups[0])})
			if out, code := harness.Terraform(t, dir, env, planStep[1:]...); code == 0 {
				t.Errorf("plan with the restored lock file passed, want the failure back:\n%s", out)
			}
		})
	}
}

// TestLockProviders_NoVersionSelectedRunsInit heals a plan whose lock
// file lacks the provider: init records it, and a second run of the fixer
// has nothing to do.
func TestLockProviders_NoVersionSelectedRunsInit(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	dir, env := providerStack(t, harness.Flaky("r", "", 0))
	lockPath := filepath.Join(dir, ".terraform.lock.hcl")
	harness.WriteFiles(t, dir, map[string]string{".terraform.lock.hcl": "# emptied\n"})

	h := healIn(t, bin, dir, env, planStep...)
	requireHealedBy(t, h, "provider-lockfile", "terraform.lock-providers")
	contains(t, "lock file", readFile(t, lockPath),
		`provider "registry.terraform.io/self-heal/selfheal"`, "h1:")
	res := again(t, terraform.LockProviders{}, healedRequest(t, h, dir, env, planStep...),
		"nothing to lock")
	contains(t, "second apply's notes", strings.Join(res.Notes, "\n"), "terraform validate")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestInit_PlanBeforeInit heals a plan run in a directory that was never
// initialised: init, with the backend settings of TF_CLI_ARGS_init. A
// second run of the fixer has nothing to do.
func TestInit_PlanBeforeInit(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	endpoint := harness.StartMoto(t)
	a := harness.NewAWS(endpoint)
	env := harness.TerraformEnv(t, endpoint)
	s := newStack(t, a, env, harness.Backend{Endpoint: endpoint, Bucket: "preinit", Key: stateKey})
	if err := os.RemoveAll(filepath.Join(s.Dir, ".terraform")); err != nil {
		t.Fatal(err)
	}
	env = append(env, "TF_CLI_ARGS_init=-backend-config=backend.hcl")

	h := healIn(t, bin, s.Dir, env, planStep...)
	requireHealedBy(t, h, "backend-init-required", "terraform.init")
	settings := filepath.Join(s.Dir, ".terraform", "terraform.tfstate")
	contains(t, "backend settings", readFile(t, settings), `"bucket": "preinit"`)
	requireHealthy(t, s, "1")

	// A second run finds the directory initialised and runs nothing.
	before := readFile(t, settings)
	res := again(t, terraform.Init{}, healedRequest(t, h, s.Dir, env, planStep...),
		"already initialised for s3://preinit/"+stateKey)
	contains(t, "second apply's notes", strings.Join(res.Notes, "\n"), "nothing to init")
	if got := readFile(t, settings); got != before {
		t.Errorf("the second run changed the backend settings:\n%s", got)
	}
}

// TestInit_BackendKeyChanged runs `terraform init` with a backend file whose
// key changed after init: reconfigured when the new key holds the state,
// after which a second run of the fixer has nothing to do; refused when the
// state would be left at the old key.
func TestInit_BackendKeyChanged(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	endpoint := harness.StartMoto(t)
	a := harness.NewAWS(endpoint)
	env := harness.TerraformEnv(t, endpoint)
	const newKey = "moved/terraform.tfstate"

	for _, tc := range []struct {
		name   string
		copied bool
	}{{"state at the new key", true}, {"state left at the old key", false}} {
		t.Run(tc.name, func(t *testing.T) {
			b := harness.Backend{Endpoint: endpoint, Bucket: "rekey-" + map[bool]string{
				true: "copied", false: "left"}[tc.copied], Key: stateKey}
			s := newStack(t, a, env, b)
			moved := b
			moved.Key = newKey
			harness.WriteFiles(t, s.Dir, map[string]string{"moved.hcl": moved.HCL()})
			if tc.copied {
				copyObject(t, a, b.Bucket, stateKey, newKey)
			}
			settings := filepath.Join(s.Dir, ".terraform", "terraform.tfstate")
			before := readFile(t, settings)

			initStep := []string{"terraform", "init", "-input=false", "-no-color",
				"-backend-config=moved.hcl"}
			h := healIn(t, bin, s.Dir, env, initStep...)
			if tc.copied {
				requireHealedBy(t, h, "backend-config-changed", "terraform.init")
				contains(t, "backend settings", readFile(t, settings), newKey)
				again(t, terraform.Init{}, healedRequest(t, h, s.Dir, env, initStep...),
					"already initialised for s3://"+b.Bucket+"/"+newKey)
				return
			}
			if h.exit == 0 || h.report.Outcome != report.Refused {
				t.Fatalf("exit %d, outcome %q; want a refused migration\n%s",
					h.exit, h.report.Outcome, h.output)
			}
			f := h.fixes("backend-config-changed", "terraform.init")
			if len(f) != 1 || !strings.Contains(f[0].Refused, "a migration, a human decision") {
				t.Errorf("init fixes = %+v, want a refusal naming the migration", f)
			}
			if got := readFile(t, settings); got != before {
				t.Errorf("backend settings changed by a refused fix:\n%s", got)
			}
			if st, err := a.State(context.Background(), b.Bucket, newKey); err != nil || st != nil {
				t.Errorf("state at the new key = %+v, %v; want none", st, err)
			}
			requireHealthy(t, s, "1")
		})
	}
}

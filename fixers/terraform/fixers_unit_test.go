package terraform

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/fixer"
)

func TestHost_judgeHeartbeat(t *testing.T) {
	t.Parallel()
	lock := lockInfo{ID: "L1", Who: "ci@other-host", Created: "2024-01-02T09:00:00Z"}
	stale := beatFact{verdict: fixer.Act, fact: "stale", ok: true}
	fresh := beatFact{verdict: fixer.Wait, fact: "fresh", ok: true}
	none := beatFact{fact: "no heartbeat"}
	tests := []struct {
		name   string
		maxAge time.Duration
		beat   beatFact
		want   fixer.Verdict
	}{
		{"stale heartbeat acts on a young lock", 24 * time.Hour, stale, fixer.Act},
		{"fresh heartbeat waits on an old lock", time.Hour, fresh, fixer.Wait},
		{"no heartbeat falls back to age", time.Hour, none, fixer.Act},
		{"no heartbeat and a young lock waits", 24 * time.Hour, none, fixer.Wait},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plan := fakeHost(nil, nil).judge(lock, tt.maxAge, tt.beat)
			if plan.Verdict != tt.want {
				t.Errorf("verdict = %v, want %v (evidence %q)", plan.Verdict, tt.want, plan.Evidence)
			}
			if len(plan.Evidence) < 2 || plan.Evidence[1] != tt.beat.fact {
				t.Errorf("evidence = %q, want the heartbeat's fact second", plan.Evidence)
			}
		})
	}
}

func TestHeartbeat_staleAfter(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		interval string
		want     time.Duration
	}{{"30s", 90 * time.Second}, {"2s", 6 * time.Second}, {"", 90 * time.Second}} {
		if got := (heartbeat{Interval: tt.interval}).staleAfter(); got != tt.want {
			t.Errorf("staleAfter(%q) = %s, want %s", tt.interval, got, tt.want)
		}
	}
}

func TestReadBackend(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, ".terraform")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	rec := `{"version":3,"backend":{"type":"s3","config":{"bucket":"b","key":"k/t.tfstate",` +
		`"dynamodb_table":"locks","workspace_key_prefix":null,` +
		`"endpoints":{"s3":"http://127.0.0.1:1"}},"hash":42}}`
	if err := os.WriteFile(filepath.Join(data, "terraform.tfstate"), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "environment"), []byte("staging\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := readBackend(fixer.Step{Dir: dir})
	if err != nil || b == nil {
		t.Fatalf("readBackend() = %v, %v", b, err)
	}
	got := []string{b.Type, b.statePath(), b.lockTable(), b.endpoint("s3"), b.endpoint("dynamodb"),
		requireS3(b)}
	want := []string{"s3", "env:/staging/k/t.tfstate", "locks", "http://127.0.0.1:1", "", ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backend (-want +got):\n%s", diff)
	}

	none, err := readBackend(fixer.Step{Dir: t.TempDir()})
	if none != nil || err != nil {
		t.Errorf("readBackend(uninitialised) = %v, %v, want nil, nil", none, err)
	}
}

func TestBackendConfigs(t *testing.T) {
	t.Parallel()
	req := fixer.Request{
		Step: fixer.Step{Goal: "init",
			Args: []string{"terraform", "init", "-backend-config=a.hcl", "--backend-config", "b=1"},
			Env:  []string{`TF_CLI_ARGS_init=-upgrade -backend-config="key=x y" -backend-config=c.hcl`}},
		Values: fixer.Values{"backend_config": "d.hcl, e=2"},
	}
	want := []string{"a.hcl", "b=1", "key=x y", "c.hcl", "d.hcl", "e=2"}
	if diff := cmp.Diff(want, backendConfigs(req)); diff != "" {
		t.Errorf("backendConfigs (-want +got):\n%s", diff)
	}
}

func TestLockModeOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		failure string
		want    lockMode
	}{
		{"the local package for x doesn't match any of the checksums previously recorded", lockChecksums},
		{"the cached package ... does not match any of the checksums recorded in the", lockChecksums},
		{"required by this configuration but no version is selected", lockInit},
		{"Required plugins are not installed", lockInit},
		{"does not match configured version constraint", lockRefuse},
		{"doesn't match any of the checksums; checksum list has unexpected", lockRefuse},
	}
	for _, tt := range tests {
		if got, _ := lockModeOf(tt.failure); got != tt.want {
			t.Errorf("lockModeOf(%q) = %v, want %v", tt.failure, got, tt.want)
		}
	}
}

func TestMirrorsIn(t *testing.T) {
	t.Parallel()
	rc := `disable_checkpoint = true
provider_installation {
  filesystem_mirror {
    path    = "/srv/mirror"
    include = ["registry.terraform.io/self-heal/*"]
  }
  direct { exclude = ["registry.terraform.io/self-heal/*"] }
}
`
	got, err := mirrorsIn("cli.rc", []byte(rc))
	if err != nil || got != (mirrorSource{fs: "/srv/mirror"}) {
		t.Errorf("mirrorsIn() = %+v, %v, want the filesystem mirror", got, err)
	}
	net := "provider_installation {\n  network_mirror {\n    url = \"https://m/\"\n  }\n}\n"
	got, err = mirrorsIn("cli.rc", []byte(net))
	if err != nil || got != (mirrorSource{net: "https://m/"}) {
		t.Errorf("mirrorsIn() = %+v, %v, want the network mirror", got, err)
	}
}

// TestReplan_CheckRefusesRecurrence runs the fixer twice in a row. Its
// only remedy is the engine's re-run, and it reads no live state: by
// design the second Check, which the engine asks only when the same
// failure comes back, refuses and names the provider bug. Neither Apply
// changes anything, and each says so.
func TestReplan_CheckRefusesRecurrence(t *testing.T) {
	t.Parallel()
	f := NewReplan()
	req := fixer.Request{
		Step:   fixer.Step{Dir: "/stack", Goal: "apply", Args: []string{"terraform", "apply"}},
		Values: fixer.Values{"resource": "selfheal_flaky.a", "provider": "example.com/x/y"},
	}
	ctx := context.Background()
	first, _ := f.Check(ctx, req)
	if first.Verdict != fixer.Act {
		t.Fatalf("first Check() = %v, want act", first.Verdict)
	}
	unchanged := fixer.Result{Notes: []string{
		"changed nothing: the re-run of the step re-plans and re-applies"}}
	res, err := f.Apply(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(unchanged, res); diff != "" {
		t.Errorf("first Apply() mismatch (-want +got):\n%s", diff)
	}
	second, _ := f.Check(ctx, req)
	if second.Verdict != fixer.Refuse {
		t.Fatalf("second Check() = %v, want refuse", second.Verdict)
	}
	if res, err := f.Apply(ctx, req); err != nil || cmp.Diff(unchanged, res) != "" {
		t.Errorf("second Apply() = %+v, %v; want %+v", res, err, unchanged)
	}
	want := "selfheal_flaky.a failed the same way after a re-plan and re-apply: this is a bug " +
		"in the provider example.com/x/y that recurs; report it to the provider and upgrade, " +
		"pin or work around it"
	if second.Action != want {
		t.Errorf("refusal = %q, want %q", second.Action, want)
	}

	saved := req
	saved.Step.Args = []string{"terraform", "apply", "-var", "a=b", "tf.plan"}
	if p, _ := NewReplan().Check(ctx, saved); p.Verdict != fixer.Refuse {
		t.Errorf("Check(saved plan) = %v, want refuse", p.Verdict)
	}
}

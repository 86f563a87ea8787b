package terraform

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/fixer"
)

func writeExecutable(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestFindBinary(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	onPath := filepath.Join(root, "bin", "terraform")
	tofu := filepath.Join(root, "bin", "tofu")
	pinned := filepath.Join(root, "stack", "tools", "terraform")
	for _, p := range []string{onPath, tofu, pinned} {
		writeExecutable(t, p)
	}
	path := "PATH=" + filepath.Join(root, "empty") + ":" + filepath.Join(root, "bin")

	tests := []struct {
		name string
		step fixer.Step
		want string
	}{
		{"step PATH", fixer.Step{Tool: "terraform", Args: []string{"terraform", "apply"},
			Env: []string{path}}, onPath},
		{"tofu", fixer.Step{Tool: "tofu", Args: []string{"tofu", "plan"},
			Env: []string{path}}, tofu},
		{"relative program", fixer.Step{Tool: "terraform", Dir: filepath.Join(root, "stack"),
			Args: []string{"./tools/terraform", "apply"}, Env: []string{path}}, pinned},
		{"absolute program", fixer.Step{Tool: "terraform", Args: []string{pinned, "apply"},
			Env: []string{path}}, pinned},
		{"terragrunt runs terraform", fixer.Step{Tool: "terragrunt",
			Args: []string{"terragrunt", "apply"}, Env: []string{path}}, onPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := findBinary(tt.step)
			if err != nil {
				t.Fatalf("findBinary() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("findBinary() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStepEnv(t *testing.T) {
	t.Parallel()
	step := fixer.Step{Env: []string{
		"PATH=/bin", "AWS_REGION=eu-west-1", "TF_VAR_sleep=1", "TF_LOG=trace",
		"TF_CLI_ARGS_apply=-parallelism=2", "TF_IN_AUTOMATION=1", "TF_WORKSPACE=default",
		"TF_DATA_DIR=.tf", "AWS_REGION=us-east-1",
	}}
	want := map[string]string{"PATH": "/bin", "AWS_REGION": "us-east-1", "TF_DATA_DIR": ".tf"}
	if diff := cmp.Diff(want, stepEnv(step)); diff != "" {
		t.Errorf("stepEnv() mismatch (-want +got):\n%s", diff)
	}
}

// localStack makes a directory with a local state for the real terraform
// and returns the step that works in it. The environment carries variables
// that terraform-exec refuses to be given, to show they are filtered.
func localStack(t *testing.T) (fixer.Step, []byte) {
	t.Helper()
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Skip("terraform is not on PATH")
	}
	dir := t.TempDir()
	state := []byte(`{"version": 4, "terraform_version": "1.11.4", "serial": 7, ` +
		`"lineage": "3f1c0c1e-0000-4000-8000-000000000001", "outputs": {}, ` +
		`"resources": [], "check_results": null}`)
	files := map[string][]byte{
		"main.tf":           []byte("resource \"terraform_data\" \"x\" {}\n"),
		"terraform.tfstate": state,
		"cli.tfrc":          []byte("disable_checkpoint = true\n"),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return fixer.Step{
		Dir:  dir,
		Tool: "terraform",
		Args: []string{"terraform", "apply"},
		Env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "CHECKPOINT_DISABLE=1",
			"TF_CLI_CONFIG_FILE=" + filepath.Join(dir, "cli.tfrc"), "TF_VAR_sleep=1",
			"TF_LOG=trace"},
		ArtifactDir: filepath.Join(dir, "artifacts"),
	}, state
}

type stateHead struct {
	Serial  int    `json:"serial"`
	Lineage string `json:"lineage"`
}

func readStateHead(t *testing.T, b []byte) stateHead {
	t.Helper()
	var s stateHead
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("state is not JSON: %v\n%s", err, b)
	}
	return s
}

func TestForceUnlock_Backup(t *testing.T) {
	t.Parallel()
	step, state := localStack(t)
	f := NewForceUnlock(Host{Now: func() time.Time { return now }})
	req := fixer.Request{Step: step, Values: fixer.Values{"lock_id": "ab/cd ef"}}

	path, err := f.Backup(context.Background(), req)
	if err != nil {
		t.Fatalf("Backup() error = %v", err)
	}
	want := filepath.Join(step.ArtifactDir, "tfstate-ab_cd_ef-20240102T180000Z.tfstate")
	if path != want {
		t.Errorf("Backup() = %q, want %q", path, want)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(readStateHead(t, state), readStateHead(t, got)); diff != "" {
		t.Errorf("backup is not the state (-want +got):\n%s", diff)
	}
}

func TestForceUnlock_ApplyReusesBackup(t *testing.T) {
	t.Parallel()
	step, _ := localStack(t)
	f := NewForceUnlock(Host{})
	req := fixer.Request{Step: step, Values: fixer.Values{"lock_id": "0a1b"}}

	if _, err := f.Backup(context.Background(), req); err != nil {
		t.Fatalf("Backup() error = %v", err)
	}

	// The local backend cannot be unlocked from outside, so Apply fails
	// after the backup step. It reuses the backup taken before and does not
	// report it a second time.
	res, err := f.Apply(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "force-unlock 0a1b") {
		t.Fatalf("Apply() error = %v, want the local backend's refusal", err)
	}
	if diff := cmp.Diff(fixer.Result{}, res); diff != "" {
		t.Errorf("Apply() mismatch (-want +got):\n%s", diff)
	}
	entries, err := os.ReadDir(step.ArtifactDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("artifact directory holds %d files, want the one backup", len(entries))
	}
}

func TestForceUnlock_ApplyTakesBackup(t *testing.T) {
	t.Parallel()
	step, state := localStack(t)
	f := NewForceUnlock(Host{})
	req := fixer.Request{Step: step, Values: fixer.Values{"lock_id": "0a1b"}}

	res, err := f.Apply(context.Background(), req)
	if err == nil {
		t.Fatalf("Apply() error = nil, want the local backend's refusal")
	}
	if len(res.Backups) != 1 {
		t.Fatalf("Apply() backups = %v, want the one it took", res.Backups)
	}
	got, err := os.ReadFile(res.Backups[0])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(readStateHead(t, state), readStateHead(t, got)); diff != "" {
		t.Errorf("backup is not the state (-want +got):\n%s", diff)
	}
}

func TestForceUnlock_ApplyWithoutBackup(t *testing.T) {
	t.Parallel()
	step, _ := localStack(t)
	f := NewForceUnlock(Host{})
	req := fixer.Request{Step: step, Values: fixer.Values{"lock_id": "0a1b", "backup": "false"}}

	res, err := f.Apply(context.Background(), req)
	if err == nil {
		t.Fatalf("Apply() error = nil, want the local backend's refusal")
	}
	if len(res.Backups) != 0 {
		t.Errorf("Apply() backups = %v, want none", res.Backups)
	}
	if _, err := os.Stat(step.ArtifactDir); err == nil {
		t.Errorf("Apply() with backup false created %s", step.ArtifactDir)
	}
}

func TestForceUnlock_ApplyNeedsLockID(t *testing.T) {
	t.Parallel()
	_, err := NewForceUnlock(Host{}).Apply(context.Background(), fixer.Request{})
	if err == nil {
		t.Errorf("Apply() without lock_id error = nil, want an error")
	}
}

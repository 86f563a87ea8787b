//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/self-heal/self-heal/e2e/harness"
	"github.com/self-heal/self-heal/pkg/fixer"
)

// healIn runs `self-heal run` of args in dir with env and reads its report.
func healIn(t *testing.T, bin, dir string, env []string, args ...string) healed {
	t.Helper()
	tmp := t.TempDir()
	h := healed{artifacts: filepath.Join(tmp, "artifacts")}
	reportPath := filepath.Join(tmp, "report.json")
	full := append([]string{"run", "--report", reportPath, "--artifact-dir", h.artifacts, "--"},
		args...)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	h.output = string(out)
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		h.exit = exit.ExitCode()
	case err != nil:
		t.Fatalf("run self-heal: %v\n%s", err, out)
	}
	body, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatalf("read report (exit %d): %v\n%s", h.exit, err, out)
	}
	if err := json.Unmarshal(body, &h.report); err != nil {
		t.Fatalf("parse report: %v\n%s", err, body)
	}
	return h
}

// providerStack writes a configuration that uses the test provider with
// local state into a new directory, initialises it, and returns the
// directory and the environment to run terraform there.
func providerStack(t *testing.T, resources string) (string, []string) {
	t.Helper()
	env := harness.ProviderEnv(t, harness.TerraformEnv(t, "http://127.0.0.1:9"),
		harness.ProviderMirror(t))
	dir := t.TempDir()
	harness.WriteFiles(t, dir, map[string]string{"main.tf": harness.ProviderConfig() + resources})
	if out, code := harness.Terraform(t, dir, env, "init", "-input=false", "-no-color"); code != 0 {
		t.Fatalf("terraform init: exit %d\n%s", code, out)
	}
	return dir, env
}

// localState reads the local terraform.tfstate of dir.
func localState(t *testing.T, dir string) *harness.State {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		t.Fatalf("read state: %v", err)
	}
	st, err := harness.ParseState(body)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// requireAttempts checks that the run failed first under pattern, with
// fixer planned, and then passed: without the fix the step fails.
func requireHealedBy(t *testing.T, h healed, pattern, fixer string) {
	t.Helper()
	if h.exit != 0 {
		t.Fatalf("self-heal exit = %d, want 0\n%s", h.exit, h.output)
	}
	a := h.report.Attempts
	if len(a) < 2 || a[0].ExitCode == 0 || a[0].Match == nil || a[0].Match.ID != pattern {
		t.Fatalf("first attempt did not fail as %s: %+v\n%s", pattern, a, h.output)
	}
	if len(h.fixes(pattern, fixer)) == 0 {
		t.Errorf("report has no %s fix under %s:\n%s", fixer, pattern, h.output)
	}
	if last := a[len(a)-1]; last.ExitCode != 0 {
		t.Errorf("last attempt exit = %d, want 0", last.ExitCode)
	}
}

func contains(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// healedRequest is what a fixer is asked about the failure a heal met
// first: that attempt's captures and failure window, with the step of args
// in dir and env.
func healedRequest(t *testing.T, h healed, dir string, env []string, args ...string,
) fixer.Request {
	t.Helper()
	first := h.report.Attempts[0]
	if first.Match == nil {
		t.Fatalf("the first attempt matched no pattern:\n%s", h.output)
	}
	values := fixer.Values{}
	maps.Copy(values, first.Match.Captures)
	return fixer.Request{Values: values, Failure: first.Excerpt,
		Step: fixer.Step{Tool: args[0], Goal: args[1], Args: args, Dir: dir, Env: env,
			ArtifactDir: t.TempDir()},
		Log: slog.New(slog.DiscardHandler)}
}

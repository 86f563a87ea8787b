//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/self-heal/self-heal/e2e/harness"
	"github.com/self-heal/self-heal/pkg/report"
)

// healed is one `self-heal run` of a step: its exit code, what it printed
// and the report it wrote.
type healed struct {
	exit      int
	output    string
	report    report.Run
	artifacts string
}

// heal runs `self-heal run --report R --artifact-dir D -- terraform apply
// -auto-approve -input=false` in the stack with vars, and reads the report.
func heal(t *testing.T, bin string, s *harness.Stack, vars harness.Vars) healed {
	t.Helper()
	dir := t.TempDir()
	h := healed{artifacts: filepath.Join(dir, "artifacts")}
	reportPath := filepath.Join(dir, "report.json")
	args := append([]string{bin, "run", "--report", reportPath, "--artifact-dir", h.artifacts,
		"--"}, harness.ApplyArgs...)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out, err := s.Command(ctx, vars, args...).CombinedOutput()
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

// fixes returns every fix that fixer planned under pattern, in order.
func (h healed) fixes(pattern, fixer string) []report.Fix {
	var out []report.Fix
	for _, a := range h.report.Attempts {
		if a.Match == nil || a.Match.ID != pattern {
			continue
		}
		for _, f := range a.Fixes {
			if f.Fixer == fixer {
				out = append(out, f)
			}
		}
	}
	return out
}

// newStack creates the bucket (and lock table) of b and an initialised
// stack whose state holds terraform_data.slow from a first, quick apply.
func newStack(t *testing.T, a *harness.AWS, env []string, b harness.Backend) *harness.Stack {
	t.Helper()
	ctx := context.Background()
	if err := a.CreateBucket(ctx, b.Bucket); err != nil {
		t.Fatal(err)
	}
	if b.LockTable != "" {
		if err := a.CreateLockTable(ctx, b.LockTable); err != nil {
			t.Fatal(err)
		}
	}
	s := harness.NewStack(t, a, env, b)
	s.Apply(t, harness.Vars{"sleep": "0", "run_id": "1"})
	return s
}

// requireHealthy checks that the stack is unlocked and its state holds
// terraform_data.slow as the apply with run_id left it.
func requireHealthy(t *testing.T, s *harness.Stack, runID string) *harness.State {
	t.Helper()
	ctx := context.Background()
	lock, err := s.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if lock != nil {
		t.Errorf("state is still locked by %+v", lock)
	}

	st, err := s.State(ctx)
	if err != nil || st == nil {
		t.Fatalf("read state: %v, %v", st, err)
	}
	r := st.Resource("terraform_data", "slow")
	if r == nil || len(r.Instances) != 1 {
		t.Fatalf("state holds no terraform_data.slow: %+v", st)
	}
	trigger, _ := r.Instances[0].Attributes["triggers_replace"].(map[string]any)
	if got := trigger["value"]; got != runID {
		t.Errorf("terraform_data.slow triggers_replace = %v, want %q from the healed apply",
			got, runID)
	}
	return st
}

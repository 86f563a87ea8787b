//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/self-heal/self-heal/e2e/harness"
	"github.com/self-heal/self-heal/fixers/terraform"
	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/report"
)

const stateKey = "stack/terraform.tfstate"

// TestStateLock_StaleLockIsForced heals an apply that meets the lock left
// by a killed apply on this host: self-heal must back the state up, force
// the lock and re-run the apply to success, with both lock modes of the
// s3 backend.
func TestStateLock_StaleLockIsForced(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	endpoint := harness.StartMoto(t)
	a := harness.NewAWS(endpoint)
	env := harness.TerraformEnv(t, endpoint)

	for _, tc := range []struct{ name, lockTable string }{
		{"use_lockfile", ""},
		{"dynamodb_table", "locks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t, a, env, harness.Backend{Endpoint: endpoint,
				Bucket: "stale-" + strings.ReplaceAll(tc.name, "_", "-"), Key: stateKey,
				LockTable: tc.lockTable})
			before, err := s.State(context.Background())
			if err != nil || before == nil {
				t.Fatalf("state before the kill: %v, %v", before, err)
			}
			lock := s.LeaveStaleLock(t, harness.Vars{"sleep": "60", "run_id": "2"})

			h := heal(t, bin, s, harness.Vars{"sleep": "1", "run_id": "3"})
			if h.exit != 0 {
				t.Fatalf("self-heal exit = %d, want 0\n%s", h.exit, h.output)
			}
			requireHealthy(t, s, "3")
			checkStaleReport(t, h, lock, before)
		})
	}
}

func checkStaleReport(t *testing.T, h healed, lock *harness.LockInfo, before *harness.State) {
	t.Helper()
	if h.report.Outcome != report.Healed {
		t.Errorf("report outcome = %q, want %q", h.report.Outcome, report.Healed)
	}
	for _, want := range []string{"Error acquiring the state lock", lock.ID, "Apply complete!"} {
		if !strings.Contains(h.output, want) {
			t.Errorf("self-heal output lacks the step's %q", want)
		}
	}

	fixes := h.fixes("state-lock", "terraform.force-unlock")
	if len(fixes) != 1 {
		t.Fatalf("report has %d force-unlock fixes under state-lock, want 1:\n%+v",
			len(fixes), h.report.Attempts)
	}
	f := fixes[0]
	if f.Verdict != "act" || !f.Applied || f.Error != "" {
		t.Errorf("force-unlock verdict %q, applied %v, error %q; want act, applied, no error",
			f.Verdict, f.Applied, f.Error)
	}
	wantEvidence := fmt.Sprintf("lock %s was taken on this host (%s) and no terraform or "+
		"tofu process is running here", lock.ID, lock.Who)
	if len(f.Evidence) == 0 || f.Evidence[0] != wantEvidence {
		t.Errorf("force-unlock evidence = %q, want %q", f.Evidence, wantEvidence)
	}
	if len(f.Changed) != 1 || !strings.Contains(f.Changed[0], "force-unlocked lock "+lock.ID) {
		t.Errorf("force-unlock changed = %q, want the lock %s forced", f.Changed, lock.ID)
	}
	checkBackup(t, f.Backups, h.artifacts, before)
}

// checkBackup requires exactly one backup, in the artifact directory, that
// is the state as it was before the healed apply.
func checkBackup(t *testing.T, backups []string, artifacts string, before *harness.State) {
	t.Helper()
	if len(backups) != 1 {
		t.Fatalf("force-unlock backups = %q, want one", backups)
	}
	if filepath.Dir(backups[0]) != artifacts {
		t.Errorf("backup %s is not in the artifact directory %s", backups[0], artifacts)
	}
	body, err := os.ReadFile(backups[0])
	if err != nil {
		t.Fatalf("read backup: %v", err)
	}
	st, err := harness.ParseState(body)
	if err != nil {
		t.Fatalf("backup %s: %v", backups[0], err)
	}
	if st.Lineage != before.Lineage || st.Serial < before.Serial {
		t.Errorf("backup lineage %s serial %d, want the state's %s serial >= %d",
			st.Lineage, st.Serial, before.Lineage, before.Serial)
	}
}

// TestStateLock_LiveHolderIsWaitedFor runs self-heal while another apply
// on this host holds the lock: self-heal must not force it, but back off
// and re-run until the holder is done, and both applies must succeed.
func TestStateLock_LiveHolderIsWaitedFor(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	endpoint := harness.StartMoto(t)
	a := harness.NewAWS(endpoint)
	env := harness.TerraformEnv(t, endpoint)
	s := newStack(t, a, env, harness.Backend{Endpoint: endpoint, Bucket: "live", Key: stateKey})

	holder, lock := s.StartApply(t, harness.Vars{"sleep": "12", "run_id": "2"})
	start := time.Now()
	h := heal(t, bin, s, harness.Vars{"sleep": "1", "run_id": "3"})
	elapsed := time.Since(start)

	if err := holder.Wait(t, time.Minute); err != nil {
		t.Errorf("the holder's apply failed: %v\n%s", err, holder.Output())
	}
	if h.exit != 0 {
		t.Fatalf("self-heal exit = %d, want 0\n%s", h.exit, h.output)
	}
	if elapsed > 90*time.Second {
		t.Errorf("self-heal took %s to get past a 12s holder", elapsed)
	}
	requireHealthy(t, s, "3")

	fixes := h.fixes("state-lock", "terraform.force-unlock")
	if len(fixes) == 0 {
		t.Fatalf("report has no force-unlock plan under state-lock:\n%+v", h.report.Attempts)
	}
	holding := fmt.Sprintf("lock %s was taken on this host (%s) and terraform or tofu is "+
		"still running here", lock.ID, lock.Who)
	for i, f := range fixes {
		if f.Verdict != "wait" || f.Applied || len(f.Changed) > 0 || len(f.Backups) > 0 {
			t.Errorf("force-unlock plan %d: verdict %q, applied %v, changed %q, backups %q; "+
				"want a wait that touches nothing", i, f.Verdict, f.Applied, f.Changed, f.Backups)
		}
		if len(f.Evidence) == 0 || !strings.HasPrefix(f.Evidence[0], holding) ||
			!strings.Contains(f.Evidence[0], fmt.Sprint(holder.PID())) {
			t.Errorf("force-unlock plan %d evidence = %q, want the holder (pid %d) named",
				i, f.Evidence, holder.PID())
		}
	}
	if n := len(h.report.Attempts); n < 2 || h.report.Attempts[n-1].ExitCode != 0 {
		t.Errorf("report has %d attempts, want a failed one and a passing re-run", n)
	}
	if h.report.Outcome != report.Healed {
		t.Errorf("report outcome = %q, want %q", h.report.Outcome, report.Healed)
	}
}

// TestForceUnlock_SecondRunHasNothingToDo forces the lock left by a
// killed apply through the fixer itself, twice in a row, with both lock
// modes of the s3 backend: the second Check reads the backend, finds no
// lock held, and says so; the second Apply changes nothing and takes no
// second backup.
func TestForceUnlock_SecondRunHasNothingToDo(t *testing.T) {
	endpoint := harness.StartMoto(t)
	a := harness.NewAWS(endpoint)
	env := harness.TerraformEnv(t, endpoint)

	for _, tc := range []struct{ name, lockTable string }{
		{"use_lockfile", ""},
		{"dynamodb_table", "locks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t, a, env, harness.Backend{Endpoint: endpoint,
				Bucket: "twice-" + strings.ReplaceAll(tc.name, "_", "-"), Key: stateKey,
				LockTable: tc.lockTable})
			lock := s.LeaveStaleLock(t, harness.Vars{"sleep": "60", "run_id": "2"})
			req := fixer.Request{
				Values: fixer.Values{"lock_id": lock.ID, "lock_who": lock.Who,
					"lock_operation": lock.Operation, "lock_path": lock.Path,
					"lock_created": lock.Created.Format(time.RFC3339Nano)},
				Step: fixer.Step{Tool: "terraform", Goal: "apply", Args: harness.ApplyArgs,
					Dir: s.Dir, Env: s.Env, ArtifactDir: t.TempDir()},
				Log: slog.New(slog.DiscardHandler),
			}

			res := twice(t, terraform.NewForceUnlock(terraform.RealHost()), req,
				"no lock is held", lock.ID)
			if len(res.Backups) > 0 {
				t.Errorf("second apply backed up again: %q", res.Backups)
			}
			contains(t, "second apply's notes", strings.Join(res.Notes, "\n"),
				"lock "+lock.ID+" was already released")
			if left, err := s.Lock(context.Background()); err != nil || left != nil {
				t.Errorf("lock after two runs = %+v, %v; want none", left, err)
			}
		})
	}
}

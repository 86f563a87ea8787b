//go:build e2e

package harness_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/self-heal/self-heal/e2e/harness"
)

func TestRepoRoot(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatalf("RepoRoot() error = %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "e2e", "harness", "stack", "main.tf")); err != nil {
		t.Errorf("RepoRoot() = %q, which does not hold the e2e stack: %v", root, err)
	}
}

func TestStartMoto(t *testing.T) {
	endpoint := harness.StartMoto(t)
	a := harness.NewAWS(endpoint)
	ctx := context.Background()
	if err := a.CreateBucket(ctx, "probe"); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateLockTable(ctx, "locks"); err != nil {
		t.Fatal(err)
	}
	st, err := a.State(ctx, "probe", "none.tfstate")
	if err != nil || st != nil {
		t.Errorf("State(missing) = %v, %v, want nil, nil", st, err)
	}
	lock, err := a.LockItem(ctx, "locks", "probe", "none.tfstate")
	if err != nil || lock != nil {
		t.Errorf("LockItem(missing) = %v, %v, want nil, nil", lock, err)
	}
}

// TestStack_LeaveStaleLock makes the failure the state-lock tests heal,
// with both lock modes of the s3 backend, and checks it is a real one:
// terraform itself refuses to run on the state.
func TestStack_LeaveStaleLock(t *testing.T) {
	endpoint := harness.StartMoto(t)
	a := harness.NewAWS(endpoint)
	env := harness.TerraformEnv(t, endpoint)
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}

	const key = "stack/terraform.tfstate"
	for _, b := range []harness.Backend{
		{Endpoint: endpoint, Bucket: "lockfile", Key: key},
		{Endpoint: endpoint, Bucket: "dynamodb", Key: key, LockTable: "locks"},
	} {
		t.Run(b.Bucket, func(t *testing.T) {
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
			before, err := s.State(ctx)
			if err != nil || before == nil || before.Resource("terraform_data", "slow") == nil {
				t.Fatalf("state after the first apply = %+v, %v", before, err)
			}

			start := time.Now()
			lock := s.LeaveStaleLock(t, harness.Vars{"sleep": "60", "run_id": "2"})
			if !strings.HasSuffix(lock.Who, "@"+host) {
				t.Errorf("lock.Who = %q, want it taken on %s", lock.Who, host)
			}
			if time.Since(start) > 50*time.Second {
				t.Errorf("making the stale lock took %s, longer than the apply's sleep",
					time.Since(start))
			}

			cmd := s.Command(ctx, harness.Vars{"sleep": "0", "run_id": "3"},
				append(harness.ApplyArgs, "-no-color")...)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("apply on the locked state succeeded:\n%s", out)
			}
			if !strings.Contains(string(out), "Error acquiring the state lock") ||
				!strings.Contains(string(out), lock.ID) {
				t.Errorf("apply on the locked state did not name lock %s:\n%s", lock.ID, out)
			}
		})
	}
}

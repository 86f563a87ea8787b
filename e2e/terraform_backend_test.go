//go:build e2e

package e2e

import (
	"context"
	"crypto/md5" //nolint:gosec // the s3 backend's digest is an MD5
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/self-heal/self-heal/e2e/harness"
	"github.com/self-heal/self-heal/fixers/terraform"
)

func copyObject(t *testing.T, a *harness.AWS, bucket, from, to string) {
	t.Helper()
	ctx := context.Background()
	body, err := a.Object(ctx, bucket, from)
	if err != nil || body == nil {
		t.Fatalf("read s3://%s/%s: %v", bucket, from, err)
	}
	if err := a.PutObject(ctx, bucket, to, body); err != nil {
		t.Fatal(err)
	}
}

func md5hex(b []byte) string {
	sum := md5.Sum(b) //nolint:gosec // see the import
	return hex.EncodeToString(sum[:])
}

// rewriteState changes a state's serial, and its lineage when given.
func rewriteState(t *testing.T, body []byte, lineage string) []byte {
	t.Helper()
	var st map[string]any
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	st["serial"] = st["serial"].(float64) + 1
	if lineage != "" {
		st["lineage"] = lineage
	}
	out, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRepairDigest overwrites the state object behind terraform's back
// and runs plan: the digest is repaired for a state of the same lineage,
// and left alone for one of another lineage. After the repair, a second
// run of the fixer has nothing to do.
func TestRepairDigest(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	endpoint := harness.StartMoto(t)
	a := harness.NewAWS(endpoint)
	env := harness.TerraformEnv(t, endpoint)
	ctx := context.Background()
	if err := a.CreateLockTable(ctx, "locks"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, lineage string }{
		{"same lineage", ""}, {"other lineage", "00000000-0000-4000-8000-00000000abcd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := harness.Backend{Endpoint: endpoint, Bucket: "digest-" +
				strings.ReplaceAll(tc.name, " ", "-"), Key: stateKey, LockTable: "locks"}
			if err := a.CreateBucket(ctx, b.Bucket); err != nil {
				t.Fatal(err)
			}
			if err := a.EnableVersioning(ctx, b.Bucket); err != nil {
				t.Fatal(err)
			}
			s := harness.NewStack(t, a, env, b)
			s.Apply(t, harness.Vars{"sleep": "0", "run_id": "1"})
			old, _ := a.Object(ctx, b.Bucket, stateKey)
			oldDigest, _ := a.Digest(ctx, "locks", b.Bucket, stateKey)
			tampered := rewriteState(t, old, tc.lineage)
			if err := a.PutObject(ctx, b.Bucket, stateKey, tampered); err != nil {
				t.Fatal(err)
			}

			h := healIn(t, bin, s.Dir, env, planStep...)
			digest, err := a.Digest(ctx, "locks", b.Bucket, stateKey)
			if err != nil {
				t.Fatal(err)
			}
			if tc.lineage != "" {
				requireDigestRefused(t, h, digest, oldDigest)
				return
			}
			requireHealedBy(t, h, "s3-digest-mismatch", "terraform.repair-digest")
			if digest != md5hex(tampered) {
				t.Errorf("digest = %s, want the object's MD5 %s", digest, md5hex(tampered))
			}
			// A second run finds the digest repaired and leaves it alone.
			req := healedRequest(t, h, s.Dir, env, planStep...)
			res := again(t, &terraform.RepairDigest{}, req, "the digest matches the state")
			contains(t, "second apply's notes", strings.Join(res.Notes, "\n"), "left as it is")
			if len(res.Backups) > 0 {
				t.Errorf("second apply backed up %q, want nothing", res.Backups)
			}
			restoreDigestBackup(t, h, a, s, tampered)
		})
	}
}

func requireDigestRefused(t *testing.T, h healed, digest, oldDigest string) {
	t.Helper()
	if h.exit == 0 {
		t.Fatalf("plan on a state of another lineage passed:\n%s", h.output)
	}
	f := h.fixes("s3-digest-mismatch", "terraform.repair-digest")
	if len(f) == 0 || !strings.Contains(f[0].Refused, "belongs to another lineage") {
		t.Errorf("repair-digest = %+v, want a refusal naming the lineage", f)
	}
	if digest != oldDigest {
		t.Errorf("digest changed to %s by a refused fix, want %s", digest, oldDigest)
	}
}

// restoreDigestBackup puts the backup back as the state and checks that
// terraform accepts it.
func restoreDigestBackup(t *testing.T, h healed, a *harness.AWS, s *harness.Stack,
	want []byte,
) {
	t.Helper()
	f := h.fixes("s3-digest-mismatch", "terraform.repair-digest")[0]
	if len(f.Backups) == 0 {
		t.Fatalf("repair-digest wrote no backup: %+v", f)
	}
	body := []byte(readFile(t, f.Backups[len(f.Backups)-1]))
	if string(body) != string(want) {
		t.Fatalf("backup %s is not the state as it was", f.Backups[0])
	}
	if err := a.PutObject(context.Background(), s.Backend.Bucket, stateKey, body); err != nil {
		t.Fatal(err)
	}
	s.Run(t, nil, planStep...)
}

// otherHost runs args as if on another host: in a UTS namespace whose
// host name is other-host, so terraform's locks say root@other-host.
func otherHost(s *harness.Stack, vars harness.Vars, args ...string) *exec.Cmd {
	script := `hostname other-host && exec "$@"`
	full := append([]string{"unshare", "--uts", "sh", "-c", script, "sh"}, args...)
	return s.Command(context.Background(), vars, full...)
}

// TestHeartbeat_StaleHolderIsForced kills a self-heal run on another host
// while its apply holds the lock: its heartbeat goes stale, and the next
// run forces the lock after a backup.
func TestHeartbeat_StaleHolderIsForced(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	endpoint := harness.StartMoto(t)
	a := harness.NewAWS(endpoint)
	env := append(harness.TerraformEnv(t, endpoint), "SELF_HEAL_HEARTBEAT_INTERVAL=1s")
	s := newStack(t, a, env, harness.Backend{Endpoint: endpoint, Bucket: "beat", Key: stateKey})
	before, _ := s.State(context.Background())

	holder := harness.Start(t, otherHost(s, harness.Vars{"sleep": "60", "run_id": "2"},
		append([]string{bin, "run", "--"}, harness.ApplyArgs...)...))
	lock := waitHeartbeat(t, a, s, holder)
	holder.Kill(t)
	time.Sleep(5 * time.Second) // more than three intervals of 1s

	h := heal(t, bin, s, harness.Vars{"sleep": "1", "run_id": "3"})
	if h.exit != 0 {
		t.Fatalf("self-heal exit = %d, want 0\n%s", h.exit, h.output)
	}
	requireHealthy(t, s, "3")
	f := h.fixes("state-lock", "terraform.force-unlock")
	if len(f) != 1 || f[0].Verdict != "act" || !f[0].Applied {
		t.Fatalf("force-unlock = %+v, want one applied act", f)
	}
	contains(t, "evidence", strings.Join(f[0].Evidence, "\n"), lock.Who+" at s3://beat/",
		"its run is gone")
	checkBackup(t, f[0].Backups, h.artifacts, before)
}

// TestHeartbeat_LiveHolderIsWaitedFor runs self-heal while a self-heal on
// another host holds the lock with a fresh heartbeat: even with a max_age
// the lock exceeds, it waits and never forces.
func TestHeartbeat_LiveHolderIsWaitedFor(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	endpoint := harness.StartMoto(t)
	a := harness.NewAWS(endpoint)
	env := append(harness.TerraformEnv(t, endpoint), "SELF_HEAL_HEARTBEAT_INTERVAL=1s")
	s := newStack(t, a, env, harness.Backend{Endpoint: endpoint, Bucket: "alive", Key: stateKey})

	holder := harness.Start(t, otherHost(s, harness.Vars{"sleep": "20", "run_id": "2"},
		append([]string{bin, "run", "--"}, harness.ApplyArgs...)...))
	waitHeartbeat(t, a, s, holder)
	// The repository's own pattern directory holds the strict pattern.
	harness.WriteFiles(t, filepath.Join(s.Dir, ".self-heal", "patterns"),
		map[string]string{"strict.yaml": strictLock})

	h := healIn(t, bin, s.Dir, append(s.Env, "TF_VAR_sleep=1", "TF_VAR_run_id=3"), harness.ApplyArgs...)
	if err := holder.Wait(t, 2*time.Minute); err != nil {
		t.Errorf("the holder's run failed: %v\n%s", err, holder.Output())
	}
	f := h.fixes("state-lock-strict", "terraform.force-unlock")
	if len(f) == 0 {
		t.Fatalf("no force-unlock plans under state-lock-strict:\n%s", h.output)
	}
	for i, p := range f {
		if p.Verdict != "wait" || p.Applied {
			t.Errorf("plan %d: verdict %q applied %v, want a wait", i, p.Verdict, p.Applied)
		}
		contains(t, fmt.Sprintf("plan %d evidence", i), strings.Join(p.Evidence, "\n"),
			"its run is alive")
	}
	if h.exit != 0 {
		t.Errorf("self-heal exit = %d, want 0 after the holder finished\n%s", h.exit, h.output)
	}
}

// strictLock is a state-lock pattern whose max_age every lock exceeds, so
// that only the heartbeat keeps a live holder's lock from being forced.
const strictLock = `version: 1
patterns:
  - id: state-lock-strict
    title: State lock, forced after one second without other evidence
    category: state
    priority: 100
    match:
      any: [Error acquiring the state lock]
      all: [Lock Info]
    capture:
      lock_id: '(?m)^ID:[ \t]+(\S+)'
      lock_path: '(?m)^Path:[ \t]+(\S+)'
      lock_who: '(?m)^Who:[ \t]+(\S+)'
      lock_created: '(?m)^Created:[ \t]+(\S.*)$'
    fixes:
      - use: terraform.force-unlock
        with: {max_age: 1s}
    retry: {attempts: 8, initial: 5s, max: 10s, jitter: 0, budget: 5m}
`

// waitHeartbeat waits until the holder's apply holds the lock and its
// self-heal keeps a heartbeat for the lock's holder, and returns the lock.
func waitHeartbeat(t *testing.T, a *harness.AWS, s *harness.Stack,
	holder *harness.Process,
) *harness.LockInfo {
	t.Helper()
	var lock *harness.LockInfo
	harness.Eventually(t, 2*time.Minute, "the other host's lock and heartbeat", func() (bool, error) {
		var err error
		if lock, err = s.Lock(context.Background()); err != nil || lock == nil {
			return false, err
		}
		body, err := a.Object(context.Background(), s.Backend.Bucket,
			stateKey+".heartbeat/"+lock.Who)
		return body != nil, err
	})
	if !strings.HasSuffix(lock.Who, "@other-host") {
		t.Fatalf("lock holder %q, want one on other-host\n%s", lock.Who, holder.Output())
	}
	return lock
}

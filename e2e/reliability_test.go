//go:build e2e

package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/self-heal/self-heal/e2e/harness"
	"github.com/self-heal/self-heal/pkg/report"
)

// TestCancel_SIGTERMDuringApply cancels self-heal while a real apply holds
// the state lock: terraform must see the signal, release the lock and
// exit; self-heal must start no other attempt and leave no process behind.
func TestCancel_SIGTERMDuringApply(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	endpoint := harness.StartMoto(t)
	a := harness.NewAWS(endpoint)
	env := harness.TerraformEnv(t, endpoint)
	s := newStack(t, a, env, harness.Backend{Endpoint: endpoint, Bucket: "cancel", Key: stateKey})

	// A sleep of an unusual length marks the provisioner's process.
	seconds := fmt.Sprintf("45.%03d", rand.IntN(1000))
	marker := "sleep " + seconds
	reportPath := filepath.Join(t.TempDir(), "report.json")
	args := append([]string{bin, "run", "--report", reportPath, "--"}, harness.ApplyArgs...)
	args = append(args, "-no-color")
	p := harness.Start(t, s.Command(context.Background(), harness.Vars{"sleep": seconds, "run_id": "9"},
		args...))
	p.WaitForOutput(t, "terraform_data.slow (local-exec): Executing", time.Minute)
	harness.Eventually(t, 30*time.Second, "the state lock", func() (bool, error) {
		lock, err := s.Lock(context.Background())
		return lock != nil, err
	})

	if err := syscall.Kill(p.PID(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := p.Wait(t, time.Minute)
	if err == nil {
		t.Fatalf("self-heal exited 0 after SIGTERM mid-apply\n%s", p.Output())
	}
	if strings.Contains(p.Output(), "self-heal: attempt 2:") {
		t.Errorf("self-heal started another attempt after the signal:\n%s", p.Output())
	}
	if lock, err := s.Lock(context.Background()); err != nil || lock != nil {
		t.Errorf("after cancellation the lock is %+v (err %v), want none", lock, err)
	}
	if pids := processesWith(t, marker); len(pids) > 0 {
		t.Errorf("processes left behind after cancellation: %v", pids)
	}
	var run report.Run
	body, err := os.ReadFile(reportPath)
	if err != nil || json.Unmarshal(body, &run) != nil || run.Outcome != report.Cancelled {
		t.Errorf("report outcome = %q (read err %v), want cancelled", run.Outcome, err)
	}
}

// processesWith lists the processes whose command line contains text.
func processesWith(t *testing.T, text string) []string {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []string
	for _, d := range dirs {
		cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err == nil && strings.Contains(string(cmdline), text) {
			out = append(out, filepath.Base(d)+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return out
}

// TestCancel_secondSignalKillsGroup: a step that ignores SIGTERM is
// killed, with its children, by the second signal.
func TestCancel_secondSignalKillsGroup(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	marker := fmt.Sprint(rand.Int64())
	cmd := exec.Command(bin, "run", "--", "sh", "-c",
		`trap "" TERM; echo ready; sleep 300 # `+marker+"\n wait")
	cmd.Dir = t.TempDir()
	p := harness.Start(t, cmd)
	p.WaitForOutput(t, "ready", 10*time.Second)
	harness.Eventually(t, 10*time.Second, "the sleeping child", func() (bool, error) {
		return len(processesWith(t, "sleep 300")) > 0, nil
	})
	for i := 0; i < 2; i++ {
		if err := syscall.Kill(p.PID(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	_ = p.Wait(t, 20*time.Second)
	if got := p.ExitCode(); got != 137 {
		t.Errorf("exit code = %d, want 137 (the group was killed)\n%s", got, p.Output())
	}
	harness.Eventually(t, 5*time.Second, "no process left", func() (bool, error) {
		return len(processesWith(t, marker)) == 0, nil
	})
}

// TestPassThrough_pathological sends awkward output through self-heal and
// checks that it arrives unchanged (by hash) and that self-heal's peak
// memory stays bounded, while the failure is still scanned.
func TestPassThrough_pathological(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 7))
	cases := []struct {
		name string
		make func(w io.Writer)
	}{
		{"single 10 MiB line", func(w io.Writer) { repeat(w, []byte("x"), 10<<20) }},
		{"binary bytes", func(w io.Writer) { randomBytes(w, rng, 32<<20) }},
		{"invalid utf-8", func(w io.Writer) { repeat(w, []byte("ok \xff\xfe\xc3( line\n"), 1<<20) }},
		{"carriage-return progress", func(w io.Writer) { repeat(w, []byte("\rdownloading 42% ....."), 1<<20) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			f, err := os.Create(file)
			if err != nil {
				t.Fatal(err)
			}
			tc.make(f)
			f.Close()
			want := fileHash(t, file)
			got, rss := runHashed(t, bin, "cat "+file+"; echo 'Error: connection reset by peer' >&2; exit 1")
			if got != want {
				t.Errorf("stdout hash %s, want %s: output changed on the way through", got, want)
			}
			if rss > 64<<20 {
				t.Errorf("self-heal peak anonymous RSS %d MiB, want <= 64 MiB", rss>>20)
			}
		})
	}
	t.Run("1 GiB", func(t *testing.T) {
		zero := sha256.New()
		repeat(zero, make([]byte, 1<<20), 1024)
		want := hex.EncodeToString(zero.Sum(nil))
		got, rss := runHashed(t, bin, "head -c 1073741824 /dev/zero")
		if got != want {
			t.Errorf("stdout hash %s, want %s", got, want)
		}
		if rss > 64<<20 {
			t.Errorf("self-heal peak anonymous RSS %d MiB, want <= 64 MiB", rss>>20)
		}
	})
}

// runHashed runs `self-heal run -- sh -c script` with stdout hashed as it
// streams, and returns the hash and the peak of self-heal's anonymous
// resident memory, sampled from /proc while it runs: what the log costs,
// without the binary's own mapped code (rusage would also count the test
// process it was forked from).
func runHashed(t *testing.T, bin, script string) (string, int64) {
	t.Helper()
	cmd := exec.Command(bin, "run", "--max-attempts", "0", "--", "sh", "-c", script)
	cmd.Dir = t.TempDir()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		status := filepath.Join("/proc", fmt.Sprint(cmd.Process.Pid), "status")
		for {
			if kb := rssAnon(status); kb<<10 > peak.Load() {
				peak.Store(kb << 10)
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	h := sha256.New()
	if _, err := io.Copy(h, out); err != nil {
		t.Fatal(err)
	}
	close(stop)
	<-sampled
	_ = cmd.Wait()
	if peak.Load() == 0 {
		t.Fatal("could not read self-heal's RssAnon")
	}
	return hex.EncodeToString(h.Sum(nil)), peak.Load()
}

// rssAnon reads the anonymous resident memory, in KiB, from a status file.
func rssAnon(status string) int64 {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			var kb int64
			_, _ = fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb)
			return kb
		}
	}
	return 0
}

func fileHash(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func repeat(w io.Writer, b []byte, n int) {
	for i := 0; i < n; i++ {
		_, _ = w.Write(b)
	}
}

func randomBytes(w io.Writer, rng *rand.Rand, n int) {
	buf := make([]byte, 1<<16)
	for written := 0; written < n; written += len(buf) {
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		_, _ = w.Write(buf)
	}
}

// TestFix_serverLostMidway stops the S3 backend after the step failed on
// a stale lock, so the fixer loses its API server: the fix must end with
// a clear error, the output must be kept, and self-heal must exit with the
// step's code.
func TestFix_serverLostMidway(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	endpoint, motoPID := startOwnMoto(t)
	a := harness.NewAWS(endpoint)
	env := harness.TerraformEnv(t, endpoint)
	s := newStack(t, a, env, harness.Backend{Endpoint: endpoint, Bucket: "lost", Key: stateKey})
	s.LeaveStaleLock(t, harness.Vars{"sleep": "60", "run_id": "2"})

	reportPath := filepath.Join(t.TempDir(), "report.json")
	apply := strings.Join(harness.ApplyArgs, " ")
	script := fmt.Sprintf("%s; rc=$?; kill %d; exit $rc", apply, motoPID)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	vars := harness.Vars{"sleep": "1", "run_id": "3"}
	out, err := s.Command(ctx, vars, bin, "run", "--report", reportPath, "--fix-timeout", "60s", "--",
		"sh", "-c", script).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("self-heal err = %v, want exit 1 (terraform's)\n%s", err, out)
	}
	if !strings.Contains(string(out), "Error acquiring the state lock") {
		t.Errorf("the step's output was lost:\n%s", out)
	}
	var run report.Run
	body, rerr := os.ReadFile(reportPath)
	if rerr != nil || json.Unmarshal(body, &run) != nil {
		t.Fatalf("read report: %v", rerr)
	}
	if run.Outcome != report.Failed || run.StopReason != "a fix failed" {
		t.Errorf("outcome %q stop %q, want failed / a fix failed", run.Outcome, run.StopReason)
	}
	last := run.Attempts[len(run.Attempts)-1]
	if len(last.Fixes) == 0 || last.Fixes[0].Error == "" {
		t.Errorf("the fix reports no error: %+v", last.Fixes)
	}
}

// startOwnMoto starts a moto_server this test may stop itself, and
// returns its endpoint and PID. Cleanup kills it if it still runs.
func startOwnMoto(t *testing.T) (string, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	p := harness.Start(t, exec.Command("moto_server", "-H", "127.0.0.1", "-p", fmt.Sprint(port)))
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	harness.Eventually(t, 30*time.Second, "moto_server", func() (bool, error) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil, nil
	})
	return endpoint, p.PID()
}

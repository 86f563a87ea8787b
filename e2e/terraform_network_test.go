//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/self-heal/self-heal/e2e/harness"
	"github.com/self-heal/self-heal/pkg/report"
)

var initStep = []string{"terraform", "init", "-input=false", "-no-color"}

// mirrorStack writes a configuration that needs the test provider into a
// new directory, not initialised, and returns the directory and the
// environment in which terraform installs the provider from mirror.
func mirrorStack(t *testing.T, mirror *harness.NetworkMirror) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	harness.WriteFiles(t, dir, map[string]string{"main.tf": harness.ProviderConfig()})
	return dir, mirror.Env(t, harness.TerraformEnv(t, "http://127.0.0.1:9"))
}

// TestNetwork_MirrorBackAfterBackOff heals an init whose provider mirror
// refuses connections: terraform's own wording is recognised as the
// registry being unreachable, self-heal backs off, the mirror comes back
// during the wait, and the re-run installs the provider from it.
func TestNetwork_MirrorBackAfterBackOff(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	mirror := harness.NewNetworkMirror(t)
	dir, env := mirrorStack(t, mirror)

	// The mirror comes up once the first terraform has failed and exited,
	// that is while self-heal matches the failure and backs off.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	started := make(chan error, 1)
	go func() {
		if err := awaitTerraformExit(ctx, dir); err != nil {
			started <- err
			return
		}
		started <- mirror.Start()
	}()
	h := healIn(t, bin, dir, env, initStep...)
	if err := <-started; err != nil {
		t.Fatalf("bring the mirror back: %v\n%s", err, h.output)
	}

	requireHealedBy(t, h, "registry-unreachable", "wait.backoff")
	first, second := h.report.Attempts[0], h.report.Attempts[1]
	contains(t, "first attempt's output", strings.Join(strings.Fields(first.Excerpt), " "),
		"failed to query provider mirror "+mirror.URL, "connect: connection refused")
	if got := first.Match.Captures["mirror"]; got != mirror.URL {
		t.Errorf("mirror capture = %q, want %q", got, mirror.URL)
	}
	if first.Wait <= 0 {
		t.Errorf("no back-off after the first attempt: %+v", first)
	}
	// self-heal times an attempt's end after it has read the last output,
	// a moment after terraform exited, so only the start bounds it.
	if up := mirror.Started(); up.Before(first.Started) || up.After(second.Started) {
		t.Errorf("mirror came up at %s, want after the first attempt (started %s) "+
			"and before the re-run (%s)", up, first.Started, second.Started)
	}
	if n := mirror.Requests(mirror.Archive()); n != 1 {
		t.Errorf("mirror served the archive %d times, want once", n)
	}
	requireInstalled(t, dir, mirror)
}

// TestNetwork_MirrorNeverBack keeps the failure of an init whose provider
// mirror never comes back: self-heal backs off and re-runs until the
// attempts are spent, then exits with terraform's exit code.
func TestNetwork_MirrorNeverBack(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	mirror := harness.NewNetworkMirror(t)
	dir, env := mirrorStack(t, mirror)

	h := healIn(t, bin, dir, env, initStep...)
	a := h.report.Attempts
	if len(a) < 2 {
		t.Fatalf("%d attempts, want a re-run after a back-off:\n%s", len(a), h.output)
	}
	for _, att := range a {
		if att.ExitCode == 0 || att.Match == nil || att.Match.ID != "registry-unreachable" {
			t.Fatalf("attempt %d: exit %d, match %+v; want a failure recognised as "+
				"registry-unreachable\n%s", att.Number, att.ExitCode, att.Match, h.output)
		}
	}
	last := a[len(a)-1]
	if h.exit != last.ExitCode {
		t.Errorf("self-heal exit = %d, want terraform's %d", h.exit, last.ExitCode)
	}
	if h.report.Outcome != report.Failed || h.report.StopReason != "attempts exhausted" {
		t.Errorf("outcome %q (%s), want failed (attempts exhausted)", h.report.Outcome, h.report.StopReason)
	}
	// The back-off grows: with the pattern's jitter, each wait is longer
	// than the one before.
	for i, att := range a[:len(a)-1] {
		if att.Wait <= 0 || i > 0 && att.Wait <= a[i-1].Wait {
			t.Errorf("wait after attempt %d = %s, want more than 0 and than the wait before",
				att.Number, att.Wait)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".terraform.lock.hcl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file after a failed init: %v, want none", err)
	}
}

// requireInstalled checks that init installed the test provider from the
// mirror and recorded it, with the mirror's checksum, in the lock file.
func requireInstalled(t *testing.T, dir string, mirror *harness.NetworkMirror) {
	t.Helper()
	exe := filepath.Join(dir, ".terraform", "providers", "registry.terraform.io", harness.ProviderSource,
		harness.ProviderVersion, runtime.GOOS+"_"+runtime.GOARCH,
		"terraform-provider-selfheal_v"+harness.ProviderVersion)
	if fi, err := os.Stat(exe); err != nil || fi.Mode()&0o100 == 0 {
		t.Errorf("provider not installed at %s: %v", exe, err)
	}
	lock := readFile(t, filepath.Join(dir, ".terraform.lock.hcl"))
	contains(t, "lock file", lock, `provider "registry.terraform.io/self-heal/selfheal"`, mirror.H1)
	version := regexp.MustCompile(`\bversion\s+=\s+"` + regexp.QuoteMeta(harness.ProviderVersion) + `"`)
	if !version.MatchString(lock) {
		t.Errorf("lock file does not record version %s:\n%s", harness.ProviderVersion, lock)
	}
}

// awaitTerraformExit waits until a terraform process working in dir has
// started and exited, polling the process table, or until ctx is done.
func awaitTerraformExit(ctx context.Context, dir string) error {
	want, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		for pid := range seen {
			if !terraformIn(pid, want) {
				return nil
			}
		}
		procs, _ := filepath.Glob("/proc/[0-9]*")
		for _, p := range procs {
			if pid := filepath.Base(p); !seen[pid] && terraformIn(pid, want) {
				seen[pid] = true
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for a terraform in %s to start and exit: %w", dir, ctx.Err())
		case <-tick.C:
		}
	}
}

// terraformIn reports whether process pid is a live terraform working in
// dir; a zombie has no working directory.
func terraformIn(pid, dir string) bool {
	comm, err := os.ReadFile(filepath.Join("/proc", pid, "comm"))
	if err != nil || strings.TrimSpace(string(comm)) != "terraform" {
		return false
	}
	cwd, err := os.Readlink(filepath.Join("/proc", pid, "cwd"))
	return err == nil && cwd == dir
}

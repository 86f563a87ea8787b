package terraform

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writeProc lays out one fake /proc/PID directory.
func writeProc(t *testing.T, root, pid, comm, state, exe string) {
	t.Helper()
	dir := filepath.Join(root, pid)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stat := pid + " (" + comm + ") " + state + " 1 1 1 0 -1\n"
	for name, body := range map[string]string{"comm": comm + "\n", "stat": stat} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if exe != "" {
		if err := os.Symlink(exe, filepath.Join(dir, "exe")); err != nil {
			t.Fatal(err)
		}
	}
}

func TestToolProcesses_FakeProc(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeProc(t, root, "10", "terraform", "S", "/usr/local/bin/terraform")
	writeProc(t, root, "11", "bash", "S", "/usr/bin/bash")
	writeProc(t, root, "12", "terraform", "Z", "")
	writeProc(t, root, "13", "terraform-provi", "S", "/p/terraform-provider-aws_v5")
	writeProc(t, root, "14", "tofu", "R", "")
	writeProc(t, root, "15", "tf (wrapper) x", "S", "/opt/tf/terraform (deleted)")
	writeProc(t, root, "16", "python3", "X", "/opt/bin/terraform")
	if err := os.Mkdir(filepath.Join(root, "self"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "17"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	got, err := toolProcesses(root)
	if err != nil {
		t.Fatalf("toolProcesses() error = %v", err)
	}
	if diff := cmp.Diff([]int{10, 14, 15}, got); diff != "" {
		t.Errorf("toolProcesses() mismatch (-want +got):\n%s", diff)
	}

	if _, err := toolProcesses(filepath.Join(root, "missing")); err == nil {
		t.Errorf("toolProcesses(missing) error = nil, want an error")
	}
}

// TestToolProcesses_RealProc runs a program called terraform and looks for
// it in the real /proc; it starts a process, so it does not run in
// parallel.
func TestToolProcesses_RealProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep program")
	}
	body, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(t.TempDir(), "terraform")
	if err := os.WriteFile(fake, body, 0o755); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(fake, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	pids, err := toolProcesses("/proc")
	if err != nil {
		t.Fatalf("toolProcesses() error = %v", err)
	}
	if !slices.Contains(pids, pid) {
		t.Fatalf("toolProcesses() = %v, want it to hold the running terraform %d", pids, pid)
	}

	// Killed but not yet reaped, it is a zombie and no longer alive.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	waitZombie(t, pid)
	pids, err = toolProcesses("/proc")
	if err != nil {
		t.Fatalf("toolProcesses() error = %v", err)
	}
	if slices.Contains(pids, pid) {
		t.Errorf("toolProcesses() = %v, want the killed terraform %d left out", pids, pid)
	}
}

func waitZombie(t *testing.T, pid int) {
	t.Helper()
	dir := filepath.Join("/proc", fmt.Sprint(pid))
	for range 200 {
		if isDead(dir) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d did not die", pid)
}

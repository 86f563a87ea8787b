package harness

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// motoAddr finds the port in moto_server's "Running on" line.
var motoAddr = regexp.MustCompile(`Running on (http://127\.0\.0\.1:\d+)`)

// StartMoto starts moto_server on a free port of 127.0.0.1, waits until it
// answers, and returns its endpoint URL. The server is stopped by its PID
// when the test ends; its log is printed if the test failed.
func StartMoto(t testing.TB) string {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "moto.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	// Port 0 lets the kernel pick a free port; moto prints the one it got.
	cmd := exec.Command("moto_server", "-H", "127.0.0.1", "-p", "0")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		stop(cmd.Process.Pid, exited)
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("moto_server log:\n%s", log)
		}
	})

	endpoint, err := waitMoto(logPath, exited, 30*time.Second)
	if err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	return endpoint
}

// waitMoto waits for moto's address in its log and then for an HTTP
// answer there.
func waitMoto(logPath string, exited <-chan error, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return "", fmt.Errorf("moto_server exited: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
		log, _ := os.ReadFile(logPath)
		m := motoAddr.FindSubmatch(log)
		if m == nil {
			continue
		}
		resp, err := client.Get(string(m[1]) + "/moto-api/")
		if err != nil {
			continue
		}
		resp.Body.Close()
		return string(m[1]), nil
	}
	return "", errors.New("moto_server did not answer within " + timeout.String())
}

// stop ends the process pid: SIGTERM, then SIGKILL if it has not exited
// after five seconds. exited receives its Wait result.
func stop(pid int, exited <-chan error) {
	_ = syscall.Kill(pid, syscall.SIGTERM)
	select {
	case err := <-exited:
		_ = err // the test is over; how moto_server ended does not matter
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(pid, syscall.SIGKILL)
		err := <-exited
		_ = err
	}
}

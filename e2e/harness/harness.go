// Package harness runs self-heal's end-to-end tests against real programs:
// moto_server for AWS, the terraform on PATH with its s3 backend, and the
// self-heal binary built from this repository.
//
// Every process it starts is stopped by its PID when the test ends. Tests
// that use it must not run in parallel, not even across packages (see
// [Run]): the fixers under test look at the terraform processes alive on
// the host. The tests carry the e2e build tag;
// this package has none so that it is always compiled and vetted.
package harness

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// module is the path of the module the binary is built from.
const module = "github.com/self-heal/self-heal"

var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Run runs the tests of m and then removes the binary that
// [SelfHealBinary] built. Call it from TestMain: os.Exit(harness.Run(m)).
//
// It holds an exclusive lock on a file in the temporary directory while
// the tests run, so that the test binaries of several e2e packages, which
// go test starts in parallel, take turns: their terraform processes would
// otherwise be taken for live lock holders by each other's fixers.
func Run(m *testing.M) int {
	release, err := lockHost()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer release()

	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
	return code
}

// lockHost waits for the host-wide e2e lock and returns its release.
func lockHost() (func(), error) {
	path := filepath.Join(os.TempDir(), "self-heal-e2e.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// RepoRoot returns the root of this repository: the first directory, from
// the working directory up, whose go.mod declares the self-heal module.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if declaresModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod of " + module + " above")
		}
		dir = parent
	}
}

func declaresModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
			return fields[1] == module
		}
	}
	return false
}

// SelfHealBinary builds the repository's main package once per test binary
// and returns the path of the result. It fails the test when the build
// fails.
func SelfHealBinary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			build.err = err
			return
		}
		build.dir, build.err = os.MkdirTemp("", "self-heal-e2e-")
		if build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "self-heal")
		cmd := exec.Command("go", "build", "-o", build.path, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatalf("build self-heal: %v", build.err)
	}
	return build.path
}

// Eventually calls cond until it returns true, every 100ms, and fails the
// test when timeout passes first or cond returns an error. what names the
// awaited condition in the failure.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("wait for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("wait for %s: not after %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The test provider's address and version, as e2e/provider serves them.
const (
	ProviderSource  = "self-heal/selfheal"
	ProviderVersion = "0.1.0"
	providerHost    = "registry.terraform.io"
)

var providerBuild struct {
	once   sync.Once
	mirror string
	err    error
}

// ProviderMirror builds the test provider in e2e/provider once per test
// binary and returns a filesystem mirror directory that holds it in the
// unpacked layout for this platform. It fails the test when the build
// fails.
func ProviderMirror(t testing.TB) string {
	t.Helper()
	providerBuild.once.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			providerBuild.err = err
			return
		}
		mirror, err := os.MkdirTemp("", "self-heal-mirror-")
		if err != nil {
			providerBuild.err = err
			return
		}
		providerBuild.mirror = mirror
		bin := filepath.Join(ProviderPackageDir(mirror), "terraform-provider-selfheal_v"+
			ProviderVersion)
		cmd := exec.Command("go", "build", "-o", bin, ".")
		cmd.Dir = filepath.Join(root, "e2e", "provider")
		if out, err := cmd.CombinedOutput(); err != nil {
			providerBuild.err = fmt.Errorf("go build the test provider: %w\n%s", err, out)
		}
	})
	if providerBuild.err != nil {
		t.Fatalf("build the test provider: %v", providerBuild.err)
	}
	return providerBuild.mirror
}

// ProviderPackageDir is where a mirror keeps the provider's package for
// this platform.
func ProviderPackageDir(mirror string) string {
	return filepath.Join(mirror, providerHost, ProviderSource, ProviderVersion,
		runtime.GOOS+"_"+runtime.GOARCH)
}

// ProviderEnv returns env with a CLI configuration that installs the test
// provider from mirror and everything else directly, and with the state
// directory where the provider counts its calls. Later entries win, so
// it overrides the configuration of [TerraformEnv].
func ProviderEnv(t testing.TB, env []string, mirror string) []string {
	t.Helper()
	dir := t.TempDir()
	rc := filepath.Join(dir, "terraform.rc")
	body := fmt.Sprintf(`disable_checkpoint = true
provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["%s/%s"]
  }
  direct {
    exclude = ["%s/%s"]
  }
}
`, mirror, providerHost, ProviderSource, providerHost, ProviderSource)
	if err := os.WriteFile(rc, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "provider-state")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	return append(append([]string(nil), env...),
		"TF_CLI_CONFIG_FILE="+rc, "SELFHEAL_STATE_DIR="+state)
}

// ProviderConfig returns the terraform block that requires the test
// provider, for a configuration's main.tf.
func ProviderConfig() string {
	return fmt.Sprintf(`terraform {
  required_providers {
    selfheal = { source = %q, version = %q }
  }
}
`, ProviderSource, ProviderVersion)
}

// Flaky returns a selfheal_flaky resource block named name whose first
// failures calls fail with failure.
func Flaky(name, failure string, failures int, extra ...string) string {
	return fmt.Sprintf("resource \"selfheal_flaky\" %q {\n  name     = %q\n  failure  = %q\n"+
		"  failures = %d\n%s}\n", name, name, failure, failures, strings.Join(extra, ""))
}

// WriteFiles writes name -> content files into dir.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Terraform runs terraform with args in dir and env to completion and
// returns its combined output and exit code; it fails the test only when
// terraform cannot be started.
func Terraform(t testing.TB, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("terraform", args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("run terraform %v: %v", args, err)
	}
	return string(out), 0
}

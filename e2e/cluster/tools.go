package cluster

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/self-heal/self-heal/e2e/harness"
)

// Tools are the paths of the binaries the cluster tests need, built from
// the Go module proxy by scripts/k8s-tools.sh and cached outside the
// repository by version.
type Tools struct {
	Etcd          string
	KubeAPIServer string
	Helm          string
}

var tools struct {
	once sync.Once
	t    Tools
	err  error
}

// BuildTools runs scripts/k8s-tools.sh once per test binary, which builds
// whatever binary is missing from the cache (minutes when cold, nothing
// when warm), and returns the paths. It fails the test when the build
// fails.
func BuildTools(t testing.TB) Tools {
	t.Helper()
	tools.once.Do(func() { tools.t, tools.err = buildTools() })
	if tools.err != nil {
		t.Fatalf("build the cluster's tools: %v", tools.err)
	}
	return tools.t
}

func buildTools() (Tools, error) {
	root, err := harness.RepoRoot()
	if err != nil {
		return Tools{}, err
	}
	script := filepath.Join(root, "scripts", "k8s-tools.sh")
	if out, err := exec.Command("bash", script, "all").CombinedOutput(); err != nil {
		return Tools{}, fmt.Errorf("%s all: %w\n%s", script, err, out)
	}
	out, err := exec.Command("bash", script, "paths").Output()
	if err != nil {
		return Tools{}, fmt.Errorf("%s paths: %w", script, err)
	}
	var ts Tools
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "ETCD":
			ts.Etcd = v
		case "KUBE_APISERVER":
			ts.KubeAPIServer = v
		case "HELM":
			ts.Helm = v
		}
	}
	if ts.Etcd == "" || ts.KubeAPIServer == "" || ts.Helm == "" {
		return Tools{}, fmt.Errorf("%s paths printed %q", script, out)
	}
	return ts, nil
}

package cluster

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/kube"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// WriteChart writes a chart called name at version under dir, with the
// given templates (file name to text), and returns its directory.
func WriteChart(t testing.TB, dir, name, version string, templates map[string]string) string {
	t.Helper()
	root := filepath.Join(dir, name+"-"+version)
	if err := os.MkdirAll(filepath.Join(root, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	meta := fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\n", name, version)
	if err := os.WriteFile(filepath.Join(root, "Chart.yaml"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	for file, text := range templates {
		path := filepath.Join(root, "templates", file)
		if err := os.WriteFile(path, []byte(strings.TrimLeft(text, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

var fieldManager sync.Once

// Helm returns a Helm SDK configuration for namespace ns, as the
// administrator, storing releases in Secrets as the CLI does.
func (c *Cluster) Helm(t testing.TB, ns string) *action.Configuration {
	t.Helper()
	// Write as the helm CLI does, so that the CLI's later server-side
	// applies do not conflict with this test binary's field manager.
	fieldManager.Do(func() { kube.ManagedFieldsManager = "helm" })
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &c.Kubeconfig
	flags.Namespace = &ns
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
	if err := cfg.Init(flags, ns, "secret"); err != nil {
		t.Fatalf("init the Helm SDK: %v", err)
	}
	return cfg
}

// HelmInstall installs the chart at dir as release name in ns with the
// SDK, without waiting for readiness.
func (c *Cluster) HelmInstall(t testing.TB, ns, name, dir string) {
	t.Helper()
	ch, err := loader.Load(dir)
	if err != nil {
		t.Fatalf("load chart %s: %v", dir, err)
	}
	inst := action.NewInstall(c.Helm(t, ns))
	inst.ReleaseName = name
	inst.Namespace = ns
	inst.CreateNamespace = true
	inst.WaitStrategy = kube.HookOnlyStrategy
	if _, err := inst.Run(ch, nil); err != nil {
		t.Fatalf("install release %s: %v", name, err)
	}
}

// HelmHistory returns the revisions of release name in ns, oldest first.
func (c *Cluster) HelmHistory(t testing.TB, ns, name string) []*release.Release {
	t.Helper()
	items, err := c.Helm(t, ns).Releases.History(name)
	if err != nil && !strings.Contains(err.Error(), "not found") {
		t.Fatalf("history of %s: %v", name, err)
	}
	var out []*release.Release
	for _, it := range items {
		r, ok := it.(*release.Release)
		if !ok {
			t.Fatalf("history of %s: unexpected %T", name, it)
		}
		out = append(out, r)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Version < out[j-1].Version; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Statuses renders a history as "1:deployed 2:pending-upgrade".
func Statuses(rels []*release.Release) string {
	parts := make([]string, len(rels))
	for i, r := range rels {
		parts[i] = fmt.Sprintf("%d:%s", r.Version, r.Info.Status)
	}
	return strings.Join(parts, " ")
}

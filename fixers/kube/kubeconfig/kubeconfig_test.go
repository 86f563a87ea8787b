package kubeconfig_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/self-heal/self-heal/fixers/kube/kubeconfig"
	"github.com/self-heal/self-heal/pkg/fixer"
)

// twoContexts is a kubeconfig with two contexts on two servers.
const twoContexts = `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://a.example.com"}
- name: b
  cluster: {server: "https://b.example.com"}
users:
- name: u
  user: {token: t}
contexts:
- name: a
  context: {cluster: a, user: u, namespace: team-a}
- name: b
  context: {cluster: b, user: u}
current-context: a
`

func TestForStep(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte(twoContexts), 0o600); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".kube"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".kube", "config"), []byte(twoContexts),
		0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name                   string
		step                   fixer.Step
		server, context, names string
	}{
		{"KUBECONFIG and its current context",
			fixer.Step{Env: []string{"KUBECONFIG=" + path}},
			"https://a.example.com", "a", "team-a"},
		{"relative KUBECONFIG",
			fixer.Step{Dir: dir, Env: []string{"KUBECONFIG=config"}},
			"https://a.example.com", "a", "team-a"},
		{"kubectl --context and -n",
			fixer.Step{Env: []string{"KUBECONFIG=" + path},
				Args: []string{"kubectl", "--context", "b", "-n", "web", "get", "pods"}},
			"https://b.example.com", "b", "web"},
		{"helm --kube-context and HELM_NAMESPACE",
			fixer.Step{Env: []string{"KUBECONFIG=" + path, "HELM_NAMESPACE=charts"},
				Args: []string{"helm", "--kube-context=b", "upgrade", "x", "y"}},
			"https://b.example.com", "b", "charts"},
		{"--kubeconfig wins over KUBECONFIG",
			fixer.Step{Env: []string{"KUBECONFIG=/nonexistent"},
				Args: []string{"kubectl", "--kubeconfig", path, "get", "pods"}},
			"https://a.example.com", "a", "team-a"},
		{"the step's HOME, not this process's",
			fixer.Step{Env: []string{"HOME=" + home}},
			"https://a.example.com", "a", "team-a"},
		{"context without a namespace",
			fixer.Step{Env: []string{"KUBECONFIG=" + path, "HELM_NAMESPACE=ignored"},
				Args: []string{"kubectl", "--context=b"}},
			"https://b.example.com", "b", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := kubeconfig.ForStep(tt.step)
			cfg, err := a.ToRESTConfig()
			if err != nil {
				t.Fatalf("ToRESTConfig() error = %v", err)
			}
			ctx, err := a.CurrentContext()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Host != tt.server || ctx != tt.context || a.Namespace() != tt.names {
				t.Errorf("ForStep() = server %s, context %s, namespace %s; want %s, %s, %s",
					cfg.Host, ctx, a.Namespace(), tt.server, tt.context, tt.names)
			}
		})
	}
}

func TestFlagValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args  []string
		names []string
		want  string
	}{
		{[]string{"helm", "upgrade", "--timeout", "3m", "x"}, []string{"--timeout"}, "3m"},
		{[]string{"helm", "upgrade", "--timeout=3m"}, []string{"--timeout"}, "3m"},
		{[]string{"kubectl", "-n", "a", "-n", "b"}, []string{"-n", "--namespace"}, "b"},
		{[]string{"kubectl", "--namespace"}, []string{"--namespace"}, ""},
		{[]string{"kubectl", "get"}, []string{"-n"}, ""},
	}
	for _, tt := range tests {
		if got := kubeconfig.FlagValue(tt.args, tt.names...); got != tt.want {
			t.Errorf("FlagValue(%q, %q) = %q, want %q", tt.args, tt.names, got, tt.want)
		}
	}
}

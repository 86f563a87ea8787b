package fixer_test

import (
	"testing"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// named is a fixer the registry only asks for its name.
type named struct {
	fixer.Fixer
	name string
}

func (n named) Name() string { return n.name }

func testRegistry(t *testing.T) *fixer.Registry {
	t.Helper()
	var r fixer.Registry
	r.MustRegister(named{name: "terraform.force-unlock"}, "_terraform_unlock_stack")
	r.MustRegister(named{name: "wait.backoff"}, "_wait_and_retry")
	r.MustRegister(named{name: "kube.remove-finalizers"})
	return &r
}

func TestRegistry_LookupByNameAndAlias(t *testing.T) {
	t.Parallel()
	r := testRegistry(t)
	for name, want := range map[string]string{
		"terraform.force-unlock":  "terraform.force-unlock",
		"_terraform_unlock_stack": "terraform.force-unlock",
		"_wait_and_retry":         "wait.backoff",
	} {
		got, ok := r.Canonical(name)
		if !ok || got != want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	if f, ok := r.Lookup("terraform.unlock"); ok {
		t.Errorf("Lookup(terraform.unlock) = %v, want not found", f.Name())
	}
	if got := r.Aliases("terraform.force-unlock"); len(got) != 1 || got[0] != "_terraform_unlock_stack" {
		t.Errorf("Aliases(terraform.force-unlock) = %q", got)
	}
}

func TestRegistry_RegisterRefusesClashes(t *testing.T) {
	t.Parallel()
	r := testRegistry(t)
	if err := r.Register(named{name: "wait.backoff"}); err == nil {
		t.Error("registering wait.backoff twice: error = nil")
	}
	if err := r.Register(named{name: "wait.other"}, "_wait_and_retry"); err == nil {
		t.Error("registering the alias _wait_and_retry twice: error = nil")
	}
}

func TestRegistry_Suggest(t *testing.T) {
	t.Parallel()
	r := testRegistry(t)
	tests := map[string]string{
		"terraform.force-unlok":  "terraform.force-unlock",
		"Terraform.Force-Unlock": "terraform.force-unlock",
		"wait.backof":            "wait.backoff",
		"_wait_and_retri":        "wait.backoff", // an alias's fixer, by its name
		"kube.remove-finalizer":  "kube.remove-finalizers",
		"terraform.unlock":       "terraform.force-unlock",
		"kube.finalizers":        "kube.remove-finalizers",
		"helm.recover-release":   "",
	}
	for in, want := range tests {
		if got := r.Suggest(in); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

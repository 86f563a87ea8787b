package fixers_test

import (
	"regexp"
	"testing"

	"github.com/self-heal/self-heal/fixers"
	"github.com/self-heal/self-heal/pkg/fixer"
)

func TestRegister(t *testing.T) {
	t.Parallel()
	var r fixer.Registry
	if err := fixers.Register(&r); err != nil {
		t.Fatalf("Register() error = %v", err)
	}

	tests := []struct {
		name   string
		lookup string
		want   string
		safety fixer.Safety
	}{
		{"force unlock", "terraform.force-unlock", "terraform.force-unlock", fixer.Disruptive},
		{"unlock alias", "_terraform_unlock_stack", "terraform.force-unlock", fixer.Disruptive},
		{"backoff", "wait.backoff", "wait.backoff", fixer.Safe},
		{"wait alias", "_wait_and_retry", "wait.backoff", fixer.Safe},
		{"exponential alias", "_exponential_backoff_retry", "wait.backoff", fixer.Safe},
		{"minute alias", "_wait_a_minute_and_retry", "wait.backoff", fixer.Safe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, ok := r.Lookup(tt.lookup)
			if !ok {
				t.Fatalf("Lookup(%q) found nothing", tt.lookup)
			}
			if got := f.Name(); got != tt.want {
				t.Errorf("Lookup(%q).Name() = %q, want %q", tt.lookup, got, tt.want)
			}
			if got := f.Safety(); got != tt.safety {
				t.Errorf("Lookup(%q).Safety() = %v, want %v", tt.lookup, got, tt.safety)
			}
		})
	}

	// Every fixer has a dotted name in a known family, says what it does
	// and declares its inputs; the core ones are there.
	dotted := regexp.MustCompile(`^(terraform|aws|kube|helm|wait)\.[a-z0-9-]+$`)
	have := map[string]bool{}
	for _, f := range r.All() {
		have[f.Name()] = true
		if !dotted.MatchString(f.Name()) || f.Describe() == "" {
			t.Errorf("fixer %q: want a dotted family name and a description, got %q", f.Name(), f.Describe())
		}
	}
	for _, name := range []string{"terraform.force-unlock", "terraform.init", "wait.backoff"} {
		if !have[name] {
			t.Errorf("fixer %s is not registered", name)
		}
	}

	// The force-unlock fixer must be able to back up before it acts.
	f, _ := r.Lookup("terraform.force-unlock")
	if _, ok := f.(fixer.Backupper); !ok {
		t.Errorf("terraform.force-unlock does not implement fixer.Backupper")
	}
}

func TestRegister_Twice(t *testing.T) {
	t.Parallel()
	var r fixer.Registry
	if err := fixers.Register(&r); err != nil {
		t.Fatalf("first Register() error = %v", err)
	}
	if err := fixers.Register(&r); err == nil {
		t.Errorf("second Register() error = nil, want a clash")
	}
}

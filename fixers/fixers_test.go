package fixers_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

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

	var names []string
	for _, f := range r.All() {
		names = append(names, f.Name())
	}
	want := []string{
		"terraform.force-unlock", "terraform.init", "terraform.lock-providers",
		"terraform.repair-digest", "terraform.replan", "wait.backoff",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("All() names mismatch (-want +got):\n%s", diff)
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

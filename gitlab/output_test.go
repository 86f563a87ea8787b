package gitlab_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/gitlab"
)

func TestPlatform_SetOutput(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "self-heal.env")
	if err := os.WriteFile(path, []byte("SELF_HEAL_OUTCOME=stale\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := gitlab.New(vars{"SELF_HEAL_DOTENV": path}.Get)

	for _, kv := range [][2]string{
		{"outcome", "healed"},
		{"attempts", "2"},
		{"max-attempts", "3"},
		{"pattern", ""},
	} {
		if err := p.SetOutput(kv[0], kv[1]); err != nil {
			t.Fatalf("SetOutput(%q, %q) = %v", kv[0], kv[1], err)
		}
	}
	err := p.SetOutput("fixes", "a\nb")
	if err == nil || !strings.Contains(err.Error(), "one line") {
		t.Errorf("SetOutput(fixes, two lines) = %v, want an error about one line", err)
	}

	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "SELF_HEAL_OUTCOME=healed\nSELF_HEAL_ATTEMPTS=2\nSELF_HEAL_MAX_ATTEMPTS=3\n" +
		"SELF_HEAL_PATTERN=\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("dotenv mismatch (-want +got):\n%s", diff)
	}
}

func TestPlatform_SetOutput_noDotenv(t *testing.T) {
	t.Parallel()
	p := gitlab.New(vars{}.Get)
	if err := p.SetOutput("outcome", "a\nb"); err != nil {
		t.Errorf("SetOutput() without SELF_HEAL_DOTENV = %v, want nil", err)
	}
}

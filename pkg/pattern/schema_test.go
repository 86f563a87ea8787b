package pattern_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/self-heal/self-heal/pkg/pattern"
)

// TestSchema_checkedInCopy keeps the editors' copy of the schema equal to
// the embedded one.
func TestSchema_checkedInCopy(t *testing.T) {
	t.Parallel()
	copyOnDisk, err := os.ReadFile(filepath.Join("..", "..", "schema", "patterns.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(copyOnDisk, pattern.Schema) {
		t.Error("schema/patterns.schema.json differs from pkg/pattern/schema.json; copy it over")
	}
}

// TestSchema_repositoryFilesValidate checks every pattern file in the
// repository, and the valid test fixtures, against the schema.
func TestSchema_repositoryFilesValidate(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join("..", "..", "patterns", "*.yaml"))
	valid, _ := filepath.Glob(filepath.Join("testdata", "valid-*.yaml"))
	files = append(files, valid...)
	if len(files) < 2 {
		t.Fatalf("found only %d pattern files", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := pattern.ValidateSchema(f, data); err != nil {
			t.Errorf("%v", err)
		}
	}
}

func TestSchema_rejects(t *testing.T) {
	t.Parallel()
	bad := []string{
		"version: 1\npatterns:\n  - id: a\n    colour: red\n",
		"version: 2\npatterns: []\n",
		"version: 1\npatterns:\n  - id: Upper\n",
		"version: 1\npatterns:\n  - id: a\n    retry: {initial: soon}\n",
	}
	for _, text := range bad {
		err := pattern.ValidateSchema("bad.yaml", []byte(text))
		if err == nil || !strings.HasPrefix(err.Error(), "bad.yaml: does not follow the schema") {
			t.Errorf("ValidateSchema(%q) = %v, want a schema error", text, err)
		}
	}
}

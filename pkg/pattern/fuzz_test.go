package pattern_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/self-heal/self-heal/pkg/pattern"
)

// FuzzParse checks that the loader never panics and that every problem it
// reports carries a position.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	more, _ := filepath.Glob(filepath.Join("..", "..", "patterns", "*.yaml"))
	for _, name := range append(seeds, more...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("version: 1\npatterns:\n  - id: x\n    match: {any: [{regex: '('}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := pattern.Parse("fuzz.yaml", data)
		if err == nil {
			_, err = pattern.Compile([]pattern.Layer{{Files: []*pattern.File{file}}}, nil)
		}
		if err == nil {
			return
		}
		for _, e := range leaves(err) {
			var pe *pattern.Error
			if !errors.As(e, &pe) || pe.Pos.File != "fuzz.yaml" || pe.Pos.Line < 1 {
				t.Fatalf("error without a position: %v", e)
			}
		}
	})
}

func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

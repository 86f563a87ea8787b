package patterns_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/self-heal/self-heal/fixers"
	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/pattern"
)

var update = flag.Bool("update", false, "rewrite the catalogue table in the README")

const (
	tableStart = "<!-- catalogue:start -->\n"
	tableEnd   = "<!-- catalogue:end -->\n"
)

// TestCatalogueTable keeps the README's catalogue table in step with the
// pattern files; -update rewrites it.
func TestCatalogueTable(t *testing.T) {
	t.Parallel()
	readme := filepath.Join("..", "README.md")
	body, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(body)
	i, j := strings.Index(text, tableStart), strings.Index(text, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q ... %q section", tableStart, tableEnd)
	}
	want := catalogueTable(t, load(t))
	got := text[i+len(tableStart) : j]
	if got == want {
		return
	}
	if *update {
		text = text[:i+len(tableStart)] + want + text[j:]
		if err := os.WriteFile(readme, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the README's catalogue table is out of date; run go test ./patterns -run TestCatalogueTable -update")
}

func catalogueTable(t *testing.T, set *pattern.Set) string {
	t.Helper()
	reg := &fixer.Registry{}
	if err := fixers.Register(reg); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("| id | category | recognises | fixers (safety) |\n| --- | --- | --- | --- |\n")
	for _, cat := range pattern.Categories {
		for _, p := range set.Patterns {
			if p.Category != cat {
				continue
			}
			var fx []string
			for _, f := range p.Fixes {
				safety := "?"
				if r, ok := reg.Lookup(f.Use); ok {
					safety = r.Safety().String()
				}
				fx = append(fx, fmt.Sprintf("`%s` (%s)", f.Use, safety))
			}
			if len(fx) == 0 {
				fx = []string{"none: the hint is reported"}
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", p.ID, p.Category,
				strings.ReplaceAll(p.Title, "|", "\\|"), strings.Join(fx, ", "))
		}
	}
	return b.String()
}

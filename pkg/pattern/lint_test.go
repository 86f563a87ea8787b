package pattern_test

import (
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/pattern"
)

// A required input that neither `with` nor a capture supplies leaves the
// fixer refusing every time; lint names the fix's line.
func TestSet_Lint_inputs(t *testing.T) {
	t.Parallel()
	f := mustParse(t, "p.yaml", `version: 1
patterns:
  - id: captured
    title: Captured
    category: state
    match: {any: ["lock held"]}
    capture: {lock_id: 'ID:\s+(\S+)'}
    fixes: [{use: test.release}]
  - id: given
    title: Given
    category: state
    match: {any: ["lock held"]}
    fixes: [{use: test.release, with: {lock_id: "42"}}]
  - id: missing
    title: Missing
    category: state
    match: {any: ["lock held"]}
    capture: {lockid: 'ID:\s+(\S+)'}
    fixes:
      - use: test.unlock
      - use: test.release
`)
	var got []string
	for _, fd := range lint(t, f) {
		if strings.Contains(fd, "needs input") {
			got = append(got, fd)
		}
	}
	want := []string{`p.yaml:21:14: error: missing: fixes: test.release needs input "lock_id", which neither ` +
		"its `with` nor a capture of the pattern supplies; the fixer would refuse every time"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lint findings (-want +got):\n%s", diff)
	}
}

// A tool the scope names that self-heal never recognises makes a pattern
// that can never match; lint points at the name.
func TestSet_Lint_unknownTool(t *testing.T) {
	t.Parallel()
	f := mustParse(t, "p.yaml", `version: 1
patterns:
  - id: scoped
    title: Scoped
    category: state
    when:
      tools: [terraform, terrafrom]
    match: {any: ["lock held"]}
`)
	got := lint(t, f)
	want := []string{`p.yaml:7:26: error: scoped: when.tools: unknown tool "terrafrom" (did you mean ` +
		`"terraform"?); the pattern can never match it`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lint findings (-want +got):\n%s", diff)
	}
}

// lint compiles f with the test registry and returns lint's findings as
// text; examples are not read.
func lint(t *testing.T, f *pattern.File) []string {
	t.Helper()
	set, err := pattern.Compile([]pattern.Layer{{Files: []*pattern.File{f}}}, testRegistry(t))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fd := range set.Lint(func(io.Reader) ([]string, error) { return nil, nil }) {
		out = append(out, fd.String())
	}
	return out
}

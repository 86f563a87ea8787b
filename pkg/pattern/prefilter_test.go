package pattern_test

import (
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/pattern"
)

const prefilterPatterns = `version: 1
patterns:
  - id: gated-by-literal
    title: a regex behind a required literal
    category: aws
    match:
      all: ["DependencyViolation", {regex: '[a-z]+-[0-9a-f]+'}]
  - id: regex-with-literal
    title: a regex that requires a literal
    category: aws
    match:
      any: [{regex: 'operation error EC2: (DeleteVpc|DeleteSubnet)'}]
  - id: bare-regex
    title: no literal at all
    category: timing
    match:
      any: [{regex: '\d+ms elapsed'}, {regex: '[A-Z]{3,}'}]
  - id: short-key
    title: keys too short to mark lines
    category: timing
    match:
      any: ["ab cd"]
`

func TestSet_Lint_prefilter(t *testing.T) {
	t.Parallel()
	f := mustParse(t, "p.yaml", prefilterPatterns)
	set, err := pattern.Compile([]pattern.Layer{{Files: []*pattern.File{f}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var slow []string
	for _, fd := range set.Lint(func(io.Reader) ([]string, error) { return nil, nil }) {
		if strings.Contains(fd.Msg, "slower") {
			slow = append(slow, fd.Pattern)
		}
	}
	if diff := cmp.Diff([]string{"bare-regex"}, slow); diff != "" {
		t.Errorf("patterns lint calls slower (-want +got):\n%s", diff)
	}
}

func TestMatcher_Hot(t *testing.T) {
	t.Parallel()
	f := mustParse(t, "p.yaml", prefilterPatterns)
	set, err := pattern.Compile([]pattern.Layer{{Files: []*pattern.File{f}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line string
		want bool
	}{
		{"api error DEPENDENCYVIOLATION: x", true},
		{"\x1b[31mOperation error EC2:\tDeleteVpc\x1b[0m, https response", true},
		{"operation error EC2: DeleteSubnet, https response", true},
		{"operation error EC2: DeleteVolume", false},
		{"ab cd", false},
		{"1200ms elapsed", true},
		{"elapsed: 1200ms", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := set.Matcher().Hot([]byte(tt.line)); got != tt.want {
			t.Errorf("Hot(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

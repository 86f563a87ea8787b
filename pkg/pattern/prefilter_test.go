package pattern_test

import (
	"bytes"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/logscan"
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
      any: ["a b"]
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
		{"a b", false},
		{"the dependencyviolation", true},
		{"deletevpc", false},
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

// TestMatcher_HotFilter checks that the combined filter marks every line
// that the scanner's default test or the matcher's own test marks.
func TestMatcher_HotFilter(t *testing.T) {
	t.Parallel()
	set := catalogue(t)
	m := set.Matcher()
	hot := m.HotFilter(logscan.HotWords())
	lines := 0
	for _, name := range corpusLogs(t) {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range bytes.Split(data, []byte("\n")) {
			lines++
			want := logscan.DefaultHot(l) || m.Hot(l)
			if want && !hot(l) {
				t.Errorf("%s: HotFilter misses %q", name, l)
			}
		}
	}
	if hot([]byte("2026-12-03T16:27:09.094Z [DEBUG] using github.com/hashicorp/go-tfe v1.70.0")) {
		t.Error("HotFilter marks a plain debug line")
	}
	t.Logf("%d lines", lines)
}

// TestMatcher_HotFilters checks that the filter over many lines finds the
// first line that the filter of one line marks, from every line of the
// corpus and of lines joined so that a phrase spans a line break.
func TestMatcher_HotFilters(t *testing.T) {
	t.Parallel()
	m := catalogue(t).Matcher()
	for _, name := range corpusLogs(t) {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		checkHotFind(t, m, data)
	}
	checkHotFind(t, m, []byte("plain\nError acquiring\nthe state lock\ntimed\nout x509\n"))
	checkHotFind(t, m, []byte("error\n\nerr\nor\n\tFAIL\n"))
}

// checkHotFind compares, from every line start of b, the offset that
// find returns with the first line that hot marks.
func checkHotFind(t *testing.T, m *pattern.Matcher, b []byte) {
	t.Helper()
	hot, find := m.HotFilters(logscan.HotWords())
	var starts, ends []int
	var marked []bool
	for start := 0; start <= len(b); {
		end := bytes.IndexByte(b[start:], '\n')
		if end < 0 {
			end = len(b)
		} else {
			end += start
		}
		starts, ends = append(starts, start), append(ends, end)
		marked = append(marked, hot(b[start:end]))
		start = end + 1
	}
	for i, start := range starts {
		want := slices.Index(marked[i:], true)
		got := find(b[start:])
		switch {
		case want < 0 && got >= 0:
			t.Errorf("find(%.40q) = %d, want -1", b[start:], got)
		case want < 0:
		case got < 0 || start+got < starts[i+want] || start+got >= ends[i+want]:
			t.Errorf("find(%.40q) = %d, want an offset in line %q", b[start:], got,
				b[starts[i+want]:ends[i+want]])
		}
	}
}

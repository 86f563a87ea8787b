package pattern_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/logscan"
	"github.com/self-heal/self-heal/pkg/pattern"
)

// reference is the plain matcher the prefiltered one must agree with: it
// runs every condition of every pattern as one regular expression over the
// whole text, a literal becoming words that ignore ASCII case joined by
// runs of white space.
type reference struct {
	patterns []*pattern.Pattern
	conds    map[*pattern.Cond]*regexp.Regexp
}

func newReference(t testing.TB, set *pattern.Set) *reference {
	t.Helper()
	r := &reference{patterns: set.Patterns, conds: map[*pattern.Cond]*regexp.Regexp{}}
	for _, p := range set.Patterns {
		for _, cs := range [][]pattern.Cond{p.Match.Any, p.Match.All, p.Match.None} {
			for i := range cs {
				r.conds[&cs[i]] = regexp.MustCompile(referenceExpr(cs[i]))
			}
		}
	}
	return r
}

// referenceExpr writes a condition as one regular expression.
func referenceExpr(c pattern.Cond) string {
	if c.Regex != "" {
		return c.Regex
	}
	var words []string
	for _, w := range strings.Fields(c.Literal) {
		var b strings.Builder
		for _, r := range w {
			switch {
			case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
				lo, up := r|0x20, r&^0x20
				b.WriteString("[" + string(lo) + string(up) + "]")
			default:
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		words = append(words, b.String())
	}
	return strings.Join(words, `[\t\n\v\f\r ]+`)
}

// refResult is what both matchers are compared on.
type refResult struct {
	ID       string
	Lines    []int
	Also     []string
	Captures map[string]string
	All      []string
}

// refEval is one pattern's verdict on a text, before scoping.
type refEval struct {
	p     *pattern.Pattern
	lines []int
}

// holding evaluates every pattern on text and returns those whose match
// holds, in order.
func (r *reference) holding(text string) []refEval {
	var out []refEval
	starts := lineStarts(text)
	for _, p := range r.patterns {
		if lines, ok := r.evaluate(p, text, starts); ok {
			out = append(out, refEval{p: p, lines: lines})
		}
	}
	return out
}

// match scopes the verdicts to q as the matcher does.
func match(text string, held []refEval, q pattern.Query) refResult {
	var out refResult
	for _, e := range held {
		p := e.p
		if !p.When.Admits(q) {
			continue
		}
		out.All = append(out.All, p.ID)
		if out.ID != "" {
			out.Also = append(out.Also, p.ID)
			continue
		}
		out.ID, out.Lines = p.ID, e.lines
		out.Captures = map[string]string{}
		for _, c := range p.Capture {
			if m := regexp.MustCompile(c.Regex).FindStringSubmatch(text); m != nil {
				out.Captures[c.Name] = strings.TrimSpace(m[1])
			}
		}
	}
	return out
}

func (r *reference) evaluate(p *pattern.Pattern, text string, starts []int) ([]int, bool) {
	find := func(c *pattern.Cond) (int, bool) {
		loc := r.conds[c].FindStringIndex(text)
		if loc == nil {
			return 0, false
		}
		return sort.SearchInts(starts, loc[0]+1) - 1, true
	}
	var lines []int
	for i := range p.Match.None {
		if _, ok := find(&p.Match.None[i]); ok {
			return nil, false
		}
	}
	for i := range p.Match.All {
		l, ok := find(&p.Match.All[i])
		if !ok {
			return nil, false
		}
		lines = append(lines, l)
	}
	if len(p.Match.Any) > 0 {
		found := false
		for i := range p.Match.Any {
			if l, ok := find(&p.Match.Any[i]); ok {
				lines, found = append(lines, l), true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	sort.Ints(lines)
	out := []int{}
	for i, l := range lines {
		if i == 0 || l != lines[i-1] {
			out = append(out, l)
		}
	}
	return out, true
}

func lineStarts(text string) []int {
	starts := []int{0}
	for i := range len(text) {
		if text[i] == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// fastResult runs the prefiltered matcher and puts its answer in the
// reference's form.
func fastResult(m *pattern.Matcher, lines []string, q pattern.Query) refResult {
	text := pattern.NewText(lines)
	var out refResult
	if res := m.Match(text, q); res != nil {
		out.ID, out.Lines, out.Captures = res.Pattern.ID, res.Lines, res.Captures
		if len(out.Lines) == 0 {
			out.Lines = []int{}
		}
		for _, a := range res.Also {
			out.Also = append(out.Also, a.ID)
		}
	}
	for _, p := range m.MatchAll(text, q) {
		out.All = append(out.All, p.ID)
	}
	return out
}

func compareMatchers(t *testing.T, set *pattern.Set, ref *reference, name string, lines []string) {
	t.Helper()
	text := strings.Join(lines, "\n")
	held := ref.holding(text)
	for _, q := range []pattern.Query{{}, {Tool: "helm"}, {Tool: "terraform", Goal: "apply"}} {
		want := match(text, held, q)
		got := fastResult(set.Matcher(), lines, q)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s %+v: prefiltered matcher differs from the reference (-want +got):\n%s",
				name, q, diff)
		}
	}
}

// catalogue loads the built-in patterns from the repository.
func catalogue(t testing.TB) *pattern.Set {
	t.Helper()
	files, err := pattern.ReadFS(os.DirFS(filepath.Join("..", "..", "patterns")), ".")
	if err != nil {
		t.Fatal(err)
	}
	set, err := pattern.Compile([]pattern.Layer{{Name: "builtin", Files: files}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// corpusLogs lists the catalogue's example logs and the shared failure
// corpus beside the repository when it is there.
func corpusLogs(t testing.TB) []string {
	t.Helper()
	var logs []string
	for _, g := range []string{
		filepath.Join("..", "..", "patterns", "testdata", "*", "*.log"),
		filepath.Join("..", "..", "..", "shared", "corpus", "logs", "*.log"),
		filepath.Join("..", "logscan", "testdata", "*.log"),
	} {
		m, err := filepath.Glob(g)
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, m...)
	}
	if len(logs) < 100 {
		t.Fatalf("only %d corpus logs found", len(logs))
	}
	return logs
}

// TestMatcher_reference compares the prefiltered matcher with the
// reference on every corpus log, as the scanner's window and as raw lines
// (which keep tabs, runs of spaces and carriage returns).
func TestMatcher_reference(t *testing.T) {
	t.Parallel()
	set := catalogue(t)
	ref := newReference(t, set)
	for _, name := range corpusLogs(t) {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		w, err := logscan.Scan(bytes.NewReader(data), logscan.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var window []string
		for _, l := range w.Lines {
			window = append(window, l.Text)
		}
		compareMatchers(t, set, ref, name, window)
		if utf8.Valid(data) {
			compareMatchers(t, set, ref, name+" (raw)", strings.Split(string(data), "\n"))
		}
	}
}

// FuzzMatcher builds patterns from a fuzzed literal and regex, adds them to
// the catalogue, and compares the prefiltered matcher with the reference
// on fuzzed text.
func FuzzMatcher(f *testing.F) {
	seeds := []struct{ lit, expr, text string }{
		{"has dependencies", `(?i)the vpc '[^']*'`, "The VPC 'v' has\n\ndependencies"},
		{"a a b", `a+b`, "a a a b\naab"},
		{"bc x bc", `(bc|x)\s+bc`, "bc bc x bc"},
		{"Token", `(?i)token`, "\u212aey to\u212aen TOKEN"},
		{"InUse", `api error (DependencyViolation|InvalidGroup\.InUse)`,
			"api error InvalidGroup.InUse: x"},
		{"subnet", `(?i)deleting (?:EC2 )?subnet[^\n]*timeout`, "Deleting EC2 Subnet: timeout"},
		{"ID:", `(?m)^ID:[ \t]+\S+`, "Lock Info:\nID:\t\t1234\n"},
		{"straße", `(?i)stra(ß|ss)e`, "STRAẞE strasse"},
		{"ǅ", `(?i)ǆx`, "ǄX ǅx"},
		{"  Error   acquiring\tthe  ", `[Ee]rror\s+acquiring`, "error\r\n acquiring\vthe\fstate"},
		{"x", `x{2,}y|z?`, "xxy"},
		{"", `\bk8s-elb-\S*[^\n]*DependencyViolation`, "k8s-elb-1 DependencyViolation"},
	}
	for _, s := range seeds {
		f.Add(s.lit, s.expr, s.text)
	}
	cat, err := pattern.ReadFS(os.DirFS(filepath.Join("..", "..", "patterns")), ".")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, lit, expr, text string) {
		if !utf8.ValidString(lit) || !utf8.ValidString(text) || expr == "" {
			t.Skip()
		}
		fuzzed := &pattern.File{Path: "fuzz.yaml", Patterns: fuzzPatterns(lit, expr)}
		set, err := pattern.Compile([]pattern.Layer{
			{Name: "builtin", Files: cat}, {Name: "fuzz", Files: []*pattern.File{fuzzed}},
		}, nil)
		if err != nil {
			t.Skip() // an invalid regex
		}
		compareMatchers(t, set, newReference(t, set), "fuzz", strings.Split(text, "\n"))
		checkHotFind(t, set.Matcher(), []byte(text))
	})
}

func fuzzPatterns(lit, expr string) []*pattern.Pattern {
	l := pattern.Cond{Literal: lit}
	re := pattern.Cond{Regex: expr}
	mk := func(id string, m pattern.Match) *pattern.Pattern {
		return &pattern.Pattern{ID: id, Title: id, Category: "state", Match: m, Priority: 10,
			Capture: []pattern.Capture{{Name: "x", Regex: "(" + regexp.QuoteMeta(lit) + ")"}}}
	}
	return []*pattern.Pattern{
		mk("fuzz-literal", pattern.Match{Any: []pattern.Cond{l}}),
		mk("fuzz-regex", pattern.Match{All: []pattern.Cond{re}}),
		mk("fuzz-veto", pattern.Match{Any: []pattern.Cond{l}, None: []pattern.Cond{re}}),
		mk("fuzz-both", pattern.Match{All: []pattern.Cond{re, l}}),
		mk("fuzz-either", pattern.Match{Any: []pattern.Cond{re, l}}),
	}
}

package pattern

import (
	"path"
	"sort"
	"strings"
)

// Query describes the command whose output is matched. Empty fields
// mean "unknown": every pattern's scope admits them.
type Query struct {
	Tool  string
	Goal  string
	Stack string
}

// Result is a recognised failure.
type Result struct {
	Pattern *Pattern
	// Captures holds the capture values found, by name.
	Captures map[string]string
	// Lines are the indexes (0-based) into the matched lines where the
	// evidence stood.
	Lines []int
	// Also lists other in-scope patterns whose match held too.
	Also []*Pattern
}

// Matcher recognises failures. It is safe for concurrent use.
type Matcher struct {
	patterns []*Pattern
}

func newMatcher(ps []*Pattern) *Matcher {
	return &Matcher{patterns: ps}
}

// Patterns returns the patterns in match order.
func (m *Matcher) Patterns() []*Pattern { return m.patterns }

// Text is normalised failure text prepared for matching.
type Text struct {
	text   string // lines joined by "\n"
	flat   string // lower-case ASCII, "\n" replaced by " "; same length as text
	starts []int  // byte offset where each line starts
}

// NewText prepares normalised lines for matching.
func NewText(lines []string) *Text {
	t := &Text{starts: make([]int, len(lines))}
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		t.starts[i] = b.Len()
		b.WriteString(l)
	}
	t.text = b.String()
	flat := []byte(t.text)
	for i, c := range flat {
		switch {
		case c == '\n':
			flat[i] = ' '
		case 'A' <= c && c <= 'Z':
			flat[i] = c + 'a' - 'A'
		}
	}
	t.flat = string(flat)
	return t
}

// String returns the text with lines joined by "\n".
func (t *Text) String() string { return t.text }

// line returns the index of the line holding byte offset off.
func (t *Text) line(off int) int {
	return sort.SearchInts(t.starts, off+1) - 1
}

// find reports whether c holds in t and, if so, the offset of the first
// occurrence.
func (c *Cond) find(t *Text) (int, bool) {
	if c.re != nil {
		loc := c.re.FindStringIndex(t.text)
		if loc == nil {
			return 0, false
		}
		return loc[0], true
	}
	i := strings.Index(t.flat, c.lit)
	return i, i >= 0
}

// Match returns the first pattern in scope whose match holds, or nil.
func (m *Matcher) Match(t *Text, q Query) *Result {
	var res *Result
	for _, p := range m.patterns {
		if !p.When.admits(q) {
			continue
		}
		lines, ok := p.evaluate(t)
		if !ok {
			continue
		}
		if res != nil {
			res.Also = append(res.Also, p)
			continue
		}
		res = &Result{Pattern: p, Lines: lines, Captures: p.captures(t)}
	}
	return res
}

// MatchAll returns every in-scope pattern whose match holds, in order.
func (m *Matcher) MatchAll(t *Text, q Query) []*Pattern {
	var out []*Pattern
	for _, p := range m.patterns {
		if _, ok := p.evaluate(t); ok && p.When.admits(q) {
			out = append(out, p)
		}
	}
	return out
}

// evaluate applies the pattern's match and returns the lines of evidence.
func (p *Pattern) evaluate(t *Text) ([]int, bool) {
	var lines []int
	for i := range p.Match.None {
		if _, ok := p.Match.None[i].find(t); ok {
			return nil, false
		}
	}
	for i := range p.Match.All {
		off, ok := p.Match.All[i].find(t)
		if !ok {
			return nil, false
		}
		lines = append(lines, t.line(off))
	}
	if len(p.Match.Any) > 0 {
		found := false
		for i := range p.Match.Any {
			if off, ok := p.Match.Any[i].find(t); ok {
				lines = append(lines, t.line(off))
				found = true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	sort.Ints(lines)
	return dedupe(lines), true
}

func (p *Pattern) captures(t *Text) map[string]string {
	out := map[string]string{}
	for _, c := range p.Capture {
		if m := c.re.FindStringSubmatch(t.text); m != nil {
			out[c.Name] = strings.TrimSpace(m[1])
		}
	}
	return out
}

func dedupe(xs []int) []int {
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// admits reports whether the scope allows a command. Unknown (empty)
// query fields are admitted by every scope.
func (s Scope) admits(q Query) bool {
	if q.Tool != "" && len(s.Tools) > 0 && !contains(s.Tools, q.Tool) {
		return false
	}
	if q.Goal != "" && len(s.Goals) > 0 && !contains(s.Goals, q.Goal) {
		return false
	}
	return stackAdmits(s.Stacks, q.Stack)
}

// stackAdmits applies stack rules: "glob" includes, "=name" includes one
// name exactly, "!glob" excludes. With no include rule every stack not
// excluded is admitted.
func stackAdmits(rules []string, stack string) bool {
	if stack == "" {
		return true
	}
	included, hasInclude := false, false
	for _, r := range rules {
		switch {
		case strings.HasPrefix(r, "!"):
			if globMatch(r[1:], stack) {
				return false
			}
		case strings.HasPrefix(r, "="):
			hasInclude = true
			included = included || r[1:] == stack
		default:
			hasInclude = true
			included = included || globMatch(r, stack)
		}
	}
	return included || !hasInclude
}

func globMatch(glob, s string) bool {
	if glob == "*" {
		return true
	}
	ok, err := path.Match(glob, s)
	return err == nil && ok
}

package pattern

import (
	"path"
	"slices"
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
//
// All conditions of all patterns share one prefilter: an Aho-Corasick
// automaton over a key of each literal (its longest word) and over the
// literals each regex requires. One pass over the text finds every key;
// a literal is then checked where its key word stands, and a regex runs
// only when one of its keys occurred. Regexes without a usable literal
// run whenever their pattern is evaluated.
type Matcher struct {
	patterns []*Pattern
	conds    []*Cond
	ac       *automaton
	keyConds [][]int32 // per key, the conditions that search for it
	hotKeys  []string  // the keys that mark a raw line, see [Matcher.Hot]
	hot      *anchorFilter
}

func newMatcher(ps []*Pattern) *Matcher {
	m := &Matcher{patterns: ps}
	keyIndex := map[string]int32{}
	var keys []string
	addKey := func(key string, c int32) {
		k, ok := keyIndex[key]
		if !ok {
			k = int32(len(keys))
			keyIndex[key] = k
			keys = append(keys, key)
			m.keyConds = append(m.keyConds, nil)
		}
		m.keyConds[k] = append(m.keyConds[k], c)
	}
	for _, p := range ps {
		for _, cs := range [][]Cond{p.Match.Any, p.Match.All, p.Match.None} {
			for i := range cs {
				c := &cs[i]
				c.idx = int32(len(m.conds))
				m.conds = append(m.conds, c)
				for _, key := range c.prefilterKeys() {
					addKey(key, c.idx)
				}
				m.hotKeys = append(m.hotKeys, c.hotKeys()...)
			}
		}
	}
	m.ac = newAutomaton(keys, make([]bool, len(keys)))
	m.hot = newAnchorFilter(m.hotKeys)
	return m
}

func allHot(n int) []bool {
	hot := make([]bool, n)
	for i := range hot {
		hot[i] = true
	}
	return hot
}

// minHotLen is the shortest key that makes [Matcher.Hot] report a line;
// shorter ones would mark too many ordinary lines.
const minHotLen = 4

// hotKeys returns what marks a raw line as holding the condition's
// evidence: a literal whole, its words joined by single spaces, or the
// literals a regex requires. Single words of a literal would do for
// matching but not here: "lock" or "provider" fill a debug log, and
// error blocks kept for them would crowd out the real ones.
func (c *Cond) hotKeys() []string {
	var keys []string
	if c.re != nil {
		keys = RequiredLiterals(c.Regex)
	} else if len(c.words) > 0 {
		keys = []string{strings.Join(c.words, " ")}
	}
	if score(keys) < minHotLen {
		return nil
	}
	return keys
}

// Patterns returns the patterns in match order.
func (m *Matcher) Patterns() []*Pattern { return m.patterns }

// Hot reports whether a raw log line holds, ignoring ASCII case, some
// pattern's evidence: one of its literals (a space matching one white
// space byte) or a literal that one of its regexes requires, four bytes or
// more. A scanner that keeps the lines around them keeps the evidence of
// every pattern with a literal, however far from the end of the log it
// stands. It is safe for concurrent use.
func (m *Matcher) Hot(raw []byte) bool {
	return len(m.hotKeys) > 0 && m.hot.hot(raw)
}

// HotFilter returns a test that reports a raw line when [Matcher.Hot]
// would or when the line holds one of words, ignoring ASCII case, a space
// in a word matching any one white space byte. Both kinds of word are
// found in one pass over the line, which is cheaper than two tests. The
// test is safe for concurrent use.
func (m *Matcher) HotFilter(words []string) func(raw []byte) bool {
	hot, _ := m.HotFilters(words)
	return hot
}

// HotFilters returns the test of [Matcher.HotFilter] and the same test
// over many lines at once: find returns the offset in b of a word that
// lies within one line of b, no earlier line holding one, or -1 when no
// line of b holds one. Both are safe for concurrent use.
func (m *Matcher) HotFilters(words []string) (hot func(raw []byte) bool, find func(b []byte) int) {
	keys := slices.Clone(m.hotKeys)
	for _, w := range words {
		if w = foldString(w); w != "" {
			keys = append(keys, w)
		}
	}
	if len(keys) == 0 {
		return func([]byte) bool { return false }, func([]byte) int { return -1 }
	}
	f := newAnchorFilter(keys)
	return f.hot, f.find
}

// Text is normalised failure text prepared for matching.
type Text struct {
	text   string // lines joined by "\n"
	starts []int  // byte offset where each line starts
}

// NewText prepares normalised lines for matching.
func NewText(lines []string) *Text {
	t := &Text{starts: make([]int, len(lines))}
	n := max(len(lines)-1, 0)
	for _, l := range lines {
		n += len(l)
	}
	var b strings.Builder
	b.Grow(n)
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		t.starts[i] = b.Len()
		b.WriteString(l)
	}
	t.text = b.String()
	return t
}

// String returns the text with lines joined by "\n".
func (t *Text) String() string { return t.text }

// line returns the index of the line holding byte offset off.
func (t *Text) line(off int) int {
	return sort.SearchInts(t.starts, off+1) - 1
}

// Match returns the first pattern in scope whose match holds, or nil.
func (m *Matcher) Match(t *Text, q Query) *Result {
	return m.scan(t).match(q)
}

func (ev *evaluation) match(q Query) *Result {
	var res *Result
	for _, p := range ev.m.patterns {
		if !p.When.Admits(q) {
			continue
		}
		lines, ok := ev.evaluate(p)
		if !ok {
			continue
		}
		if res != nil {
			res.Also = append(res.Also, p)
			continue
		}
		res = &Result{Pattern: p, Lines: lines, Captures: p.captures(ev.t)}
	}
	return res
}

// MatchAll returns every in-scope pattern whose match holds, in order.
func (m *Matcher) MatchAll(t *Text, q Query) []*Pattern {
	ev := m.scan(t)
	var out []*Pattern
	for _, p := range m.patterns {
		if !p.When.Admits(q) {
			continue
		}
		if _, ok := ev.evaluate(p); ok {
			out = append(out, p)
		}
	}
	return out
}

// Condition states during one evaluation, beside offsets >= 0.
const (
	condAbsent  = -1
	condPending = -2 // a regex not run yet
)

// evaluation holds what one pass of the prefilter found in a text; the
// regexes run on demand and their results are kept.
type evaluation struct {
	m     *Matcher
	t     *Text
	first []int // per condition: the first offset, condAbsent or condPending
}

// scan runs the prefilter over the text: literal conditions get their
// first offset, regex conditions whose keys are all absent are settled.
func (m *Matcher) scan(t *Text) *evaluation {
	ev := &evaluation{m: m, t: t, first: make([]int, len(m.conds))}
	candidate := make([]bool, len(m.conds))
	for i, c := range m.conds {
		switch {
		case c.re != nil:
			ev.first[i] = condPending
		case len(c.words) == 0:
			ev.first[i] = 0 // an empty literal holds anywhere
		default:
			ev.first[i] = condAbsent
		}
	}
	m.ac.scan(t.text, func(k int32, end int) {
		for _, ci := range m.keyConds[k] {
			c := m.conds[ci]
			if c.re != nil {
				candidate[ci] = true
				continue
			}
			if start, ok := c.literalAt(t.text, end); ok {
				if f := ev.first[ci]; f == condAbsent || start < f {
					ev.first[ci] = start
				}
			}
		}
	})
	for i, c := range m.conds {
		if c.re != nil && c.keyed && !candidate[i] {
			ev.first[i] = condAbsent
		}
	}
	return ev
}

// find reports whether condition c holds and the offset where it first
// does.
func (ev *evaluation) find(c *Cond) (int, bool) {
	f := ev.first[c.idx]
	if f == condPending {
		f = condAbsent
		if loc := c.re.FindStringIndex(ev.t.text); loc != nil {
			f = loc[0]
		}
		ev.first[c.idx] = f
	}
	return f, f >= 0
}

// evaluate applies a pattern's match and returns the lines of evidence.
// The required conditions go first, so that vetoes and regexes without
// keys run only for patterns whose other evidence is there.
func (ev *evaluation) evaluate(p *Pattern) ([]int, bool) {
	var lines []int
	for i := range p.Match.All {
		off, ok := ev.find(&p.Match.All[i])
		if !ok {
			return nil, false
		}
		lines = append(lines, ev.t.line(off))
	}
	if len(p.Match.Any) > 0 {
		found := false
		for i := range p.Match.Any {
			if off, ok := ev.find(&p.Match.Any[i]); ok {
				lines = append(lines, ev.t.line(off))
				found = true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	for i := range p.Match.None {
		if _, ok := ev.find(&p.Match.None[i]); ok {
			return nil, false
		}
	}
	sort.Ints(lines)
	return dedupe(lines), true
}

// prefilterKeys returns the folded strings the prefilter searches for on
// behalf of c, and records whether c is keyed: a keyed condition cannot
// hold where none of its keys occurs.
func (c *Cond) prefilterKeys() []string {
	if c.re != nil {
		keys := RequiredLiterals(c.Regex)
		c.keyed = len(keys) > 0
		return keys
	}
	if len(c.words) == 0 {
		return nil
	}
	c.keyed = true
	return []string{c.words[c.key]}
}

// literalAt checks whether the literal's words stand around an occurrence
// of its key word that ends at end in the text, each pair separated by a
// run of white space, and returns where the first word starts. Text is
// compared folded (see foldTable), as the prefilter found the key.
func (c *Cond) literalAt(text string, end int) (int, bool) {
	start := end - len(c.words[c.key])
	for j := c.key - 1; j >= 0; j-- {
		if start == 0 || !isSpace(text[start-1]) {
			return 0, false
		}
		for start > 0 && isSpace(text[start-1]) {
			start--
		}
		w := c.words[j]
		if start < len(w) || !foldedPrefix(text[start-len(w):], w) {
			return 0, false
		}
		start -= len(w)
	}
	pos := end
	for _, w := range c.words[c.key+1:] {
		if pos == len(text) || !isSpace(text[pos]) {
			return 0, false
		}
		for pos < len(text) && isSpace(text[pos]) {
			pos++
		}
		if len(text)-pos < len(w) || !foldedPrefix(text[pos:], w) {
			return 0, false
		}
		pos += len(w)
	}
	return start, true
}

// foldedPrefix reports whether s starts with the folded word w; s must
// be at least as long as w.
func foldedPrefix(s, w string) bool {
	for i := 0; i < len(w); i++ {
		if foldTable[s[i]] != w[i] {
			return false
		}
	}
	return true
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

// Admits reports whether the scope allows a command. Unknown (empty)
// query fields are admitted by every scope.
func (s Scope) Admits(q Query) bool {
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

package suggest

import (
	"math"
	"regexp"
	"sort"
	"strings"
)

// feature is a piece of failure wording that several windows can share:
// a whole template line, or one segment of it between ": ", ". " or "; ".
type feature struct {
	key  string // lower-case template text, the identity of the feature
	tmpl Template
	// failure is set when the line reads as an error message rather than
	// progress output or advice.
	failure bool
	// line is set for whole lines; segments are parts of one.
	line bool
	// docs lists the windows (by index) that hold the feature.
	docs []int
	idf  float64
	// held lists the windows the feature's match condition holds in,
	// a superset of docs; computed when first needed (see holders).
	held     []int
	heldDone bool
}

// failureWords mark a line as part of an error message.
var failureWords = regexp.MustCompile(`error|fail|denied|exception|invalid|cannot|can't|` +
	`unable|timed out|timeout|expired|unauthori[sz]ed|forbidden|not found|exceeded|violation|` +
	`conflict|already exists|in progress|refused|reset|unreachable|throttl|mismatch|` +
	`inconsistent|required|must |not allowed|no such|does not exist|terminating|immutable|` +
	`limit|aborted|could not|couldn't|not permitted|no basic auth|rejected|still|unexpected`)

// segmentBreak splits a line into the clauses of an error chain.
var segmentBreak = regexp.MustCompile(`: |\. |; `)

const (
	// minLineLetters is the least number of letters a line needs to be a
	// feature: shorter lines ("{", "<num>: Preparing") say nothing.
	minLineLetters = 8
	// minSegmentLetters is the same for segments, which must also be
	// at least two words.
	minSegmentLetters = 16
)

// doc is one distinct failure window and the features it holds.
type doc struct {
	members []int // indexes of the Failures with this window
	feats   []*feature
	weights map[*feature]float64
	norm    float64
	// codes are the error codes the window names (DeleteConflict,
	// InvalidGroup.NotFound).
	codes map[string]bool
	// heads maps the first clause of each error chain to the clauses
	// that follow it.
	heads map[string]map[string]bool
	// text is the window as a matcher sees it; flat is its lower-case
	// form with line breaks as spaces, as literals are matched.
	text, flat string
}

// index holds every feature of every window.
type index struct {
	docs  []*doc
	feats map[string]*feature
}

// newIndex extracts the features of each failure. Failures whose
// features are identical become one doc.
func newIndex(failures []Failure) *index {
	ix := &index{feats: map[string]*feature{}}
	byKey := map[string]*doc{}
	for i, f := range failures {
		keys, tmpls, failing := extract(f.Lines)
		sig := strings.Join(keys, "\x00")
		if d, ok := byKey[sig]; ok {
			d.members = append(d.members, i)
			continue
		}
		d := &doc{members: []int{i}, codes: codes(f.Lines), heads: heads(f.Lines)}
		d.text = strings.Join(f.Lines, "\n")
		d.flat = strings.ReplaceAll(lowerASCII(d.text), "\n", " ")
		byKey[sig] = d
		n := len(ix.docs)
		ix.docs = append(ix.docs, d)
		for k, key := range keys {
			ft := ix.feats[key]
			if ft == nil {
				ft = &feature{key: key, tmpl: tmpls[k], failure: failing[k], line: strings.HasPrefix(key, "l:")}
				ix.feats[key] = ft
			}
			ft.failure = ft.failure || failing[k]
			ft.docs = append(ft.docs, n)
			d.feats = append(d.feats, ft)
		}
	}
	ix.weigh()
	return ix
}

// extract lists the distinct features of a window's lines, sorted by
// key, with a representative template and the failure flag of each.
func extract(lines []string) ([]string, []Template, []bool) {
	seen := map[string]int{}
	var keys []string
	var tmpls []Template
	var failing []bool
	add := func(key string, t Template, fail bool) {
		if i, ok := seen[key]; ok {
			failing[i] = failing[i] || fail
			return
		}
		seen[key] = len(keys)
		keys, tmpls, failing = append(keys, key), append(tmpls, t), append(failing, fail)
	}
	for _, l := range lines {
		t := Parse(strings.TrimSpace(l))
		if letters(t) < minLineLetters {
			continue
		}
		fail := failureWords.MatchString(strings.ToLower(stableText(t)))
		add("l:"+keyOf(t), t, fail)
		for _, s := range segments(t) {
			if letters(s) >= minSegmentLetters && words(s) >= 2 {
				add("s:"+keyOf(s), s, fail)
			}
		}
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return keys[order[a]] < keys[order[b]] })
	k2, t2, f2 := make([]string, len(keys)), make([]Template, len(keys)), make([]bool, len(keys))
	for i, o := range order {
		k2[i], t2[i], f2[i] = keys[o], tmpls[o], failing[o]
	}
	return k2, t2, f2
}

// segments cuts a template at clause breaks in its stable text. A line
// with no break has no segments.
func segments(t Template) []Template {
	var out []Template
	var cur Template
	for _, p := range t {
		if p.Slot != "" {
			cur = append(cur, p)
			continue
		}
		text, last := p.Text, 0
		for _, loc := range segmentBreak.FindAllStringIndex(text, -1) {
			cur = append(cur, Part{Text: text[last:loc[0]]})
			out = append(out, trimTemplate(cur))
			cur, last = nil, loc[1]
		}
		if last < len(text) {
			cur = append(cur, Part{Text: text[last:]})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return append(out, trimTemplate(cur))
}

// trimTemplate drops white space around a template and empty parts.
func trimTemplate(t Template) Template {
	var out Template
	for _, p := range t {
		if p.Slot == "" && p.Text == "" {
			continue
		}
		out = append(out, p)
	}
	if len(out) > 0 && out[0].Slot == "" {
		out[0].Text = strings.TrimLeft(out[0].Text, " ")
	}
	if n := len(out); n > 0 && out[n-1].Slot == "" {
		out[n-1].Text = strings.TrimRight(out[n-1].Text, " ")
	}
	return trimEmpty(out)
}

func trimEmpty(t Template) Template {
	out := t[:0]
	for _, p := range t {
		if p.Slot != "" || p.Text != "" {
			out = append(out, p)
		}
	}
	return out
}

// keyOf is the identity of a template: lower case, single spaces.
func keyOf(t Template) string {
	return strings.Join(strings.Fields(strings.ToLower(t.String())), " ")
}

// stableText joins the stable parts of a template.
func stableText(t Template) string {
	var b strings.Builder
	for _, p := range t {
		if p.Slot == "" {
			b.WriteString(p.Text)
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func letters(t Template) int {
	n := 0
	for _, c := range stableText(t) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			n++
		}
	}
	return n
}

func words(t Template) int { return len(strings.Fields(stableText(t))) }

// weigh gives each feature its inverse document frequency and each doc
// its weight vector: failure wording counts four times as much as the
// rest of the window.
func (ix *index) weigh() {
	n := float64(len(ix.docs))
	for _, f := range ix.feats {
		f.idf = math.Log((n + 1) / float64(len(f.docs)))
	}
	for _, d := range ix.docs {
		d.weights = make(map[*feature]float64, len(d.feats))
		for _, f := range d.feats {
			w := f.idf
			if !f.failure {
				w *= 0.25
			}
			d.weights[f] = w
			d.norm += w * w
		}
		d.norm = math.Sqrt(d.norm)
	}
}

// similarity is the cosine of the two docs' weight vectors.
func similarity(a, b *doc) float64 {
	if a.norm == 0 || b.norm == 0 {
		return 0
	}
	small, large := a, b
	if len(small.weights) > len(large.weights) {
		small, large = large, small
	}
	dot := 0.0
	for f, w := range small.weights {
		dot += w * large.weights[f]
	}
	return dot / (a.norm * b.norm)
}

// errorCode finds the error codes of AWS and similar APIs: a CamelCase
// word of two humps or more, or a dotted pair of them, that a colon
// follows or parentheses enclose.
var errorCode = regexp.MustCompile(
	`(?:^|[\s(])((?:[A-Z][a-z0-9]+){2,}(?:\.(?:[A-Z][a-z0-9]+)+)?)(?::\s|\))`)

// fieldName marks CamelCase words that name a field of an error, not
// the error.
var fieldName = regexp.MustCompile(`(?:Code|Id|Message|Type|Name)$`)

// codes lists the error codes a window names; an "Exception" suffix is
// dropped, since SDKs differ in adding it.
func codes(lines []string) map[string]bool {
	out := map[string]bool{}
	for _, l := range lines {
		for _, m := range errorCode.FindAllStringSubmatch(l, -1) {
			if !fieldName.MatchString(m[1]) {
				out[strings.TrimSuffix(m[1], "Exception")] = true
			}
		}
	}
	return out
}

// heads maps, for every failure line, the first clause long enough to be
// a feature to the clauses that follow it ("" when none does).
func heads(lines []string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, l := range lines {
		t := Parse(strings.TrimSpace(l))
		if !failureWords.MatchString(strings.ToLower(stableText(t))) {
			continue
		}
		head := ""
		for _, s := range segments(t) {
			if letters(s) < minSegmentLetters || words(s) < 2 {
				continue
			}
			if head == "" {
				head = keyOf(s)
				if out[head] == nil {
					out[head] = map[string]bool{}
				}
				continue
			}
			out[head][keyOf(s)] = true
		}
		if head != "" && len(out[head]) == 0 {
			out[head][""] = true
		}
	}
	return out
}

// conflict reports whether two windows tell different failures apart
// although they share wording: they name error codes and none in common,
// or an error chain starts alike in both and goes on differently.
func conflict(a, b *doc) bool {
	if len(a.codes) > 0 && len(b.codes) > 0 && !overlaps(a.codes, b.codes) {
		return true
	}
	for h, as := range a.heads {
		if bs, ok := b.heads[h]; ok && !overlaps(as, bs) {
			return true
		}
	}
	return false
}

func overlaps(a, b map[string]bool) bool {
	for k := range a {
		if b[k] {
			return true
		}
	}
	return false
}

// holders lists the docs in which the feature's match condition holds,
// with the matcher's semantics: a literal is found case-insensitively in
// the flat text, a template with placeholders is a regex on the text.
func (ix *index) holders(f *feature) []int {
	if f.heldDone {
		return f.held
	}
	f.heldDone = true
	c := condition(f.tmpl)
	if c.Regex == "" {
		lit := strings.Join(strings.Fields(lowerASCII(c.Literal)), " ")
		for i, d := range ix.docs {
			if strings.Contains(d.flat, lit) {
				f.held = append(f.held, i)
			}
		}
		return f.held
	}
	re := regexp.MustCompile(c.Regex)
	hint := strings.Join(strings.Fields(lowerASCII(longestStable(f.tmpl))), " ")
	for i, d := range ix.docs {
		if strings.Contains(d.flat, hint) && re.MatchString(d.text) {
			f.held = append(f.held, i)
		}
	}
	return f.held
}

// longestStable is the longest stable part of a template.
func longestStable(t Template) string {
	best := ""
	for _, p := range t {
		if p.Slot == "" && len(strings.TrimSpace(p.Text)) > len(best) {
			best = strings.TrimSpace(p.Text)
		}
	}
	return best
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

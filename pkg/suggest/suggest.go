// Package suggest learns pattern stubs from failures that no pattern
// recognised.
//
// Each failure window is normalised line by line into a template: ids,
// numbers, hex strings, quoted names, timestamps, ARNs, URLs, paths and
// values the redactor masked become placeholders such as <id> or <path>
// (see [Parse]). Windows are compared by the wording they share,
// weighted towards error messages and towards wording few windows hold.
// Alike windows are grouped unless they name different error codes or
// start an error chain alike and go on differently. For every group the
// package builds a [pattern.Pattern] stub whose `match.all` is wording
// common to the whole group that sets it apart from the other windows
// (with `match.none` vetoes where wording alone does not), and whose
// `capture` names the variable parts; groups are ranked by how many
// failures they hold.
//
// The package does not read logs or ledgers and does not write files;
// callers hand it normalised lines and marshal the stubs with
// [pattern.Marshal].
package suggest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/self-heal/self-heal/pkg/pattern"
)

// Failure is one failure window to learn from.
type Failure struct {
	// Name identifies the failure: a log file or a ledger record.
	Name string
	// Lines are the normalised lines of the failure window.
	Lines []string
	// Tool is the failing command's tool, when known.
	Tool string
}

// Options tune [Suggest]. The zero value uses the defaults.
type Options struct {
	// IDPrefix starts every stub id (default "suggested"); the stub's
	// rank follows it.
	IDPrefix string
	// Threshold is the least average similarity, between 0 and 1, of
	// two groups that merge (default 0.2).
	Threshold float64
	// MaxConditions bounds the `match.all` entries of a stub (default 3).
	MaxConditions int
}

// Suggestion is one group of alike failures and the stub that
// recognises them.
type Suggestion struct {
	// Pattern is the stub; its examples are left for the caller.
	Pattern *pattern.Pattern
	// Failures are the indexes into the input of the group's failures.
	Failures []int
	// Wording is the template text of each match condition.
	Wording []string
	// Apart is false when the stub's conditions also hold in failures
	// outside the group (a window whose wording another one contains).
	Apart bool
}

// Suggest groups the failures and returns a stub per group, the largest
// group first. Failures with no failure wording (no line reads as an
// error) are left out. It never fails: at worst it returns nothing.
func Suggest(failures []Failure, o Options) []Suggestion {
	o = o.withDefaults()
	ix := newIndex(failures)
	groups := ix.cluster(o.Threshold, o.MaxConditions)

	out := make([]Suggestion, len(groups))
	for i, g := range groups {
		out[i] = Suggestion{Apart: len(g.rest) == 0}
		for _, d := range g.docs {
			out[i].Failures = append(out[i].Failures, ix.docs[d].members...)
		}
		sort.Ints(out[i].Failures)
		for _, c := range g.conds {
			out[i].Wording = append(out[i].Wording, c.tmpl.String())
		}
		out[i].Pattern = stub(g.plan, out[i], failures)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if len(out[i].Failures) != len(out[j].Failures) {
			return len(out[i].Failures) > len(out[j].Failures)
		}
		return out[i].Failures[0] < out[j].Failures[0]
	})
	for i := range out {
		out[i].Pattern.ID = fmt.Sprintf("%s-%d", o.IDPrefix, i+1)
	}
	return out
}

func (o Options) withDefaults() Options {
	if o.IDPrefix == "" {
		o.IDPrefix = "suggested"
	}
	if o.Threshold <= 0 {
		o.Threshold = 0.2
	}
	if o.MaxConditions <= 0 {
		o.MaxConditions = 3
	}
	return o
}

// stub builds the pattern of one suggestion; Suggest sets its id.
func stub(pl plan, s Suggestion, failures []Failure) *pattern.Pattern {
	conds := pl.conds
	ts := tools(s, failures)
	p := &pattern.Pattern{
		Title:    title(conds[0].tmpl),
		Category: category(s.Wording, ts),
		Hint: fmt.Sprintf("Suggested from %d failure(s) that no pattern recognised. "+
			"Review the match, the category and the title, then choose fixes.", len(s.Failures)),
		When:  pattern.Scope{Tools: ts},
		Retry: pattern.DefaultRetry,
	}
	used := map[string]int{}
	for _, c := range conds {
		p.Match.All = append(p.Match.All, condition(c.tmpl))
		p.Capture = append(p.Capture, captures(c.tmpl, used)...)
	}
	for _, v := range pl.vetoes {
		p.Match.None = append(p.Match.None, condition(v.tmpl))
	}
	if len(p.Capture) > maxCaptures {
		p.Capture = p.Capture[:maxCaptures]
	}
	return p
}

// maxCaptures bounds the captures of a stub.
const maxCaptures = 4

// title is the wording of the stub's main condition, cut to a line.
func title(t Template) string {
	s := strings.Join(strings.Fields(t.String()), " ")
	if len(s) > 80 {
		cut := strings.LastIndex(s[:80], " ")
		if cut < 40 {
			cut = 80
		}
		s = s[:cut] + " ..."
	}
	return s
}

// tools lists the tools of the group's failures, when every one is known.
func tools(s Suggestion, failures []Failure) []string {
	seen := map[string]bool{}
	var out []string
	for _, i := range s.Failures {
		t := failures[i].Tool
		if t == "" || !known(t) {
			return nil
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

func known(tool string) bool {
	for _, t := range pattern.Tools {
		if t == tool {
			return true
		}
	}
	return false
}

// categoryWords guess a stub's category from its wording; the first
// that matches wins. A person reviews it.
var categoryWords = []struct {
	category string
	re       *regexp.Regexp
}{
	{"auth", regexp.MustCompile(`(?i)expired|unauthori[sz]ed|credential|authori[sz]ation|token|` +
		`logged in|forbidden|access denied`)},
	{"timing", regexp.MustCompile(`(?i)throttl|rate exceeded|timed? ?out|propagat|not found|` +
		`connection|unreachable|temporar|try again|eventual`)},
	{"state", regexp.MustCompile(`(?i)state|backend|lock|\.tfstate|provider|init`)},
	{"kubernetes", regexp.MustCompile(`(?i)kube|helm|namespace|release|webhook|pod|finalizer|` +
		`deployment`)},
	{"aws", regexp.MustCompile(`(?i)aws|exception|arn|dependencyviolation|bucket|vpc|iam`)},
}

func category(wording, tools []string) string {
	text := strings.Join(wording, "\n")
	for _, c := range categoryWords {
		if c.re.MatchString(text) {
			return c.category
		}
	}
	for _, t := range tools {
		if t == "kubectl" || t == "helm" {
			return "kubernetes"
		}
	}
	return "aws"
}

// condition turns a template into a match condition: a literal when it
// has no placeholder, else a case-insensitive regex with a loose
// expression for each placeholder.
func condition(t Template) pattern.Cond {
	if !hasSlot(t) {
		return pattern.Cond{Literal: strings.TrimSpace(t.String())}
	}
	var b strings.Builder
	b.WriteString("(?i)")
	for i, p := range t {
		if p.Slot == "" {
			b.WriteString(quote(p.Text))
			continue
		}
		b.WriteString(loose(p, i == len(t)-1))
	}
	return pattern.Cond{Regex: b.String()}
}

func hasSlot(t Template) bool {
	for _, p := range t {
		if p.Slot != "" {
			return true
		}
	}
	return false
}

// quote escapes stable text for a regex; a space matches any run of
// spaces, as in a literal.
func quote(s string) string {
	fields := strings.Split(s, " ")
	for i, f := range fields {
		fields[i] = regexp.QuoteMeta(f)
	}
	out := strings.Join(fields, " ")
	return strings.ReplaceAll(out, " ", `\s+`)
}

// loose is the regex a placeholder's value satisfies in any window of
// the group: a quoted string for names, anything up to the following
// text for timestamps, and a run of non-space characters otherwise.
func loose(p Part, last bool) string {
	switch {
	case p.Slot == "name" && p.Text != "":
		q := regexp.QuoteMeta(p.Text[:1])
		return q + `[^` + q + `\n]*` + q
	case p.Slot == "time" && last:
		return `.+`
	case p.Slot == "time":
		return `.+?`
	}
	return `\S+`
}

// captures names the placeholders of a template with a regex each: the
// value in a group, between up to two words of the text before it and
// one word of the text after it, so that the group ends where the value
// does. Masked secrets are never captured.
func captures(t Template, used map[string]int) []pattern.Capture {
	var out []pattern.Capture
	for i, p := range t {
		if p.Slot == "" || p.Slot == "secret" {
			continue
		}
		before, after := "", ""
		if i > 0 && t[i-1].Slot == "" {
			before = lastWords(t[i-1].Text, 2)
		}
		if i+1 < len(t) && t[i+1].Slot == "" {
			after = firstWords(t[i+1].Text, 1)
		}
		if strings.TrimSpace(before+after) == "" {
			continue
		}
		used[p.Slot]++
		name := p.Slot
		if n := used[p.Slot]; n > 1 {
			name = fmt.Sprintf("%s_%d", p.Slot, n)
		}
		out = append(out, pattern.Capture{Name: name,
			Regex: "(?i)" + quote(before) + capturing(p, after == "") + quote(after)})
	}
	return out
}

// capturing is the capturing form of loose: quotes stay outside the group.
func capturing(p Part, last bool) string {
	if p.Slot == "name" && p.Text != "" {
		q := regexp.QuoteMeta(p.Text[:1])
		return q + `([^` + q + `\n]*)` + q
	}
	return "(" + loose(p, last) + ")"
}

// lastWords returns the end of s from the start of its n-th word from
// the end, with the space after it.
func lastWords(s string, n int) string {
	count := 0
	for i := len(s) - 2; i >= 0; i-- {
		if s[i] == ' ' && s[i+1] != ' ' {
			if count++; count == n {
				return s[i+1:]
			}
		}
	}
	return strings.TrimLeft(s, " ")
}

// firstWords returns the start of s up to the end of its n-th word, with
// the space before it.
func firstWords(s string, n int) string {
	count := 0
	for i := 1; i < len(s); i++ {
		if s[i] == ' ' && s[i-1] != ' ' {
			if count++; count == n {
				return s[:i]
			}
		}
	}
	return strings.TrimRight(s, " ")
}

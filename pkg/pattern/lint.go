package pattern

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Finding is one problem lint reports beyond load errors.
type Finding struct {
	Pos     Position
	Pattern string
	Msg     string
	// Warning findings do not fail lint.
	Warning bool
	// Builtin is set for findings about the built-in catalogue alone.
	Builtin bool
	// Involves lists the other patterns the finding is about, if any.
	Involves []string
}

// String formats the finding as file:line:col: id: message.
func (f Finding) String() string {
	level := "error"
	if f.Warning {
		level = "warning"
	}
	pos := f.Pos.String()
	if f.Builtin {
		pos = "builtin:" + pos
	}
	return fmt.Sprintf("%s: %s: %s: %s", pos, level, f.Pattern, f.Msg)
}

// Lint looks for patterns that can never match in their scope, conditions
// that veto themselves, examples that two patterns both match, and
// patterns with no literal for the prefilter.
func (s *Set) Lint(scan ScanFunc) []Finding {
	var out []Finding
	for _, p := range s.Patterns {
		out = append(out, lintScope(p)...)
		out = append(out, lintConds(p)...)
		out = append(out, lintInputs(p)...)
		if hasRegex(p) && !prefiltered(p) {
			out = append(out, Finding{Pos: p.Pos, Pattern: p.ID, Warning: true, Msg: "no required " +
				"condition has a literal of 3 bytes or more, so its regexes run on every failure " +
				"window (slower) and only lines near an error word are kept for it"})
		}
	}
	out = append(out, s.lintOverlaps(scan)...)
	for i := range out {
		out[i].Builtin = s.builtin(out[i].Pattern) && !slices.ContainsFunc(out[i].Involves,
			func(id string) bool { return !s.builtin(id) })
	}
	return out
}

func (s *Set) builtin(id string) bool {
	p := s.Lookup(id)
	return p != nil && p.Builtin
}

func lintScope(p *Pattern) []Finding {
	var out []Finding
	for i, t := range p.When.Tools {
		if !contains(Tools, t) {
			pos := p.Pos
			if i < len(p.When.ToolsPos) {
				pos = p.When.ToolsPos[i]
			}
			out = append(out, Finding{Pos: pos, Pattern: p.ID, Msg: fmt.Sprintf(
				"when.tools: unknown tool %q%s; the pattern can never match it", t, didYouMean(t, Tools))})
		}
	}
	if len(p.When.Stacks) > 0 && !stackAdmitsAny(p.When.Stacks) {
		out = append(out, Finding{Pos: p.Pos, Pattern: p.ID,
			Msg: "when.stacks excludes every stack; the pattern can never match"})
	}
	return out
}

// lintInputs finds a fixer input that nothing supplies: required, without
// a default, not set by `with`, and not a capture of the pattern. The
// fixer would refuse every time for want of it.
func lintInputs(p *Pattern) []Finding {
	var out []Finding
	for _, f := range p.Fixes {
		for _, name := range f.Needs {
			if !slices.ContainsFunc(p.Capture, func(c Capture) bool { return c.Name == name }) {
				out = append(out, Finding{Pos: f.Pos, Pattern: p.ID, Msg: fmt.Sprintf(
					"fixes: %s needs input %q, which neither its `with` nor a capture of the pattern supplies; "+
						"the fixer would refuse every time", f.Use, name)})
			}
		}
	}
	return out
}

// stackAdmitsAny reports whether some stack name passes the rules; a rule
// list that excludes "*" admits none.
func stackAdmitsAny(rules []string) bool {
	for _, r := range rules {
		if r == "!*" {
			return false
		}
	}
	return true
}

// lintConds finds a veto that every match would trigger: a `none`
// literal contained in a required literal.
func lintConds(p *Pattern) []Finding {
	var out []Finding
	required := p.Match.All
	if len(p.Match.Any) == 1 {
		required = append(required[:len(required):len(required)], p.Match.Any[0])
	}
	for _, n := range p.Match.None {
		for _, r := range required {
			if n.lit != "" && r.lit != "" && strings.Contains(r.lit, n.lit) {
				out = append(out, Finding{Pos: n.Pos, Pattern: p.ID, Msg: fmt.Sprintf(
					"match.none %q is part of the required %q; the pattern can never match", n.Literal, r.Literal)})
			}
		}
	}
	return out
}

// prefiltered reports whether the prefilter can rule the pattern out:
// one required condition, or every alternative condition, has a key of
// minKeyLen bytes or more. Otherwise its regexes run on every failure
// window, and [Matcher.Hot] does not keep the lines it matches.
func prefiltered(p *Pattern) bool {
	for _, c := range p.Match.All {
		if c.filterScore() >= minKeyLen {
			return true
		}
	}
	if len(p.Match.Any) == 0 {
		return false
	}
	for _, c := range p.Match.Any {
		if c.filterScore() < minKeyLen {
			return false
		}
	}
	return true
}

// hasRegex reports whether the pattern has a regex condition.
func hasRegex(p *Pattern) bool {
	for _, cs := range [][]Cond{p.Match.Any, p.Match.All, p.Match.None} {
		for _, c := range cs {
			if c.Regex != "" {
				return true
			}
		}
	}
	return false
}

// filterScore is the length of the shortest key the prefilter searches
// for on behalf of the condition, 0 when it has none.
func (c *Cond) filterScore() int {
	if c.Regex != "" {
		return score(RequiredLiterals(c.Regex))
	}
	words := literalWords(c.Literal)
	if len(words) == 0 {
		return 0
	}
	return len(words[keyWord(words)])
}

// lintOverlaps finds example files that two patterns both match.
func (s *Set) lintOverlaps(scan ScanFunc) []Finding {
	var out []Finding
	seen := map[string]bool{}
	for _, p := range s.Patterns {
		for _, g := range p.Examples.Match {
			files, _ := p.Examples.glob(g)
			for _, f := range files {
				text, err := p.Examples.read(f, scan)
				if err != nil {
					continue
				}
				ids := idsOf(s.matcher.MatchAll(text, Query{}))
				if len(ids) < 2 {
					continue
				}
				key := f + strings.Join(sortedCopy(ids), ",")
				if seen[key] {
					continue
				}
				seen[key] = true
				out = append(out, Finding{Pos: p.Pos, Pattern: p.ID, Warning: true, Involves: ids,
					Msg: fmt.Sprintf("example %s is matched by %s, in match order (the first wins)",
						f, strings.Join(ids, ", "))})
			}
		}
	}
	return out
}

// idsOf lists the patterns' ids in match order.
func idsOf(ps []*Pattern) []string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids
}

func sortedCopy(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}

package pattern

import (
	"fmt"
	"regexp/syntax"
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
}

// String formats the finding as file:line:col: id: message.
func (f Finding) String() string {
	level := "error"
	if f.Warning {
		level = "warning"
	}
	return fmt.Sprintf("%s: %s: %s: %s", f.Pos, level, f.Pattern, f.Msg)
}

// Lint looks for patterns that can never match in their scope, conditions
// that veto themselves, examples that two patterns both match, and
// patterns with no literal for the prefilter.
func (s *Set) Lint(scan ScanFunc) []Finding {
	var out []Finding
	for _, p := range s.Patterns {
		out = append(out, lintScope(p)...)
		out = append(out, lintConds(p)...)
		if !hasLiteral(p) {
			out = append(out, Finding{Pos: p.Pos, Pattern: p.ID, Warning: true,
				Msg: "no condition has a literal part, so every line is tried with the full regex (slower)"})
		}
	}
	return append(out, s.lintOverlaps(scan)...)
}

func lintScope(p *Pattern) []Finding {
	var out []Finding
	for _, t := range p.When.Tools {
		if !contains(Tools, t) {
			out = append(out, Finding{Pos: p.Pos, Pattern: p.ID, Msg: fmt.Sprintf(
				"when.tools: unknown tool %q%s; the pattern can never match it", t, didYouMean(t, Tools))})
		}
	}
	if len(p.When.Stacks) > 0 && !stackAdmitsAny(p.When.Stacks) {
		out = append(out, Finding{Pos: p.Pos, Pattern: p.ID,
			Msg: "when.stacks excludes every stack; the pattern can never match"})
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

// hasLiteral reports whether any condition offers a literal part.
func hasLiteral(p *Pattern) bool {
	for _, cs := range [][]Cond{p.Match.Any, p.Match.All} {
		for _, c := range cs {
			if c.Regex == "" || len(RequiredLiteral(c.Regex)) >= 3 {
				return true
			}
		}
	}
	return false
}

// RequiredLiteral returns the longest literal string every match of the
// regular expression must contain, or "".
func RequiredLiteral(expr string) string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return ""
	}
	return longest(literals(re.Simplify()))
}

// literals lists literal runs that any match must contain.
func literals(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return []string{strings.ToLower(string(re.Rune))}
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture, syntax.OpPlus:
		return literals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min > 0 {
			return literals(re.Sub[0])
		}
	case syntax.OpConcat:
		var out []string
		for _, s := range re.Sub {
			out = append(out, literals(s)...)
		}
		return out
	}
	return nil
}

func longest(xs []string) string {
	best := ""
	for _, x := range xs {
		if len(x) > len(best) {
			best = x
		}
	}
	return best
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
				key := f + strings.Join(ids, ",")
				if seen[key] {
					continue
				}
				seen[key] = true
				out = append(out, Finding{Pos: p.Pos, Pattern: p.ID, Warning: true, Msg: fmt.Sprintf(
					"example %s is matched by %s (the first wins)", f, strings.Join(ids, ", "))})
			}
		}
	}
	return out
}

func idsOf(ps []*Pattern) []string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	sort.Strings(ids)
	return ids
}

package pattern

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Layer is one source of patterns: the built-ins, the repository's
// directory, or a --patterns path. Later layers override earlier ones.
type Layer struct {
	Name  string
	Files []*File
}

// Set is the compiled, ordered collection of active patterns.
type Set struct {
	// Patterns are in match order: repository patterns before built-ins,
	// higher priority first, file order last.
	Patterns []*Pattern
	// Warnings are non-fatal notes (conversions, overrides).
	Warnings []string
	matcher  *Matcher
}

// Matcher returns the set's compiled matcher.
func (s *Set) Matcher() *Matcher { return s.matcher }

// Lookup finds an active pattern by id.
func (s *Set) Lookup(id string) *Pattern {
	for _, p := range s.Patterns {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// Compile merges layers (a later pattern with the same id replaces or,
// with disabled: true, removes an earlier one), compiles every regex,
// resolves fixer names against reg and checks each fix's inputs. It
// reports every problem with its position. A nil reg skips fixer checks.
func Compile(layers []Layer, reg *fixer.Registry) (*Set, error) {
	set := &Set{}
	byID := map[string]*Pattern{}
	layerOf := map[string]int{}
	var order []string
	var errs []error
	n := 0
	for li, layer := range layers {
		for _, f := range layer.Files {
			set.Warnings = append(set.Warnings, f.Warnings...)
			for _, p := range f.Patterns {
				n++
				p.order = n
				if prev, ok := byID[p.ID]; ok {
					if layerOf[p.ID] == li {
						errs = append(errs, &Error{Pos: p.Pos, Msg: fmt.Sprintf(
							"pattern id %q is already defined at %s", p.ID, prev.Pos)})
						continue
					}
					verb := "replaces"
					if p.Disabled {
						verb = "disables"
					}
					set.Warnings = append(set.Warnings, fmt.Sprintf(
						"%s: pattern %s %s the one from %s", p.Pos, p.ID, verb, prev.Source()))
					p.Replaces = prev.Source()
				} else {
					if p.Disabled {
						set.Warnings = append(set.Warnings, fmt.Sprintf(
							"%s: pattern %s is disabled but no earlier source defines it", p.Pos, p.ID))
					}
					order = append(order, p.ID)
				}
				byID[p.ID] = p
				layerOf[p.ID] = li
			}
		}
	}
	for _, id := range order {
		p := byID[id]
		if p.Disabled {
			continue
		}
		if err := compilePattern(p, reg); err != nil {
			errs = append(errs, err)
			continue
		}
		set.Patterns = append(set.Patterns, p)
	}
	sortPatterns(set.Patterns)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	set.matcher = newMatcher(set.Patterns)
	return set, nil
}

func sortPatterns(ps []*Pattern) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Builtin != b.Builtin {
			return !a.Builtin
		}
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		return a.order < b.order
	})
}

func compilePattern(p *Pattern, reg *fixer.Registry) error {
	var errs []error
	compileConds := func(cs []Cond, what string) {
		for i := range cs {
			if err := cs[i].compile(); err != nil {
				errs = append(errs, &Error{Pos: cs[i].Pos, Path: fmt.Sprintf("%s.match.%s[%d]", p.ID, what, i),
					Msg: err.Error()})
			}
		}
	}
	compileConds(p.Match.Any, "any")
	compileConds(p.Match.All, "all")
	compileConds(p.Match.None, "none")
	for i := range p.Capture {
		errs = append(errs, p.Capture[i].compile(p.ID))
	}
	for i := range p.Fixes {
		errs = append(errs, resolveFix(p, &p.Fixes[i], reg))
	}
	p.Hash = hashPattern(p)
	return errors.Join(errs...)
}

func (c *Cond) compile() error {
	if c.Regex == "" {
		c.lit = normLiteral(c.Literal)
		c.words = literalWords(c.Literal)
		c.key = keyWord(c.words)
		return nil
	}
	re, err := regexp.Compile(c.Regex)
	if err != nil {
		return fmt.Errorf("invalid regular expression: %s", regexErrText(err))
	}
	c.re = re
	return nil
}

func (c *Capture) compile(id string) error {
	path := fmt.Sprintf("%s.capture.%s", id, c.Name)
	re, err := regexp.Compile(c.Regex)
	if err != nil {
		return &Error{Pos: c.Pos, Path: path, Msg: "invalid regular expression: " + regexErrText(err)}
	}
	if re.NumSubexp() != 1 {
		return &Error{Pos: c.Pos, Path: path, Msg: fmt.Sprintf(
			"a capture needs exactly one group (...), this one has %d", re.NumSubexp())}
	}
	c.re = re
	return nil
}

func regexErrText(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("%s in `%s`", se.Code, se.Expr)
	}
	return err.Error()
}

func resolveFix(p *Pattern, f *Fix, reg *fixer.Registry) error {
	if reg == nil {
		return nil
	}
	fx, ok := reg.Lookup(f.Use)
	if !ok {
		hint := ""
		if s := reg.Suggest(f.Use); s != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", s)
		}
		return &Error{Pos: f.Pos, Path: p.ID + ".fixes", Msg: fmt.Sprintf("unknown fixer %q%s", f.Use, hint)}
	}
	if fx.Name() != f.Use {
		f.As, f.Use = f.Use, fx.Name()
	}
	if r, ok := fx.(fixer.Retrier); ok && r.RetryOnly() {
		f.RetryOnly = true
	}
	var errs []error
	known := map[string]fixer.Input{}
	f.Needs = nil
	for _, in := range fx.Inputs() {
		known[in.Name] = in
		if _, set := f.With[in.Name]; in.Required && in.Default == "" && !set {
			f.Needs = append(f.Needs, in.Name)
		}
	}
	at := func(k string) Position {
		if pos, ok := f.WithPos[k]; ok {
			return pos
		}
		return f.Pos
	}
	path := p.ID + ".fixes." + f.Use + ".with"
	for _, k := range slices.Sorted(maps.Keys(f.With)) {
		if _, ok := known[k]; !ok {
			errs = append(errs, &Error{Pos: at(k), Path: path + "." + k,
				Msg: fmt.Sprintf("fixer %s has no input %q%s", f.Use, k, didYouMean(k, keys(known)))})
			continue
		}
		if err := fixer.Validate([]fixer.Input{known[k]}, fixer.Values{k: f.With[k]}); err != nil {
			errs = append(errs, &Error{Pos: at(k), Path: path + "." + k, Msg: err.Error()})
		}
	}
	return errors.Join(errs...)
}

// hashPattern identifies a definition by its written form.
func hashPattern(p *Pattern) string {
	text, err := Marshal([]*Pattern{p})
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(text)
	return hex.EncodeToString(sum[:6])
}

// normLiteral lower-cases ASCII letters and folds white space, as the
// matcher sees text.
func normLiteral(s string) string {
	return strings.Join(strings.Fields(lowerASCII(s)), " ")
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

package fixer

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/self-heal/self-heal/pkg/strictyaml"
)

// Registry maps names and aliases to fixers. The zero value is empty and
// ready to use; it is not safe for concurrent registration, which happens
// once at start-up.
type Registry struct {
	byName  map[string]Fixer
	aliases map[string]string
}

// Register adds f under its name and the given aliases. It fails when a
// name or alias is taken.
func (r *Registry) Register(f Fixer, aliases ...string) error {
	if r.byName == nil {
		r.byName = map[string]Fixer{}
		r.aliases = map[string]string{}
	}
	name := f.Name()
	if _, dup := r.byName[name]; dup {
		return fmt.Errorf("fixer %s registered twice", name)
	}
	r.byName[name] = f
	for _, a := range aliases {
		if _, dup := r.aliases[a]; dup {
			return fmt.Errorf("fixer alias %s registered twice", a)
		}
		r.aliases[a] = name
	}
	return nil
}

// MustRegister is [Registry.Register] for start-up wiring, where a clash is
// a programming error.
func (r *Registry) MustRegister(f Fixer, aliases ...string) {
	if err := r.Register(f, aliases...); err != nil {
		panic(err)
	}
}

// Lookup finds a fixer by dotted name or alias.
func (r *Registry) Lookup(name string) (Fixer, bool) {
	if f, ok := r.byName[name]; ok {
		return f, true
	}
	if canon, ok := r.aliases[name]; ok {
		return r.byName[canon], true
	}
	return nil, false
}

// Canonical returns the dotted name for name or one of its aliases.
func (r *Registry) Canonical(name string) (string, bool) {
	f, ok := r.Lookup(name)
	if !ok {
		return "", false
	}
	return f.Name(), true
}

// All returns every fixer sorted by name.
func (r *Registry) All() []Fixer {
	out := make([]Fixer, 0, len(r.byName))
	for _, f := range r.byName {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Aliases returns the aliases of the fixer called name, sorted.
func (r *Registry) Aliases(name string) []string {
	var out []string
	for a, canon := range r.aliases {
		if canon == name {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// Suggest returns the registered name closest to an unknown one, or "" when
// nothing is close, for "did you mean" messages.
func (r *Registry) Suggest(name string) string {
	if n := r.containing(name); n != "" {
		return n
	}
	best, bestDist := "", len(name)/2+2
	consider := func(cand string) {
		if d := strictyaml.EditDistance(strings.ToLower(name), strings.ToLower(cand)); d < bestDist {
			best, bestDist = cand, d
		}
	}
	for n := range r.byName {
		consider(n)
	}
	for a := range r.aliases {
		consider(a)
	}
	if canon, ok := r.aliases[best]; ok {
		return canon
	}
	return best
}

// containing returns the one registered name of name's family whose last
// part contains name's ("terraform.unlock" for "terraform.force-unlock"),
// a closer match than any edit distance; "" when none or several do.
func (r *Registry) containing(name string) string {
	family, part, ok := strings.Cut(strings.ToLower(name), ".")
	if !ok || len(part) < 3 {
		return ""
	}
	found := ""
	for n := range r.byName {
		f, p, _ := strings.Cut(n, ".")
		if f == family && p != part && strings.Contains(p, part) {
			if found != "" {
				return ""
			}
			found = n
		}
	}
	return found
}

func joinErrs(errs []error) error { return errors.Join(errs...) }

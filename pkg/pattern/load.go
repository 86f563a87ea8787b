package pattern

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/self-heal/self-heal/pkg/strictyaml"
)

// File is one parsed pattern file.
type File struct {
	Path     string
	Version  int
	Patterns []*Pattern
	// Warnings are non-fatal notes, such as the conversion of the older
	// `converge:` format.
	Warnings []string
}

// Parse decodes a pattern file strictly. Every problem is reported, each
// with file:line:col; the error is an errors.Join of [*Error] values.
// Parse checks structure only; [Compile] checks regexes and fixer names.
func Parse(name string, data []byte) (*File, error) {
	d := &decoder{File: name}
	f := &File{Path: name}

	root, err := strictyaml.Document(name, data)
	if err != nil {
		return nil, err
	}
	if root.Kind == yaml.MappingNode && hasKey(root, "converge") && !hasKey(root, "patterns") {
		parseLegacy(d, f, root)
		return f, d.Err()
	}

	d.Fields(root, "", map[string]func(*yaml.Node){
		"version": func(n *yaml.Node) { f.Version = d.Int(n, "version") },
		"patterns": func(n *yaml.Node) {
			if n.Kind != yaml.SequenceNode {
				d.Errorf(n, "patterns", "expected a list of patterns, got %s", kindName(n))
				return
			}
			for i, pn := range n.Content {
				f.Patterns = append(f.Patterns, parsePattern(d, pn, fmt.Sprintf("patterns[%d]", i)))
			}
		},
	})
	if root.Kind == yaml.MappingNode && f.Version != 1 {
		d.Errorf(root, "version", "expected version: 1, got %d", f.Version)
	}
	return f, d.Err()
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

func parsePattern(d *decoder, n *yaml.Node, p string) *Pattern {
	pat := &Pattern{Pos: d.Pos(n), Retry: DefaultRetry}
	d.Fields(n, p, map[string]func(*yaml.Node){
		"id": func(v *yaml.Node) {
			pat.ID = d.Str(v, p+".id")
			if pat.ID != "" && !validID(pat.ID) {
				d.Errorf(v, p+".id", "id %q must be lower-case letters, digits and dashes", pat.ID)
			}
		},
		"title": func(v *yaml.Node) { pat.Title = d.Str(v, p+".title") },
		"category": func(v *yaml.Node) {
			pat.Category = d.Str(v, p+".category")
			if pat.Category != "" && !contains(Categories, pat.Category) {
				d.Errorf(v, p+".category", "unknown category %q%s", pat.Category,
					didYouMean(pat.Category, Categories))
			}
		},
		"hint":     func(v *yaml.Node) { pat.Hint = strings.TrimSpace(d.Str(v, p+".hint")) },
		"priority": func(v *yaml.Node) { pat.Priority = d.Int(v, p+".priority") },
		"disabled": func(v *yaml.Node) { pat.Disabled = d.Bool(v, p+".disabled") },
		"when":     func(v *yaml.Node) { pat.When = parseScope(d, v, p+".when") },
		"match":    func(v *yaml.Node) { pat.Match = parseMatch(d, v, p+".match") },
		"capture":  func(v *yaml.Node) { pat.Capture = parseCaptures(d, v, p+".capture") },
		"fixes":    func(v *yaml.Node) { pat.Fixes = parseFixes(d, v, p+".fixes") },
		"retry":    func(v *yaml.Node) { pat.Retry = parseRetry(d, v, p+".retry") },
		"examples": func(v *yaml.Node) { pat.Examples = parseExamples(d, v, p+".examples") },
	})
	checkRequired(d, n, p, pat)
	return pat
}

func checkRequired(d *decoder, n *yaml.Node, p string, pat *Pattern) {
	if n.Kind != yaml.MappingNode {
		return
	}
	if pat.ID == "" {
		d.Errorf(n, p, "missing required key \"id\"")
		return
	}
	if pat.Disabled {
		return
	}
	if pat.Title == "" {
		d.Errorf(n, p, "missing required key \"title\"")
	}
	if pat.Category == "" {
		d.Errorf(n, p, "missing required key \"category\"")
	}
	if len(pat.Match.Any) == 0 && len(pat.Match.All) == 0 {
		d.Errorf(n, p, "match needs at least one entry under any or all")
	}
}

func validID(id string) bool {
	for _, r := range id {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return id != ""
}

func parseScope(d *decoder, n *yaml.Node, p string) Scope {
	var s Scope
	d.Fields(n, p, map[string]func(*yaml.Node){
		"tools": func(v *yaml.Node) {
			items := d.Items(v, p+".tools")
			s.Tools = strictyaml.Values(items)
			for _, it := range items {
				s.ToolsPos = append(s.ToolsPos, it.Pos)
			}
		},
		"goals": func(v *yaml.Node) { s.Goals = d.Strings(v, p+".goals") },
		"stacks": func(v *yaml.Node) {
			items := d.Items(v, p+".stacks")
			for _, it := range items {
				// A malformed glob would include or exclude no stack at
				// all. "=name" is an exact name, "!glob" an exclusion.
				if !strings.HasPrefix(it.Value, "=") {
					d.Glob(it, strings.TrimPrefix(it.Value, "!"))
				}
			}
			s.Stacks = strictyaml.Values(items)
		},
	})
	return s
}

func parseMatch(d *decoder, n *yaml.Node, p string) Match {
	var m Match
	d.Fields(n, p, map[string]func(*yaml.Node){
		"any":  func(v *yaml.Node) { m.Any = parseConds(d, v, p+".any") },
		"all":  func(v *yaml.Node) { m.All = parseConds(d, v, p+".all") },
		"none": func(v *yaml.Node) { m.None = parseConds(d, v, p+".none") },
	})
	return m
}

func parseConds(d *decoder, n *yaml.Node, p string) []Cond {
	if n.Kind == yaml.ScalarNode || n.Kind == yaml.MappingNode {
		return []Cond{parseCond(d, n, p)}
	}
	if n.Kind != yaml.SequenceNode {
		d.Errorf(n, p, "expected a list of strings or {regex: ...}, got %s", kindName(n))
		return nil
	}
	out := make([]Cond, 0, len(n.Content))
	for i, c := range n.Content {
		out = append(out, parseCond(d, c, fmt.Sprintf("%s[%d]", p, i)))
	}
	return out
}

func parseCond(d *decoder, n *yaml.Node, p string) Cond {
	c := Cond{Pos: d.Pos(n)}
	if n.Kind == yaml.MappingNode {
		d.Fields(n, p, map[string]func(*yaml.Node){
			"regex": func(v *yaml.Node) { c.Regex = d.Str(v, p+".regex"); c.Pos = d.Pos(v) },
		})
		if c.Regex == "" {
			d.Errorf(n, p, "expected {regex: ...} with a non-empty expression")
		}
		return c
	}
	c.Literal = d.Str(n, p)
	if strings.TrimSpace(c.Literal) == "" && n.Tag != "!!null" {
		d.Errorf(n, p, "empty literal matches everything")
	}
	return c
}

func parseCaptures(d *decoder, n *yaml.Node, p string) []Capture {
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, p, "expected a mapping of name: regex, got %s", kindName(n))
		return nil
	}
	var out []Capture
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		out = append(out, Capture{Name: k.Value, Regex: d.Str(v, p+"."+k.Value), Pos: d.Pos(v)})
	}
	return out
}

func parseFixes(d *decoder, n *yaml.Node, p string) []Fix {
	if n.Kind != yaml.SequenceNode {
		d.Errorf(n, p, "expected a list of {use: fixer}, got %s", kindName(n))
		return nil
	}
	out := make([]Fix, 0, len(n.Content))
	for i, fn := range n.Content {
		fp := fmt.Sprintf("%s[%d]", p, i)
		f := Fix{Pos: d.Pos(fn)}
		if fn.Kind == yaml.ScalarNode {
			f.Use = fn.Value
			out = append(out, f)
			continue
		}
		d.Fields(fn, fp, map[string]func(*yaml.Node){
			"use": func(v *yaml.Node) { f.Use = d.Str(v, fp+".use"); f.Pos = d.Pos(v) },
			"with": func(v *yaml.Node) {
				f.With = d.ScalarMap(v, fp+".with")
				if v.Kind == yaml.MappingNode {
					f.WithPos = map[string]Position{}
					for i := 0; i+1 < len(v.Content); i += 2 {
						f.WithPos[v.Content[i].Value] = d.Pos(v.Content[i])
					}
				}
			},
		})
		if f.Use == "" && fn.Kind == yaml.MappingNode {
			d.Errorf(fn, fp, "missing required key \"use\"")
		}
		out = append(out, f)
	}
	return out
}

func parseRetry(d *decoder, n *yaml.Node, p string) Retry {
	r := DefaultRetry
	d.Fields(n, p, map[string]func(*yaml.Node){
		"attempts": func(v *yaml.Node) { r.Attempts = d.Int(v, p+".attempts") },
		"initial":  func(v *yaml.Node) { r.Initial = d.Duration(v, p+".initial") },
		"max":      func(v *yaml.Node) { r.Max = d.Duration(v, p+".max") },
		"budget":   func(v *yaml.Node) { r.Budget = d.Duration(v, p+".budget") },
		"jitter": func(v *yaml.Node) {
			r.Jitter = d.Float(v, p+".jitter")
			if r.Jitter < 0 || r.Jitter > 1 {
				d.Errorf(v, p+".jitter", "expected a fraction from 0 to 1, got %s", v.Value)
			}
		},
	})
	if r.Attempts < 0 {
		d.Errorf(n, p+".attempts", "must not be negative")
	}
	if r.Max > 0 && r.Max < r.Initial {
		d.Errorf(n, p+".max", "max (%s) is below initial (%s)", r.Max, r.Initial)
	}
	return r
}

func parseExamples(d *decoder, n *yaml.Node, p string) Examples {
	var e Examples
	d.Fields(n, p, map[string]func(*yaml.Node){
		"match":    func(v *yaml.Node) { e.Match = d.Strings(v, p+".match") },
		"no_match": func(v *yaml.Node) { e.NoMatch = d.Strings(v, p+".no_match") },
	})
	return e
}

// ReadFile reads and parses one pattern file from disk.
func ReadFile(name string) (*File, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read pattern file: %w", err)
	}
	f, err := Parse(name, data)
	if f != nil {
		f.setExampleDir(filepath.Dir(name))
	}
	return f, err
}

// ReadFS parses every *.yaml and *.yml file at the top of fsys, in name
// order, as built-in patterns.
func ReadFS(fsys fs.FS, dir string) ([]*File, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read built-in patterns: %w", err)
	}
	var files []*File
	var errs []error
	for _, e := range entries {
		if e.IsDir() || !isPatternFile(e.Name()) {
			continue
		}
		name := path.Join(dir, e.Name())
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read built-in patterns: %w", err)
		}
		f, err := Parse(name, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f.setExampleDir(dir)
		for _, p := range f.Patterns {
			p.Builtin = true
			p.Examples.FS = fsys
		}
		files = append(files, f)
	}
	return files, errors.Join(errs...)
}

// ReadPath parses a pattern file, or every pattern file in a directory
// (not recursively), in name order. A missing directory yields nothing
// when optional is set.
func ReadPath(p string, optional bool) ([]*File, error) {
	info, err := os.Stat(p)
	if err != nil {
		if optional && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read patterns %s: %w", p, err)
	}
	if !info.IsDir() {
		f, err := ReadFile(p)
		if err != nil {
			return nil, err
		}
		return []*File{f}, nil
	}
	names, err := filepath.Glob(filepath.Join(p, "*"))
	if err != nil {
		return nil, fmt.Errorf("read patterns %s: %w", p, err)
	}
	sort.Strings(names)
	var files []*File
	var errs []error
	for _, name := range names {
		if !isPatternFile(name) {
			continue
		}
		f, err := ReadFile(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		files = append(files, f)
	}
	return files, errors.Join(errs...)
}

func isPatternFile(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

func (f *File) setExampleDir(dir string) {
	for _, p := range f.Patterns {
		p.Examples.Dir = dir
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Files lists the pattern files a path names: the file itself, or
// the *.yaml and *.yml files of a directory.
func Files(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	names, err := filepath.Glob(filepath.Join(p, "*"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if isPatternFile(n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

package pattern

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
)

// ExampleResult is the verdict on one example file of one pattern.
type ExampleResult struct {
	Pattern string
	File    string
	// Want is "match" or "no_match".
	Want string
	// Got is the id of the pattern that won, or "" when none matched.
	Got string
	OK  bool
	// Msg explains a failure.
	Msg string
}

// ScanFunc turns a log into normalised lines for matching.
type ScanFunc func(r io.Reader) ([]string, error)

// TestExamples runs every example of every pattern in the set. A match
// example passes when its pattern wins; a no_match example passes when its
// pattern does not match at all. A glob that names no file is a failure.
func (s *Set) TestExamples(scan ScanFunc) []ExampleResult {
	var out []ExampleResult
	for _, p := range s.Patterns {
		out = append(out, s.testGlobs(p, p.Examples.Match, "match", scan)...)
		out = append(out, s.testGlobs(p, p.Examples.NoMatch, "no_match", scan)...)
	}
	return out
}

func (s *Set) testGlobs(p *Pattern, globs []string, want string, scan ScanFunc) []ExampleResult {
	var out []ExampleResult
	for _, g := range globs {
		files, err := p.Examples.glob(g)
		if err != nil || len(files) == 0 {
			out = append(out, ExampleResult{Pattern: p.ID, File: g, Want: want,
				Msg: fmt.Sprintf("%s: examples.%s: %q names no file", p.Pos, want, g)})
			continue
		}
		for _, f := range files {
			out = append(out, s.testFile(p, f, want, scan))
		}
	}
	return out
}

func (s *Set) testFile(p *Pattern, file, want string, scan ScanFunc) ExampleResult {
	r := ExampleResult{Pattern: p.ID, File: file, Want: want}
	text, err := p.Examples.read(file, scan)
	if err != nil {
		r.Msg = err.Error()
		return r
	}
	ev := s.matcher.scan(text)
	if m := ev.match(Query{}); m != nil {
		r.Got = m.Pattern.ID
	}
	_, self := ev.evaluate(p)
	switch {
	case want == "match" && r.Got == p.ID:
		r.OK = true
	case want == "match" && r.Got == "":
		r.Msg = "matched no pattern"
	case want == "match":
		r.Msg = fmt.Sprintf("matched %s first (priority %d) instead", r.Got, s.Lookup(r.Got).Priority)
	case want == "no_match" && !self:
		r.OK = true
	default:
		r.Msg = "matched, but is listed under no_match"
	}
	return r
}

// glob expands a pattern relative to the examples' directory.
func (e Examples) glob(g string) ([]string, error) {
	var files []string
	var err error
	if e.FS != nil {
		files, err = fs.Glob(e.FS, path.Join(e.Dir, g))
	} else {
		if !filepath.IsAbs(g) {
			g = filepath.Join(e.Dir, g)
		}
		files, err = filepath.Glob(g)
	}
	sort.Strings(files)
	return files, err
}

func (e Examples) read(name string, scan ScanFunc) (*Text, error) {
	var r io.ReadCloser
	var err error
	if e.FS != nil {
		r, err = e.FS.Open(name)
	} else {
		r, err = os.Open(name)
	}
	if err != nil {
		return nil, fmt.Errorf("read example: %w", err)
	}
	defer func() { _ = r.Close() }()
	lines, err := scan(r)
	if err != nil {
		return nil, fmt.Errorf("read example %s: %w", name, err)
	}
	return NewText(lines), nil
}

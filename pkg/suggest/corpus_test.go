package suggest_test

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/self-heal/self-heal/pkg/logscan"
	"github.com/self-heal/self-heal/pkg/pattern"
	"github.com/self-heal/self-heal/pkg/suggest"
)

// logFile is one log of the corpus: its class is the file name's part
// before "--" ("nearmiss" for the look-alikes).
type logFile struct {
	name, class string
	lines       []string
}

// corpusDir is the shared failure corpus beside the repository when it
// is there, else the copy of its logs among the catalogue's examples.
func corpusDir(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(root, "..", "shared", "corpus")
	if _, err := os.Stat(shared); err == nil {
		return shared
	}
	return filepath.Join(root, "patterns", "testdata")
}

func scan(r io.Reader) ([]string, error) {
	w, err := logscan.Scan(r, logscan.Options{})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(w.Lines))
	for i, l := range w.Lines {
		out[i] = l.Text
	}
	return out, nil
}

func readCorpus(t *testing.T) (classes []logFile, near []logFile) {
	t.Helper()
	dir := corpusDir(t)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".log") {
			return err
		}
		class, _, ok := strings.Cut(d.Name(), "--")
		if !ok {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		lines, err := scan(f)
		if err != nil {
			return err
		}
		lf := logFile{name: d.Name(), class: class, lines: lines}
		if class == "nearmiss" {
			near = append(near, lf)
		} else {
			classes = append(classes, lf)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read corpus %s: %v", dir, err)
	}
	if len(classes) < 100 || len(near) < 10 {
		t.Fatalf("corpus %s: %d class logs and %d near misses, want the whole corpus",
			dir, len(classes), len(near))
	}
	return classes, near
}

// writeStubs saves the stubs as `suggest --out` does: each group's logs
// under testdata/<id>/ and a stub file whose examples name them.
func writeStubs(t *testing.T, sugs []suggest.Suggestion, logs []logFile) string {
	t.Helper()
	dir := t.TempDir()
	var pats []*pattern.Pattern
	for _, s := range sugs {
		sub := filepath.Join("testdata", s.Pattern.ID)
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, i := range s.Failures {
			body := strings.Join(logs[i].lines, "\n") + "\n"
			if err := os.WriteFile(filepath.Join(dir, sub, logs[i].name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		s.Pattern.Examples.Match = []string{sub + "/*.log"}
		pats = append(pats, s.Pattern)
	}
	data, err := pattern.Marshal(pats)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "suggested.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadStubs checks the stub file as `patterns lint` and `patterns test`
// do: schema, load, compile, lint without errors, every example matched
// by its own stub.
func loadStubs(t *testing.T, path string) *pattern.Set {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pattern.ValidateSchema(path, data); err != nil {
		t.Fatalf("stubs fail the schema: %v", err)
	}
	files, err := pattern.ReadPath(path, false)
	if err != nil {
		t.Fatalf("load stubs: %v", err)
	}
	set, err := pattern.Compile([]pattern.Layer{{Name: "suggested", Files: files}}, nil)
	if err != nil {
		t.Fatalf("compile stubs: %v", err)
	}
	for _, f := range set.Lint(scan) {
		if !f.Warning {
			t.Errorf("lint: %s", f)
		}
	}
	for _, r := range set.TestExamples(scan) {
		if !r.OK {
			t.Errorf("example %s of %s: %s", r.File, r.Pattern, r.Msg)
		}
	}
	return set
}

// failureLine marks the lines of a log that state the failure.
var failureLine = regexp.MustCompile(`(?i)error|fail|denied|exception|invalid|unauthori|forbidden|` +
	`must|cannot|expired|exceed|not found|timed out|credentials|already exists|in progress`)

// sameWording reports whether every failure line of a near miss is, as a
// template, a line of one of the logs: the near miss says word for word
// what the class says, and only live state could tell them apart.
func sameWording(near logFile, logs []logFile) bool {
	have := map[string]bool{}
	for _, l := range logs {
		for _, line := range l.lines {
			have[suggest.Parse(line).String()] = true
		}
	}
	for _, line := range near.lines {
		if failureLine.MatchString(line) && !have[suggest.Parse(line).String()] {
			return false
		}
	}
	return true
}

// TestSuggest_corpus learns from the corpus with no catalogue at all and
// checks that the stubs separate its failure classes and leave its near
// misses alone.
func TestSuggest_corpus(t *testing.T) {
	t.Parallel()
	logs, near := readCorpus(t)
	failures := make([]suggest.Failure, len(logs))
	allClasses := map[string]bool{}
	for i, l := range logs {
		failures[i] = suggest.Failure{Name: l.name, Lines: l.lines}
		allClasses[l.class] = true
	}
	sugs := suggest.Suggest(failures, suggest.Options{})
	set := loadStubs(t, writeStubs(t, sugs, logs))

	// A class is captured by a stub whose examples all come from it.
	captured, mixed, grouped := map[string]bool{}, 0, 0
	for _, s := range sugs {
		classes := map[string]bool{}
		for _, i := range s.Failures {
			classes[logs[i].class] = true
		}
		if len(classes) > 1 {
			mixed++
			t.Logf("%s groups %d classes: %v", s.Pattern.ID, len(classes), names(classes))
			continue
		}
		captured[logs[s.Failures[0]].class] = true
		if len(s.Failures) > 1 {
			grouped++
		}
	}
	t.Logf("%d logs of %d classes -> %d stubs: %d classes captured, %d stubs of several logs "+
		"of one class, %d mixed", len(logs), len(allClasses), len(sugs), len(captured), grouped, mixed)
	// The corpus holds the 34 classes of the catalogue; 30 must each get
	// a stub of their own.
	if len(captured) < 30 {
		t.Errorf("%d of %d classes captured by a stub of their own, want at least 30",
			len(captured), len(allClasses))
	}
	if grouped < 15 {
		t.Errorf("%d stubs group several logs of one class, want at least 15: the stubs do not generalise",
			grouped)
	}

	for _, n := range near {
		for _, p := range set.Matcher().MatchAll(pattern.NewText(n.lines), pattern.Query{}) {
			members := membersOf(sugs, p.ID, logs)
			if sameWording(n, members) {
				t.Logf("%s matches %s, whose failure lines it repeats word for word", p.ID, n.name)
				continue
			}
			t.Errorf("%s matches near miss %s", p.ID, n.name)
		}
	}
}

func membersOf(sugs []suggest.Suggestion, id string, logs []logFile) []logFile {
	for _, s := range sugs {
		if s.Pattern.ID == id {
			var out []logFile
			for _, i := range s.Failures {
				out = append(out, logs[i])
			}
			return out
		}
	}
	panic(fmt.Sprintf("no stub %s", id))
}

func names(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

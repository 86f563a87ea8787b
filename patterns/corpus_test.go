package patterns_test

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/self-heal/self-heal/pkg/logscan"
	"github.com/self-heal/self-heal/pkg/pattern"
)

// corpusEntry is one log of the shared failure corpus and the class it
// belongs to.
type corpusEntry struct {
	path  string
	class string // a catalogue id, or "" for a near miss that must match nothing
}

// TestCorpus walks the whole failure corpus, from the shared copy beside
// the repository when it is there and from the copies in testdata
// otherwise, and requires every failure log to be classified as its class
// and no near miss (except those word for word the same as a failure) to
// match anything. It prints the figures.
func TestCorpus(t *testing.T) {
	t.Parallel()
	set := load(t)
	entries, source := corpus(t)
	right, failures, fired, nearMisses := 0, 0, 0, 0
	for _, e := range entries {
		got := classify(t, set, e.path)
		base := filepath.Base(e.path)
		if e.class == "" {
			nearMisses++
			if got != "" {
				fired++
				t.Errorf("near miss %s matched %s", base, got)
			}
			continue
		}
		failures++
		if got == e.class {
			right++
		} else {
			t.Errorf("%s classified as %q, want %q", base, got, e.class)
		}
	}
	t.Logf("corpus from %s: right class %d/%d, near misses fired %d/%d", source, right, failures,
		fired, nearMisses)
	if failures < 100 || nearMisses < 10 {
		t.Errorf("corpus too small: %d failures, %d near misses", failures, nearMisses)
	}
}

func classify(t *testing.T, set *pattern.Set, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := logscan.Scan(f, logscan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lines := make([]string, len(w.Lines))
	for i, l := range w.Lines {
		lines[i] = l.Text
	}
	if m := set.Matcher().Match(pattern.NewText(lines), pattern.Query{}); m != nil {
		return m.Pattern.ID
	}
	return ""
}

// corpus lists the corpus with its classes: INDEX.tsv of the shared
// corpus when present, else the testdata copies (directory = class).
func corpus(t *testing.T) ([]corpusEntry, string) {
	t.Helper()
	shared := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(shared, "INDEX.tsv")); err == nil {
		return sharedCorpus(t, shared), shared
	}
	var out []corpusEntry
	dirs, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, d := range dirs {
		logs, _ := filepath.Glob(filepath.Join(d, "*.log"))
		for _, l := range logs {
			class := filepath.Base(d)
			if class == "nearmiss" {
				class = sameText[filepath.Base(l)]
			}
			out = append(out, corpusEntry{path: l, class: class})
		}
	}
	return out, "testdata"
}

func sharedCorpus(t *testing.T, dir string) []corpusEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "INDEX.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 2 || cols[0] == "file" {
			continue
		}
		path := filepath.Join(dir, "logs", cols[0])
		if _, err := os.Stat(path); err != nil {
			continue
		}
		class := cols[1]
		if strings.HasPrefix(class, "nearmiss") {
			class = sameText[cols[0]]
		}
		out = append(out, corpusEntry{path: path, class: class})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

package pattern_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/self-heal/self-heal/pkg/logscan"
	"github.com/self-heal/self-heal/pkg/pattern"
)

// benchSet is the catalogue plus n generated patterns shaped like its own:
// a literal message, a regex around a quoted name, an operation error.
func benchSet(b *testing.B, n int) *pattern.Set {
	b.Helper()
	files, err := pattern.ReadFS(os.DirFS(filepath.Join("..", "..", "patterns")), ".")
	if err != nil {
		b.Fatal(err)
	}
	var y strings.Builder
	y.WriteString("version: 1\npatterns:\n")
	nouns := strings.Fields("vpc subnet bucket role policy table queue topic key cluster")
	for i := range n {
		noun := nouns[i%len(nouns)]
		fmt.Fprintf(&y, "  - id: gen-%d\n    title: t\n    category: aws\n    match:\n", i)
		fmt.Fprintf(&y, "      any:\n        - 'Resource%dInUse: The %s is currently being modified'\n",
			i, noun)
		fmt.Fprintf(&y, "        - {regex: '(?i)the %s ''[^'']+'' (?:is|was) locked by run%d'}\n",
			noun, i)
		fmt.Fprintf(&y, "      all: [{regex: 'operation error EC2: Delete%s%d,[^\\n]*InUse'}]\n",
			strings.ToUpper(noun[:1])+noun[1:], i)
	}
	layers := []pattern.Layer{{Name: "builtin", Files: files}}
	if n > 0 {
		gen, err := pattern.Parse("gen.yaml", []byte(y.String()))
		if err != nil {
			b.Fatal(err)
		}
		layers = append(layers, pattern.Layer{Name: "gen", Files: []*pattern.File{gen}})
	}
	set, err := pattern.Compile(layers, nil)
	if err != nil {
		b.Fatal(err)
	}
	return set
}

func debugLog(b *testing.B) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("..", "logscan", "testdata", "terraform-debug.bench"))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkMatcher_Hot is the per-line prefilter the scanner runs on every
// line of a terraform debug log, with the catalogue and 300 patterns.
func BenchmarkMatcher_Hot(b *testing.B) {
	m := benchSet(b, 300).Matcher()
	data := debugLog(b)
	lines := bytes.Split(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for _, l := range lines {
			m.Hot(l)
		}
	}
}

// BenchmarkMatcher_HotFind is BenchmarkMatcher_Hot over whole blocks of
// lines, as the scanner runs it: one call per hot line.
func BenchmarkMatcher_HotFind(b *testing.B) {
	_, find := benchSet(b, 300).Matcher().HotFilters(logscan.HotWords())
	data := debugLog(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for rest := data; ; {
			i := find(rest)
			if i < 0 {
				break
			}
			j := bytes.IndexByte(rest[i:], '\n')
			if j < 0 {
				break
			}
			rest = rest[i+j+1:]
		}
	}
}

// BenchmarkMatcher_Match matches a 4 MiB failure window of a debug log
// (the scanner's default bound for error blocks) against the catalogue and
// 300 patterns; the failure is at the end.
func BenchmarkMatcher_Match(b *testing.B) {
	for _, n := range []int{0, 300, 1000} {
		b.Run(fmt.Sprintf("patterns=%d", n), func(b *testing.B) {
			set := benchSet(b, n)
			data := bytes.Repeat(debugLog(b), 32)
			tail, err := os.ReadFile(filepath.Join("..", "..", "patterns", "testdata",
				"state-lock", "state-lock--01.log"))
			if err != nil {
				b.Fatal(err)
			}
			w, err := logscan.Scan(bytes.NewReader(append(data, tail...)),
				logscan.Options{Hot: func([]byte) bool { return true }})
			if err != nil {
				b.Fatal(err)
			}
			lines := make([]string, len(w.Lines))
			for i, l := range w.Lines {
				lines[i] = l.Text
			}
			text := pattern.NewText(lines)
			b.SetBytes(int64(len(text.String())))
			for b.Loop() {
				if res := set.Matcher().Match(text, pattern.Query{}); res == nil {
					b.Fatal("no match")
				}
			}
		})
	}
}

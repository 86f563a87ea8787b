package logscan_test

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/logscan"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestScan_golden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// match are literals that must match the window text the way
		// pattern literals do: case-insensitive, any whitespace run
		// matching any whitespace run, line breaks included.
		match []string
	}{
		{"terraform-ansi-state-lock", []string{
			"Error: Error acquiring the state lock",
			"At least one of the pre-conditions you specified did not hold",
			"ID: 538096fe-a194-9191-0c4f-b1159b2aef32",
		}},
		{"terraform-json-state-lock", []string{
			`"@message":"Error: Error acquiring the state lock"`,
			"Lock Info: ID: 538096fe-a194-9191-0c4f-b1159b2aef32",
			`disable locking with the "-lock=false" flag`,
		}},
		{"state-lock-wrapped", []string{
			"ConditionalCheckFailedException: The conditional request failed",
			"Created: 2021-09-27 00:10:27.424064363 +0000 UTC",
		}},
		{"provider-lockfile-mangled", []string{
			"Error: Inconsistent dependency lock file",
			"recorded in the lock file are inconsistent with the current configuration",
		}},
		{"github-raw-crlf", []string{
			"Error: Failed to save state",
			"ExpiredToken: The provided token has expired.",
			"Process completed with exit code 1.",
		}},
		{"docker-progress-cr", []string{
			"d3a49746dc78: Retrying in 5 seconds",
			"4a4be3bbe7b8: Retrying in 1 seconds",
			"no basic auth credentials",
		}},
		{"helm-json-records", []string{
			"Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress",
			"helm.go:81: [debug] another operation",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(filepath.Join("testdata", tt.name+".log"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			w, err := logscan.Scan(f, logscan.Options{})
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}

			checkWindow(t, w)
			compareGolden(t, filepath.Join("testdata", tt.name+".golden"), render(w))
			for _, lit := range tt.match {
				if !literalMatches(w.Text(), lit) {
					t.Errorf("window text does not match %q:\n%s", lit, w.Text())
				}
			}
		})
	}
}

// render prints a window the way the golden files hold it.
func render(w logscan.Window) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# total %d, truncated %t\n", w.Total, w.Truncated)
	for _, l := range w.Lines {
		fmt.Fprintf(&b, "%d\t%s\n", l.N, l.Text)
	}
	return b.String()
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("window of %s differs (-want +got):\n%s", path, diff)
	}
}

// literalMatches matches lit the way pattern literals are matched.
func literalMatches(text, lit string) bool {
	words := strings.Fields(lit)
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	re := regexp.MustCompile(`(?i)` + strings.Join(words, `\s+`))
	return re.MatchString(text)
}

// checkWindow asserts what every window promises: lines in order without
// duplicated raw lines, valid UTF-8, no control bytes, single spaces,
// trimmed ends.
func checkWindow(t *testing.T, w logscan.Window) {
	t.Helper()
	prev := 0
	for i, l := range w.Lines {
		if l.N < prev || l.N < 1 || l.N > w.Total {
			t.Fatalf("line %d has N %d after %d (total %d)", i, l.N, prev, w.Total)
		}
		prev = l.N
		if !utf8.ValidString(l.Text) {
			t.Fatalf("line %d is not valid UTF-8: %q", l.N, l.Text)
		}
		if strings.ContainsFunc(l.Text, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("line %d holds a control character: %q", l.N, l.Text)
		}
		if l.Text != strings.TrimSpace(l.Text) || strings.Contains(l.Text, "  ") {
			t.Fatalf("line %d is not trimmed and single-spaced: %q", l.N, l.Text)
		}
	}
}

// numbers returns the line numbers of a window, one per raw line.
func numbers(w logscan.Window) []int {
	var ns []int
	for _, l := range w.Lines {
		if len(ns) == 0 || ns[len(ns)-1] != l.N {
			ns = append(ns, l.N)
		}
	}
	return ns
}

func span(from, to int) []int {
	var ns []int
	for n := from; n <= to; n++ {
		ns = append(ns, n)
	}
	return ns
}

func join(parts ...[]int) []int {
	var ns []int
	for _, p := range parts {
		ns = append(ns, p...)
	}
	return ns
}

func TestScanner_blocks(t *testing.T) {
	t.Parallel()
	hot := func(raw []byte) bool { return bytes.Contains(raw, []byte("HOT")) }
	tests := []struct {
		name  string
		lines int
		hot   []int
		o     logscan.Options
		want  []int
	}{
		{
			name: "tail only", lines: 100,
			o:    logscan.Options{Tail: 5},
			want: span(96, 100),
		},
		{
			name: "one block before the tail", lines: 100, hot: []int{50},
			o:    logscan.Options{Tail: 5, Before: 2, After: 3},
			want: join(span(48, 53), span(96, 100)),
		},
		{
			name: "overlapping blocks merge", lines: 100, hot: []int{50, 52},
			o:    logscan.Options{Tail: 5, Before: 2, After: 3},
			want: join(span(48, 55), span(96, 100)),
		},
		{
			name: "touching blocks merge", lines: 100, hot: []int{50, 56},
			o:    logscan.Options{Tail: 5, Before: 2, After: 3},
			want: join(span(48, 59), span(96, 100)),
		},
		{
			name: "separate blocks", lines: 100, hot: []int{10, 50},
			o:    logscan.Options{Tail: 5, Before: 2, After: 3},
			want: join(span(8, 13), span(48, 53), span(96, 100)),
		},
		{
			name: "block runs into the tail", lines: 100, hot: []int{93},
			o:    logscan.Options{Tail: 5, Before: 2, After: 3},
			want: span(91, 100),
		},
		{
			name: "hot first line has no context before", lines: 20, hot: []int{1},
			o:    logscan.Options{Tail: 2, Before: 5, After: 1},
			want: join(span(1, 2), span(19, 20)),
		},
		{
			name: "context larger than the tail", lines: 100, hot: []int{50},
			o:    logscan.Options{Tail: 2, Before: 10, After: 1},
			want: join(span(40, 51), span(99, 100)),
		},
		{
			name: "no context", lines: 100, hot: []int{50},
			o:    logscan.Options{Tail: 1, Before: -1, After: -1},
			want: []int{50, 100},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var in strings.Builder
			for n := 1; n <= tt.lines; n++ {
				mark := ""
				if contains(tt.hot, n) {
					mark = " HOT"
				}
				fmt.Fprintf(&in, "line %04d of the generated output%s\n", n, mark)
			}
			tt.o.Hot = hot
			w, err := logscan.Scan(strings.NewReader(in.String()), tt.o)
			if err != nil {
				t.Fatal(err)
			}

			checkWindow(t, w)
			if diff := cmp.Diff(tt.want, numbers(w)); diff != "" {
				t.Errorf("kept lines differ (-want +got):\n%s", diff)
			}
			if w.Truncated || w.Total != tt.lines {
				t.Errorf("Truncated, Total = %t, %d, want false, %d",
					w.Truncated, w.Total, tt.lines)
			}
			for _, l := range w.Lines {
				if want := fmt.Sprintf("line %04d ", l.N); !strings.HasPrefix(l.Text, want) {
					t.Errorf("line %d holds %q", l.N, l.Text)
				}
			}
		})
	}
}

func contains(ns []int, n int) bool {
	for _, m := range ns {
		if m == n {
			return true
		}
	}
	return false
}

func TestScanner_maxKept(t *testing.T) {
	t.Parallel()
	const maxKept = 20 << 10
	s := logscan.New(logscan.Options{
		Tail: 1, Before: 1, After: 1, MaxLine: 1000, MaxKept: maxKept,
	})
	out := s.Stream()
	var blockLines []int
	for n := 1; n <= 10000; n++ {
		if n%100 == 50 {
			fmt.Fprintf(out, "%05d Error: %s\n", n, strings.Repeat("e", 200))
			blockLines = append(blockLines, n-1, n, n+1)
			continue
		}
		fmt.Fprintf(out, "%05d %s\n", n, strings.Repeat("x", 200))
	}
	s.Close()
	w := s.Window()

	// The newest blocks survive whole, the oldest are gone, and what is
	// kept fits the limit.
	got := numbers(w)
	got = got[:len(got)-1] // the tail
	if len(got) < 6 || len(got) >= len(blockLines) {
		t.Fatalf("kept %d block lines of %d", len(got), len(blockLines))
	}
	if diff := cmp.Diff(blockLines[len(blockLines)-len(got):], got); diff != "" {
		t.Errorf("kept lines are not the newest blocks (-want +got):\n%s", diff)
	}
	if got[0]%100 != 49 {
		t.Errorf("oldest kept line is %d, want the first line of a block", got[0])
	}
	if size := len(w.Text()); size > maxKept {
		t.Errorf("kept %d bytes, want at most %d", size, maxKept)
	}
	if !w.Truncated {
		t.Error("Truncated = false, want true")
	}
}

func TestScanner_maxTail(t *testing.T) {
	t.Parallel()
	s := logscan.New(logscan.Options{Tail: 10, MaxLine: 1000, MaxTail: 4000})
	out := s.Stream()
	for n := 1; n <= 30; n++ {
		fmt.Fprintf(out, "%04d %s\n", n, strings.Repeat("x", 900))
	}
	s.Close()
	w := s.Window()

	// Four lines of 905 bytes fit in 4000 bytes; the window says that
	// the other six tail lines are missing.
	if diff := cmp.Diff(span(27, 30), numbers(w)); diff != "" {
		t.Errorf("kept lines differ (-want +got):\n%s", diff)
	}
	if !w.Truncated {
		t.Error("Truncated = false, want true")
	}
}

func TestScanner_splitWrites(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "terraform-ansi-state-lock.log"))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := logscan.Scan(bytes.NewReader(data), logscan.Options{})
	if err != nil {
		t.Fatal(err)
	}

	// The same bytes written in pieces of every size give the same window.
	for size := 1; size <= 64; size++ {
		s := logscan.New(logscan.Options{})
		out := s.Stream()
		for p := data; len(p) > 0; {
			k := min(size, len(p))
			_, _ = out.Write(p[:k])
			p = p[k:]
		}
		s.Close()
		if diff := cmp.Diff(whole, s.Window()); diff != "" {
			t.Fatalf("writes of %d bytes: window differs (-want +got):\n%s", size, diff)
		}
	}
}

func TestScanner_unfinishedLine(t *testing.T) {
	t.Parallel()
	s := logscan.New(logscan.Options{})
	out := s.Stream()
	fmt.Fprint(out, "first\nError: no newline at the end")

	before := s.Window()
	s.Close()
	after := s.Window()
	fmt.Fprint(out, "written after Close\n")

	want := logscan.Window{Lines: []logscan.Line{{N: 1, Text: "first"}}, Total: 1}
	if diff := cmp.Diff(want, before); diff != "" {
		t.Errorf("window before Close differs (-want +got):\n%s", diff)
	}
	want.Lines = append(want.Lines, logscan.Line{N: 2, Text: "Error: no newline at the end"})
	want.Total = 2
	if diff := cmp.Diff(want, after); diff != "" {
		t.Errorf("window after Close differs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, s.Window()); diff != "" {
		t.Errorf("a write after Close changed the window (-want +got):\n%s", diff)
	}
}

func TestScanner_concurrentStreams(t *testing.T) {
	t.Parallel()
	const perStream = 5000
	s := logscan.New(logscan.Options{Tail: 2 * perStream, MaxTail: 8 << 20})
	var wg sync.WaitGroup
	for _, name := range []string{"stdout", "stderr"} {
		out := s.Stream()
		wg.Go(func() {
			var buf bytes.Buffer
			for i := range perStream {
				fmt.Fprintf(&buf, "%s line %d\n", name, i)
			}
			// Pieces that end mid-line, so that both streams hold
			// unfinished lines while the other one writes.
			rng := rand.New(rand.NewPCG(uint64(len(name)), 1))
			for p := buf.Bytes(); len(p) > 0; {
				k := min(1+rng.IntN(97), len(p))
				_, _ = out.Write(p[:k])
				p = p[k:]
			}
		})
	}
	wg.Wait()
	s.Close()
	w := s.Window()

	checkWindow(t, w)
	if w.Total != 2*perStream || len(w.Lines) != 2*perStream {
		t.Fatalf("Total, lines = %d, %d, want %d", w.Total, len(w.Lines), 2*perStream)
	}
	next := map[string]int{}
	for i, l := range w.Lines {
		var name string
		var k int
		if _, err := fmt.Sscanf(l.Text, "%s line %d", &name, &k); err != nil {
			t.Fatalf("line %d = %q: a line mixes streams", l.N, l.Text)
		}
		if k != next[name] || l.N != i+1 {
			t.Fatalf("line %d = %q, want %s line %d", l.N, l.Text, name, next[name])
		}
		next[name]++
	}
}

func Example() {
	s := logscan.New(logscan.Options{Tail: 4})
	stderr := s.Stream()

	// What terraform prints when another run holds the state lock,
	// colours and gutters included.
	fmt.Fprint(stderr, "\x1b[31m╷\x1b[0m\x1b[0m\n")
	fmt.Fprint(stderr, "\x1b[31m│\x1b[0m \x1b[0m\x1b[1m\x1b[31mError: \x1b[0m\x1b[0m"+
		"\x1b[1mError acquiring the state lock\x1b[0m\n")
	fmt.Fprint(stderr, "\x1b[31m│\x1b[0m \x1b[0m  ID:        538096fe-a194-9191\n")
	fmt.Fprint(stderr, "\x1b[31m╵\x1b[0m\x1b[0m")
	s.Close()

	w := s.Window()
	fmt.Printf("%d lines\n%s\n", w.Total, w.Text())
	// Output:
	// 4 lines
	//
	// Error: Error acquiring the state lock
	// ID: 538096fe-a194-9191
}

func ExampleNormalize() {
	raw := []byte("2024-05-01T12:00:00.1234567Z \x1b[31m│\x1b[0m   Error:  \x1b[1mtimeout\x1b[0m\r")
	fmt.Printf("%q\n", logscan.Normalize(nil, raw))

	record := []byte(`{"level":"error","msg":"Error: boom\n\u001b[2mdetail\u001b[0m"}`)
	fmt.Printf("%q\n", logscan.Normalize(nil, record))
	// Output:
	// "Error: timeout"
	// "{\"level\":\"error\",\"msg\":\"Error: boom\ndetail\"}"
}

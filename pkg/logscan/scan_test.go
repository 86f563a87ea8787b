package logscan_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/logscan"
)

// TestScan_sameAsStream checks that Scan, which splits a log into blocks
// of whole lines and runs the hot test ahead, gives the window that one
// stream fed with the whole log gives.
func TestScan_sameAsStream(t *testing.T) {
	t.Parallel()
	debug, err := os.ReadFile(filepath.Join("testdata", "terraform-debug.bench"))
	if err != nil {
		t.Fatal(err)
	}
	long := bytes.Repeat([]byte("x"), 300<<10)
	cases := map[string][]byte{
		"debug log over many blocks": bytes.Repeat(debug, 24),
		"a line longer than a block": append(append(append([]byte{}, debug...), long...),
			debug...),
		"no final newline":   append(bytes.Repeat(debug, 3), "Error: the end"...),
		"carriage returns":   []byte(strings.Repeat("progress 10%\rprogress 50%\rError: x\r\n", 9000)),
		"empty":              nil,
		"only a long line":   long,
		"newlines only":      bytes.Repeat([]byte("\n"), 300<<10),
		"hot near the start": append([]byte("Error: first\n"), bytes.Repeat(debug, 4)...),
	}
	logs, _ := filepath.Glob(filepath.Join("testdata", "*.log"))
	for _, name := range logs {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		cases[filepath.Base(name)] = data
	}
	opts := map[string]logscan.Options{
		"defaults": {},
		"small":    {Tail: 3, Before: 2, After: 4, MaxLine: 100, MaxKept: 4096, MaxTail: 2048},
		"every third line hot": {Hot: func(raw []byte) bool {
			return len(raw)%3 == 0
		}},
	}
	for name, data := range cases {
		for oname, o := range opts {
			t.Run(name+"/"+oname, func(t *testing.T) {
				t.Parallel()
				s := logscan.New(o)
				_, _ = s.Stream().Write(data)
				s.Close()
				want := s.Window()
				got, err := logscan.Scan(bytes.NewReader(data), o)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Scan() differs from one stream (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestScanner_anySplit checks that the window does not depend on how the
// output arrives: the same bytes written in pieces of random sizes (some
// of them many lines long, as a pipe delivers them) give the window of
// one write.
func TestScanner_anySplit(t *testing.T) {
	t.Parallel()
	debug, err := os.ReadFile(filepath.Join("testdata", "terraform-debug.bench"))
	if err != nil {
		t.Fatal(err)
	}
	data := append(bytes.Repeat(debug, 6), "Error: \x1b[31mthe end\x1b[0m\r\nlast"...)
	opts := map[string]logscan.Options{
		"defaults":   {},
		"small":      {Tail: 3, Before: 2, After: 4, MaxLine: 100, MaxKept: 4096, MaxTail: 2048},
		"no context": {Before: -1, After: -1, Tail: 1},
		"every third line hot": {Hot: func(raw []byte) bool {
			return len(raw)%3 == 0
		}},
	}
	for oname, o := range opts {
		t.Run(oname, func(t *testing.T) {
			t.Parallel()
			s := logscan.New(o)
			_, _ = s.Stream().Write(data)
			s.Close()
			want := s.Window()

			rng := rand.New(rand.NewPCG(1, uint64(len(oname))))
			for round := range 4 {
				s := logscan.New(o)
				out := s.Stream()
				for p := data; len(p) > 0; {
					k := min(1+rng.IntN(64<<(3*round)), len(p))
					_, _ = out.Write(p[:k])
					p = p[k:]
				}
				s.Close()
				if diff := cmp.Diff(want, s.Window()); diff != "" {
					t.Fatalf("round %d: window differs (-want +got):\n%s", round, diff)
				}
			}
		})
	}
}

package logscan_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/self-heal/self-heal/pkg/logscan"
)

// The tests in this file measure the heap, so they do not run in
// parallel with the others.

// allocated runs f and returns the bytes it allocated and the heap still
// in use afterwards, both measured by the runtime.
func allocated(f func()) (total, live uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	total = after.TotalAlloc - before.TotalAlloc
	live = after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
	return total, live
}

const mib = 1 << 20

// writeAll writes r to w in pieces of at most len(buf) bytes.
func writeAll(t *testing.T, w io.Writer, r io.Reader, buf []byte) {
	t.Helper()
	// The wrappers hide ReadFrom and WriteTo, so that buf is used.
	if _, err := io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{r}, buf); err != nil {
		t.Fatal(err)
	}
}

// generatedLog is a reader of about size bytes of terraform-like output
// with an error block every few thousand lines and a long line now and
// then. It produces the log as it is read, allocating little itself.
type generatedLog struct {
	size, errEvery int
	done, n        int
	buf            []byte
}

var longBody = strings.Repeat(`{"k":1},`, 4000)

func (g *generatedLog) Read(p []byte) (int, error) {
	for len(g.buf) < len(p) && g.done < g.size {
		g.n++
		before := len(g.buf)
		switch {
		case g.errEvery > 0 && g.n%g.errEvery == 0:
			g.buf = append(g.buf, "\x1b[31m│\x1b[0m Error: creating subnet "...)
			g.buf = strconv.AppendInt(g.buf, int64(g.n), 10)
			g.buf = append(g.buf, ": operation error\n"...)
		case g.n%777 == 0:
			g.buf = append(g.buf, "[DEBUG] response body: "...)
			g.buf = append(g.buf, longBody...)
			g.buf = append(g.buf, '\n')
		default:
			g.buf = append(g.buf, "2024-05-01T12:00:00.000Z [DEBUG] line "...)
			g.buf = strconv.AppendInt(g.buf, int64(g.n), 10)
			g.buf = append(g.buf, ": module.vpc.aws_subnet.private[3]: Refreshing state...\n"...)
		}
		g.done += len(g.buf) - before
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.buf)
	g.buf = g.buf[:copy(g.buf, g.buf[n:])]
	return n, nil
}

func TestScanner_boundedOnLargeLog(t *testing.T) {
	size := 200 * mib
	if testing.Short() {
		size = 20 * mib
	}
	tests := []struct {
		name     string
		errEvery int
		// maxAlloc bounds all bytes allocated while scanning, maxLive
		// those the scanner holds at the end.
		maxAlloc, maxLive uint64
	}{
		// Lines that are not kept cost no allocation: the tail is one
		// buffer allocated up front.
		{name: "quiet", maxAlloc: 2 * mib, maxLive: 2 * mib},
		// Error blocks come and go in buffers that stop growing at
		// MaxKept (4 MiB) and MaxTail (1 MiB).
		{name: "noisy", errEvery: 100, maxAlloc: 16 * mib, maxLive: 8 * mib},
	}
	buf := make([]byte, 64<<10)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s *logscan.Scanner
			total, live := allocated(func() {
				s = logscan.New(logscan.Options{})
				writeAll(t, s.Stream(), &generatedLog{size: size, errEvery: tt.errEvery}, buf)
				s.Close()
			})
			w := s.Window()
			t.Logf("%d MiB, %d lines: allocated %d KiB, %d KiB in use, window %d lines",
				size/mib, w.Total, total>>10, live>>10, len(w.Lines))

			checkWindow(t, w)
			if total > tt.maxAlloc || live > tt.maxLive {
				t.Errorf("%d MiB: allocated %d KiB, kept %d KiB, want at most %d and %d",
					size/mib, total>>10, live>>10, tt.maxAlloc>>10, tt.maxLive>>10)
			}
			if n := len(w.Text()); n > 6*mib {
				t.Errorf("window text is %d bytes, want at most 6 MiB", n)
			}
			if last := w.Lines[len(w.Lines)-1].N; last != w.Total {
				t.Errorf("last line kept is %d, want the last of %d", last, w.Total)
			}
			noisy := tt.errEvery > 0
			hasErrors := strings.Contains(w.Text(), "Error: creating subnet")
			if hasErrors != noisy || w.Truncated != noisy {
				t.Errorf("Truncated = %t, want %t (the blocks pass MaxKept only when noisy)",
					w.Truncated, noisy)
			}
			runtime.KeepAlive(s)
		})
	}
}

func TestScanner_longLine(t *testing.T) {
	const maxLine = 64 << 10
	line := strings.Repeat("0123456789abcdef", 10*mib/16)
	for _, piece := range []int{len(line) + 20, 32 << 10, 4093} {
		t.Run(fmt.Sprint(piece), func(t *testing.T) {
			var w logscan.Window
			in := "Error: before\n" + line + "\nafter\n"
			buf := make([]byte, piece)
			total, _ := allocated(func() {
				s := logscan.New(logscan.Options{MaxLine: maxLine})
				writeAll(t, s.Stream(), strings.NewReader(in), buf)
				s.Close()
				w = s.Window()
			})

			if len(w.Lines) != 3 || w.Total != 3 {
				t.Fatalf("window has %d lines of %d, want 3", len(w.Lines), w.Total)
			}
			if got := w.Lines[1].Text; got != line[:maxLine] {
				t.Errorf("long line kept as %d bytes starting %.20q, want its first %d",
					len(got), got, maxLine)
			}
			if w.Lines[2].Text != "after" {
				t.Errorf("line after the long one = %q, want %q", w.Lines[2].Text, "after")
			}
			if total > 4*mib {
				t.Errorf("a 10 MiB line allocated %d KiB", total>>10)
			}
		})
	}
}

func TestScanner_binary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 16*mib)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	var w logscan.Window
	buf := make([]byte, 64<<10)
	total, _ := allocated(func() {
		s := logscan.New(logscan.Options{})
		writeAll(t, s.Stream(), bytes.NewReader(data), buf)
		s.Close()
		w = s.Window()
	})

	checkWindow(t, w)
	if want := bytes.Count(data, []byte("\n")) + 1; w.Total != want {
		t.Errorf("Total = %d, want %d", w.Total, want)
	}
	if total > 32*mib {
		t.Errorf("16 MiB of binary output allocated %d MiB", total/mib)
	}
}

func TestScanner_progressWithoutNewline(t *testing.T) {
	var w logscan.Window
	total, _ := allocated(func() {
		s := logscan.New(logscan.Options{MaxLine: 4 << 10})
		out := s.Stream()
		fmt.Fprint(out, "Pulling image\n")
		bar := strings.Repeat("=", 40)
		frame := make([]byte, 0, 128)
		for i := range 2_000_000 {
			frame = append(frame[:0], "\r\x1b[KDownloading "...)
			frame = strconv.AppendInt(frame, int64(i), 10)
			frame = append(frame, " ["...)
			frame = append(frame, bar[:i%40]...)
			_, _ = out.Write(append(frame, ']'))
		}
		fmt.Fprint(out, "\r\x1b[KError: pull access denied\r\n")
		s.Close()
		w = s.Window()
	})

	want := []string{"Pulling image", "Error: pull access denied"}
	if len(w.Lines) != 2 || w.Lines[0].Text != want[0] || w.Lines[1].Text != want[1] {
		t.Errorf("window = %q, want %q", w.Text(), strings.Join(want, "\n"))
	}
	if total > 8*mib {
		t.Errorf("progress output allocated %d MiB", total/mib)
	}
}

// BenchmarkScanner measures the steady state of one scanner fed a
// terraform debug log in pieces as a pipe delivers them. About a tenth of
// the lines of a debug log are hot, so most lines end up in error blocks.
func BenchmarkScanner(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "terraform-debug.bench"))
	if err != nil {
		b.Fatal(err)
	}
	const piece = 32 << 10
	s := logscan.New(logscan.Options{})
	out := s.Stream()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		for p := data; len(p) > 0; {
			k := min(piece, len(p))
			_, _ = out.Write(p[:k])
			p = p[k:]
		}
	}
	s.Close()
}

// BenchmarkScanner_quiet is BenchmarkScanner on a log where no line is
// hot: the cost of a line that is not kept.
func BenchmarkScanner_quiet(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "terraform-debug.bench"))
	if err != nil {
		b.Fatal(err)
	}
	const piece = 32 << 10
	s := logscan.New(logscan.Options{Hot: func([]byte) bool { return false }})
	out := s.Stream()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for p := data; len(p) > 0; {
			k := min(piece, len(p))
			_, _ = out.Write(p[:k])
			p = p[k:]
		}
	}
	s.Close()
}

func BenchmarkScanner_window(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "terraform-debug.bench"))
	if err != nil {
		b.Fatal(err)
	}
	s := logscan.New(logscan.Options{})
	_, _ = s.Stream().Write(bytes.Repeat(data, 32))
	s.Close()
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Window()
	}
}

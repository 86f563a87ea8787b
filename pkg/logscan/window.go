package logscan

import (
	"bytes"
	"strings"
)

// Line is one normalised line of a [Window].
type Line struct {
	N    int    // 1-based number of the raw line in the whole output
	Text string // normalised text
}

// Window is the failure window of a step's output: the tail and every
// error block, normalised, in output order and without duplicates. A raw
// line that held escaped newlines becomes several Lines with the same N.
type Window struct {
	Lines []Line
	// Total is the number of raw lines seen.
	Total int
	// Truncated reports that lines the window would hold were dropped to
	// stay within [Options.MaxKept] or [Options.MaxTail].
	Truncated bool
}

// Text returns the lines' text joined with "\n": what patterns match.
func (w Window) Text() string {
	var b strings.Builder
	for i, l := range w.Lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l.Text)
	}
	return b.String()
}

// rawLine is a kept line copied out of the scanner.
type rawLine struct {
	n          int
	start, end int // in the snapshot's buffer
}

// Window returns a snapshot of the failure window. It may be called at
// any time, also after [Scanner.Close]; unfinished lines are not in it
// until Close ends them.
func (s *Scanner) Window() Window {
	s.mu.Lock()
	buf, lines, truncated := s.snapshot()
	total := s.n
	s.mu.Unlock()

	return Window{Lines: normalizeAll(buf, lines), Total: total, Truncated: truncated}
}

// snapshot copies the raw bytes of the kept lines and of the tail, merged
// by line number, so that normalising can happen without the lock. It
// also reports whether lines are missing from the window.
func (s *Scanner) snapshot() ([]byte, []rawLine, bool) {
	var buf []byte
	var lines []rawLine
	add := func(e entry, q *lineStore) {
		lines = append(lines, rawLine{n: e.n, start: len(buf), end: len(buf) + e.size})
		buf = append(buf, q.bytes(e)...)
	}

	// The tail store may hold Before lines more than the tail.
	tailFrom := s.n - s.o.Tail + 1
	t := 0
	for t < s.tail.count && s.tail.at(t).n < tailFrom {
		t++
	}
	// takeTail adds the tail lines older than n and skips line n.
	takeTail := func(n int) {
		for ; t < s.tail.count && s.tail.at(t).n <= n; t++ {
			if e := s.tail.at(t); e.n < n {
				add(e, s.tail)
			}
		}
	}
	for i := range s.kept.count {
		e := s.kept.at(i)
		takeTail(e.n)
		add(e, s.kept)
	}
	takeTail(s.n + 1)

	inTail := 0
	for _, l := range lines {
		if l.n >= tailFrom {
			inTail++
		}
	}
	missing := inTail < min(s.o.Tail, s.n)
	return buf, lines, s.truncated || missing
}

// normalizeAll normalises the snapshot's lines into one string and
// slices the lines' text out of it.
func normalizeAll(buf []byte, lines []rawLine) []Line {
	out := make([]byte, 0, len(buf)+len(buf)/8)
	type span struct{ n, start, end int }
	spans := make([]span, 0, len(lines))
	for _, l := range lines {
		start := len(out)
		out = Normalize(out, buf[l.start:l.end])
		for {
			j := bytes.IndexByte(out[start:], '\n')
			if j < 0 {
				break
			}
			spans = append(spans, span{l.n, start, start + j})
			start += j + 1
		}
		spans = append(spans, span{l.n, start, len(out)})
	}

	text := string(out)
	result := make([]Line, len(spans))
	for k, sp := range spans {
		result[k] = Line{N: sp.n, Text: text[sp.start:sp.end]}
	}
	return result
}

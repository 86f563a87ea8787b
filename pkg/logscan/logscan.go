package logscan

import (
	"bytes"
	"io"
	"sync"
	"unicode/utf8"
)

// Options bound what a [Scanner] keeps. Zero fields take their defaults;
// a negative Before or After keeps no context on that side.
type Options struct {
	Tail    int // last lines always kept (default 200)
	Before  int // context lines kept before a hot line (default 5)
	After   int // lines kept after a hot line (default 40)
	MaxLine int // bytes of one line kept; the rest of a longer line is dropped (default 64 KiB)
	MaxKept int // bytes of error blocks kept; oldest blocks are dropped first (default 4 MiB)
	MaxTail int // bytes of tail lines kept; oldest tail lines are dropped first (default 1 MiB)
	// Hot marks a raw line (cut to MaxLine) as the start of an error
	// block; nil means [DefaultHot]. It is called on every line, under
	// the scanner's lock, so it must be fast.
	Hot func(raw []byte) bool
	// HotFind, when set, is Hot over many lines at once, so that the
	// scanner tests a run of lines in one call: it returns the offset in
	// b of a hot phrase that lies within one line of b, no earlier line
	// holding one, or -1 when no line of b is hot. It must agree with
	// Hot. Hot alone decides on lines longer than MaxLine. A nil Hot
	// sets it to the one of [DefaultHot].
	HotFind func(b []byte) int
}

// minKeptLine is the average line length for which MaxKept bytes of
// error blocks are kept; shorter lines are limited by their number, so
// that the bookkeeping stays within a fraction of MaxKept.
const minKeptLine = 64

// The defaults of [Options].
const (
	DefaultTail    = 200
	DefaultBefore  = 5
	DefaultAfter   = 40
	DefaultMaxLine = 64 << 10
	DefaultMaxKept = 4 << 20
	DefaultMaxTail = 1 << 20
)

func (o Options) withDefaults() Options {
	o.Tail = orDefault(o.Tail, DefaultTail)
	o.Before = max(orDefault(o.Before, DefaultBefore), 0)
	o.After = max(orDefault(o.After, DefaultAfter), 0)
	o.MaxLine = orDefault(o.MaxLine, DefaultMaxLine)
	o.MaxKept = max(orDefault(o.MaxKept, DefaultMaxKept), o.MaxLine)
	o.MaxTail = max(orDefault(o.MaxTail, DefaultMaxTail), o.MaxLine)
	if o.Hot == nil {
		o.Hot, o.HotFind = DefaultHot, defaultHot.find
	}
	return o
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Scanner captures the failure window of a step's output as it streams
// by: the last lines and every error block, in bounded memory. Raw bytes
// are kept and normalised only when [Scanner.Window] is called. A Scanner
// is safe for concurrent use; its zero value is not usable, call [New].
type Scanner struct {
	o Options

	mu         sync.Mutex
	n          int // lines completed so far
	after      int // the last line that the latest hot line's After covers
	blockStart int // the first line of the newest error block
	tail       *lineStore
	kept       *lineStore
	truncated  bool
	closed     bool
	streams    []*stream
	// recent holds the latest lines of the block being recorded,
	// borrowed from it: the context of a hot line and the tail's lines.
	recent [][]byte
}

// New returns a Scanner with o's limits.
func New(o Options) *Scanner {
	o = o.withDefaults()
	tail := newLineStore(o.MaxTail, max(o.Tail, o.Before))
	return &Scanner{
		o:      o,
		tail:   tail,
		kept:   newLineStore(o.MaxKept, o.MaxKept/minKeptLine),
		recent: make([][]byte, tail.maxLines),
	}
}

// Stream returns a new writer for one output stream (stdout, stderr).
// Each writer has its own buffer for an unfinished line; complete lines
// from all writers enter one window in the order they complete. Writes
// never fail, so the writer can sit in an [io.MultiWriter] beside the job
// log; after [Scanner.Close] they are discarded.
func (s *Scanner) Stream() io.Writer {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := &stream{s: s}
	s.streams = append(s.streams, w)
	return w
}

// Close ends every stream's unfinished line as a line of its own. Later
// writes are discarded. Close may be called more than once.
func (s *Scanner) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for _, w := range s.streams {
		if len(w.partial) > 0 {
			s.line(w.partial)
		}
		w.partial = nil
	}
	s.closed = true
}

// line records one complete raw line; raw is only borrowed.
func (s *Scanner) line(raw []byte) {
	s.lineHot(raw, s.o.Hot(raw))
}

// lineHot records a line whose hot test is done.
func (s *Scanner) lineHot(raw []byte, hot bool) {
	s.record(raw, hot, s.tail.get)
	s.tail.push(s.n, raw)
}

// record numbers a line and keeps it in the error blocks when it is hot
// or follows a hot line closely; earlier returns the lines before it for
// the context of a hot line. The caller puts the line in the tail.
func (s *Scanner) record(raw []byte, hot bool, earlier func(n int) ([]byte, bool)) {
	s.n++
	n := s.n
	switch {
	case hot:
		s.keepBefore(n, earlier)
		s.keep(n, raw)
		s.after = n + s.o.After
	case n <= s.after:
		s.keep(n, raw)
	}
}

// keepBefore copies the context lines before hot line n into the error
// blocks, skipping those already kept.
func (s *Scanner) keepBefore(n int, earlier func(n int) ([]byte, bool)) {
	for m := max(n-s.o.Before, s.kept.newest()+1, 1); m < n; m++ {
		if raw, ok := earlier(m); ok {
			s.keep(m, raw)
		}
	}
}

// keep adds line n to the error blocks. When older lines must go to make
// room, the rest of their block goes with them, unless it is the newest
// block, which only loses its oldest lines.
func (s *Scanner) keep(n int, raw []byte) {
	if s.kept.newest() != n-1 {
		s.blockStart = n // after a gap, a new block
	}
	dropped, last := s.kept.push(n, raw)
	if dropped == 0 {
		return
	}
	s.truncated = true
	for s.kept.count > 0 {
		e := s.kept.at(0)
		if e.n != last+1 || e.n >= s.blockStart {
			return
		}
		last = s.kept.pop().n
	}
}

// stream is the writer for one output stream.
type stream struct {
	s       *Scanner
	partial []byte // the kept start of an unfinished line
	cr      bool   // the last byte seen of the unfinished line was '\r'
}

// Write records the complete lines in p and buffers the unfinished end.
func (w *stream) Write(p []byte) (int, error) {
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return len(p), nil
	}

	rest := p
	if len(w.partial) > 0 || w.cr {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			w.extend(rest)
			return len(p), nil
		}
		w.extend(rest[:i])
		s.line(w.partial)
		w.partial, w.cr = w.partial[:0], false
		rest = rest[i+1:]
	}

	// The fast path: whole lines are read in place.
	if end := bytes.LastIndexByte(rest, '\n'); end >= 0 {
		s.block(rest[:end+1])
		rest = rest[end+1:]
	}
	w.extend(rest)
	return len(p), nil
}

// block records the whole lines of data, which ends with a newline, in
// place. The context of a hot line comes from the block while it is in
// the block, and only the lines that the tail still holds at the end of
// the block are copied into it, so a line that is not kept costs its
// newline search and its hot test.
func (s *Scanner) block(data []byte) {
	first := s.n + 1
	recent := s.recent // the block's latest lines, by line number modulo its length
	earlier := func(m int) ([]byte, bool) {
		if m >= first {
			return recent[m%len(recent)], true
		}
		return s.tail.get(m)
	}
	hits := hotFinder{find: s.o.HotFind, data: data, next: -1}
	for start := 0; start < len(data); {
		end := start + bytes.IndexByte(data[start:], '\n')
		raw := fit(data[start:end], s.o.MaxLine)
		s.record(raw, hits.hot(start, end, raw, s.o.Hot), earlier)
		recent[s.n%len(recent)] = raw
		start = end + 1
	}
	for n := max(first, s.n-s.tail.maxLines+1); n <= s.n; n++ {
		s.tail.push(n, recent[n%len(recent)])
	}
	clear(recent)
}

// hotFinder runs the hot test over the lines of a block in order, with
// one call of [Options.HotFind] per hot line where it is set.
type hotFinder struct {
	find func([]byte) int
	data []byte
	next int // offset of the next hot phrase, len(data) for none, -1 before the first search
}

// hot reports whether the line at data[start:end], raw when cut to
// MaxLine, is hot; the lines must be asked for in order.
func (h *hotFinder) hot(start, end int, raw []byte, hot func([]byte) bool) bool {
	if h.find == nil || len(raw) < end-start {
		return hot(raw)
	}
	if h.next < start {
		h.next = len(h.data)
		if i := h.find(h.data[start:]); i >= 0 {
			h.next = start + i
		}
	}
	return h.next < end
}

// extend adds b to the unfinished line. Text that a carriage return has
// already overwritten is dropped at once, so progress output that never
// ends its line keeps only its latest state.
func (w *stream) extend(b []byte) {
	if len(b) == 0 {
		return
	}
	if w.cr && b[0] != '\r' {
		w.partial = w.partial[:0]
	}
	w.cr = b[len(b)-1] == '\r'
	if j := rewriteStart(b); j > 0 {
		w.partial = w.partial[:0]
		b = b[j:]
	}
	room := w.s.o.MaxLine - len(w.partial)
	w.partial = append(w.partial, fit(b, room)...)
}

// fit returns the part of a raw line that is kept within limit bytes:
// what a carriage return overwrote goes first, then the end, cut at a
// UTF-8 character boundary.
func fit(b []byte, limit int) []byte {
	if len(b) <= limit {
		return b
	}
	b = b[rewriteStart(b):]
	if len(b) <= limit {
		return b
	}
	cut := max(limit, 0)
	for i := 0; i < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(b[cut]); i++ {
		cut--
	}
	return b[:cut]
}

package logscan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Scan reads a saved log to the end and returns its window. On a read
// error it returns the window of what was read and the error.
//
// Scan uses two goroutines: one reads the log in blocks of whole lines
// and runs [Options.Hot] on each line, the other records the lines, so
// that a long log is read at about twice the speed of one [Scanner.Stream]
// on a machine with two cores. The window is the same as a Stream's.
func Scan(r io.Reader, o Options) (Window, error) {
	s := New(o)
	w := s.Stream().(*stream)
	blocks := make(chan *scanBlock, scanDepth)
	free := make(chan *scanBlock, scanDepth+1)
	for range scanDepth + 1 {
		free <- &scanBlock{}
	}
	errc := make(chan error, 1)
	go func() { errc <- readBlocks(r, s.o, blocks, free) }()

	for b := range blocks {
		if b.ends == nil {
			_, _ = w.Write(b.data) // never fails
		} else {
			s.lines(b)
		}
		free <- b
	}
	err := <-errc
	s.Close()
	if !errors.Is(err, io.EOF) {
		return s.Window(), fmt.Errorf("read log: %w", err)
	}
	return s.Window(), nil
}

// scanDepth is how many blocks the reader may be ahead of the recorder.
const (
	scanDepth     = 2
	scanBlockSize = 256 << 10
)

// scanBlock is a run of whole lines, with where each ends and whether it
// is hot. A block without ends holds bytes for [stream.Write]: the end of
// the log, or a line longer than the block.
type scanBlock struct {
	buf  []byte
	data []byte
	ends []int // offset of each line's '\n'
	hot  []bool
}

// readBlocks reads r into blocks that end at a line end, finds the lines
// of each and runs o.Hot on them. It returns the read error (io.EOF at
// the end) after sending every block.
func readBlocks(r io.Reader, o Options, blocks chan<- *scanBlock, free <-chan *scanBlock) error {
	defer close(blocks)
	var carry []byte
	whole := true // false once a line did not fit a block: Write takes over
	for {
		b := <-free
		if cap(b.buf) < scanBlockSize+len(carry) {
			b.buf = make([]byte, scanBlockSize+len(carry))
		}
		buf := b.buf[:cap(b.buf)]
		n := copy(buf, carry)
		m, err := io.ReadFull(r, buf[n:n+scanBlockSize])
		data := buf[:n+m]
		cut := bytes.LastIndexByte(data, '\n') + 1
		if !whole || err != nil || cut == 0 {
			// The end of the log, or a line longer than a block.
			whole = whole && cut > 0
			b.data, b.ends, b.hot = data, nil, nil
			carry = nil
			blocks <- b
			if err != nil {
				if errors.Is(err, io.ErrUnexpectedEOF) {
					err = io.EOF
				}
				return err
			}
			continue
		}
		carry = append(carry[:0], data[cut:]...)
		b.data = data[:cut]
		b.findLines(o)
		blocks <- b
	}
}

// findLines records where each line of the block ends and runs the hot
// test on it, cut to o.MaxLine as the scanner would.
func (b *scanBlock) findLines(o Options) {
	b.ends, b.hot = b.ends[:0], b.hot[:0]
	hits := hotFinder{find: o.HotFind, data: b.data, next: -1}
	start := 0
	for start < len(b.data) {
		i := bytes.IndexByte(b.data[start:], '\n')
		end := start + i
		b.ends = append(b.ends, end)
		b.hot = append(b.hot, hits.hot(start, end, fit(b.data[start:end], o.MaxLine), o.Hot))
		start = end + 1
	}
}

// lines records the block's lines with the hot flags found for them.
// Only the lines the tail still holds at the end of the block are copied
// into it; the context of a hot line comes from the block while it is in
// the block.
func (s *Scanner) lines(b *scanBlock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.n + 1
	line := func(k int) []byte {
		start := 0
		if k > 0 {
			start = b.ends[k-1] + 1
		}
		return fit(b.data[start:b.ends[k]], s.o.MaxLine)
	}
	earlier := func(m int) ([]byte, bool) {
		if m >= first {
			return line(m - first), true
		}
		return s.tail.get(m)
	}
	start := 0
	for k, end := range b.ends {
		s.record(fit(b.data[start:end], s.o.MaxLine), b.hot[k], earlier)
		start = end + 1
	}
	for k := max(len(b.ends)-s.tail.maxLines, 0); k < len(b.ends); k++ {
		s.tail.push(first+k, line(k))
	}
}

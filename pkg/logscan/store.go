package logscan

// lineStore keeps raw lines, oldest first, in one circular byte buffer
// with a queue of entries. Each line is stored whole: when it does not fit
// before the end of the buffer, it starts again at the front. When a new
// line needs room, the buffer grows up to maxBytes and then the oldest
// lines go, so memory stays within maxBytes plus maxLines entries and
// nothing is allocated once the buffer is full.
type lineStore struct {
	maxBytes int
	maxLines int

	buf   []byte
	start int // virtual position of the oldest live byte
	end   int // virtual position after the newest byte
	endAt int // end's offset in buf

	ents  []entry // circular queue of the lines; its length is a power of two
	head  int     // index of the oldest entry
	count int
}

type entry struct {
	n    int // line number
	pos  int // virtual position of the first byte
	at   int // offset of the first byte in buf
	size int
}

func newLineStore(maxBytes, maxLines int) *lineStore {
	return &lineStore{maxBytes: maxBytes, maxLines: max(maxLines, 1)}
}

// push stores line n, cut to maxBytes, and returns how many old lines it
// dropped to make room and the number of the newest of them.
func (q *lineStore) push(n int, raw []byte) (dropped, last int) {
	raw = raw[:min(len(raw), q.maxBytes)]
	drop := func() {
		last = q.pop().n
		dropped++
	}
	if q.count == q.maxLines {
		drop()
	}
	for !q.fits(len(raw)) {
		if len(q.buf) < q.maxBytes {
			q.grow(len(raw))
			continue
		}
		drop()
	}
	if q.count == len(q.ents) {
		q.growEntries()
	}

	copy(q.buf[q.endAt:], raw)
	q.ents[(q.head+q.count)&(len(q.ents)-1)] = entry{
		n: n, pos: q.end, at: q.endAt, size: len(raw),
	}
	q.count++
	q.end += len(raw)
	q.endAt += len(raw)
	return dropped, last
}

// fits reports whether size more bytes fit without overwriting live ones,
// and moves the write position to the front of the buffer when the line
// has to start there.
func (q *lineStore) fits(size int) bool {
	c := len(q.buf)
	if c == 0 {
		return size == 0
	}
	pad := 0
	if q.endAt+size > c {
		pad = c - q.endAt
	}
	if q.count == 0 {
		// Nothing is live: the line may start at the front.
		q.start = q.end + pad
	}
	if q.end+pad+size-q.start > c {
		return false
	}
	if pad > 0 || q.endAt == c {
		q.end += pad
		q.endAt = 0
	}
	return true
}

// grow enlarges the buffer to hold at least size more bytes, up to
// maxBytes, packing the live lines at its front.
func (q *lineStore) grow(size int) {
	c := min(max(2*len(q.buf), len(q.buf)+size, 4<<10), q.maxBytes)
	buf := make([]byte, c)
	pos := 0
	for i := range q.count {
		e := &q.ents[(q.head+i)&(len(q.ents)-1)]
		copy(buf[pos:], q.bytes(*e))
		e.pos, e.at = pos, pos
		pos += e.size
	}
	q.buf, q.start, q.end, q.endAt = buf, 0, pos, pos
}

func (q *lineStore) growEntries() {
	ents := make([]entry, max(2*len(q.ents), 16))
	for i := range q.count {
		ents[i] = q.at(i)
	}
	q.ents, q.head = ents, 0
}

// pop drops the oldest line and returns its entry.
func (q *lineStore) pop() entry {
	e := q.ents[q.head]
	q.head = (q.head + 1) & (len(q.ents) - 1)
	q.count--
	q.start = q.end
	if q.count > 0 {
		q.start = q.ents[q.head].pos
	}
	return e
}

// at returns the i-th line, oldest first.
func (q *lineStore) at(i int) entry {
	return q.ents[(q.head+i)&(len(q.ents)-1)]
}

// bytes returns the stored bytes of a live entry.
func (q *lineStore) bytes(e entry) []byte {
	return q.buf[e.at : e.at+e.size]
}

// get returns line n if the store holds it. The lines must be
// consecutive, as they are in the tail.
func (q *lineStore) get(n int) ([]byte, bool) {
	if q.count == 0 {
		return nil, false
	}
	i := n - q.at(0).n
	if i < 0 || i >= q.count {
		return nil, false
	}
	return q.bytes(q.at(i)), true
}

// newest returns the number of the newest line, 0 when empty.
func (q *lineStore) newest() int {
	if q.count == 0 {
		return 0
	}
	return q.at(q.count - 1).n
}

package redact

import "slices"

// matcher finds every occurrence of a set of strings of at least three
// bytes, also where they overlap. Masking the union of overlapping
// occurrences is what keeps the tail of one secret from surviving next to
// another; a replacer that takes the leftmost match would leave it.
//
// At each position of the text the three bytes there are hashed into a
// bit set of the strings' first three bytes; only where the bit is set
// are the strings that start with those bytes compared. The work per byte
// is a load, a multiply and a bit test, whatever the number of strings.
type matcher struct {
	// fold makes the matcher ignore ASCII case. It folds by setting bit
	// 0x20 of every byte, which also merges some punctuation pairs ('_'
	// with DEL); callers confirm what it finds.
	fold   bool
	filter [filterSize / 64]uint64
	// byKey holds the strings, folded when fold is set, by their first
	// three bytes, longest first.
	byKey map[uint32][]string
}

const (
	filterBits = 16
	filterSize = 1 << filterBits
	keyBytes   = 3
)

func newMatcher(words []string, fold bool) *matcher {
	m := &matcher{fold: fold, byKey: map[uint32][]string{}}
	for _, w := range words {
		if fold {
			w = string(foldBytes([]byte(w)))
		}
		k := m.key([]byte(w), 0)
		m.byKey[k] = append(m.byKey[k], w)
		h := hash(k)
		m.filter[h/64] |= 1 << (h % 64)
	}
	for _, ws := range m.byKey {
		slices.SortFunc(ws, func(a, b string) int { return len(b) - len(a) })
	}
	return m
}

func hash(k uint32) uint32 {
	return (k * 0x9E3779B1) >> (32 - filterBits)
}

// key returns the (folded) three bytes at b[i:].
func (m *matcher) key(b []byte, i int) uint32 {
	k := uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16
	if m.fold {
		k |= 0x202020
	}
	return k
}

// each calls f with the position and the string of every occurrence in
// b, in order of position.
func (m *matcher) each(b []byte, f func(pos int, w string)) {
	if m == nil {
		return
	}
	for i := 0; i+keyBytes <= len(b); i++ {
		k := m.key(b, i)
		h := hash(k)
		if m.filter[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		for _, w := range m.byKey[k] {
			if m.at(b, i, w) {
				f(i, w)
			}
		}
	}
}

// at reports whether w occurs at b[i:].
func (m *matcher) at(b []byte, i int, w string) bool {
	if len(b)-i < len(w) {
		return false
	}
	if !m.fold {
		return string(b[i:i+len(w)]) == w
	}
	for j := range len(w) {
		if b[i+j]|0x20 != w[j] {
			return false
		}
	}
	return true
}

// spans adds the ranges of b that hold a string to spans, merged.
func (m *matcher) spans(b []byte, spans []span) []span {
	m.each(b, func(pos int, w string) {
		spans = addSpan(spans, pos, pos+len(w))
	})
	return spans
}

func foldBytes(b []byte) []byte {
	for i := range b {
		b[i] |= 0x20
	}
	return b
}

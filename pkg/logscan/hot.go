package logscan

import "encoding/binary"

// DefaultHot reports whether a raw line looks like the start of an error
// block: it holds, ignoring ASCII case, a word such as "error", "fail",
// "fatal", "exception", "denied", "timed out", "timeout", "unable to",
// "cannot", "refused", "not found", "expired", "conflict" or "in progress"
// (the full list is hotWords). It is fast enough to run on every line of
// a gigabyte log.
func DefaultHot(raw []byte) bool {
	return defaultHot.match(raw)
}

// HotWords returns the phrases [DefaultHot] looks for, in lower case, so
// that a caller can search for them together with words of its own in one
// pass over a line.
func HotWords() []string {
	out := make([]string, len(hotWords))
	for i, w := range hotWords {
		out[i] = w.word
	}
	return out
}

// hotWords are the phrases that make [DefaultHot] report a line. Each has
// at least four bytes; anchor is the offset of the four bytes that stand
// for the phrase in the filters, picked to be rare in ordinary tool output
// ("rror" rather than "erro", because a terraform log is full of
// "terraform").
var hotWords = []struct {
	word   string
	anchor int
}{
	{"error", 1},
	{"fail", 0},
	{"fatal", 0},
	{"panic", 0},
	{"exception", 1},
	{"traceback", 4},
	{"denied", 2},
	{"forbidden", 3},
	{"unauthorized", 1},
	{"timed out", 2},
	{"timeout", 3},
	{"exceeded", 2},
	{"unable to", 0},
	{"cannot", 0},
	{"can't", 0},
	{"could not", 3},
	{"couldn't", 2},
	{"refused", 0},
	{"not found", 3},
	{"notfound", 3},
	{"does not exist", 0},
	{"no such", 2},
	{"expired", 1},
	{"conflict", 3},
	{"in progress", 3},
	{"already exist", 0},
	{"invalid", 1},
	{"throttl", 2},
	{"violation", 0},
	{"immutable", 0},
	{"terminating", 4},
	{"aborted", 0},
	{"not empty", 3},
	{"notempty", 1},
	{"no deployed", 1},
	{"unreachable", 2},
	{"no route to host", 10},
	{"x509", 0},
	{"connection reset", 11},
	{"no basic auth", 3},
	{"finalizers", 2},
	{"reinitializ", 0},
}

// hotSet finds any of a fixed set of phrases in a line, ignoring ASCII
// case, in three steps that each reject most of what reaches them:
//
//  1. Every phrase is represented by a four-byte anchor. Any occurrence of
//     an anchor at position p contains one of its two three-byte halves at
//     an even position (p or p+1), so the line is read two bytes at a
//     time and the folded three bytes there are looked up in tri.
//  2. Where tri hits, the four-byte windows that start at e-1 and e are
//     looked up in quad.
//  3. Where quad hits, the phrases with that anchor are compared.
//
// The per-byte work is half a load, a multiply and a table test, which
// runs near two gigabytes a second on a terraform debug log.
type hotSet struct {
	tri     [filterSize]bool
	quad    [filterSize]bool
	anchors []hotAnchor
}

type hotAnchor struct {
	key    uint32 // the folded anchor bytes, little-endian
	word   []byte // the folded phrase
	offset int    // where the anchor sits in word
}

const (
	filterBits = 14
	filterSize = 1 << filterBits
	// fold maps ASCII upper case to lower case in several bytes at once.
	// It changes some punctuation and control bytes too; the phrases are
	// folded the same way, so that only adds candidates that the final
	// compare rejects.
	fold  = 0x20202020
	fold8 = 0x2020202020202020
)

var defaultHot = newHotSet()

func newHotSet() *hotSet {
	h := &hotSet{}
	for _, w := range hotWords {
		word := []byte(w.word)
		for i := range word {
			word[i] |= 0x20
		}
		key := binary.LittleEndian.Uint32(word[w.anchor:])
		h.anchors = append(h.anchors, hotAnchor{key: key, word: word, offset: w.anchor})
		h.quad[hash(key)] = true
		h.tri[hash(key&0xFFFFFF)] = true
		h.tri[hash(key>>8)] = true
	}
	return h
}

// hash maps folded bytes to a filter slot (Fibonacci hashing).
func hash(k uint32) uint32 {
	return (k * 0x9E3779B1) >> (32 - filterBits)
}

// match reports whether line holds one of the phrases.
func (h *hotSet) match(line []byte) bool {
	return h.find(line) >= 0
}

// find returns where the first phrase in b starts, or -1. Phrases are
// tried in the order of their anchors' positions. A phrase never matches
// across lines: folding by bit 5 turns a newline into '*', which no
// phrase holds.
func (h *hotSet) find(b []byte) int {
	n := len(b)
	e := 0
	// Three even positions per eight-byte load.
	for ; e+8 <= n; e += 6 {
		w := binary.LittleEndian.Uint64(b[e:e+8]) | fold8
		if h.tri[hash(uint32(w)&0xFFFFFF)] {
			if p := h.near(b, e); p >= 0 {
				return p
			}
		}
		if h.tri[hash(uint32(w>>16)&0xFFFFFF)] {
			if p := h.near(b, e+2); p >= 0 {
				return p
			}
		}
		if h.tri[hash(uint32(w>>32)&0xFFFFFF)] {
			if p := h.near(b, e+4); p >= 0 {
				return p
			}
		}
	}
	for ; e+3 <= n; e += 2 {
		x := uint32(b[e]) | uint32(b[e+1])<<8 | uint32(b[e+2])<<16
		if h.tri[hash((x|fold)&0xFFFFFF)] {
			if p := h.near(b, e); p >= 0 {
				return p
			}
		}
	}
	return -1
}

// near checks the two anchor positions whose halves sit at e.
func (h *hotSet) near(b []byte, e int) int {
	if p := h.at(b, e-1); p >= 0 {
		return p
	}
	return h.at(b, e)
}

// at returns where a phrase whose anchor sits at p starts, when the
// whole phrase is there, or -1.
func (h *hotSet) at(b []byte, p int) int {
	if p < 0 || p+4 > len(b) {
		return -1
	}
	k := binary.LittleEndian.Uint32(b[p:p+4]) | fold
	if !h.quad[hash(k)] {
		return -1
	}
	for _, a := range h.anchors {
		start := p - a.offset
		if a.key != k || start < 0 || start+len(a.word) > len(b) {
			continue
		}
		if equalFold(b[start:start+len(a.word)], a.word) {
			return start
		}
	}
	return -1
}

// equalFold compares s with the folded phrase w.
func equalFold(s, w []byte) bool {
	for j, c := range w {
		if s[j]|0x20 != c {
			return false
		}
	}
	return true
}

package pattern

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
)

// anchorFilter finds whether a line holds any of a set of folded keys of
// four bytes or more. It reads the line two bytes at a time instead of one
// state transition per byte, which makes it several times faster than the
// automaton on lines that hold no key, the common case for a scanner:
//
//  1. Each key is represented by an anchor: four of its bytes, picked to
//     be rare in log text and to hold no white space. An anchor at
//     position p has one of its two three-byte halves at an even position
//     (p or p+1), so the line's three bytes at every even position are
//     looked up in tri, a table of the halves' hashes (a byte per entry:
//     64 KiB, which stay in the cache and cost one load per test, where
//     a bit set costs a load and a shift).
//  2. Where tri hits, the four bytes that start one before and at that
//     position are looked up in quad, a bit set of the anchors' hashes.
//  3. Where quad hits, the keys with that anchor are compared in full,
//     folded as the matcher folds text.
//
// Filter bytes are folded by setting bit 5, which lower-cases ASCII
// letters eight bytes at a time; it also merges some punctuation, which
// only adds candidates that step 3 rejects. Anchors hold no white space,
// because bit 5 does not fold a tab into a space as the matcher does.
// Keys without such an anchor go to a small automaton instead.
type anchorFilter struct {
	tri  [filterSize]bool
	quad [filterWords]uint64
	// heads maps the top bits of an anchor's hash to the first of its
	// keys in keys, plus one; keys in one bucket are chained by next.
	heads [1 << headBits]int32
	keys  []anchorKey
	rest  *automaton // keys without an anchor, or nil
}

type anchorKey struct {
	anchor uint32 // the four anchor bytes, folded by bit 5
	key    string // folded as the matcher folds text
	offset int    // where the anchor sits in key
	next   int32  // the next key with the same hash bit, plus one
}

const (
	filterBits  = 16
	headBits    = 12
	filterSize  = 1 << filterBits
	filterWords = filterSize / 64
	fold4       = 0x20202020
	fold8       = 0x2020202020202020
)

func newAnchorFilter(keys []string) *anchorFilter {
	f := &anchorFilter{}
	var rest []string
	for _, key := range dedupeStrings(keys) {
		off, ok := anchorOffset(key)
		if !ok {
			rest = append(rest, key)
			continue
		}
		a := binary.LittleEndian.Uint32([]byte(key[off:off+4])) | fold4
		h := fnv(a)
		b := h >> (filterBits - headBits)
		f.keys = append(f.keys, anchorKey{anchor: a, key: key, offset: off, next: f.heads[b]})
		f.heads[b] = int32(len(f.keys))
		setBit(&f.quad, h)
		f.tri[fnv(a&0xFFFFFF)] = true
		f.tri[fnv(a>>8)] = true
	}
	if len(rest) > 0 {
		f.rest = newAutomaton(rest, allHot(len(rest)))
	}
	return f
}

// anchorOffset picks the four bytes of key, free of white space, that
// are the least likely in ordinary tool output: no part of a common word
// if it can, else the rarest bytes.
func anchorOffset(key string) (int, bool) {
	best, bestScore := -1, 1<<30
	for off := 0; off+4 <= len(key); off++ {
		w := key[off : off+4]
		if slices.Contains([]byte(w), ' ') {
			continue
		}
		sc := 0
		for i := range 4 {
			sc += commonness[w[i]]
		}
		if commonGrams[w] {
			sc += 40
		}
		if commonGrams[w[:3]] {
			sc += 20
		}
		if commonGrams[w[1:]] {
			sc += 20
		}
		if sc < bestScore {
			best, bestScore = off, sc
		}
	}
	return best, best >= 0
}

// commonWords fill the output of the tools self-heal wraps; anchors avoid
// their three- and four-byte pieces, which the filters would otherwise
// meet on almost every line.
const commonWords = "terraform terragrunt provider providers resource resources module " +
	"backend bucket state apply plan refresh request response header headers content " +
	"version plugin plugins config configuration debug info trace warn http https aws " +
	"kubernetes kubectl helm namespace release chart deployment service instance " +
	"instances attribute attributes value values string default from with that this " +
	"the and for are was were have has not found lock locking change changes " +
	"create created update updated delete deleted read reading complete completed " +
	"starting started running waiting still elapsed after before operation id name " +
	"type data source output outputs variable variables path file files region " +
	"account user role policy credentials token session endpoint method status code " +
	"body json yaml text time date level message context system item items metadata " +
	"encoding reference accept object remote work check template"

var commonGrams = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(commonWords) {
		for n := 3; n <= 4; n++ {
			for i := 0; i+n <= len(w); i++ {
				m[w[i:i+n]] = true
			}
		}
	}
	return m
}()

// commonness rates how often a folded byte appears in tool output.
var commonness = func() (t [256]int) {
	for i := range t {
		t[i] = 1
	}
	for _, c := range []byte("hldcumfpg0123456789./:-_=\",[]") {
		t[c] = 2
	}
	for _, c := range []byte("etaoinsr") {
		t[c] = 3
	}
	return t
}()

func setBit(set *[filterWords]uint64, h uint32) { set[h>>6] |= 1 << (h & 63) }

func hasBit(set *[filterWords]uint64, h uint32) bool { return set[h>>6]&(1<<(h&63)) != 0 }

// fnv maps folded bytes to a filter bit (Fibonacci hashing).
func fnv(k uint32) uint32 { return (k * 0x9E3779B1) >> (32 - filterBits) }

// hot reports whether line holds one of the keys.
func (f *anchorFilter) hot(line []byte) bool {
	if f.rest != nil && f.rest.hot(line) {
		return true
	}
	return f.scan(line) >= 0
}

// find is hot over a run of lines: it returns the offset in b of a key
// that lies within one line, no line before that one holding a key, or
// -1 when no line of b holds one.
func (f *anchorFilter) find(b []byte) int {
	if f.rest == nil {
		return f.scan(b)
	}
	for start := 0; start < len(b); {
		end := len(b)
		if i := bytes.IndexByte(b[start:], '\n'); i >= 0 {
			end = start + i
		}
		if f.hot(b[start:end]) {
			return start
		}
		start = end + 1
	}
	return -1
}

// scan returns where the first key with an anchor that lies within one
// line of b starts, or -1. Keys are tried in the order of their anchors'
// positions, so the key found is in the earliest line that holds one.
func (f *anchorFilter) scan(b []byte) int {
	n := len(b)
	e := 0
	// Three even positions per eight-byte load.
	for ; e+8 <= n; e += 6 {
		w := binary.LittleEndian.Uint64(b[e:e+8]) | fold8
		if f.tri[fnv(uint32(w)&0xFFFFFF)] {
			if p := f.near(b, e); p >= 0 {
				return p
			}
		}
		if f.tri[fnv(uint32(w>>16)&0xFFFFFF)] {
			if p := f.near(b, e+2); p >= 0 {
				return p
			}
		}
		if f.tri[fnv(uint32(w>>32)&0xFFFFFF)] {
			if p := f.near(b, e+4); p >= 0 {
				return p
			}
		}
	}
	for ; e+3 <= n; e += 2 {
		x := uint32(b[e]) | uint32(b[e+1])<<8 | uint32(b[e+2])<<16
		if f.tri[fnv((x|fold4)&0xFFFFFF)] {
			if p := f.near(b, e); p >= 0 {
				return p
			}
		}
	}
	return -1
}

// near checks the two anchor positions whose halves sit at e: their
// four bytes are looked up in quad here, and only a hit costs the call
// that compares keys.
func (f *anchorFilter) near(b []byte, e int) int {
	if p := e - 1; p >= 0 && p+4 <= len(b) {
		a := binary.LittleEndian.Uint32(b[p:p+4]) | fold4
		if hasBit(&f.quad, fnv(a)) {
			if start := f.at(b, p, a); start >= 0 {
				return start
			}
		}
	}
	if e+4 <= len(b) {
		a := binary.LittleEndian.Uint32(b[e:e+4]) | fold4
		if hasBit(&f.quad, fnv(a)) {
			return f.at(b, e, a)
		}
	}
	return -1
}

// at returns where a key whose anchor a sits at p starts, when the whole
// key is there within one line, or -1. A space in a key matches a
// newline too, so a key found across lines is checked for one.
func (f *anchorFilter) at(b []byte, p int, a uint32) int {
	for i := f.heads[fnv(a)>>(filterBits-headBits)]; i != 0; i = f.keys[i-1].next {
		k := &f.keys[i-1]
		start := p - k.offset
		if k.anchor == a && start >= 0 && start+len(k.key) <= len(b) &&
			foldedEqual(b[start:], k.key) && bytes.IndexByte(b[start:start+len(k.key)], '\n') < 0 {
			return start
		}
	}
	return -1
}

// foldedEqual reports whether b starts with the folded key.
func foldedEqual(b []byte, key string) bool {
	for i := 0; i < len(key); i++ {
		if foldTable[b[i]] != key[i] {
			return false
		}
	}
	return true
}

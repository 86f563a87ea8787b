package pattern

import (
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
//     looked up in tri, a bit set of the halves' hashes.
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
	tri, quad [filterWords]uint64
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
	filterWords = 1 << filterBits / 64
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
		setBit(&f.tri, fnv(a&0xFFFFFF))
		setBit(&f.tri, fnv(a>>8))
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
	n := len(line)
	e := 0
	// Three even positions per eight-byte load.
	for ; e+8 <= n; e += 6 {
		w := binary.LittleEndian.Uint64(line[e:e+8]) | fold8
		if hasBit(&f.tri, fnv(uint32(w)&0xFFFFFF)) && f.near(line, e) {
			return true
		}
		if hasBit(&f.tri, fnv(uint32(w>>16)&0xFFFFFF)) && f.near(line, e+2) {
			return true
		}
		if hasBit(&f.tri, fnv(uint32(w>>32)&0xFFFFFF)) && f.near(line, e+4) {
			return true
		}
	}
	for ; e+3 <= n; e += 2 {
		x := uint32(line[e]) | uint32(line[e+1])<<8 | uint32(line[e+2])<<16
		if hasBit(&f.tri, fnv((x|fold4)&0xFFFFFF)) && f.near(line, e) {
			return true
		}
	}
	return false
}

// near checks the two anchor positions whose halves sit at e.
func (f *anchorFilter) near(line []byte, e int) bool {
	return f.at(line, e-1) || f.at(line, e)
}

// at reports whether an anchor sits at p and its whole key around it.
func (f *anchorFilter) at(line []byte, p int) bool {
	if p < 0 || p+4 > len(line) {
		return false
	}
	a := binary.LittleEndian.Uint32(line[p:p+4]) | fold4
	h := fnv(a)
	if !hasBit(&f.quad, h) {
		return false
	}
	for i := f.heads[h>>(filterBits-headBits)]; i != 0; i = f.keys[i-1].next {
		k := &f.keys[i-1]
		start := p - k.offset
		if k.anchor == a && start >= 0 && start+len(k.key) <= len(line) &&
			foldedEqual(line[start:], k.key) {
			return true
		}
	}
	return false
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

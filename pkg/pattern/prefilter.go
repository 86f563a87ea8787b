package pattern

// The prefilter is one Aho-Corasick automaton over the keys of every
// condition of every pattern (see literals.go). It runs as a full DFA
// over byte classes: each input byte costs one table lookup, whatever the
// number of keys. Bytes are folded on the way in (ASCII upper case to
// lower case, white space to a space) through the byte classes, so the
// keys are found in raw log lines and in the window's text alike, without
// a folded copy of either.

// foldTable maps a byte to its folded form.
var foldTable = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c) + 'a' - 'A'
	}
	for _, c := range []byte("\t\n\v\f\r") {
		t[c] = ' '
	}
	return t
}()

// isSpace reports whether a byte folds to a space.
func isSpace(c byte) bool { return foldTable[c] == ' ' }

// foldString folds s byte by byte as the matcher folds text.
func foldString(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = foldTable[c]
	}
	return string(b)
}

// Flags kept in the high bits of a transition: the target state ends at
// least one key, or at least one hot key.
const (
	flagOut   = 1 << 31
	flagHot   = 1 << 30
	stateMask = flagHot - 1
)

// automaton finds keys in text. Its tables are read-only after build, so
// it is safe for concurrent use.
type automaton struct {
	class  [256]byte // folded byte to byte class
	stride int       // number of byte classes
	// delta maps state+class to the next state, with states numbered by
	// their offset in delta (state index times stride) and flag bits set.
	delta []uint32
	// out lists, per state index, the keys that end there, the keys of
	// its suffix states included.
	out [][]int32
}

// newAutomaton builds the automaton for folded keys; hot marks the keys
// that make [automaton.hot] report a line. Empty keys are ignored.
func newAutomaton(keys []string, hot []bool) *automaton {
	a := &automaton{}
	a.classes(keys)

	// The trie, with missing edges as 0 (no edge leads back to the root).
	// A trie has at most one state per key byte, plus the root.
	states := 1
	for _, key := range keys {
		states += len(key)
	}
	stride := uint32(a.stride)
	trie := make([]uint32, stride, states*a.stride)
	a.out = make([][]int32, 1, states)
	hotState := make([]bool, 1, states)
	for k, key := range keys {
		if key == "" {
			continue
		}
		s := uint32(0)
		for i := 0; i < len(key); i++ {
			e := s*stride + uint32(a.class[key[i]])
			if trie[e] == 0 {
				trie[e] = uint32(len(a.out))
				trie = trie[:len(trie)+a.stride] // zeroed: make cleared the capacity
				a.out = append(a.out, nil)
				hotState = append(hotState, false)
			}
			s = trie[e]
		}
		a.out[s] = append(a.out[s], int32(k))
		hotState[s] = hotState[s] || hot[k]
	}
	a.link(trie, hotState)
	return a
}

// classes gives every byte that occurs in a key its own class; all other
// bytes share class 0.
func (a *automaton) classes(keys []string) {
	n := 1
	for _, key := range keys {
		for i := 0; i < len(key); i++ {
			if a.class[key[i]] == 0 {
				a.class[key[i]] = byte(n)
				n++
			}
		}
	}
	for b := range a.class {
		a.class[b] = a.class[foldTable[b]]
	}
	a.stride = n
}

// link turns the trie into a DFA in place, breadth first: a missing edge
// takes the edge of the state's longest proper suffix in the trie (its
// fail state), and a state inherits the keys of its fail state. Fail
// states are shallower, so their rows are final when a state's row is
// built, and rows still to be built hold only trie edges.
func (a *automaton) link(delta []uint32, hotState []bool) {
	stride := uint32(a.stride)
	fail := make([]uint32, len(a.out))
	queue := make([]uint32, 0, len(a.out))
	for c := range stride {
		if t := delta[c]; t != 0 {
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := fail[s]
		if len(a.out[f]) > 0 {
			a.out[s] = append(a.out[s][:len(a.out[s]):len(a.out[s])], a.out[f]...)
		}
		hotState[s] = hotState[s] || hotState[f]
		for c := range stride {
			t := delta[s*stride+c]
			if t == 0 {
				delta[s*stride+c] = delta[f*stride+c]
				continue
			}
			fail[t] = delta[f*stride+c]
			queue = append(queue, t)
		}
	}

	for i, t := range delta {
		e := t * stride
		if len(a.out[t]) > 0 {
			e |= flagOut
		}
		if hotState[t] {
			e |= flagHot
		}
		delta[i] = e
	}
	a.delta = delta
}

// hot reports whether b holds a hot key.
func (a *automaton) hot(b []byte) bool {
	delta, class := a.delta, &a.class
	s := uint32(0)
	for _, c := range b {
		e := delta[s+uint32(class[c])]
		if e&flagHot != 0 {
			return true
		}
		s = e & stateMask
	}
	return false
}

// scan calls hit for every occurrence of every key in s, with the key and
// the offset where the occurrence ends, in the order the ends appear.
func (a *automaton) scan(s string, hit func(key int32, end int)) {
	delta, class := a.delta, &a.class
	stride := uint32(a.stride)
	st := uint32(0)
	for i := 0; i < len(s); i++ {
		e := delta[st+uint32(class[s[i]])]
		st = e & stateMask
		if e&flagOut != 0 {
			for _, k := range a.out[st/stride] {
				hit(k, i+1)
			}
		}
	}
}

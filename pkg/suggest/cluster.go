package suggest

import (
	"sort"
	"strings"
)

// maxPostings bounds the windows a feature may hold and still propose
// pairs to compare: wording that half the windows share links nothing.
const maxPostings = 64

// group is a set of docs that one stub recognises.
type group struct {
	docs []int
	plan
}

// cluster groups the docs. Two groups merge when their windows are on
// average at least threshold alike, no two of their windows conflict,
// and all their members share some failure wording. A group whose
// common wording also holds in other windows then takes those windows'
// groups in, under the same rules. Every group, singletons included,
// gets the conditions that set it apart; a group that cannot be set
// apart keeps its most specific wording and is not marked apart.
func (ix *index) cluster(threshold float64, maxConds int) []*group {
	f := newForest(len(ix.docs))
	sims := ix.pairs()
	for _, p := range ix.candidates(sims, threshold) {
		ra, rb := f.find(p.a), f.find(p.b)
		if ra != rb && linkage(sims, f.members[ra], f.members[rb]) >= threshold {
			ix.tryMerge(f, ra, rb, maxConds)
		}
	}
	for changed := true; changed; {
		changed = false
		for r := range f.members {
			if f.find(r) == r && ix.absorb(f, r, maxConds) {
				changed = true
			}
		}
	}

	var out []*group
	for r, ms := range f.members {
		if f.find(r) != r {
			continue
		}
		p := ix.separate(ms, maxConds)
		if len(p.conds) == 0 {
			continue
		}
		sort.Ints(ms)
		out = append(out, &group{docs: ms, plan: p})
	}
	return out
}

// absorb merges into group r the groups of the windows outside it that
// its conditions also hold in. It reports whether any merged.
func (ix *index) absorb(f *forest, r, maxConds int) bool {
	p := ix.separate(f.members[r], maxConds)
	if len(p.conds) == 0 {
		return false
	}
	merged := false
	for _, d := range sortedKeys(p.rest) {
		if rd := f.find(d); rd != r && ix.tryMerge(f, r, rd, maxConds) {
			merged = true
		}
	}
	return merged
}

// tryMerge merges groups ra and rb unless two of their windows conflict
// or their members share no failure wording.
func (ix *index) tryMerge(f *forest, ra, rb, maxConds int) bool {
	if ix.conflicts(f.members[ra], f.members[rb]) {
		return false
	}
	union := append(append([]int(nil), f.members[ra]...), f.members[rb]...)
	if p := ix.separate(union, maxConds); len(p.conds) == 0 {
		return false
	}
	f.parent[rb] = ra
	f.members[ra], f.members[rb] = union, nil
	return true
}

func sortedKeys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// forest is a union-find over docs that keeps each root's members.
type forest struct {
	parent  []int
	members [][]int
}

func newForest(n int) *forest {
	f := &forest{parent: make([]int, n), members: make([][]int, n)}
	for i := range f.parent {
		f.parent[i] = i
		f.members[i] = []int{i}
	}
	return f
}

func (f *forest) find(i int) int {
	for f.parent[i] != i {
		f.parent[i] = f.parent[f.parent[i]]
		i = f.parent[i]
	}
	return i
}

type pair struct {
	a, b int
	sim  float64
}

type pairKey struct{ a, b int }

// pairs computes the similarity of every two docs that share a feature
// held by few windows.
func (ix *index) pairs() map[pairKey]float64 {
	sims := map[pairKey]float64{}
	for _, f := range ix.feats {
		if len(f.docs) < 2 || len(f.docs) > maxPostings {
			continue
		}
		for i, a := range f.docs {
			for _, b := range f.docs[i+1:] {
				k := pairKey{min(a, b), max(a, b)}
				if _, ok := sims[k]; !ok {
					sims[k] = similarity(ix.docs[a], ix.docs[b])
				}
			}
		}
	}
	return sims
}

// candidates lists the pairs at least threshold alike, most alike first.
func (ix *index) candidates(sims map[pairKey]float64, threshold float64) []pair {
	var out []pair
	for k, s := range sims {
		if s >= threshold {
			out = append(out, pair{a: k.a, b: k.b, sim: s})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].sim != out[j].sim {
			return out[i].sim > out[j].sim
		}
		if out[i].a != out[j].a {
			return out[i].a < out[j].a
		}
		return out[i].b < out[j].b
	})
	return out
}

// conflicts reports whether any doc of as conflicts with any of bs.
func (ix *index) conflicts(as, bs []int) bool {
	for _, a := range as {
		for _, b := range bs {
			if conflict(ix.docs[a], ix.docs[b]) {
				return true
			}
		}
	}
	return false
}

// linkage is the average similarity between the docs of two groups.
func linkage(sims map[pairKey]float64, as, bs []int) float64 {
	sum := 0.0
	for _, a := range as {
		for _, b := range bs {
			sum += sims[pairKey{min(a, b), max(a, b)}]
		}
	}
	return sum / float64(len(as)*len(bs))
}

// plan is what sets a group apart: conditions all its members hold,
// vetoes none of them holds, and rest, the docs outside the group that
// still match (none when the group is set apart).
type plan struct {
	conds, vetoes []*feature
	rest          map[int]bool
}

// maxVetoes bounds the `match.none` entries of a stub.
const maxVetoes = 3

// separate picks up to maxConds features that every member holds and
// that together hold in no other doc. The first is failure wording. Once
// the members are set apart by a single condition, a second one is added
// when some common wording is about as rare outside the group as inside,
// so that a stub rests on more than one phrase. Docs outside that still
// match get vetoes: wording of theirs that no member holds. conds is nil
// when the members share no failure wording.
func (ix *index) separate(members []int, maxConds int) plan {
	in := map[int]bool{}
	for _, m := range members {
		in[m] = true
	}
	common := ix.common(members)
	var p plan
	// p.rest holds the docs outside that every pick so far holds; nil is all.
	for len(p.conds) < maxConds && (p.rest == nil || len(p.rest) > 0) {
		f := ix.pick(common, p.conds, in, p.rest, len(p.conds) == 0)
		if f == nil {
			break
		}
		p.conds = append(p.conds, f)
		p.rest = ix.outside(f, in, p.rest)
	}
	if len(p.conds) == 1 && maxConds > 1 && len(p.rest) == 0 {
		if f := ix.reinforce(common, p.conds, in, len(members)); f != nil {
			p.conds = append(p.conds, f)
		}
	}
	for len(p.rest) > 0 && len(p.vetoes) < maxVetoes {
		f := ix.veto(p.rest, in)
		if f == nil {
			break
		}
		p.vetoes = append(p.vetoes, f)
		for _, d := range ix.holders(f) {
			delete(p.rest, d)
		}
	}
	return p
}

// veto finds wording of the first doc in rest that no member holds:
// failure wording first, then the rarest and longest.
func (ix *index) veto(rest, in map[int]bool) *feature {
	d := sortedKeys(rest)[0]
	var best *feature
	for _, f := range ix.docs[d].feats {
		if ix.heldByAny(f, in) {
			continue
		}
		if best == nil || better(f, 0, best, 0) {
			best = f
		}
	}
	return best
}

func (ix *index) heldByAny(f *feature, in map[int]bool) bool {
	for _, h := range ix.holders(f) {
		if in[h] {
			return true
		}
	}
	return false
}

// reinforce finds a second condition for a group that one condition sets
// apart: common wording that at most as many windows outside the group
// hold as inside, the fewest first, then failure wording.
func (ix *index) reinforce(common, picked []*feature, in map[int]bool, size int) *feature {
	var best *feature
	bestLeft := 0
	for _, f := range common {
		if redundant(f, picked) {
			continue
		}
		left := len(ix.outside(f, in, nil))
		if left > size {
			continue
		}
		if best == nil || better(f, left, best, bestLeft) {
			best, bestLeft = f, left
		}
	}
	return best
}

// common lists the features of the first member whose condition holds
// in every other member.
func (ix *index) common(members []int) []*feature {
	first := ix.docs[members[0]]
	if len(members) == 1 {
		return first.feats
	}
	var out []*feature
	for _, f := range first.feats {
		held := map[int]bool{}
		for _, h := range ix.holders(f) {
			held[h] = true
		}
		all := true
		for _, m := range members[1:] {
			if !held[m] {
				all = false
				break
			}
		}
		if all {
			out = append(out, f)
		}
	}
	return out
}

// pick chooses the next condition: the feature that leaves the fewest
// outside docs, then failure wording, then the rarest, then the longest.
func (ix *index) pick(common, picked []*feature, in, rest map[int]bool, failureOnly bool) *feature {
	var best *feature
	bestLeft := 0
	for _, f := range common {
		if (failureOnly && !f.failure) || redundant(f, picked) {
			continue
		}
		left := len(ix.outside(f, in, rest))
		if best == nil || better(f, left, best, bestLeft) {
			best, bestLeft = f, left
		}
	}
	return best
}

func better(f *feature, left int, g *feature, gLeft int) bool {
	if left != gLeft {
		return left < gLeft
	}
	if f.failure != g.failure {
		return f.failure
	}
	if f.idf != g.idf {
		return f.idf > g.idf
	}
	if f.line != g.line {
		return f.line
	}
	if len(f.key) != len(g.key) {
		return len(f.key) > len(g.key)
	}
	return f.key < g.key
}

// redundant reports whether f repeats wording already picked.
func redundant(f *feature, picked []*feature) bool {
	for _, p := range picked {
		a, b := f.key[2:], p.key[2:]
		if strings.Contains(a, b) || strings.Contains(b, a) {
			return true
		}
	}
	return false
}

// outside returns the docs not in the group whose text f's condition
// holds in, limited to rest when rest is not nil.
func (ix *index) outside(f *feature, in, rest map[int]bool) map[int]bool {
	out := map[int]bool{}
	for _, d := range ix.holders(f) {
		if !in[d] && (rest == nil || rest[d]) {
			out[d] = true
		}
	}
	return out
}

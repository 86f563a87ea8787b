package pattern

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Literal analysis finds, for every condition, a small set of folded
// strings of which at least one occurs in any text the condition holds
// on. The prefilter searches for these keys; a condition whose keys are
// all absent cannot hold, so its full check is skipped.
//
// Keys are folded as the matcher folds text (see foldByte): ASCII letters
// in lower case, every ASCII white space byte as a space. Folding is
// applied to the text and the keys alike, so a key found in the folded
// text stands where the condition may hold.

// maxKeySet bounds the number of alternatives one key set may hold, and
// the size of the cross products built while analysing a regex.
const maxKeySet = 16

// minKeyLen is the length below which a key set is considered too weak
// to be a useful filter: lint warns about such conditions.
const minKeyLen = 3

// RequiredLiterals returns strings of which every match of the regular
// expression contains at least one, folded the way the matcher folds text
// (ASCII lower case, white space as a space), or nil when the expression
// requires no literal. Alternations give several strings:
// `api error (DependencyViolation|InvalidGroup)` requires one of
// "api error dependencyviolation" and "api error invalidgroup".
func RequiredLiterals(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	return analyse(re.Simplify()).keys()
}

// litInfo describes what a regex node matches: exact lists every string
// it can match (nil when unknown or too many); must lists strings of
// which every match contains one (nil when none is known).
type litInfo struct {
	exact []string
	must  []string
}

// keys returns the best key set the node offers, or nil.
func (li litInfo) keys() []string {
	best := bestSet(li.must, li.exact)
	if score(best) == 0 {
		return nil
	}
	return best
}

var emptyOnly = litInfo{exact: []string{""}}

func analyse(re *syntax.Regexp) litInfo {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return emptyOnly
	case syntax.OpLiteral:
		return literalInfo(re)
	case syntax.OpCharClass:
		return litInfo{exact: classSet(re.Rune)}
	case syntax.OpCapture:
		return analyse(re.Sub[0])
	case syntax.OpQuest:
		return optional(analyse(re.Sub[0]))
	case syntax.OpPlus:
		return litInfo{must: analyse(re.Sub[0]).keys()}
	case syntax.OpRepeat:
		return repeatInfo(re)
	case syntax.OpConcat:
		return concatInfo(re.Sub)
	case syntax.OpAlternate:
		return alternateInfo(re.Sub)
	}
	return litInfo{}
}

func optional(sub litInfo) litInfo {
	if sub.exact == nil || len(sub.exact) >= maxKeySet {
		return litInfo{}
	}
	return litInfo{exact: dedupeStrings(append(slices.Clone(sub.exact), ""))}
}

func repeatInfo(re *syntax.Regexp) litInfo {
	sub := analyse(re.Sub[0])
	switch {
	case re.Min == 1 && re.Max == 1:
		return sub
	case re.Min == 0 && re.Max == 1:
		return optional(sub)
	case re.Min >= 1:
		return litInfo{must: sub.keys()}
	}
	return litInfo{}
}

// concatInfo joins the exact sets of neighbours while the cross product
// stays small, and keeps the best run or required set as must.
func concatInfo(subs []*syntax.Regexp) litInfo {
	cur := []string{""}
	allExact := true
	var cands [][]string
	for _, s := range subs {
		si := analyse(s)
		switch {
		case si.exact != nil && len(cur)*len(si.exact) <= maxKeySet:
			cur = cross(cur, si.exact)
		case si.exact != nil:
			allExact = false
			cands = append(cands, cur)
			cur = si.exact
		default:
			allExact = false
			cands = append(cands, cur, si.must)
			cur = []string{""}
		}
	}
	if allExact {
		return litInfo{exact: cur}
	}
	return litInfo{must: bestSet(append(cands, cur)...)}
}

func alternateInfo(subs []*syntax.Regexp) litInfo {
	var exact, must []string
	exactOK, mustOK := true, true
	for _, s := range subs {
		si := analyse(s)
		if si.exact == nil {
			exactOK = false
		}
		exact = append(exact, si.exact...)
		k := bestSet(si.must, si.exact)
		if score(k) == 0 {
			mustOK = false
		}
		must = append(must, k...)
	}
	out := litInfo{}
	if exactOK && len(exact) <= maxKeySet {
		out.exact = dedupeStrings(exact)
	}
	if mustOK && len(must) <= maxKeySet {
		out.must = dedupeStrings(must)
	}
	return out
}

// literalInfo folds a literal. Under (?i) a letter also matches the other
// members of its Unicode case orbit (k matches the Kelvin sign), and
// those are not folded in the text, so each rune stands for its orbit.
func literalInfo(re *syntax.Regexp) litInfo {
	if re.Flags&syntax.FoldCase == 0 {
		return litInfo{exact: []string{foldString(string(re.Rune))}}
	}
	set := []string{""}
	for i, r := range re.Rune {
		alts := orbit(r)
		if len(set)*len(alts) > maxKeySet {
			// Too many spellings: require the longest piece that is
			// spelled one way, before or after this rune.
			head := litInfo{exact: set}
			tail := literalInfo(&syntax.Regexp{Op: syntax.OpLiteral, Flags: re.Flags, Rune: re.Rune[i+1:]})
			return litInfo{must: bestSet(head.exact, tail.keys())}
		}
		set = cross(set, alts)
	}
	return litInfo{exact: set}
}

// orbit returns the folded spellings of a rune under case folding.
func orbit(r rune) []string {
	out := []string{foldString(string(r))}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		out = append(out, foldString(string(f)))
	}
	return dedupeStrings(out)
}

// classSet lists the folded strings of a small character class, or nil.
func classSet(ranges []rune) []string {
	n := 0
	for i := 0; i < len(ranges); i += 2 {
		n += int(ranges[i+1]-ranges[i]) + 1
		if n > 2*maxKeySet {
			return nil
		}
	}
	var out []string
	for i := 0; i < len(ranges); i += 2 {
		for r := ranges[i]; r <= ranges[i+1]; r++ {
			if !utf8.ValidRune(r) {
				return nil
			}
			out = append(out, foldString(string(r)))
		}
	}
	out = dedupeStrings(out)
	if len(out) > maxKeySet {
		return nil
	}
	return out
}

func cross(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return dedupeStrings(out)
}

// score rates a key set by its shortest member; 0 means no filter.
func score(set []string) int {
	if len(set) == 0 {
		return 0
	}
	low := len(set[0])
	for _, s := range set[1:] {
		low = min(low, len(s))
	}
	return low
}

// bestSet returns the set with the longest shortest member, fewer members
// breaking ties.
func bestSet(sets ...[]string) []string {
	var best []string
	for _, s := range sets {
		sc, bs := score(s), score(best)
		if sc > bs || sc == bs && sc > 0 && len(s) < len(best) {
			best = s
		}
	}
	return best
}

func dedupeStrings(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

// literalWords splits a literal condition into its folded words: a space
// in a literal matches any run of white space.
func literalWords(lit string) []string {
	return strings.Fields(foldString(lit))
}

// keyWord picks the word of a literal the prefilter searches for: the
// longest, the first of equals.
func keyWord(words []string) int {
	k := 0
	for i, w := range words {
		if len(w) > len(words[k]) {
			k = i
		}
	}
	return k
}

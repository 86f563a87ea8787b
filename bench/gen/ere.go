package main

import (
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode"
)

// quoteERE writes a literal as a POSIX extended regular expression, as a
// user would hand it to grep: as written, with one space between words.
func quoteERE(lit string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(lit), " ") {
		writeRune(&b, r, false)
	}
	return b.String()
}

// toERE translates an RE2 expression into an ERE that matches the same
// lines. ERE has no inline flags, so (?i) letters become bracket pairs.
// Parts that need a line break can match no single line: optional ones
// are dropped, and an expression that requires one has no ERE form.
func toERE(expr string) (string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	if !writeERE(&b, re) {
		return "", false
	}
	return b.String(), true
}

func writeERE(b *strings.Builder, re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return true
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if r == '\n' {
				return false
			}
			writeRune(b, r, re.Flags&syntax.FoldCase != 0)
		}
		return true
	case syntax.OpCharClass:
		return writeClass(b, re.Rune)
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('.')
	case syntax.OpBeginLine, syntax.OpBeginText:
		b.WriteByte('^')
	case syntax.OpEndLine, syntax.OpEndText:
		b.WriteByte('$')
	case syntax.OpWordBoundary:
		b.WriteString(`\b`)
	case syntax.OpNoWordBoundary:
		b.WriteString(`\B`)
	case syntax.OpCapture:
		return group(b, re.Sub[0])
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		return writeRepeat(b, re)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !writeERE(b, s) {
				return false
			}
		}
	case syntax.OpAlternate:
		return writeAlternate(b, re.Sub)
	default:
		return false
	}
	return true
}

func writeAlternate(b *strings.Builder, subs []*syntax.Regexp) bool {
	var alts []string
	for _, s := range subs {
		var sb strings.Builder
		if writeERE(&sb, s) {
			alts = append(alts, sb.String())
		}
	}
	if len(alts) == 0 {
		return false
	}
	b.WriteString("(" + strings.Join(alts, "|") + ")")
	return true
}

func writeRepeat(b *strings.Builder, re *syntax.Regexp) bool {
	var sb strings.Builder
	if !group(&sb, re.Sub[0]) {
		// The part cannot match on one line: only zero repetitions do.
		return re.Op == syntax.OpStar || re.Op == syntax.OpQuest ||
			re.Op == syntax.OpRepeat && re.Min == 0
	}
	b.WriteString(sb.String())
	switch re.Op {
	case syntax.OpStar:
		b.WriteByte('*')
	case syntax.OpPlus:
		b.WriteByte('+')
	case syntax.OpQuest:
		b.WriteByte('?')
	case syntax.OpRepeat:
		switch {
		case re.Max == -1:
			b.WriteString("{" + itoa(re.Min) + ",}")
		case re.Min == re.Max:
			b.WriteString("{" + itoa(re.Min) + "}")
		default:
			b.WriteString("{" + itoa(re.Min) + "," + itoa(re.Max) + "}")
		}
	}
	return true
}

// group writes re as one atom, in parentheses unless it is one already.
func group(b *strings.Builder, re *syntax.Regexp) bool {
	var sb strings.Builder
	if !writeERE(&sb, re) {
		return false
	}
	s := sb.String()
	atom := re.Op == syntax.OpCharClass || re.Op == syntax.OpAnyChar ||
		re.Op == syntax.OpAnyCharNotNL || re.Op == syntax.OpLiteral && len(re.Rune) == 1 &&
		re.Flags&syntax.FoldCase == 0
	if atom || strings.HasPrefix(s, "(") && re.Op == syntax.OpAlternate {
		b.WriteString(s)
	} else {
		b.WriteString("(" + s + ")")
	}
	return true
}

// writeClass writes a character class as a bracket expression. Line
// breaks are left out: a line holds none.
func writeClass(b *strings.Builder, ranges []rune) bool {
	neg := len(ranges) > 0 && ranges[0] == 0 && ranges[len(ranges)-1] == unicode.MaxRune
	if neg {
		ranges = complement(ranges)
	}
	var items []string
	for i := 0; i < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if lo == '\n' && hi == '\n' {
			continue
		}
		if lo == '\n' {
			lo++
		}
		if hi == '\n' {
			hi--
		}
		items = append(items, bracketItem(lo, hi)...)
	}
	switch {
	case neg && len(items) == 0:
		b.WriteByte('.')
		return true
	case len(items) == 0:
		return false
	}
	b.WriteByte('[')
	if neg {
		b.WriteByte('^')
	}
	// A ']' goes first and a '-' last, where they are literal.
	var last string
	for _, it := range items {
		if it == "]" {
			b.WriteString(it)
		}
	}
	for _, it := range items {
		switch it {
		case "]":
		case "-":
			last = "-"
		default:
			b.WriteString(it)
		}
	}
	b.WriteString(last + "]")
	return true
}

func bracketItem(lo, hi rune) []string {
	special := func(r rune) bool { return r == ']' || r == '-' || r == '^' }
	if lo == hi || special(lo) || special(hi) {
		var out []string
		for r := lo; r <= hi && len(out) < 64; r++ {
			out = append(out, string(r))
		}
		if hi-lo < 64 {
			return out
		}
	}
	if lo == '^' {
		return []string{string(lo + 1), "-", string(hi), "^"}
	}
	return []string{string(lo) + "-" + string(hi)}
}

func complement(ranges []rune) []rune {
	var out []rune
	next := rune(0)
	for i := 0; i < len(ranges); i += 2 {
		if ranges[i] > next {
			out = append(out, next, ranges[i]-1)
		}
		next = ranges[i+1] + 1
	}
	if next <= unicode.MaxRune {
		out = append(out, next, unicode.MaxRune)
	}
	return out
}

func writeRune(b *strings.Builder, r rune, fold bool) {
	if fold && unicode.IsLetter(r) && unicode.ToLower(r) != unicode.ToUpper(r) {
		b.WriteString("[" + string(unicode.ToLower(r)) + string(unicode.ToUpper(r)) + "]")
		return
	}
	if strings.ContainsRune(`.[]()*+?{}|^$\`, r) {
		b.WriteByte('\\')
	}
	b.WriteRune(r)
}

func itoa(n int) string { return strconv.Itoa(n) }

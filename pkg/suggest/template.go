package suggest

import (
	"regexp"
	"strings"

	"github.com/self-heal/self-heal/pkg/redact"
)

// A Slot is one kind of variable part of a failure line. Slots are tried
// in order; an earlier slot's text is not seen by later ones.
type Slot struct {
	// Name is the placeholder's word: "<" + Name + ">" stands for the
	// value in a template.
	Name string
	// Expr matches a value.
	Expr string
	// Keep, when set, rejects matches that are wording, not values.
	Keep func(string) bool
	re   *regexp.Regexp
}

// slots are the variable parts recognised in failure lines, most
// specific first.
var slots = compileSlots([]Slot{
	// A value the redactor masked: the live text holds the secret.
	{Name: "secret", Expr: regexp.QuoteMeta(redact.Mask)},
	{Name: "time", Expr: `\d{4}[-/]\d{2}[-/]\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?` +
		`(?: ?(?:Z|[+-]\d{2}:?\d{2}))?(?: ?(?:UTC|GMT))?)?`},
	{Name: "time", Expr: `\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} [A-Z][a-z]{2} \d{4} ` +
		`\d{2}:\d{2}:\d{2}(?: [A-Z]{3})?`},
	{Name: "time", Expr: `\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} ` +
		`\d{2}:\d{2}:\d{2}`},
	{Name: "time", Expr: `\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b`},
	{Name: "arn", Expr: `\barn:[a-z0-9-]+:[^\s"'<>()\[\],]+`},
	{Name: "url", Expr: `\b[a-z][a-z0-9+.-]*://[^\s"'<>()\[\]]*[^\s"'<>()\[\]:.,;]`},
	{Name: "name", Expr: `"[^"\n]{0,200}"|'[^'\n]{0,200}'|` + "`[^`\\n]{0,200}`"},
	{Name: "id", Expr: `\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b`},
	{Name: "email", Expr: `\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\b`},
	{Name: "ip", Expr: `\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b`},
	{Name: "path", Expr: `(?:\b[A-Za-z]:)?(?:[\w.*~-]*[/\\])+[\w.*@=-]+(?:[/\\])?`, Keep: pathLike},
	{Name: "id", Expr: `\b[a-z][a-z0-9]{0,15}-[0-9a-f]{6,40}\b`},
	{Name: "hex", Expr: `\b0x[0-9a-fA-F]+\b|\b[0-9a-f]{6,}\b`, Keep: hexLike},
	{Name: "id", Expr: `\b(?:[A-Za-z]+\d|\d+[A-Za-z])[A-Za-z0-9]{10,}\b`},
	{Name: "num", Expr: `\bv?\d+(?:\.\d+)*\b`},
})

// pathLike tells paths and names such as hashicorp/aws from wording with
// slashes ("i/o", "net/http", "install/upgrade/rollback"): a path is
// rooted, has a dot or a digit, has four parts or more, or two parts of
// which one is longer than four letters.
func pathLike(s string) bool {
	if strings.ContainsAny(s[:1], "/\\.~") || (len(s) > 1 && s[1] == ':') ||
		strings.ContainsAny(s, ".0123456789") {
		return true
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '\\' })
	switch {
	case len(parts) >= 4:
		return true
	case len(parts) == 2:
		return len(parts[0]) > 4 || len(parts[1]) > 4
	}
	return false
}

// hexLike keeps hex strings with a digit: "decade" and "facade" are
// words.
func hexLike(s string) bool {
	return strings.HasPrefix(s, "0x") || strings.ContainsAny(s, "0123456789") &&
		strings.ContainsAny(s, "abcdef")
}

func compileSlots(ss []Slot) []Slot {
	for i := range ss {
		ss[i].re = regexp.MustCompile(ss[i].Expr)
	}
	return ss
}

// A Part is a piece of a template: stable text, or a slot's value.
type Part struct {
	Text string
	// Slot names the placeholder kind; "" for stable text.
	Slot string
}

// Template is a failure line with its variable parts replaced by
// placeholders.
type Template []Part

// String shows the template with placeholders such as <id>.
func (t Template) String() string {
	var b strings.Builder
	for _, p := range t {
		if p.Slot != "" {
			b.WriteString("<" + p.Slot + ">")
			continue
		}
		b.WriteString(p.Text)
	}
	return b.String()
}

// Parse splits line into stable text and slot values.
func Parse(line string) Template {
	t := Template{{Text: line}}
	for _, s := range slots {
		t = t.split(s)
	}
	return t.merge()
}

// split cuts every stable part of t where s matches.
func (t Template) split(s Slot) Template {
	var out Template
	for _, p := range t {
		if p.Slot != "" {
			out = append(out, p)
			continue
		}
		rest := p.Text
		last := 0
		for _, loc := range s.re.FindAllStringIndex(rest, -1) {
			if loc[0] == loc[1] || (s.Keep != nil && !s.Keep(rest[loc[0]:loc[1]])) {
				continue
			}
			if loc[0] > last {
				out = append(out, Part{Text: rest[last:loc[0]]})
			}
			out = append(out, Part{Text: rest[loc[0]:loc[1]], Slot: s.Name})
			last = loc[1]
		}
		if last < len(rest) {
			out = append(out, Part{Text: rest[last:]})
		}
	}
	return out
}

// merge joins neighbouring stable parts.
func (t Template) merge() Template {
	var out Template
	for _, p := range t {
		if n := len(out); n > 0 && p.Slot == "" && out[n-1].Slot == "" {
			out[n-1].Text += p.Text
			continue
		}
		out = append(out, p)
	}
	return out
}

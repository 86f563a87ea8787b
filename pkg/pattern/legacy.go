package pattern

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// parseLegacy converts the older format, a `converge:` list of entries
// with errors, fixes, goals, stacks, max_retries and backoff_base, into
// patterns, warning once per entry with the converted form.
func parseLegacy(d *decoder, f *File, root *yaml.Node) {
	f.Version = 0
	d.Fields(root, "", map[string]func(*yaml.Node){
		"converge": func(n *yaml.Node) {
			if n.Kind != yaml.SequenceNode {
				d.Errorf(n, "converge", "expected a list of entries, got %s", kindName(n))
				return
			}
			for i, en := range n.Content {
				p := parseLegacyEntry(d, en, i)
				if p == nil {
					continue
				}
				f.Patterns = append(f.Patterns, p)
				text, _ := Marshal([]*Pattern{p})
				f.Warnings = append(f.Warnings, fmt.Sprintf(
					"%s: converge[%d]: the converge format is deprecated; this entry loads as:\n%s",
					p.Pos, i, indent(string(text))))
			}
		},
		"version": func(*yaml.Node) {},
	})
}

func parseLegacyEntry(d *decoder, n *yaml.Node, i int) *Pattern {
	p := fmt.Sprintf("converge[%d]", i)
	pat := &Pattern{
		ID:       fmt.Sprintf("converge-%d", i+1),
		Category: "recovery",
		Pos:      d.Pos(n),
		Retry:    DefaultRetry,
	}
	d.Fields(n, p, map[string]func(*yaml.Node){
		"name":  func(v *yaml.Node) { pat.ID = slug(d.Str(v, p+".name")) },
		"id":    func(v *yaml.Node) { pat.ID = slug(d.Str(v, p+".id")) },
		"title": func(v *yaml.Node) { pat.Title = d.Str(v, p+".title") },
		"errors": func(v *yaml.Node) {
			for j, e := range d.Strings(v, p+".errors") {
				c := legacyCond(e)
				c.Pos = d.Pos(v)
				if v.Kind == yaml.SequenceNode {
					c.Pos = d.Pos(v.Content[j])
				}
				pat.Match.Any = append(pat.Match.Any, c)
			}
		},
		"fixes": func(v *yaml.Node) {
			for j, name := range d.Strings(v, p+".fixes") {
				fx := Fix{Use: name, Pos: d.Pos(v)}
				if v.Kind == yaml.SequenceNode {
					fx.Pos = d.Pos(v.Content[j])
				}
				pat.Fixes = append(pat.Fixes, fx)
			}
		},
		"goals":       func(v *yaml.Node) { pat.When.Goals = d.Strings(v, p+".goals") },
		"stacks":      func(v *yaml.Node) { pat.When.Stacks = d.Strings(v, p+".stacks") },
		"tools":       func(v *yaml.Node) { pat.When.Tools = d.Strings(v, p+".tools") },
		"max_retries": func(v *yaml.Node) { pat.Retry.Attempts = d.Int(v, p+".max_retries") },
		"backoff_base": func(v *yaml.Node) {
			secs, err := strconv.ParseFloat(v.Value, 64)
			if err != nil || secs < 0 {
				d.Errorf(v, p+".backoff_base", "expected a number of seconds, got %q", v.Value)
				return
			}
			pat.Retry.Initial = time.Duration(secs * float64(time.Second))
		},
	})
	if pat.Title == "" {
		pat.Title = "Converted " + pat.ID
	}
	if len(pat.Match.Any) == 0 {
		d.Errorf(n, p, "missing required key \"errors\"")
	}
	if pat.Retry.Max < pat.Retry.Initial {
		pat.Retry.Max = pat.Retry.Initial
	}
	return pat
}

// legacyCond keeps an old error string as a literal unless it uses regex
// syntax, since the older format accepted both.
func legacyCond(s string) Cond {
	if regexp.QuoteMeta(s) == s {
		return Cond{Literal: s}
	}
	if _, err := regexp.Compile(s); err != nil {
		return Cond{Literal: s}
	}
	return Cond{Regex: s}
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n")
}

package pattern

import (
	"bytes"
	"time"

	"go.yaml.in/yaml/v4"
)

// fileDoc and patternDoc are the written form of the file format, with
// fields in the order people read them.
type fileDoc struct {
	Version  int          `yaml:"version"`
	Patterns []patternDoc `yaml:"patterns"`
}

type patternDoc struct {
	ID       string       `yaml:"id"`
	Title    string       `yaml:"title,omitempty"`
	Category string       `yaml:"category,omitempty"`
	Priority int          `yaml:"priority,omitempty"`
	Hint     string       `yaml:"hint,omitempty"`
	When     *Scope       `yaml:"when,omitempty"`
	Match    matchDoc     `yaml:"match"`
	Capture  yaml.Node    `yaml:"capture,omitempty"`
	Fixes    []fixDoc     `yaml:"fixes,omitempty"`
	Retry    *retryDoc    `yaml:"retry,omitempty"`
	Examples *examplesDoc `yaml:"examples,omitempty"`
	Disabled bool         `yaml:"disabled,omitempty"`
}

type matchDoc struct {
	Any  []any `yaml:"any,omitempty"`
	All  []any `yaml:"all,omitempty"`
	None []any `yaml:"none,omitempty"`
}

type fixDoc struct {
	Use  string            `yaml:"use"`
	With map[string]string `yaml:"with,omitempty"`
}

type retryDoc struct {
	Attempts int     `yaml:"attempts"`
	Initial  string  `yaml:"initial"`
	Max      string  `yaml:"max"`
	Jitter   float64 `yaml:"jitter"`
	Budget   string  `yaml:"budget"`
}

type examplesDoc struct {
	Match   []string `yaml:"match,omitempty"`
	NoMatch []string `yaml:"no_match,omitempty"`
}

// Marshal writes patterns in the current file format (version 1).
func Marshal(pats []*Pattern) ([]byte, error) {
	doc := fileDoc{Version: 1}
	for _, p := range pats {
		doc.Patterns = append(doc.Patterns, toDoc(p))
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

func toDoc(p *Pattern) patternDoc {
	d := patternDoc{
		ID: p.ID, Title: p.Title, Category: p.Category, Priority: p.Priority,
		Hint: p.Hint, Disabled: p.Disabled,
		Match: matchDoc{Any: condDocs(p.Match.Any), All: condDocs(p.Match.All), None: condDocs(p.Match.None)},
	}
	if len(p.When.Tools)+len(p.When.Goals)+len(p.When.Stacks) > 0 {
		w := p.When
		d.When = &w
	}
	if len(p.Capture) > 0 {
		d.Capture = yaml.Node{Kind: yaml.MappingNode}
		for _, c := range p.Capture {
			d.Capture.Content = append(d.Capture.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Value: c.Name},
				&yaml.Node{Kind: yaml.ScalarNode, Value: c.Regex, Style: yaml.SingleQuotedStyle})
		}
	}
	for _, f := range p.Fixes {
		d.Fixes = append(d.Fixes, fixDoc{Use: f.Use, With: f.With})
	}
	if p.Retry != DefaultRetry {
		d.Retry = &retryDoc{
			Attempts: p.Retry.Attempts, Initial: fmtDur(p.Retry.Initial), Max: fmtDur(p.Retry.Max),
			Jitter: p.Retry.Jitter, Budget: fmtDur(p.Retry.Budget),
		}
	}
	if len(p.Examples.Match)+len(p.Examples.NoMatch) > 0 {
		d.Examples = &examplesDoc{Match: p.Examples.Match, NoMatch: p.Examples.NoMatch}
	}
	return d
}

func condDocs(cs []Cond) []any {
	out := make([]any, 0, len(cs))
	for _, c := range cs {
		if c.Regex != "" {
			out = append(out, map[string]string{"regex": c.Regex})
		} else {
			out = append(out, c.Literal)
		}
	}
	return out
}

func fmtDur(d time.Duration) string {
	s := d.String()
	for _, suffix := range []string{"m0s", "h0m"} {
		if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
			s = s[:len(s)-len(suffix)+1]
		}
	}
	return s
}

package pattern

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error is a problem in a pattern file, with its position.
type Error struct {
	Pos  Position
	Path string // field path, such as patterns[2].match.any[0]
	Msg  string
}

// Error formats the problem as file:line:col: path: message.
func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s: %s", e.Pos, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Pos, e.Path, e.Msg)
}

// decoder walks a yaml.Node tree strictly, collecting every problem.
type decoder struct {
	file string
	errs []error
}

func (d *decoder) pos(n *yaml.Node) Position {
	return Position{File: d.file, Line: n.Line, Column: n.Column}
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{Pos: d.pos(n), Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) err() error { return errors.Join(d.errs...) }

// fields walks a mapping node, calling the handler registered for each
// key and reporting unknown or repeated keys with a suggestion.
func (d *decoder) fields(n *yaml.Node, path string, handlers map[string]func(*yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		h, ok := handlers[k.Value]
		if !ok {
			d.errorf(k, path, "unknown key %q%s", k.Value, didYouMean(k.Value, keys(handlers)))
			continue
		}
		if seen[k.Value] {
			d.errorf(k, path, "key %q repeated", k.Value)
			continue
		}
		seen[k.Value] = true
		h(v)
	}
}

func (d *decoder) str(n *yaml.Node, path string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, path, "expected a string, got %s", kindName(n))
		return ""
	}
	return n.Value
}

func (d *decoder) integer(n *yaml.Node, path string) int {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "expected a whole number, got %s", kindName(n))
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		d.errorf(n, path, "expected a whole number, got %q", n.Value)
	}
	return v
}

func (d *decoder) float(n *yaml.Node, path string) float64 {
	v, err := strconv.ParseFloat(n.Value, 64)
	if n.Kind != yaml.ScalarNode || err != nil {
		d.errorf(n, path, "expected a number, got %q", n.Value)
	}
	return v
}

func (d *decoder) boolean(n *yaml.Node, path string) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		d.errorf(n, path, "expected true or false, got %q", n.Value)
	}
	return b
}

// duration accepts Go durations ("90s", "2m") and plain numbers of seconds.
func (d *decoder) duration(n *yaml.Node, path string) time.Duration {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "expected a duration such as 30s or 5m, got %s", kindName(n))
		return 0
	}
	if secs, err := strconv.ParseFloat(n.Value, 64); err == nil {
		return time.Duration(secs * float64(time.Second))
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		d.errorf(n, path, "expected a duration such as 30s or 5m, got %q", n.Value)
	}
	return v
}

// strings accepts a sequence of strings, or a single string.
func (d *decoder) strings(n *yaml.Node, path string) []string {
	if n.Kind == yaml.ScalarNode {
		return []string{d.str(n, path)}
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "expected a list of strings, got %s", kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		out = append(out, d.str(c, fmt.Sprintf("%s[%d]", path, i)))
	}
	return out
}

// scalarMap decodes a mapping of scalars into text values.
func (d *decoder) scalarMap(n *yaml.Node, path string) map[string]string {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", kindName(n))
		return nil
	}
	out := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			d.errorf(v, path+"."+k.Value, "expected a single value, got %s", kindName(v))
			continue
		}
		out[k.Value] = v.Value
	}
	return out
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an empty document"
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// didYouMean suggests the closest known word, or lists them all.
func didYouMean(got string, known []string) string {
	best, bestDist := "", len(got)/2+2
	for _, k := range known {
		if dist := editDistance(got, k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return fmt.Sprintf(" (expected one of %s)", strings.Join(known, ", "))
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

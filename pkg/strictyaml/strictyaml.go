// Package strictyaml decodes YAML documents strictly through yaml.Node, so
// that every problem carries file:line:col and a field path, unknown keys
// are errors with a suggestion, and all problems are reported at once.
//
// It does not map documents onto structs by reflection: callers walk the
// tree with [Decoder.Fields] and the typed getters.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"
)

// Position is a place in a file.
type Position struct {
	File   string
	Line   int
	Column int
}

// String formats the position as file:line:col.
func (p Position) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Error is a problem in a file, with its position.
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

// Decoder walks a yaml.Node tree strictly, collecting every problem. Its
// zero value needs File set.
type Decoder struct {
	File string
	errs []error
}

// Pos returns the position of n.
func (d *Decoder) Pos(n *yaml.Node) Position {
	return Position{File: d.File, Line: n.Line, Column: n.Column}
}

// Errorf records a problem at n under the field path.
func (d *Decoder) Errorf(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{Pos: d.Pos(n), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Err returns every recorded problem joined, or nil.
func (d *Decoder) Err() error { return errors.Join(d.errs...) }

// Fields walks a mapping node, calling the handler registered for each
// key and reporting unknown or repeated keys with a suggestion.
func (d *Decoder) Fields(n *yaml.Node, path string, handlers map[string]func(*yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, path, "expected a mapping, got %s", KindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		h, ok := handlers[k.Value]
		if !ok {
			d.Errorf(k, path, "unknown key %q%s", k.Value, DidYouMean(k.Value, Keys(handlers)))
			continue
		}
		if seen[k.Value] {
			d.Errorf(k, path, "key %q repeated", k.Value)
			continue
		}
		seen[k.Value] = true
		h(v)
	}
}

// Str decodes a string.
func (d *Decoder) Str(n *yaml.Node, path string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.Errorf(n, path, "expected a string, got %s", KindName(n))
		return ""
	}
	return n.Value
}

// Int decodes a whole number.
func (d *Decoder) Int(n *yaml.Node, path string) int {
	if n.Kind != yaml.ScalarNode {
		d.Errorf(n, path, "expected a whole number, got %s", KindName(n))
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		d.Errorf(n, path, "expected a whole number, got %q", n.Value)
	}
	return v
}

// Float decodes a number.
func (d *Decoder) Float(n *yaml.Node, path string) float64 {
	v, err := strconv.ParseFloat(n.Value, 64)
	if n.Kind != yaml.ScalarNode || err != nil {
		d.Errorf(n, path, "expected a number, got %q", n.Value)
	}
	return v
}

// Bool decodes true or false.
func (d *Decoder) Bool(n *yaml.Node, path string) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		d.Errorf(n, path, "expected true or false, got %q", n.Value)
	}
	return b
}

// Duration accepts Go durations ("90s", "2m") and plain numbers of seconds.
func (d *Decoder) Duration(n *yaml.Node, path string) time.Duration {
	if n.Kind != yaml.ScalarNode {
		d.Errorf(n, path, "expected a duration such as 30s or 5m, got %s", KindName(n))
		return 0
	}
	if secs, err := strconv.ParseFloat(n.Value, 64); err == nil {
		return time.Duration(secs * float64(time.Second))
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		d.Errorf(n, path, "expected a duration such as 30s or 5m, got %q", n.Value)
	}
	return v
}

// Item is one string of a list, with its field path and place.
type Item struct {
	Value string
	Path  string
	Pos   Position
}

// Items decodes a list of strings, or a single string, keeping where each
// was written.
func (d *Decoder) Items(n *yaml.Node, path string) []Item {
	if n.Kind == yaml.ScalarNode {
		return []Item{{Value: d.Str(n, path), Path: path, Pos: d.Pos(n)}}
	}
	if n.Kind != yaml.SequenceNode {
		d.Errorf(n, path, "expected a list of strings, got %s", KindName(n))
		return nil
	}
	out := make([]Item, 0, len(n.Content))
	for i, c := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		out = append(out, Item{Value: d.Str(c, p), Path: p, Pos: d.Pos(c)})
	}
	return out
}

// Strings decodes a list of strings, or a single string.
func (d *Decoder) Strings(n *yaml.Node, path string) []string {
	return Values(d.Items(n, path))
}

// Values returns the items' strings.
func Values(items []Item) []string {
	if items == nil {
		return nil
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Value
	}
	return out
}

// Glob records a problem at it when glob, the part of it that is a
// path.Match pattern, cannot be parsed: such a glob matches nothing.
func (d *Decoder) Glob(it Item, glob string) {
	if _, err := path.Match(glob, ""); err != nil {
		d.errs = append(d.errs, &Error{Pos: it.Pos, Path: it.Path,
			Msg: fmt.Sprintf("invalid glob %q: %v", it.Value, err)})
	}
}

// ScalarMap decodes a mapping of single values into text.
func (d *Decoder) ScalarMap(n *yaml.Node, path string) map[string]string {
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, path, "expected a mapping, got %s", KindName(n))
		return nil
	}
	out := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			d.Errorf(v, path+"."+k.Value, "expected a single value, got %s", KindName(v))
			continue
		}
		out[k.Value] = v.Value
	}
	return out
}

// KindName describes a node for messages ("a list", "a mapping").
func KindName(n *yaml.Node) string {
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

// Keys returns the keys of m, sorted.
func Keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// DidYouMean suggests the closest known word, or lists them all.
func DidYouMean(got string, known []string) string {
	best, bestDist := "", len(got)/2+2
	for _, k := range known {
		if dist := EditDistance(got, k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return fmt.Sprintf(" (expected one of %s)", strings.Join(known, ", "))
}

// EditDistance is the Levenshtein distance between a and b.
func EditDistance(a, b string) int {
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

// Document parses data and returns the root node of its first document.
// An empty document and a syntax error come back as an [*Error] at the
// place YAML reports.
func Document(name string, data []byte) (*yaml.Node, error) {
	if err := checkUTF8(name, data); err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Pos: Position{File: name, Line: 1, Column: 1}, Msg: "empty file"}
		}
		return nil, SyntaxError(name, err)
	}
	return doc.Content[0], nil
}

// checkUTF8 reports the line and column of the first byte that is not
// UTF-8; the YAML parser's own message names only the byte, at 1:1. Input
// that starts with a UTF-16 byte-order mark is left to the parser.
func checkUTF8(name string, data []byte) error {
	utf16 := bytes.HasPrefix(data, []byte{0xfe, 0xff}) || bytes.HasPrefix(data, []byte{0xff, 0xfe})
	if utf16 || utf8.Valid(data) {
		return nil
	}
	line, start := 1, 0
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			col := utf8.RuneCount(data[start:i]) + 1
			return &Error{Pos: Position{File: name, Line: line, Column: col},
				Msg: fmt.Sprintf("invalid UTF-8 byte 0x%02x; the file must be UTF-8 text", data[i])}
		}
		if r == '\n' {
			line, start = line+1, i+size
		}
		i += size
	}
	return nil
}

// SyntaxError turns a yaml error into an [*Error] at the line and column
// the parser stopped at.
func SyntaxError(name string, err error) error {
	var le *yaml.LoadError
	if errors.As(err, &le) && le.Mark.Line > 0 {
		col := max(le.Mark.Column, 1)
		msg := le.Message
		if le.ContextMsg != "" && le.ContextMark.Line > 0 && le.ContextMark.Line != le.Mark.Line {
			msg += fmt.Sprintf(" (%s at line %d)", le.ContextMsg, le.ContextMark.Line)
		}
		return &Error{Pos: Position{File: name, Line: le.Mark.Line, Column: col}, Msg: msg}
	}
	msg := err.Error()
	line := 0
	if _, scanErr := fmt.Sscanf(msg, "yaml: line %d:", &line); scanErr == nil {
		rest := msg[strings.Index(msg, ":")+1:]
		rest = strings.TrimSpace(rest[strings.Index(rest, ":")+1:])
		return &Error{Pos: Position{File: name, Line: line, Column: 1}, Msg: rest}
	}
	return &Error{Pos: Position{File: name, Line: 1, Column: 1}, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

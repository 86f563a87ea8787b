package strictyaml_test

import (
	"errors"
	"testing"

	"github.com/self-heal/self-heal/pkg/strictyaml"
)

// TestDocument_syntaxErrorPosition: a syntax error names the line and
// column where the parser stopped, not the start of the construct; a byte
// that is not UTF-8 is reported where it is, in characters from the start
// of its line.
func TestDocument_syntaxErrorPosition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc string
		line, col int
		msg       string
	}{
		{"unterminated quote", "version: 1\npatterns:\n  - id: x\n    title: \"open\n    hint: h\n",
			6, 1, "found unexpected end of stream (while scanning a quoted scalar at line 4)"},
		{"bad indentation", "version: 1\npatterns:\n  - id: x\n    title: t\n   category: state\n",
			5, 4, "did not find expected '-' indicator (while parsing a block collection at line 3)"},
		{"unclosed flow sequence", "version: 1\npatterns:\n  - id: x\n    title: [a, b\n    hint: h\n",
			5, 9, "did not find expected ',' or ']' (while parsing a flow sequence at line 4)"},
		{"tab indentation", "version: 1\npatterns:\n  - id: x\n\ttitle: t\n",
			4, 1, "found a tab character that violates indentation (while scanning a plain scalar at line 3)"},
		{"invalid UTF-8 first byte", "\xf8version: 1\n", 1, 1,
			"invalid UTF-8 byte 0xf8; the file must be UTF-8 text"},
		{"invalid UTF-8 after multi-byte text", "version: 1\npatterns:\n  - id: caf\u00e9\xe9x\n", 3, 13,
			"invalid UTF-8 byte 0xe9; the file must be UTF-8 text"},
		{"truncated UTF-8 sequence", "version: 1\nproduction: [\"pr\xc3\"]\n", 2, 17,
			"invalid UTF-8 byte 0xc3; the file must be UTF-8 text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := strictyaml.Document("p.yaml", []byte(tt.doc))
			var e *strictyaml.Error
			if !errors.As(err, &e) {
				t.Fatalf("Document() error = %v, want a *strictyaml.Error", err)
			}
			if e.Pos.File != "p.yaml" || e.Pos.Line != tt.line || e.Pos.Column != tt.col || e.Msg != tt.msg {
				t.Errorf("Document() error at %s:%d:%d %q, want p.yaml:%d:%d %q",
					e.Pos.File, e.Pos.Line, e.Pos.Column, e.Msg, tt.line, tt.col, tt.msg)
			}
		})
	}
}

func TestDocument_empty(t *testing.T) {
	t.Parallel()
	_, err := strictyaml.Document("p.yaml", nil)
	var e *strictyaml.Error
	if !errors.As(err, &e) || e.Msg != "empty file" || e.Pos.Line != 1 {
		t.Errorf("Document(empty) error = %v, want p.yaml:1:1: empty file", err)
	}
}

func TestDidYouMean(t *testing.T) {
	t.Parallel()
	known := []string{"match", "capture", "fixes"}
	for got, want := range map[string]string{
		"mach":    ` (did you mean "match"?)`,
		"fixs":    ` (did you mean "fixes"?)`,
		"unknown": " (expected one of match, capture, fixes)",
	} {
		if s := strictyaml.DidYouMean(got, known); s != want {
			t.Errorf("DidYouMean(%q) = %q, want %q", got, s, want)
		}
	}
}

package logscan_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/self-heal/self-heal/pkg/logscan"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"plain", "Error: boom", "Error: boom"},
		{"whitespace runs and ends", " \t a  \t b\t ", "a b"},
		{"sgr colours", "\x1b[1m\x1b[31mError: \x1b[0m\x1b[0mboom\x1b[0m", "Error: boom"},
		{"erase line and cursor", "\x1b[2K\x1b[1A\x1b[?25lready", "ready"},
		{"osc hyperlink", "see \x1b]8;;https://x.test\x1b\\docs\x1b]8;;\x07 now", "see docs now"},
		{"osc title with bel", "\x1b]0;terraform\x07done", "done"},
		{"charset escape", "\x1b(Bplain", "plain"},
		{"two-byte escape", "a\x1bMb", "ab"},
		{"unterminated osc keeps text", "\x1b]8;;no end here", "8;;no end here"},
		{"lone esc at end", "text\x1b", "text"},
		{"control bytes", "a\x00b\x07c\x7fd", "abcd"},
		{"crlf", "Error: boom\r", "Error: boom"},
		{"progress rewrite", "10%\r50%\r100% done", "100% done"},
		{"rewrite then crlf", "10%\r100% done\r\r", "100% done"},
		{"gutter", "│ Error: boom", "Error: boom"},
		{"gutter alone", "│", ""},
		{"box top and bottom", "╷", ""},
		{"coloured gutter", "\x1b[31m│\x1b[0m \x1b[0m  ID:        f976", "ID: f976"},
		{"replaced gutter", "\uFFFD\uFFFD\uFFFD Error: Inconsistent", "Error: Inconsistent"},
		{"cp1252 gutter", "â”‚ Error: boom", "Error: boom"},
		{"github timestamp", "2024-05-01T12:00:00.1234567Z Error: boom", "Error: boom"},
		{"timestamp with offset", "2024-05-01T12:00:00+02:00 boom", "boom"},
		{"terraform debug timestamp", "2024-05-01T12:00:00.094Z [DEBUG] x", "[DEBUG] x"},
		{"timestamp needs a space", "2024-05-01T12:00:00Zboom", "2024-05-01T12:00:00Zboom"},
		{"azure error", "##[error]Bash exited with code '1'.", "Bash exited with code '1'."},
		{"azure logging command", "##vso[task.logissue type=error]boom", "boom"},
		{"timestamp then azure", "2024-05-01T12:00:00Z ##[warning]careful", "careful"},
		{"workflow command", "::error::boom", "boom"},
		{"workflow command with params", "::error file=main.tf,line=3::boom", "boom"},
		{"workflow end group", "::endgroup::", ""},
		{"timestamp, group and gutter", "2024-05-01T12:00:00Z │ │ nested", "nested"},
		{"markdown heading is not a command", "## Plan [draft]", "## Plan [draft]"},
		{"colour remnant", "[31m│[0m [1mError: [0mboom", "Error: boom"},
		{"brackets that are not colours", "list[0] = [m]", "list[0] = [m]"},
		{"invalid utf-8", "a\xffb\xc3", "a\uFFFDb\uFFFD"},
		{"c1 control", "a\u0085b", "ab"},
		{"multibyte kept", "état ✓ 日本", "état ✓ 日本"},
		{
			"json record",
			`{"msg":"Error: boom\nLock Info:\n  ID:  42\n"}`,
			"{\"msg\":\"Error: boom\nLock Info:\nID: 42\n\"}",
		},
		{
			"json escapes",
			`{"m":"a\tb \"q\" c\\d \u00e9\ud83d\ude00 \u001b[31mred\u001b[0m\nx"}`,
			"{\"m\":\"a b \"q\" c\\d é😀 red\nx\"}",
		},
		{
			"json gutter and crlf inside",
			`{"log":"\u2502 Error: boom\r\n"}`,
			"{\"log\":\"│ Error: boom\n\"}",
		},
		{"json lone surrogate", `{"m":"\ud800x\nb"}`, "{\"m\":\"\uFFFDx\nb\"}"},
		{"json bad escape kept", `{"m":"\q\u12\nb"}`, "{\"m\":\"\\q\\u12\nb\"}"},
		{
			"json after timestamp",
			`2024-05-01T12:00:00Z {"level":"error","msg":"a\nb"}`,
			"{\"level\":\"error\",\"msg\":\"a\nb\"}",
		},
		{"json string", `"line one\nline two"`, "\"line one\nline two\""},
		{"logfmt", `level=error msg="a\nb"`, "level=error msg=\"a\nb\""},
		{"backslash-n in prose stays", `printf 'a\nb'`, `printf 'a\nb'`},
		{"terragrunt unit", "09:32:46.963 STDOUT terraform: Plan: 1 to add", "Plan: 1 to add"},
		{
			"terragrunt run --all unit and gutter",
			"09:32:46.963 STDERR [live/prod/vpc] tofu: \x1b[31m│\x1b[0m Error: state lock",
			"Error: state lock",
		},
		{"terragrunt padded level", "14:20:38.431 ERROR  [vpc] terraform: ID: 42", "ID: 42"},
		{"terragrunt own message", "14:20:38.431 INFO   [vpc] Downloading module", "Downloading module"},
		{"terragrunt empty relayed line", "09:32:47.088 STDOUT terraform:", ""},
		{"terragrunt program path", "09:32:47.088 STDOUT [a] /usr/bin/tofu: x", "x"},
		{"terragrunt bare unit", "[live/prod/vpc] terraform: Error: boom", "Error: boom"},
		{"terragrunt bare unit path", "[live/prod/vpc] Error: boom", "Error: boom"},
		{"debug tag is not a unit", "[DEBUG] provider: starting", "[DEBUG] provider: starting"},
		{"clock without level stays", "09:32:46 started", "09:32:46 started"},
		{"escaped backslash is not a newline", `{"p":"C:\\new"}`, `{"p":"C:\new"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := string(logscan.Normalize(nil, []byte(tt.raw))); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestNormalize_appends(t *testing.T) {
	t.Parallel()
	got := logscan.Normalize([]byte("kept|"), []byte("  \x1b[1mnew  line "))
	if string(got) != "kept|new line" {
		t.Errorf("Normalize appended %q, want %q", got, "kept|new line")
	}
}

func FuzzNormalize(f *testing.F) {
	for _, seed := range []string{
		"",
		"\x1b[31m│\x1b[0m \x1b[1mError: \x1b[0mboom",
		"10%\r50%\r100%\r\n",
		"2024-05-01T12:00:00.1234567Z ##[error]boom",
		"::error file=a,line=1::boom",
		`{"log":"\u001b[31m\u2502 Error\n\ud83d\ude00\"x\"","t":1}`,
		"\uFFFD\uFFFD\uFFFD a\xff\xfe\x00\x7f",
		"\x1b]8;;http://x\x1b\\y\x1b]0;t\x07[1;31m",
		"\x1b(B\x1bM\x1b",
		"09:32:46.963 STDERR [live/vpc] terraform: │ Error: x",
	} {
		f.Add([]byte(seed))
	}
	if logs, err := filepath.Glob(filepath.Join("testdata", "*.log")); err == nil {
		for _, path := range logs {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			for _, line := range bytes.Split(data, []byte("\n")) {
				f.Add(line)
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := logscan.Normalize(nil, raw)
		if !utf8.Valid(got) {
			t.Fatalf("Normalize(%q) = %q: not valid UTF-8", raw, got)
		}
		if i := bytes.IndexFunc(got, func(r rune) bool {
			return r < 0x20 && r != '\n' || r == 0x7f
		}); i >= 0 {
			t.Fatalf("Normalize(%q) = %q: control byte at %d", raw, got, i)
		}
		for _, line := range bytes.Split(got, []byte("\n")) {
			if !bytes.Equal(line, bytes.TrimSpace(line)) || bytes.Contains(line, []byte("  ")) {
				t.Fatalf("Normalize(%q) = %q: line %q not trimmed and single-spaced",
					raw, got, line)
			}
		}
	})
}

func BenchmarkNormalize(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "terraform-ansi-state-lock.log"))
	if err != nil {
		b.Fatal(err)
	}
	json, err := os.ReadFile(filepath.Join("testdata", "terraform-json-state-lock.log"))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		data []byte
	}{{"ansi", data}, {"json", json}} {
		lines := bytes.Split(bc.data, []byte("\n"))
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.data)))
			var dst []byte
			for b.Loop() {
				for _, l := range lines {
					dst = logscan.Normalize(dst[:0], l)
				}
			}
		})
	}
}

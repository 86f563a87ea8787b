package ledger

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/self-heal/self-heal/pkg/report"
)

// This file decodes records without reflection. `stats` reads every
// record of a ledger, and encoding/json's reflective decoder alone would
// spend most of the two seconds that 100,000 records may take. The
// decoder reads what encoding/json writes for [Record] and accepts any
// valid JSON: unknown keys are skipped, keys match regardless of ASCII
// case and null leaves a field at its zero value, as with encoding/json.
// Unlike encoding/json it keeps invalid UTF-8 as it is and folds no
// non-ASCII letters in keys.

// errSyntax is the cause of every malformed record.
var errSyntax = errors.New("invalid JSON")

// reader walks one JSON value in data.
type reader struct {
	data []byte
	pos  int
}

func (r *reader) fail(what string) error {
	return fmt.Errorf("%w: %s at byte %d", errSyntax, what, r.pos)
}

func (r *reader) space() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (r *reader) peek() byte {
	r.space()
	if r.pos >= len(r.data) {
		return 0
	}
	return r.data[r.pos]
}

func (r *reader) expect(c byte) error {
	if r.peek() != c {
		return r.fail("want " + string(c))
	}
	r.pos++
	return nil
}

// null consumes a null and reports whether there was one.
func (r *reader) null() bool {
	if r.peek() == 'n' && len(r.data)-r.pos >= 4 && string(r.data[r.pos:r.pos+4]) == "null" {
		r.pos += 4
		return true
	}
	return false
}

// object calls field for each key of an object; field must consume the
// value. A null object calls nothing.
func (r *reader) object(field func(key string) error) error {
	if r.null() {
		return nil
	}
	if err := r.expect('{'); err != nil {
		return err
	}
	if r.peek() == '}' {
		r.pos++
		return nil
	}
	for {
		key, err := r.str()
		if err != nil {
			return err
		}
		key = lowerASCII(key)
		if err := r.expect(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.pos++
		case '}':
			r.pos++
			return nil
		default:
			return r.fail("want , or }")
		}
	}
}

// lowerASCII folds a key's ASCII letters, as encoding/json matches keys
// regardless of case.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// array calls item for each element of an array; item must consume it.
func (r *reader) array(item func() error) error {
	if r.null() {
		return nil
	}
	if err := r.expect('['); err != nil {
		return err
	}
	if r.peek() == ']' {
		r.pos++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.pos++
		case ']':
			r.pos++
			return nil
		default:
			return r.fail("want , or ]")
		}
	}
}

// str reads a string; null reads as "".
func (r *reader) str() (string, error) {
	if r.null() {
		return "", nil
	}
	if err := r.expect('"'); err != nil {
		return "", err
	}
	start := r.pos
	for r.pos < len(r.data) {
		switch c := r.data[r.pos]; {
		case c == '"':
			s := string(r.data[start:r.pos])
			r.pos++
			return s, nil
		case c == '\\':
			return r.escaped(start)
		case c < 0x20:
			return "", r.fail("control character in string")
		}
		r.pos++
	}
	return "", r.fail("unterminated string")
}

// escaped finishes a string that holds escapes, from its start.
func (r *reader) escaped(start int) (string, error) {
	buf := append([]byte(nil), r.data[start:r.pos]...)
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		switch {
		case c == '"':
			r.pos++
			return string(buf), nil
		case c < 0x20:
			return "", r.fail("control character in string")
		case c != '\\':
			buf = append(buf, c)
			r.pos++
			continue
		}
		if r.pos+1 >= len(r.data) {
			return "", r.fail("unterminated escape")
		}
		r.pos += 2
		switch e := r.data[r.pos-1]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			ru, err := r.unicode()
			if err != nil {
				return "", err
			}
			buf = utf8.AppendRune(buf, ru)
		default:
			return "", r.fail("bad escape")
		}
	}
	return "", r.fail("unterminated string")
}

// unicode reads the four hex digits after \u, and a low surrogate's
// escape after a high one.
func (r *reader) unicode() (rune, error) {
	ru, ok := r.hex4()
	if !ok {
		return 0, r.fail("bad \\u escape")
	}
	if utf16.IsSurrogate(ru) && len(r.data)-r.pos >= 6 && r.data[r.pos] == '\\' && r.data[r.pos+1] == 'u' {
		save := r.pos
		r.pos += 2
		if lo, ok := r.hex4(); ok {
			if dec := utf16.DecodeRune(ru, lo); dec != utf8.RuneError {
				return dec, nil
			}
		}
		r.pos = save
	}
	if utf16.IsSurrogate(ru) {
		return utf8.RuneError, nil
	}
	return ru, nil
}

func (r *reader) hex4() (rune, bool) {
	if len(r.data)-r.pos < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(r.data[r.pos:r.pos+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	r.pos += 4
	return rune(v), true
}

// number returns the raw text of a number.
func (r *reader) number() ([]byte, error) {
	r.space()
	start := r.pos
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			break
		}
		r.pos++
	}
	if start == r.pos {
		return nil, r.fail("want a number")
	}
	return r.data[start:r.pos], nil
}

// int reads an integer; null reads as 0.
func (r *reader) int() (int64, error) {
	if r.null() {
		return 0, nil
	}
	b, err := r.number()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, r.fail("want an integer")
	}
	return v, nil
}

// boolean reads true or false; null reads as false.
func (r *reader) boolean() (bool, error) {
	if r.null() {
		return false, nil
	}
	rest := r.data[r.pos:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		r.pos += 4
		return true, nil
	case len(rest) >= 5 && string(rest[:5]) == "false":
		r.pos += 5
		return false, nil
	}
	return false, r.fail("want true or false")
}

// skip consumes any value.
func (r *reader) skip() error {
	switch c := r.peek(); {
	case c == '"':
		_, err := r.str()
		return err
	case c == '{':
		return r.object(func(string) error { return r.skip() })
	case c == '[':
		return r.array(r.skip)
	case c == 't' || c == 'f':
		_, err := r.boolean()
		return err
	case c == 'n':
		if r.null() {
			return nil
		}
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := r.number()
		return err
	}
	return r.fail("want a value")
}

func (r *reader) strings() ([]string, error) {
	var out []string
	err := r.array(func() error {
		s, err := r.str()
		out = append(out, s)
		return err
	})
	return out, err
}

// decodeRecord reads a record as encoding/json would decode it.
func decodeRecord(data []byte) (*Record, error) {
	r := &reader{data: data}
	rec := &Record{}
	if err := r.object(func(key string) error { return r.recordField(rec, key) }); err != nil {
		return nil, err
	}
	if r.peek() != 0 {
		return nil, r.fail("data after the record")
	}
	return rec, nil
}

func (r *reader) recordField(rec *Record, key string) error {
	if p := rec.stringField(key); p != nil {
		var err error
		*p, err = r.str()
		return err
	}
	var err error
	var n int64
	switch key {
	case "schema":
		n, err = r.int()
		rec.Schema = int(n)
	case "exit_code":
		n, err = r.int()
		rec.ExitCode = int(n)
	case "duration_ms":
		rec.DurationMS, err = r.int()
	case "time_to_green_ms":
		rec.TimeToGreenMS, err = r.int()
	case "dry_run":
		rec.DryRun, err = r.boolean()
	case "outcome":
		var s string
		s, err = r.str()
		rec.Outcome = report.Outcome(s)
	case "time":
		rec.Time, err = r.time()
	case "attempts":
		err = r.array(func() error {
			var a Attempt
			err := r.object(func(k string) error { return r.attemptField(&a, k) })
			rec.Attempts = append(rec.Attempts, a)
			return err
		})
	default:
		err = r.skip()
	}
	return err
}

// stringField returns the record's string field of a JSON key.
func (rec *Record) stringField(key string) *string {
	switch key {
	case "id":
		return &rec.ID
	case "repository":
		return &rec.Repository
	case "ci":
		return &rec.CI
	case "job":
		return &rec.Job
	case "run_url":
		return &rec.RunURL
	case "commit":
		return &rec.Commit
	case "change_request":
		return &rec.ChangeRequest
	case "environment":
		return &rec.Environment
	case "stack":
		return &rec.Stack
	case "tool":
		return &rec.Tool
	case "goal":
		return &rec.Goal
	case "command":
		return &rec.Command
	case "stop_reason":
		return &rec.StopReason
	}
	return nil
}

func (r *reader) time() (time.Time, error) {
	if r.null() {
		return time.Time{}, nil
	}
	s, err := r.str()
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("decode record: time %q: %w", s, err)
	}
	return t, nil
}

func (r *reader) attemptField(a *Attempt, key string) error {
	var err error
	var n int64
	switch key {
	case "n":
		n, err = r.int()
		a.Number = int(n)
	case "exit_code":
		n, err = r.int()
		a.ExitCode = int(n)
	case "duration_ms":
		a.DurationMS, err = r.int()
	case "fingerprint":
		a.Fingerprint, err = r.str()
	case "pattern":
		a.Pattern, err = r.str()
	case "pattern_hash":
		a.PatternHash, err = r.str()
	case "window":
		a.Window, err = r.str()
	case "fixes":
		err = r.array(func() error {
			var f Fix
			err := r.object(func(k string) error { return r.fixField(&f, k) })
			a.Fixes = append(a.Fixes, f)
			return err
		})
	default:
		err = r.skip()
	}
	return err
}

func (r *reader) fixField(f *Fix, key string) error {
	var err error
	switch key {
	case "fixer":
		f.Fixer, err = r.str()
	case "safety":
		f.Safety, err = r.str()
	case "outcome":
		f.Outcome, err = r.str()
	case "rule":
		f.Rule, err = r.str()
	case "reason":
		f.Reason, err = r.str()
	case "changed":
		f.Changed, err = r.strings()
	case "duration_ms":
		f.DurationMS, err = r.int()
	default:
		err = r.skip()
	}
	return err
}

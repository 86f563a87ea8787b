package logscan

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// Normalize appends the normalised form of one raw line to dst and returns
// the extended slice. Escape sequences and control bytes are removed,
// carriage-return rewrites are resolved, CI and Terraform prefixes are
// stripped, whitespace runs become one space and both ends are trimmed,
// and invalid UTF-8 becomes U+FFFD. A line that holds a JSON-encoded log
// record or string with escaped newlines is expanded, so the result may
// contain '\n'. Normalize does not limit the length; [Scanner] cuts lines
// before they get here.
func Normalize(dst, raw []byte) []byte {
	start := len(dst)
	dst = normalizeLine(dst, raw)
	line := dst[start:]
	if !bytes.Contains(line, []byte(`\n`)) || !looksJSON(line) {
		return dst
	}

	// Expand the escapes and normalise each resulting line again: the
	// escapes may have hidden ANSI colours, gutters and carriage returns.
	expanded := unescapeJSON(make([]byte, 0, len(line)), line)
	dst = dst[:start]
	for i, part := range bytes.Split(expanded, []byte("\n")) {
		if i > 0 {
			dst = append(dst, '\n')
		}
		dst = normalizeLine(dst, part)
	}
	return dst
}

// normalizeLine appends one normalised line without JSON expansion.
func normalizeLine(dst, raw []byte) []byte {
	raw = lastRewrite(raw)
	start := len(dst)
	dst = clean(dst, raw)
	for {
		n := prefixLen(dst[start:])
		if n == 0 {
			return dst
		}
		dst = append(dst[:start], dst[start+n:]...)
	}
}

// lastRewrite returns what a terminal would show of a line that rewrote
// itself with carriage returns: the text after the last '\r' that is
// followed by something. Trailing '\r' bytes (CRLF) are dropped.
func lastRewrite(raw []byte) []byte {
	return bytes.TrimRight(raw[rewriteStart(raw):], "\r")
}

// rewriteStart is the offset in b after the last '\r' that is followed by
// something other than '\r', or 0.
func rewriteStart(b []byte) int {
	end := len(b)
	for end > 0 && b[end-1] == '\r' {
		end--
	}
	return bytes.LastIndexByte(b[:end], '\r') + 1
}

// clean appends raw without escape sequences and control bytes, with
// whitespace runs (Unicode spaces included) folded into single spaces, no
// leading or trailing space, and invalid UTF-8 replaced.
func clean(dst, raw []byte) []byte {
	start := len(dst)
	space := false
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == ' ' || c == '\t':
			space = true
			i++
			continue
		case c == 0x1b:
			i = skipEscape(raw, i)
			continue
		case c < 0x20 || c == 0x7f:
			i++
			continue
		case c == '[' && !escapedESC(dst[start:]):
			if n := sgrRemnant(raw[i:]); n > 0 {
				i += n
				continue
			}
		}

		if c < utf8.RuneSelf {
			dst = flushSpace(dst, start, space)
			space = false
			j := plainRun(raw, i)
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		r, size := utf8.DecodeRune(raw[i:])
		switch {
		case r >= 0x80 && r < 0xa0:
			// C1 control characters are dropped like C0 ones.
		case unicode.IsSpace(r):
			space = true
		default:
			dst = flushSpace(dst, start, space)
			space = false
			dst = utf8.AppendRune(dst, r) // invalid bytes become U+FFFD
		}
		i += size
	}
	return dst
}

// flushSpace appends the space that a whitespace run left pending, unless
// the line has no text yet.
func flushSpace(dst []byte, start int, space bool) []byte {
	if space && len(dst) > start {
		dst = append(dst, ' ')
	}
	return dst
}

// plainRun returns the end of the run of printable ASCII starting at i,
// stopping at '[' so that colour remnants are seen.
func plainRun(raw []byte, i int) int {
	j := i + 1
	for j < len(raw) {
		c := raw[j]
		if c <= ' ' || c >= 0x7f || c == '[' {
			break
		}
		j++
	}
	return j
}

// skipEscape returns the index after the escape sequence that starts with
// ESC at raw[i]. Unterminated string sequences end at the ESC that opened
// them, so a stray ESC never swallows the rest of a line.
//
//nolint:gocyclo // one switch over the kinds of escape sequence reads best whole
func skipEscape(raw []byte, i int) int {
	j := i + 1
	if j >= len(raw) {
		return j
	}
	switch c := raw[j]; {
	case c == '[':
		return skipCSI(raw, j+1)
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
		if end := stringEnd(raw, j+1); end > 0 {
			return end
		}
		return j + 1
	case c >= 0x20 && c <= 0x2f:
		// Intermediate bytes, then one final byte (for example ESC ( B).
		for j < len(raw) && raw[j] >= 0x20 && raw[j] <= 0x2f {
			j++
		}
		if j < len(raw) && raw[j] >= 0x30 && raw[j] <= 0x7e {
			j++
		}
		return j
	case c >= 0x30 && c <= 0x7e:
		return j + 1
	}
	return j
}

// skipCSI skips the parameter, intermediate and final bytes of a control
// sequence whose body starts at j.
func skipCSI(raw []byte, j int) int {
	for j < len(raw) && raw[j] >= 0x30 && raw[j] <= 0x3f {
		j++
	}
	for j < len(raw) && raw[j] >= 0x20 && raw[j] <= 0x2f {
		j++
	}
	if j < len(raw) && raw[j] >= 0x40 && raw[j] <= 0x7e {
		j++
	}
	return j
}

// stringEnd finds the BEL or ESC \ that ends an OSC, DCS or similar
// string sequence whose body starts at j, and returns the index after it,
// or 0 when the line holds no terminator.
func stringEnd(raw []byte, j int) int {
	for ; j < len(raw); j++ {
		switch raw[j] {
		case 0x07:
			return j + 1
		case 0x1b:
			if j+1 < len(raw) && raw[j+1] == '\\' {
				return j + 2
			}
			return 0
		}
	}
	return 0
}

// sgrRemnant returns the length of a colour sequence that lost its ESC on
// the way into a log ("[31m", "[0;1m"), or 0. Such remnants appear when
// a log is copied from a viewer that drops control bytes.
func sgrRemnant(b []byte) int {
	digits := false
	for j := 1; j < len(b) && j < 20; j++ {
		switch c := b[j]; {
		case c >= '0' && c <= '9':
			digits = true
		case c == ';':
		case c == 'm' && digits:
			return j + 1
		default:
			return 0
		}
	}
	return 0
}

// escapedESC reports whether s ends with a JSON-escaped ESC, which the
// expansion of the line will turn into a real one.
func escapedESC(s []byte) bool {
	const esc = `\u001b`
	return len(s) >= len(esc) && bytes.EqualFold(s[len(s)-len(esc):], []byte(esc))
}

// gutters are the prefixes of Terraform's diagnostic boxes: the plain
// characters, what a log shows when each of their UTF-8 bytes was
// replaced, and what it shows when they were decoded as Windows-1252.
var gutters = [][]byte{
	[]byte("│"), []byte("╷"), []byte("╵"),
	[]byte("\uFFFD\uFFFD\uFFFD"),
	[]byte("â”‚"), []byte("â•·"), []byte("â•µ"),
}

// prefixLen returns the length of one CI, Terraform or Terragrunt prefix at
// the start of a cleaned line, including the space after it, or 0.
func prefixLen(s []byte) int {
	n := timestampLen(s)
	if n == 0 {
		n = commandLen(s)
	}
	if n == 0 {
		n = terragruntLen(s)
	}
	if n == 0 {
		for _, g := range gutters {
			if bytes.HasPrefix(s, g) {
				n = len(g)
				break
			}
		}
	}
	if n > 0 && n < len(s) && s[n] == ' ' {
		n++
	}
	return n
}

// timestampLen matches an ISO-8601 timestamp such as GitHub's
// "2024-05-01T12:00:00.1234567Z" followed by a space or the end.
func timestampLen(s []byte) int {
	const layout = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(layout) {
		return 0
	}
	for i := range len(layout) {
		if !timestampByte(layout[i], s[i]) {
			return 0
		}
	}
	n := len(layout)
	if n < len(s) && (s[n] == '.' || s[n] == ',') {
		n = digitsEnd(s, n+1)
	}
	switch {
	case n < len(s) && s[n] == 'Z':
		n++
	case n < len(s) && (s[n] == '+' || s[n] == '-'):
		n = zoneEnd(s, n+1)
	}
	if n < len(s) && s[n] != ' ' {
		return 0
	}
	return n
}

func timestampByte(want, c byte) bool {
	switch want {
	case 'd':
		return c >= '0' && c <= '9'
	case 'T':
		return c == 'T' || c == ' '
	}
	return c == want
}

func digitsEnd(s []byte, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// zoneEnd skips "hh:mm" or "hhmm" of a UTC offset whose sign is before i.
func zoneEnd(s []byte, i int) int {
	j := digitsEnd(s, i)
	if j == i+2 && j < len(s) && s[j] == ':' {
		j = digitsEnd(s, j+1)
	}
	return j
}

// commandLen matches an Azure DevOps "##[error]" or "##vso[...]" prefix or
// a GitHub workflow command such as "::error file=main.tf,line=3::".
//
//nolint:gocyclo // one switch over the CI command forms reads best whole
func commandLen(s []byte) int {
	switch {
	case bytes.HasPrefix(s, []byte("##")):
		j := 2
		for j < len(s) && s[j] >= 'a' && s[j] <= 'z' {
			j++
		}
		if j == len(s) || s[j] != '[' {
			return 0
		}
		if end := bytes.IndexByte(s[j:], ']'); end > 0 && end < 200 {
			return j + end + 1
		}
	case bytes.HasPrefix(s, []byte("::")):
		j := 2
		for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] == '-') {
			j++
		}
		if j == 2 {
			return 0
		}
		if end := bytes.Index(s[j:], []byte("::")); end >= 0 && (end == 0 || s[j] == ' ') {
			return j + end + 2
		}
	}
	return 0
}

// looksJSON reports whether a line that contains `\n` looks like a
// JSON-encoded log record or string (or a logfmt record, whose quoted
// values use the same escapes), rather than text that merely mentions a
// backslash.
func looksJSON(line []byte) bool {
	switch line[0] {
	case '{', '[', '"':
		return true
	}
	return bytes.Contains(line, []byte(`":`)) || bytes.Contains(line, []byte(`="`))
}

// unescapeJSON appends s with JSON string escapes expanded. Escapes that
// are not valid JSON are kept as they are.
func unescapeJSON(dst, s []byte) []byte {
	for {
		i := bytes.IndexByte(s, '\\')
		if i < 0 || i+1 >= len(s) {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		n := 2
		switch c := s[i+1]; c {
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case '"', '\\', '/':
			dst = append(dst, c)
		case 'b', 'f':
			// Backspace and form feed carry nothing for matching.
		case 'u':
			var r rune
			if r, n = unescapeRune(s[i:]); n == 0 {
				dst = append(dst, s[i:i+2]...)
				n = 2
			} else {
				dst = utf8.AppendRune(dst, r)
			}
		default:
			dst = append(dst, s[i:i+2]...)
		}
		s = s[i+n:]
	}
}

// unescapeRune decodes "\uXXXX", or a surrogate pair of two, at the start
// of s. It returns the rune and the bytes used, or 0 bytes when s does
// not start with a valid escape. Lone surrogates become U+FFFD.
func unescapeRune(s []byte) (rune, int) {
	r, ok := hex4(s)
	if !ok {
		return 0, 0
	}
	if r < 0xd800 || r > 0xdfff {
		return r, 6
	}
	if r <= 0xdbff && len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
		if lo, ok := hex4(s[6:]); ok && lo >= 0xdc00 && lo <= 0xdfff {
			return 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00), 12
		}
	}
	return utf8.RuneError, 6
}

// hex4 parses the four hex digits of "\uXXXX" at the start of s.
func hex4(s []byte) (rune, bool) {
	if len(s) < 6 {
		return 0, false
	}
	var r rune
	for _, c := range s[2:6] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

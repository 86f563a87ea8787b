package logscan

import "bytes"

// tgLevels are the levels terragrunt (0.67 and later) prints after the
// time; STDOUT and STDERR carry the output of the terraform or tofu it
// runs. See https://terragrunt.gruntwork.io/docs/reference/logging/.
var tgLevels = [][]byte{
	[]byte("STDOUT"), []byte("STDERR"), []byte("ERROR"), []byte("WARN"),
	[]byte("INFO"), []byte("DEBUG"), []byte("TRACE"),
}

// terragruntLen matches the prefix terragrunt puts on the lines it relays,
// with single spaces as [clean] leaves them:
//
//	09:32:46.963 STDOUT terraform: ...            a unit run on its own
//	09:32:46.963 STDERR [live/vpc] tofu: ...      a unit of run --all
//	[live/vpc] terraform: ...                     the bare format
//
// Without the time and level, a bracketed unit counts only when the
// program's name follows it or the unit is a path, so that "[DEBUG] x"
// and "[INFO] x" from terraform's own logs stay as they are. It returns
// the prefix's length without the space after it, or 0.
func terragruntLen(s []byte) int {
	n := clockLevelLen(s)
	rest := s[n:]
	if n > 0 && len(rest) > 0 {
		rest = rest[1:] // the space after the level
	}
	unit, unitLen := unitPrefix(rest)
	if unitLen > 0 {
		rest = rest[unitLen:]
	}
	prog := programLen(rest)
	switch {
	case n > 0:
	case unitLen > 0 && (prog > 0 || bytes.ContainsRune(unit, '/')):
	default:
		return 0
	}
	end := len(s) - len(rest) + prog
	for end > 0 && s[end-1] == ' ' {
		end--
	}
	return end
}

// clockLevelLen matches "hh:mm:ss.mmm LEVEL" (the fraction optional).
func clockLevelLen(s []byte) int {
	const layout = "dd:dd:dd"
	if len(s) < len(layout) {
		return 0
	}
	for i := range len(layout) {
		if !timestampByte(layout[i], s[i]) {
			return 0
		}
	}
	n := len(layout)
	if n < len(s) && s[n] == '.' {
		n = digitsEnd(s, n+1)
	}
	if n >= len(s) || s[n] != ' ' {
		return 0
	}
	for _, lvl := range tgLevels {
		if rest := s[n+1:]; bytes.HasPrefix(rest, lvl) &&
			(len(rest) == len(lvl) || rest[len(lvl)] == ' ') {
			return n + 1 + len(lvl)
		}
	}
	return 0
}

// unitPrefix matches "[unit] " (or "[unit]" ending the line) and returns
// the unit and the length matched.
func unitPrefix(s []byte) ([]byte, int) {
	if len(s) < 3 || s[0] != '[' || s[1] == ' ' {
		return nil, 0
	}
	end := bytes.IndexByte(s[:min(len(s), 1024)], ']')
	if end < 2 {
		return nil, 0
	}
	switch {
	case end+1 == len(s):
		return s[1:end], end + 1
	case s[end+1] == ' ':
		return s[1:end], end + 2
	}
	return nil, 0
}

// programLen matches "terraform: " or "tofu: ", the name possibly with a
// directory, or "terraform:" ending the line.
func programLen(s []byte) int {
	colon := bytes.IndexByte(s[:min(len(s), 1024)], ':')
	if colon < 0 || bytes.ContainsAny(s[:colon], " \t") {
		return 0
	}
	name := s[:colon]
	if i := bytes.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if !bytes.Equal(name, []byte("terraform")) && !bytes.Equal(name, []byte("tofu")) {
		return 0
	}
	if colon+1 == len(s) {
		return colon + 1
	}
	if s[colon+1] == ' ' {
		return colon + 2
	}
	return 0
}

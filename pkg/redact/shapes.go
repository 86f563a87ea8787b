package redact

import (
	"bytes"
	"regexp"
	"slices"
)

// shape is a token form masked even when its value is unknown. When the
// expression has a group, only the group is masked, so the label that
// tells a reader what was there stays.
type shape struct {
	re *regexp.Regexp
	// hints are strings of which every match contains one, ignoring
	// case; the expression runs only where a hint is.
	hints     []string
	multiline bool
}

// onLine is a shape that a line holds whole; across lines is one that
// may span lines.
func onLine(expr string, hints ...string) shape {
	return shape{re: regexp.MustCompile(expr), hints: hints}
}

func acrossLines(expr string, hints ...string) shape {
	return shape{re: regexp.MustCompile(expr), hints: hints, multiline: true}
}

var shapes = []shape{
	// AWS access key ids, long-term and temporary.
	onLine(`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`, "akia", "asia"),
	// AWS secret keys and session tokens next to their label, as in
	// credentials files, environment dumps and STS responses.
	onLine(`(?i)(?:aws_?secret_?access_?key|secret_?access_?key)["'\s:=]+([A-Za-z0-9/+=]{40})`,
		"secret"),
	onLine(`(?i)(?:aws_?session_?token|session_?token)["'\s:=]+([A-Za-z0-9/+=]{100,})`,
		"session"),
	// GitHub tokens:
	// https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/
	onLine(`\bgh[pousr]_[A-Za-z0-9]{36,255}\b`, "ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
	onLine(`\bgithub_pat_[A-Za-z0-9_]{22,255}`, "github_pat_"),
	// GitLab personal, deploy, runner and CI job tokens.
	onLine(`\bgl(?:pat|dt|rt|cbt|ptt|soat)-[A-Za-z0-9_-]{20,}`,
		"glpat-", "gldt-", "glrt-", "glcbt-", "glptt-", "glsoat-"),
	// Slack tokens.
	onLine(`\bxox[abposr]-[A-Za-z0-9-]{10,}`, "xox"),
	// JWTs: a JSON header ("eyJ" is base64 of '{"'), a payload and an
	// optional signature, base64url.
	onLine(`\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`, "eyj"),
	// PEM private keys, also JSON-escaped and also cut off before END.
	acrossLines(`-----BEGIN[ A-Z0-9]*PRIVATE KEY-----(?s:.*?)`+
		`(?:-----END[ A-Z0-9]*PRIVATE KEY-----|\z)`, "private key"),
	// Credentials of an Authorization header, and bearer tokens anywhere.
	onLine(`(?i)\bauthorization["']?\s*[:=]\s*["']?(?:bearer|token|basic)\s+([^\s"']+)`,
		"authorization"),
	onLine(`(?i)\bbearer\s+([A-Za-z0-9._~+/-]{16,}=*)`, "bearer"),
	// The password in a URL's user information.
	onLine(`(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@]+:([^/\s@]+)@`, "://"),
}

// hints finds the hints of every shape, ignoring case, and hinted maps a
// folded hint to the shapes it belongs to.
var hints, hinted = indexHints()

func indexHints() (*matcher, map[string][]int) {
	var all []string
	hinted := map[string][]int{}
	for i, sh := range shapes {
		for _, h := range sh.hints {
			all = append(all, h)
			folded := string(foldBytes([]byte(h)))
			hinted[folded] = append(hinted[folded], i)
		}
	}
	return newMatcher(all, true), hinted
}

// shapeSpans returns known (disjoint, sorted spans of known secrets)
// merged with the spans of every token shape in b. A shape's expression
// runs on each line that holds one of its hints, or once on the whole
// text when the shape spans lines.
func shapeSpans(b []byte, known []span) []span {
	found := slices.Clone(known)
	searched := make([]int, len(shapes)) // where each shape's search may resume
	hints.each(b, func(pos int, hint string) {
		for _, i := range hinted[hint] {
			if pos < searched[i] {
				continue
			}
			sh := shapes[i]
			start, end := 0, len(b)
			if !sh.multiline {
				start, end = lineAround(b, pos)
			}
			found = appendMatches(found, sh.re, b[start:end], start)
			searched[i] = end + 1
		}
	})
	if len(found) == len(known) {
		return known
	}

	slices.SortFunc(found, func(a, b span) int { return a.end - b.end })
	var merged []span
	for _, s := range found {
		merged = addSpan(merged, s.start, s.end)
	}
	return merged
}

// lineAround returns the bounds of the line that holds b[pos].
func lineAround(b []byte, pos int) (start, end int) {
	start = bytes.LastIndexByte(b[:pos], '\n') + 1
	end = len(b)
	if i := bytes.IndexByte(b[pos:], '\n'); i >= 0 {
		end = pos + i
	}
	return start, end
}

// appendMatches appends the spans of re's matches in text, which starts
// at offset in the whole text: the first group where there is one.
func appendMatches(found []span, re *regexp.Regexp, text []byte, offset int) []span {
	for _, m := range re.FindAllSubmatchIndex(text, -1) {
		if len(m) >= 4 && m[2] >= 0 {
			m = m[2:4]
		}
		found = append(found, span{offset + m[0], offset + m[1]})
	}
	return found
}

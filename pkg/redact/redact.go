// Package redact masks secrets in everything that leaves the job: report
// files, comments, summaries and the ledger.
//
// A [Redactor] knows secret values (from secret-looking environment
// variables and from masks registered during the run) and hides them in
// their plain form and in the encodings they commonly travel in: JSON
// string escapes, URL escapes and base64 at any alignment. It also hides
// token shapes it was never told about: AWS keys, GitHub and GitLab
// tokens, JWTs, PEM private keys and bearer headers. It does not touch the
// step's own output, which passes through unchanged.
package redact

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Mask replaces every hidden value.
const Mask = "***"

// minSecret is the shortest value treated as a secret; shorter ones
// ("1", "true") would mask ordinary words.
const minSecret = 6

// secretWords mark an environment variable's value as secret.
var secretWords = []string{
	"TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "AUTH", "PRIVATE", "SESSION",
}

// Redactor hides secrets. It is safe for concurrent use.
type Redactor struct {
	mu       sync.RWMutex
	secrets  map[string]bool
	replacer *strings.Replacer
}

// New returns a redactor that knows the values of the secret-looking
// variables of env (os.Environ form).
func New(env []string) *Redactor {
	r := &Redactor{secrets: map[string]bool{}}
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if ok && secretName(name) {
			r.secrets[value] = true
		}
	}
	r.rebuild()
	return r
}

func secretName(name string) bool {
	upper := strings.ToUpper(name)
	for _, w := range secretWords {
		if strings.Contains(upper, w) {
			return true
		}
	}
	return false
}

// Add registers a secret learnt during the run, such as refreshed
// credentials. Values shorter than six bytes are ignored.
func (r *Redactor) Add(secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.secrets[secret] {
		return
	}
	r.secrets[secret] = true
	r.rebuild()
}

// rebuild compiles every known secret, in every encoding, into one
// replacer; longer forms come first so that they win over their parts.
func (r *Redactor) rebuild() {
	forms := map[string]bool{}
	for s := range r.secrets {
		if len(s) < minSecret {
			continue
		}
		for _, f := range encodings(s) {
			if len(f) >= minSecret {
				forms[f] = true
			}
		}
	}
	list := make([]string, 0, len(forms))
	for f := range forms {
		list = append(list, f)
	}
	sort.Slice(list, func(i, j int) bool {
		if len(list[i]) != len(list[j]) {
			return len(list[i]) > len(list[j])
		}
		return list[i] < list[j]
	})
	pairs := make([]string, 0, 2*len(list))
	for _, f := range list {
		pairs = append(pairs, f, Mask)
	}
	r.replacer = strings.NewReplacer(pairs...)
}

// encodings lists the forms a secret may take in text.
func encodings(s string) []string {
	out := []string{s, url.QueryEscape(s), url.PathEscape(s)}
	if b, err := json.Marshal(s); err == nil {
		j := string(b[1 : len(b)-1])
		// Some encoders escape the solidus too; Go's escapes <, > and &.
		out = append(out, j, strings.ReplaceAll(j, "/", `\/`), jsonNoHTML(s))
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		out = append(out, base64Cores(enc, []byte(s))...)
	}
	return out
}

func jsonNoHTML(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}

// base64Cores returns, for each of the three alignments a value can have
// inside a longer base64 stream, the characters that depend on the value's
// bytes alone.
func base64Cores(enc *base64.Encoding, b []byte) []string {
	var out []string
	for k := 0; k < 3; k++ {
		buf := make([]byte, k+len(b))
		copy(buf[k:], b)
		e := enc.EncodeToString(buf)
		from := (8*k + 5) / 6
		to := 8 * (k + len(b)) / 6
		if to > from {
			out = append(out, e[from:to])
		}
	}
	return out
}

// shapes are token forms hidden even when their values are unknown. A
// pattern with a group hides only the group.
var shapes = []*regexp.Regexp{
	regexp.MustCompile(`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`),
	regexp.MustCompile(`(?i)(?:aws_secret_access_key|secretaccesskey)["'\s:=]+([A-Za-z0-9/+=]{40})`),
	regexp.MustCompile(`(?i)(?:aws_session_token|sessiontoken)["'\s:=]+([A-Za-z0-9/+=]{100,})`),
	regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{36,}\b`),
	regexp.MustCompile(`\bgithub_pat_[A-Za-z0-9_]{22,}\b`),
	regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`),
	regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+`),
	regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`),
	regexp.MustCompile(`(?i)\bauthorization:\s*(?:bearer|token|basic)\s+([^\s"']+)`),
}

// String returns s with every known secret and token shape masked.
func (r *Redactor) String(s string) string {
	r.mu.RLock()
	rep := r.replacer
	r.mu.RUnlock()
	s = rep.Replace(s)
	for _, re := range shapes {
		s = maskShape(re, s)
	}
	return s
}

// Bytes is [Redactor.String] for byte slices.
func (r *Redactor) Bytes(b []byte) []byte {
	return []byte(r.String(string(b)))
}

func maskShape(re *regexp.Regexp, s string) string {
	if re.NumSubexp() == 0 {
		return re.ReplaceAllLiteralString(s, Mask)
	}
	return re.ReplaceAllStringFunc(s, func(m string) string {
		sub := re.FindStringSubmatchIndex(m)
		if sub[2] < 0 {
			return Mask
		}
		return m[:sub[2]] + Mask + m[sub[3]:]
	})
}

// Package redact masks secrets in text that leaves the job: the report,
// the pull or merge request comment, the job summary, JSON files and the
// ledger.
//
// A [Redactor] masks three kinds of secrets:
//
//   - values it knows: the values of environment variables whose names
//     look secret, and values registered with [Redactor.Add]. Each is
//     masked as it is and in the encodings that carry it into logs and
//     documents: JSON string escaping, URL query and path escaping, and
//     standard and URL-safe base64 with or without padding, also where the
//     value sits inside a longer base64 string (credentials in a Basic
//     authorization header, a base64-encoded config file);
//   - token shapes, known or not: AWS access key ids, AWS secret keys and
//     session tokens next to their label, GitHub, GitLab and Slack tokens,
//     JWTs, PEM private key blocks, the credentials of an Authorization
//     header or a Bearer token, and the password in a URL;
//   - nothing else: a secret that matches no shape and was never known, or
//     one shorter than [MinLength], passes through.
//
// Every match becomes [Mask]. Matches that overlap or touch become one
// mask, so no part of one secret survives next to another. Redacting is
// idempotent: redacting a redacted text changes nothing.
//
// The package does not read the environment itself and does not log.
package redact

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Mask replaces every secret.
const Mask = "***"

// MinLength is the length below which a value is not treated as a secret:
// masking every "admin" or "12345" in a report hides more than it
// protects.
const MinLength = 6

// maxPasses bounds the passes over one text. A pass after the first finds
// something new only when masking created a match (a secret that contains
// the mask, a shape whose boundary moved); the passes stop at the first
// that changes nothing, which makes redacting idempotent.
const maxPasses = 64

// Redactor masks secrets. It is safe for concurrent use. The zero value
// and a nil *Redactor know no values and mask token shapes only.
type Redactor struct {
	mu      sync.Mutex // serialises Add
	secrets map[string]bool
	known   atomic.Pointer[matcher]
}

// New returns a Redactor that knows the secret values in env, given in
// [os.Environ] form: the values of variables whose names look secret
// (see [SecretName]) and are at least [MinLength] bytes long.
func New(env []string) *Redactor {
	r := &Redactor{}
	var values []string
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if ok && SecretName(name) {
			values = append(values, value)
		}
	}
	r.add(values...)
	return r
}

// secretWords make a variable name look secret.
var secretWords = []string{
	"TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "KEY", "CREDENTIAL",
	"CREDS", "AUTH", "PRIVATE", "SESSION", "JWT",
}

// notSecretWords are names that contain a secret word and are not secret.
var notSecretWords = []string{"AUTHOR", "KEYBOARD"}

// SecretName reports whether a variable named name holds a secret: its
// upper-cased name contains TOKEN, SECRET, PASSWORD, PASSWD, PASSPHRASE,
// KEY (AWS_ACCESS_KEY_ID included), CREDENTIAL, CREDS, AUTH, PRIVATE,
// SESSION or JWT, and is not an author's name or email.
func SecretName(name string) bool {
	name = strings.ToUpper(name)
	for _, w := range notSecretWords {
		name = strings.ReplaceAll(name, w, "")
	}
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// Add registers a secret value, such as a refreshed credential, from now
// on. Values shorter than [MinLength] are ignored.
func (r *Redactor) Add(secret string) {
	r.add(secret)
}

func (r *Redactor) add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.secrets == nil {
		r.secrets = map[string]bool{}
	}
	added := false
	for _, v := range values {
		if len(v) >= MinLength && !r.secrets[v] {
			r.secrets[v] = true
			added = true
		}
	}
	if !added {
		return
	}

	var forms []string
	for v := range r.secrets {
		forms = append(forms, variants(v)...)
	}
	slices.Sort(forms)
	r.known.Store(newMatcher(slices.Compact(forms), false))
}

// String returns s with every secret masked.
func (r *Redactor) String(s string) string {
	out, changed := r.redact([]byte(s))
	if !changed {
		return s
	}
	return string(out)
}

// Bytes returns b with every secret masked. It never modifies b; when
// there is nothing to mask it returns b itself.
func (r *Redactor) Bytes(b []byte) []byte {
	out, _ := r.redact(b)
	return out
}

// redact masks b until nothing more is found, and reports whether it
// changed anything.
func (r *Redactor) redact(b []byte) ([]byte, bool) {
	var known *matcher
	if r != nil {
		known = r.known.Load()
	}
	changed := false
	for range maxPasses {
		spans := shapeSpans(b, known.spans(b, nil))
		if len(spans) == 0 {
			break
		}
		out := mask(b, spans)
		if bytes.Equal(out, b) {
			break
		}
		b, changed = out, true
	}
	return b, changed
}

// span is a byte range to mask.
type span struct{ start, end int }

// addSpan adds [start, end) to spans, which are disjoint and sorted, and
// merges it with those it overlaps or touches. Spans must come in order
// of their end.
func addSpan(spans []span, start, end int) []span {
	for len(spans) > 0 && spans[len(spans)-1].end >= start {
		last := spans[len(spans)-1]
		start, end = min(start, last.start), max(end, last.end)
		spans = spans[:len(spans)-1]
	}
	return append(spans, span{start, end})
}

// mask returns a copy of b with each span replaced by [Mask].
func mask(b []byte, spans []span) []byte {
	out := make([]byte, 0, len(b))
	prev := 0
	for _, s := range spans {
		out = append(out, b[prev:s.start]...)
		out = append(out, Mask...)
		prev = s.end
	}
	return append(out, b[prev:]...)
}

package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
)

// minForm is the shortest encoded form that is masked. Base64 cores of a
// secret of MinLength bytes are seven characters long.
const minForm = 4

var base64Encodings = []*base64.Encoding{
	base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
}

// variants lists the forms in which secret may appear in text.
func variants(secret string) []string {
	forms := []string{secret}

	// A normalised log collapses whitespace runs, and a multi-line value
	// (a private key) may appear one line at a time.
	if collapsed := strings.Join(strings.Fields(secret), " "); collapsed != secret {
		forms = append(forms, collapsed)
	}
	if strings.Contains(secret, "\n") {
		for _, line := range strings.Split(secret, "\n") {
			if line = strings.TrimSpace(line); len(line) >= MinLength {
				forms = append(forms, line)
			}
		}
	}

	forms = append(forms, jsonForms(secret)...)
	for _, f := range []string{url.QueryEscape(secret), url.PathEscape(secret)} {
		forms = append(forms, f, lowerHexEscapes(f))
	}
	for _, enc := range base64Encodings {
		forms = append(forms, enc.EncodeToString([]byte(secret)))
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		forms = append(forms, base64Cores(enc, secret)...)
	}

	out := forms[:0]
	for _, f := range forms {
		if len(f) >= minForm {
			out = append(out, f)
		}
	}
	return out
}

// jsonForms returns secret as the body of a JSON string: as Go writes it
// (with and without HTML escaping) and with the solidus escaped too, as
// PHP and some loggers write it.
func jsonForms(secret string) []string {
	var forms []string
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if err := enc.Encode(secret); err != nil {
			continue
		}
		body := strings.TrimSuffix(b.String(), "\n")
		body = body[1 : len(body)-1]
		forms = append(forms, body, strings.ReplaceAll(body, "/", `\/`))
	}
	return forms
}

// lowerHexEscapes returns a URL-escaped string with lower-case hex digits
// in its %XX escapes, as some encoders write them.
func lowerHexEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1] = lowerHex(b[i+1])
			b[i+2] = lowerHex(b[i+2])
		}
	}
	return string(b)
}

func lowerHex(c byte) byte {
	if c >= 'A' && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

// base64Cores returns, for each of the three byte alignments the secret
// can have inside a longer base64-encoded text, the run of characters that
// depends on the secret's bytes alone. Character j encodes bits
// [6j, 6j+6) of the data; it is the secret's when those bits lie within
// the secret's bytes.
func base64Cores(enc *base64.Encoding, secret string) []string {
	var cores []string
	for k := range 3 {
		data := make([]byte, k+len(secret))
		copy(data[k:], secret)
		encoded := enc.EncodeToString(data)
		from := (8*k + 5) / 6
		to := 8 * (k + len(secret)) / 6
		if to > from {
			cores = append(cores, encoded[from:to])
		}
	}
	return cores
}

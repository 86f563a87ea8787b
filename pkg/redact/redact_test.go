package redact_test

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"github.com/self-heal/self-heal/pkg/redact"
)

func TestRedactor_String(t *testing.T) {
	t.Parallel()
	env := []string{
		"GITHUB_TOKEN=s3cr3t-t0ken-value", "DB_PASSWORD=hunter2hunter2", "AWS_REGION=us-east-1",
		"SHORT_TOKEN=abc", "HOME=/root",
	}
	r := redact.New(env)
	r.Add("refreshed/session+key==")
	tests := []struct{ name, in, want string }{
		{"plain", "token is s3cr3t-t0ken-value.", "token is ***."},
		{"json escaped", `{"p":"refreshed\/session+key=="}`, `{"p":"***"}`},
		{"url encoded", "https://x/?k=refreshed%2Fsession%2Bkey%3D%3D", "https://x/?k=***"},
		{"not secret", "region us-east-1 home /root", "region us-east-1 home /root"},
		{"too short to mask", "abc abc", "abc abc"},
		{"aws key id", "key AKIAIOSFODNN7EXAMPLE used", "key *** used"},
		{"aws secret", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = ***"},
		{"github token", "ghp_" + strings.Repeat("a", 36), "***"},
		{"gitlab token", "glpat-" + strings.Repeat("x", 20), "***"},
		{"jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl", "***"},
		{"bearer", "Authorization: Bearer abc.def-ghi", "Authorization: Bearer ***"},
		{"pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----", "***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestRedactor_noSecretSurvives is a property test: across generated
// secrets and outputs that embed them plain, JSON-escaped, URL-encoded and
// base64-encoded at any alignment, no secret survives redaction.
func TestRedactor_noSecretSurvives(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = `abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/+=-_"\&?% `
	for i := 0; i < 500; i++ {
		secret := randString(rng, alphabet, 6+rng.IntN(40))
		r := redact.New([]string{"MY_SECRET=" + secret})
		for _, form := range embed(rng, secret) {
			out := r.String(form.text)
			if strings.Contains(out, form.encoded) {
				t.Fatalf("secret %q survived as %s in %q -> %q", secret, form.name, form.text, out)
			}
		}
	}
}

type embedded struct{ name, text, encoded string }

func embed(rng *rand.Rand, secret string) []embedded {
	j, _ := json.Marshal(secret)
	jsonForm := string(j[1 : len(j)-1])
	prefix := randString(rng, "abcdefghijklmnop", rng.IntN(5))
	var out []embedded
	out = append(out,
		embedded{"plain", "value: " + secret + " end", secret},
		embedded{"json", `{"v":"` + jsonForm + `"}`, jsonForm},
		embedded{"query", "u?x=" + url.QueryEscape(secret), url.QueryEscape(secret)},
		embedded{"path", "/p/" + url.PathEscape(secret) + "/q", url.PathEscape(secret)},
	)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		full := enc.EncodeToString([]byte(prefix + secret + "tail"))
		plain := enc.EncodeToString([]byte(secret))
		out = append(out, embedded{"base64 aligned", "b=" + plain, plain})
		// Within a longer stream, the characters decided by the secret
		// alone must not survive; check by decoding what is left.
		out = append(out, embedded{"base64 inside " + prefix, "b=" + full, secretRun(enc, prefix, secret, full)})
	}
	return out
}

// secretRun returns the run of base64 characters of full that depend on
// the secret's bytes only.
func secretRun(enc *base64.Encoding, prefix, secret, full string) string {
	from := (8*len(prefix) + 5) / 6
	to := 8 * (len(prefix) + len(secret)) / 6
	_ = enc
	return full[from:to]
}

func randString(rng *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func TestRedactor_concurrent(t *testing.T) {
	t.Parallel()
	r := redact.New(nil)
	done := make(chan bool)
	for i := 0; i < 4; i++ {
		go func() {
			for j := 0; j < 100; j++ {
				r.Add(strings.Repeat("x", 6) + string(rune('a'+j%26)))
				_ = r.String("xxxxxxa")
			}
			done <- true
		}()
	}
	for i := 0; i < 4; i++ {
		<-done
	}
	if got := r.String("xxxxxxb"); got != redact.Mask {
		t.Errorf("String = %q, want the mask", got)
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("token s3cr3t-value here", "s3cr3t-value")
	f.Add(`{"a":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig"}`, "another")
	f.Fuzz(func(t *testing.T, text, secret string) {
		r := redact.New([]string{"FUZZ_TOKEN=" + secret})
		once := r.String(text)
		if twice := r.String(once); twice != once {
			t.Fatalf("not idempotent: %q -> %q -> %q", text, once, twice)
		}
		if len(secret) >= 6 && strings.Contains(once, secret) && !strings.Contains(redact.Mask, secret) {
			t.Fatalf("secret %q survived in %q", secret, once)
		}
	})
}

func BenchmarkRedactor_String(b *testing.B) {
	env := make([]string, 0, 50)
	for i := 0; i < 50; i++ {
		env = append(env, "SECRET_"+string(rune('A'+i%26))+"="+strings.Repeat(string(rune('a'+i%26)), 12+i))
	}
	r := redact.New(env)
	text := strings.Repeat("terraform apply output line with nothing secret in it\n", 2000)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		_ = r.String(text)
	}
}

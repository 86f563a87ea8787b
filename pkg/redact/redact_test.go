package redact_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/self-heal/self-heal/pkg/redact"
)

const (
	awsKeyID     = "AKIAIOSFODNN7EXAMPLE"
	awsSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	jwt          = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
)

func TestRedactor_String(t *testing.T) {
	t.Parallel()
	env := []string{
		"GITHUB_TOKEN=s3cr3t-t0ken-value",
		"DB_PASSWORD=hunter2hunter2",
		"AWS_ACCESS_KEY_ID=ASIAXYZXYZXYZXYZ1234",
		"AWS_REGION=us-east-1",
		"SHORT_TOKEN=abc",
		"HOME=/home/runner",
		"GIT_AUTHOR_NAME=Jane Example",
		"NO_EQUALS_SIGN",
		"OVERLAP_A_SECRET=abcdef12",
		"OVERLAP_B_SECRET=ef12ghij34",
		"MULTILINE_PRIVATE=line one of the key\nline two of the key",
	}
	r := redact.New(env)
	r.Add("refreshed/session+key==")
	b64 := base64.StdEncoding.EncodeToString
	b64url := base64.RawURLEncoding.EncodeToString

	tests := []struct{ name, in, want string }{
		{"plain", "token is s3cr3t-t0ken-value.", "token is ***."},
		{"twice", "hunter2hunter2 and hunter2hunter2", "*** and ***"},
		{"json escaped", `{"p":"refreshed/session+key=="}`, `{"p":"***"}`},
		{"json escaped solidus", `{"p":"refreshed\/session+key=="}`, `{"p":"***"}`},
		{"url query", "https://x/?k=refreshed%2Fsession%2Bkey%3D%3D", "https://x/?k=***"},
		{"url query lower hex", "?k=refreshed%2fsession%2bkey%3d%3d", "?k=***"},
		{"url path", "/p/refreshed%2Fsession+key==/q", "/p/***/q"},
		{"base64", "auth " + b64([]byte("hunter2hunter2")), "auth ***"},
		{"base64 url raw", b64url([]byte("refreshed/session+key==")), "***"},
		{"base64 inside basic auth", "Basic " + b64([]byte("ci:hunter2hunter2")), "Basic Y2k6***"},
		{"overlapping secrets", "x abcdef12ghij34 y", "x *** y"},
		{"touching secrets", "hunter2hunter2s3cr3t-t0ken-value", "***"},
		{"multi-line value", "line one of the key\nline two of the key", "***"},
		{"one line of a multi-line value", "got: line two of the key", "got: ***"},
		{"whitespace collapsed", "line one of the key line two of the key", "***"},
		{"access key id from env", "ASIAXYZXYZXYZXYZ1234", "***"},
		{"not secret", "region us-east-1 home /home/runner", "region us-east-1 home /home/runner"},
		{"author is not secret", "by Jane Example", "by Jane Example"},
		{"too short to mask", "abc abc", "abc abc"},
		{"empty", "", ""},
		{"aws key id", "key " + awsKeyID + " used", "key *** used"},
		{"aws key id inside a word", "X" + awsKeyID + "X", "X" + awsKeyID + "X"},
		{"aws secret", "aws_secret_access_key = " + awsSecretKey, "aws_secret_access_key = ***"},
		{"aws secret json", `"SecretAccessKey":"` + awsSecretKey + `"`, `"SecretAccessKey":"***"`},
		{"aws secret env", "AWS_SECRET_ACCESS_KEY=" + awsSecretKey, "AWS_SECRET_ACCESS_KEY=***"},
		{
			"aws session token",
			`"SessionToken": "` + strings.Repeat("FwoGZXIvYXdzE", 10) + `"`,
			`"SessionToken": "***"`,
		},
		{"github token", "ghp_" + strings.Repeat("a", 36), "***"},
		{"github app token", "x ghs_" + strings.Repeat("Z9", 18) + " y", "x *** y"},
		{"github fine-grained", "github_pat_11ABCDEFG0" + strings.Repeat("x", 40), "***"},
		{"gitlab token", "glpat-" + strings.Repeat("x", 20), "***"},
		{"slack token", "xoxb-123456789012-abcdefghij", "***"},
		{"jwt", "id_token=" + jwt + "&x=1", "id_token=***&x=1"},
		{"bearer header", "Authorization: Bearer abc.def-ghi", "Authorization: Bearer ***"},
		{"basic header json", `"authorization":"Basic dXNlcjpw"`, `"authorization":"Basic ***"`},
		{"bearer alone", "using bearer 0123456789abcdefXYZ now", "using bearer *** now"},
		{"pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----", "***"},
		{
			"pem json escaped",
			`{"key":"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"}`,
			`{"key":"***\n"}`,
		},
		{"pem cut off", "key: -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNz", "key: ***"},
		{"public key stays", "-----BEGIN PUBLIC KEY-----\nMII", "-----BEGIN PUBLIC KEY-----\nMII"},
		{"url password", "postgres://app:pa55word@db:5432/x", "postgres://app:***@db:5432/x"},
		{"mask stays", "Authorization: Bearer ***", "Authorization: Bearer ***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := string(r.Bytes([]byte(tt.in))); got != tt.want {
				t.Errorf("Bytes(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactor_nil(t *testing.T) {
	t.Parallel()
	for _, r := range []*redact.Redactor{nil, {}} {
		in := "key " + awsKeyID + " and s3cr3t-t0ken-value"
		if got, want := r.String(in), "key *** and s3cr3t-t0ken-value"; got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactor_BytesKeepsInput(t *testing.T) {
	t.Parallel()
	r := redact.New([]string{"API_KEY=s3cr3t-t0ken-value"})
	in := []byte("x s3cr3t-t0ken-value y")
	out := r.Bytes(in)
	if string(in) != "x s3cr3t-t0ken-value y" || string(out) != "x *** y" {
		t.Errorf("Bytes = %q and input became %q", out, in)
	}
	clean := []byte("nothing to hide")
	if out := r.Bytes(clean); &out[0] != &clean[0] {
		t.Error("Bytes copied a text that holds no secret")
	}
}

func TestSecretName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want bool
	}{
		{"GITHUB_TOKEN", true},
		{"ACTIONS_ID_TOKEN_REQUEST_TOKEN", true},
		{"AWS_SECRET_ACCESS_KEY", true},
		{"AWS_ACCESS_KEY_ID", true},
		{"AWS_SESSION_TOKEN", true},
		{"CI_JOB_JWT_V2", true},
		{"CI_REGISTRY_PASSWORD", true},
		{"db_passwd", true},
		{"GOOGLE_CREDENTIALS", true},
		{"NPM_AUTH", true},
		{"TF_VAR_private_subnet_cidr", true},
		{"PATH", false},
		{"PWD", false},
		{"AWS_REGION", false},
		{"GIT_AUTHOR_NAME", false},
		{"GIT_AUTHOR_EMAIL", false},
	}
	for _, tt := range tests {
		if got := redact.SecretName(tt.name); got != tt.want {
			t.Errorf("SecretName(%q) = %t, want %t", tt.name, got, tt.want)
		}
	}
}

// TestRedactor_noSecretSurvives is a property test over generated
// environments: no secret value survives where it was embedded plain,
// JSON-escaped, URL-encoded or base64-encoded at any alignment, and the
// values of variables that are not secret stay.
func TestRedactor_noSecretSurvives(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" +
		`/+=-_"\&?%:@ <>` + "\t\né€"
	for range 300 {
		var env, secrets []string
		for i := range 1 + rng.IntN(6) {
			secret := randString(rng, alphabet, redact.MinLength+rng.IntN(40))
			secrets = append(secrets, secret)
			env = append(env, fmt.Sprintf("GEN_%d_TOKEN=%s", i, secret))
		}
		plain := "region-" + randString(rng, "qwxyz", 12)
		env = append(env, "GEN_REGION="+plain)
		r := redact.New(env)

		for _, secret := range secrets {
			for _, form := range embed(rng, secret) {
				out := r.String(form.text)
				if strings.Contains(out, form.encoded) {
					t.Fatalf("secret %q survived as %s: %q -> %q",
						secret, form.name, form.text, out)
				}
			}
		}
		if out := r.String("at " + plain); out != "at "+plain {
			t.Fatalf("a value that is not secret was masked: %q", out)
		}
	}
}

type embedded struct {
	name    string
	text    string // a text that holds the secret
	encoded string // the part of text that must not survive
}

func embed(rng *rand.Rand, secret string) []embedded {
	j, _ := json.Marshal(secret)
	jsonForm := string(j[1 : len(j)-1])
	out := []embedded{
		{"plain", "value: " + secret + " end", secret},
		{"json", `{"v":"` + jsonForm + `"}`, jsonForm},
		{"query", "u?x=" + url.QueryEscape(secret) + "&y=1", url.QueryEscape(secret)},
		{"path", "/p/" + url.PathEscape(secret) + "/q", url.PathEscape(secret)},
	}
	encodings := map[string]*base64.Encoding{
		"std": base64.StdEncoding, "raw std": base64.RawStdEncoding,
		"url": base64.URLEncoding, "raw url": base64.RawURLEncoding,
	}
	for name, enc := range encodings {
		whole := enc.EncodeToString([]byte(secret))
		out = append(out, embedded{"base64 " + name, "b=" + whole, whole})
		for k := range 3 {
			prefix := randString(rng, "abcdefghijklmnop", k+3*rng.IntN(3))
			full := enc.EncodeToString([]byte(prefix + secret + "tail"))
			out = append(out, embedded{
				fmt.Sprintf("base64 %s at offset %d", name, len(prefix)),
				"b=" + full,
				secretRun(prefix, secret, full),
			})
		}
	}
	return out
}

// secretRun returns the run of base64 characters of full, the encoding
// of prefix+secret+more, that depend on the secret's bytes only.
func secretRun(prefix, secret, full string) string {
	from := (8*len(prefix) + 5) / 6
	to := 8 * (len(prefix) + len(secret)) / 6
	return full[from:to]
}

func randString(rng *rand.Rand, alphabet string, n int) string {
	runes := []rune(alphabet)
	var b strings.Builder
	for b.Len() < n {
		b.WriteRune(runes[rng.IntN(len(runes))])
	}
	return b.String()
}

func TestRedactor_concurrent(t *testing.T) {
	t.Parallel()
	r := redact.New(nil)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 100 {
				secret := fmt.Sprintf("secret-%d-%03d", i, j)
				r.Add(secret)
				if got := r.String("x " + secret); got != "x ***" {
					t.Errorf("String right after Add(%q) = %q", secret, got)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := r.String("secret-3-099 secret-0-000"); got != "*** ***" {
		t.Errorf("String = %q, want every added secret masked", got)
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("token s3cr3t-value here", "s3cr3t-value")
	f.Add(`{"a":"`+jwt+`"}`, "another-one")
	f.Add("Authorization: Bearer "+awsKeyID+"x", "x***yz")
	f.Add("aws_secret_access_key="+awsSecretKey+awsSecretKey, "secret**")
	f.Add("-----BEGIN RSA PRIVATE KEY-----\nabc", "-----END")
	f.Add("postgres://u:p@h ghp_"+strings.Repeat("a", 40), "h ghp_aaaa")
	f.Fuzz(func(t *testing.T, text, secret string) {
		r := redact.New([]string{"FUZZ_TOKEN=" + secret})
		once := r.String(text)
		if twice := r.String(once); twice != once {
			t.Fatalf("not idempotent: %q -> %q -> %q", text, once, twice)
		}
		if len(secret) >= redact.MinLength && strings.Contains(once, secret) &&
			!strings.Contains(redact.Mask, secret) {
			t.Fatalf("secret %q survived in %q", secret, once)
		}
		if got := string(r.Bytes([]byte(text))); got != once {
			t.Fatalf("Bytes(%q) = %q, String = %q", text, got, once)
		}
	})
}

func BenchmarkRedactor(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	env := make([]string, 0, 50)
	var secrets []string
	for i := range 50 {
		secret := randString(rng, "abcdefghijklmnopqrstuvwxyz0123456789", 12+i)
		secrets = append(secrets, secret)
		env = append(env, fmt.Sprintf("SECRET_%d=%s", i, secret))
	}
	r := redact.New(env)
	clean := strings.Repeat("module.vpc.aws_subnet.private[3]: Creation complete after 2s\n", 2000)
	dirty := clean + strings.Join(secrets, "\n") + "\n" + awsKeyID + " " + jwt
	for _, bc := range []struct{ name, text string }{{"clean", clean}, {"secrets", dirty}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.text)))
			for b.Loop() {
				_ = r.String(bc.text)
			}
		})
	}
}

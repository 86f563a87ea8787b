package aws

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/fixer"
)

func TestNotExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		failure, want string
	}{
		{"api error ExpiredToken: The security token included in the request is expired", ""},
		{"The provided token has expired.", ""},
		{"api error InvalidClientTokenId: The security token included in the request is invalid",
			"InvalidClientTokenId"},
		{"An error occurred (AccessDenied) when calling the AssumeRole operation", "AccessDenied"},
		{"UnauthorizedOperation: You are not authorized to perform this operation.",
			"UnauthorizedOperation"},
		{"User: arn:aws:sts::1:assumed-role/ci/x is not authorized to perform: s3:GetObject",
			"is not authorized to perform"},
	}
	for _, tt := range tests {
		if got := notExpiry.FindString(tt.failure); got != tt.want {
			t.Errorf("notExpiry.FindString(%q) = %q, want %q", tt.failure, got, tt.want)
		}
	}
}

func TestSourceOf(t *testing.T) {
	t.Parallel()
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("jwt"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     []string
		want    tokenSource
		missing string
	}{
		{"token file", []string{"AWS_ROLE_ARN=arn:r", "AWS_WEB_IDENTITY_TOKEN_FILE=" + token},
			tokenSource{Role: "arn:r", File: token}, ""},
		{"github oidc", []string{"AWS_ROLE_ARN=arn:r", "ACTIONS_ID_TOKEN_REQUEST_URL=http://u",
			"ACTIONS_ID_TOKEN_REQUEST_TOKEN=t"},
			tokenSource{Role: "arn:r", URL: "http://u", Bearer: "t"}, ""},
		{"no role", []string{"AWS_WEB_IDENTITY_TOKEN_FILE=" + token},
			tokenSource{File: token}, "no role to assume"},
		{"static keys only", []string{"AWS_ROLE_ARN=arn:r", "AWS_ACCESS_KEY_ID=AKIA"},
			tokenSource{Role: "arn:r"}, "neither AWS_WEB_IDENTITY_TOKEN_FILE nor"},
		{"token file gone", []string{"AWS_ROLE_ARN=arn:r", "AWS_WEB_IDENTITY_TOKEN_FILE=/nope"},
			tokenSource{Role: "arn:r", File: "/nope"}, "cannot be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, missing := sourceOf(fixer.Step{Env: tt.env})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("sourceOf() mismatch (-want +got):\n%s", diff)
			}
			if !strings.Contains(missing, tt.missing) || (tt.missing == "") != (missing == "") {
				t.Errorf("sourceOf() missing = %q, want it to say %q", missing, tt.missing)
			}
		})
	}
}

func TestErroredState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "errored.tfstate"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  fixer.Request
		want string
	}{
		{"terraform left one", fixer.Request{Step: fixer.Step{Tool: "terraform", Dir: dir}},
			filepath.Join(dir, "errored.tfstate")},
		{"named in the failure", fixer.Request{Step: fixer.Step{Tool: "tofu", Dir: dir},
			Values: fixer.Values{"errored_state": "errored.tfstate"}},
			filepath.Join(dir, "errored.tfstate")},
		{"not terraform", fixer.Request{Step: fixer.Step{Tool: "aws", Dir: dir}}, ""},
		{"none", fixer.Request{Step: fixer.Step{Tool: "terraform", Dir: t.TempDir()}}, ""},
	}
	for _, tt := range tests {
		if got := erroredState(tt.req); got != tt.want {
			t.Errorf("%s: erroredState() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestPlanECR(t *testing.T) {
	t.Parallel()
	host := "123456789012.dkr.ecr.us-east-1.amazonaws.com"
	if got := planECR(host, "123456789012", "123456789012", "/c.json"); got.Verdict != fixer.Act {
		t.Errorf("planECR(same account) = %v (%s), want act", got.Verdict, got.Action)
	}
	got := planECR("210987654321.dkr.ecr.us-east-1.amazonaws.com", "210987654321",
		"123456789012", "/c.json")
	if got.Verdict != fixer.Refuse || !strings.Contains(got.Action, "check the account ID") {
		t.Errorf("planECR(other account) = %v (%s), want a refusal", got.Verdict, got.Action)
	}
	for _, h := range []string{"***.dkr.ecr.us-east-1.amazonaws.com", "ghcr.io",
		"123.dkr.ecr.us-east-1.amazonaws.com"} {
		if ecrHost.MatchString(h) {
			t.Errorf("ecrHost matches %q, want no match", h)
		}
	}
}

func TestDockerConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		config, want string
	}{
		{`{"auths":{}}`, ""},
		{`{"credsStore":"desktop"}`, "credential store docker-credential-desktop"},
		{`{"credHelpers":{"h":"ecr-login"}}`, "credential helper docker-credential-ecr-login"},
		{`{"credHelpers":{"other":"x"}}`, ""},
	}
	for _, tt := range tests {
		var c dockerConfig
		if err := json.Unmarshal([]byte(tt.config), &c); err != nil {
			t.Fatal(err)
		}
		if got := c.helperFor("h"); got != tt.want {
			t.Errorf("helperFor(%s) = %q, want %q", tt.config, got, tt.want)
		}
	}

	path := filepath.Join(t.TempDir(), "docker", "config.json")
	if err := writeLogin(path, "h", "bmV3"); err != nil {
		t.Fatalf("writeLogin() error = %v", err)
	}
	if err := os.WriteFile(path, []byte(`{"auths":{"h":{"auth":"b2xk"},"g":{"auth":"Zw=="}},`+
		`"psFormat":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeLogin(path, "h", "bmV3"); err != nil {
		t.Fatalf("writeLogin() error = %v", err)
	}
	body, _ := os.ReadFile(path)
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"psFormat": "x", "auths": map[string]any{
		"h": map[string]any{"auth": "bmV3"}, "g": map[string]any{"auth": "Zw=="}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config after writeLogin mismatch (-want +got):\n%s", diff)
	}
}

// TestGoodLogin covers the logins a second ECR login run keeps: the token
// ECR issues now, and a token whose password says it is valid for a while
// yet, as the passwords of real ECR tokens do; moto's tokens say nothing.
func TestGoodLogin(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	b64 := base64.StdEncoding.EncodeToString
	ecrLike := func(expiry time.Time) string {
		payload := fmt.Sprintf(`{"payload":"p","datakey":"d","version":"2","type":"DATA_KEY",`+
			`"expiration":%d}`, expiry.Unix())
		return b64([]byte("AWS:" + b64([]byte(payload))))
	}
	fresh := ecrtypes.AuthorizationData{AuthorizationToken: aws.String(b64([]byte("AWS:now")))}
	tests := []struct {
		name, stored, want string
	}{
		{"no login", "", ""},
		{"the token issued now", b64([]byte("AWS:now")), "it is the token ECR issues now"},
		{"valid for hours", ecrLike(now.Add(6 * time.Hour)),
			"its token is valid until 2026-01-02T18:00:00Z"},
		{"about to expire", ecrLike(now.Add(5 * time.Minute)), ""},
		{"expired", ecrLike(now.Add(-time.Hour)), ""},
		{"no expiry in the password", b64([]byte("AWS:expired-token")), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := dockerConfig{}
			if tt.stored != "" {
				auths := `{"` + testRegistry + `":{"auth":"` + tt.stored + `"}}`
				cfg["auths"] = json.RawMessage(auths)
			}
			if got := goodLogin(cfg, testRegistry, fresh, now); got != tt.want {
				t.Errorf("goodLogin() = %q, want %q", got, tt.want)
			}
		})
	}
}

const testRegistry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

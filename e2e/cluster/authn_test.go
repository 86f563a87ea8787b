package cluster

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestCanonicalARN(t *testing.T) {
	t.Parallel()
	const acct = "arn:aws:iam::123456789012:"
	for in, want := range map[string]string{
		"arn:aws:sts::123456789012:assumed-role/deployer/ci-1234": acct + "role/deployer",
		acct + "user/deployer": acct + "user/deployer",
	} {
		if got := canonicalARN(in); got != want {
			t.Errorf("canonicalARN(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPresignedURL checks the webhook's own checks on tokens, signed with
// SignToken, before any call to STS.
func TestPresignedURL(t *testing.T) {
	t.Parallel()
	const sts = "http://127.0.0.1:4566"
	a := &authenticator{eks: EKS{ClusterID: "e2e", STS: sts}}
	u := IAMUser{AccessKey: "AKIDEXAMPLE", SecretKey: "secret"}
	sign := func(endpoint string, at time.Time) string {
		tok, err := SignToken(context.Background(), u, endpoint, "e2e", at)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name, token, wantErr string
	}{
		{"fresh", sign(sts, time.Now()), ""},
		{"fourteen minutes old", sign(sts, time.Now().Add(-14*time.Minute)), ""},
		{"expired", sign(sts, time.Now().Add(-20*time.Minute)), "expired"},
		{"another STS", sign("http://127.0.0.1:9999", time.Now()), "unexpected STS host"},
		{"not an EKS token", "abc", "not an EKS token"},
		{"not base64", "k8s-aws-v1.%%%", "not base64url"},
	}
	for _, tt := range tests {
		_, err := a.presignedURL(tt.token)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: presignedURL() error = %v, want none", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: presignedURL() error = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

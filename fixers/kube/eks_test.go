package kube

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/self-heal/self-heal/pkg/fixer"
)

func TestParseClusterARN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want clusterARN
	}{
		{"arn:aws:eks:eu-west-1:123456789012:cluster/prod", clusterARN{"eu-west-1", "prod"}},
		{"arn:aws-cn:eks:cn-north-1:123456789012:cluster/a-b", clusterARN{"cn-north-1", "a-b"}},
		{"arn:aws:iam::123456789012:role/deployer", clusterARN{}},
		{"kind-e2e", clusterARN{}},
		{"arn:aws:eks:eu-west-1:123456789012:nodegroup/prod/ng/1", clusterARN{}},
	}
	for _, tt := range tests {
		if got := parseClusterARN(tt.in); got != tt.want {
			t.Errorf("parseClusterARN(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestEKSUserOf(t *testing.T) {
	t.Parallel()
	exec := func(cmd string, args ...string) *clientcmdapi.AuthInfo {
		return &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{Command: cmd, Args: args}}
	}
	tests := []struct {
		name    string
		user    *clientcmdapi.AuthInfo
		cluster string
		want    eksUser
		ok      bool
	}{
		{"static token under an ARN",
			&clientcmdapi.AuthInfo{Token: "k8s-aws-v1.abc"},
			"arn:aws:eks:us-east-2:1:cluster/prod",
			eksUser{cluster: "prod", region: "us-east-2", token: "k8s-aws-v1.abc"}, true},
		{"aws eks get-token",
			exec("/usr/local/bin/aws", "--region", "eu-west-1", "eks", "get-token",
				"--cluster-name", "prod", "--role-arn", "arn:aws:iam::1:role/ci"),
			"prod", eksUser{cluster: "prod", region: "eu-west-1",
				roleARN: "arn:aws:iam::1:role/ci"}, true},
		{"aws-iam-authenticator",
			exec("aws-iam-authenticator", "token", "-i", "staging"), "x",
			eksUser{cluster: "staging"}, true},
		{"another exec plugin", exec("gke-gcloud-auth-plugin"), "gke", eksUser{}, false},
		{"a plain token", &clientcmdapi.AuthInfo{Token: "abc"}, "kind", eksUser{}, false},
		{"no user", nil, "kind", eksUser{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := eksUserOf(tt.user, tt.cluster)
			if ok != tt.ok {
				t.Fatalf("eksUserOf() ok = %v, want %v", ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(eksUser{})); ok && diff != "" {
				t.Errorf("eksUserOf() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTokenSignedAt(t *testing.T) {
	t.Parallel()
	token := func(query string) string {
		return eksTokenPrefix + base64.RawURLEncoding.EncodeToString(
			[]byte("https://sts.amazonaws.com/?Action=GetCallerIdentity&"+query))
	}
	signed := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		token    string
		wantLife time.Duration
		wantErr  bool
	}{
		{"60 seconds", token("X-Amz-Date=20260301T100000Z&X-Amz-Expires=60"), time.Minute, false},
		{"capped at 15 minutes", token("X-Amz-Date=20260301T100000Z&X-Amz-Expires=3600"),
			eksTokenLifetime, false},
		{"no expiry", token("X-Amz-Date=20260301T100000Z"), eksTokenLifetime, false},
		{"no date", token("X-Amz-Expires=60"), 0, true},
		{"not base64", eksTokenPrefix + "%%%", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			at, life, err := tokenSignedAt(tt.token)
			if (err != nil) != tt.wantErr {
				t.Fatalf("tokenSignedAt() error = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (!at.Equal(signed) || life != tt.wantLife) {
				t.Errorf("tokenSignedAt() = %s, %s; want %s, %s", at, life, signed, tt.wantLife)
			}
		})
	}
}

// TestMintToken presigns without any network call and checks the token's
// form: the STS endpoint of the step, the action, the signed cluster
// header and a short expiry.
func TestMintToken(t *testing.T) {
	t.Parallel()
	step := fixer.Step{Env: []string{
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_REGION=eu-west-1", "AWS_ENDPOINT_URL=http://127.0.0.1:4566",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/nonexistent",
		"AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
	}}
	ctx := context.Background()
	cfg, err := awsConfig(ctx, step, eksUser{})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil || creds.AccessKeyID != "AKIDEXAMPLE" || cfg.Region != "eu-west-1" {
		t.Fatalf("awsConfig() = key %q region %q, %v; want the step's", creds.AccessKeyID,
			cfg.Region, err)
	}
	token, err := mintToken(ctx, cfg, "prod")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, eksTokenPrefix))
	if err != nil || !strings.HasPrefix(token, eksTokenPrefix) {
		t.Fatalf("token %q is not an EKS token: %v", token, err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	got := []string{u.Host, q.Get("Action"), q.Get("X-Amz-Expires"),
		q.Get("X-Amz-SignedHeaders")}
	want := []string{"127.0.0.1:4566", "GetCallerIdentity", "60", "host;x-k8s-aws-id"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("presigned URL mismatch (-want +got):\n%s", diff)
	}
}

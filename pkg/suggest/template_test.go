package suggest_test

import (
	"testing"

	"github.com/self-heal/self-heal/pkg/suggest"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Error deleting VPC vpc-0a1b2c3d4e5f: DependencyViolation",
			"Error deleting VPC <id>: DependencyViolation"},
		{`Error: creating Log Group (/aws/eks/prod/cluster): already exists`,
			"Error: creating Log Group (<path>): already exists"},
		{"Role arn:aws:iam::123456789012:role/deploy cannot be assumed",
			"Role <arn> cannot be assumed"},
		{`release "payments" failed: timed out after 300s`, "release <name> failed: timed out after 300s"},
		{"Created: 2024-05-01 10:22:33.123456 +0000 UTC", "Created: <time>"},
		{"2021/03/31 23:35:09 [DEBUG] retrying", "<time> [DEBUG] retrying"},
		{"ID: 3d20d141-88c4-bb14-d677-88c5c9ec329a", "ID: <id>"},
		{"status code: 409, request id: 61TQCU8QIELPMR32HASGNS1M0NVV4KQNSO5AEMVJF66Q9ASUAAJG",
			"status code: <num>, request id: <id>"},
		{"sha256 d3a49746dc78 does not match", "sha256 <hex> does not match"},
		{"Post https://sts.amazonaws.com/: net/http: TLS handshake timeout",
			"Post <url>: net/http: TLS handshake timeout"},
		{"dial tcp 10.0.0.1:6443: i/o timeout", "dial tcp <ip>: i/o timeout"},
		{"installing hashicorp/aws v3.56.0", "installing <path> <num>"},
		{"read tcp/ip and/or net/http", "read tcp/ip and/or net/http"},
		{"reading tfstate/env/terraform.tfstate", "reading <path>"},
		{"another operation (install/upgrade/rollback) is in progress",
			"another operation (install/upgrade/rollback) is in progress"},
		{"a decade of facade", "a decade of facade"},
		{"Who: user@example-host", "Who: <email>"},
		{"no placeholders at all", "no placeholders at all"},
		{"login with token *** refused", "login with token <secret> refused"},
	}
	for _, tt := range tests {
		if got := suggest.Parse(tt.in).String(); got != tt.want {
			t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

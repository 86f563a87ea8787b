package aws

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOwnership_Judge(t *testing.T) {
	t.Parallel()
	own := Ownership{Stack: "infra/network", StackTag: "Stack"}
	tests := []struct {
		name string
		tags map[string]string
		want Claim
	}{
		{"no tags", nil, Claim{}},
		{"unrelated tags", map[string]string{"Name": "web", "team": "a"}, Claim{}},
		{"this stack", map[string]string{"Stack": "infra/network"},
			Claim{Kind: Ours, Owner: "infra/network", Tag: "Stack"}},
		{"another stack", map[string]string{"Stack": "infra/other"},
			Claim{Kind: OtherStack, Owner: "infra/other", Tag: "Stack"}},
		{"cloudformation", map[string]string{"aws:cloudformation:stack-name": "legacy"},
			Claim{Kind: CloudFormation, Owner: "legacy", Tag: "aws:cloudformation:stack-name"}},
		{"stack tag wins over cloudformation", map[string]string{"Stack": "infra/network",
			"aws:cloudformation:stack-name": "legacy"},
			Claim{Kind: Ours, Owner: "infra/network", Tag: "Stack"}},
		{"cluster owned", map[string]string{"kubernetes.io/cluster/demo": "owned"},
			Claim{Kind: Cluster, Owner: "demo", Tag: "kubernetes.io/cluster/demo=owned"}},
		{"cluster shared is not ownership", map[string]string{"kubernetes.io/cluster/demo": "shared"},
			Claim{}},
		{"load balancer controller", map[string]string{"elbv2.k8s.aws/cluster": "demo"},
			Claim{Kind: Cluster, Owner: "demo", Tag: "elbv2.k8s.aws/cluster"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, own.Judge(tt.tags)); diff != "" {
				t.Errorf("Judge(%v) mismatch (-want +got):\n%s", tt.tags, diff)
			}
		})
	}
}

func TestOwnership_otherTagKey(t *testing.T) {
	t.Parallel()
	own := Ownership{Stack: "net", StackTag: "owner"}
	got := own.Judge(map[string]string{"Stack": "elsewhere", "owner": "net"})
	if got.Kind != Ours {
		t.Errorf("Judge() = %+v, want this stack by the configured tag key", got)
	}
}

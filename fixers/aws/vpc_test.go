package aws

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/fixer"
)

var testOwn = Ownership{Stack: "infra/network", StackTag: "Stack"}

func ours() map[string]string  { return map[string]string{"Stack": "infra/network"} }
func other() map[string]string { return map[string]string{"Stack": "infra/other"} }

// fullVPC is an inventory with one of each kind of dependency.
func fullVPC() *vpcInventory {
	r := func(kind, id string) resource { return resource{Kind: kind, ID: id} }
	return &vpcInventory{
		VPC: resource{Kind: "VPC", ID: "vpc-1", Tags: ours()}, Found: true,
		Instances:  []resource{r("instance", "i-1")},
		Endpoints:  []resource{r("VPC endpoint", "vpce-1")},
		NATs:       []resource{r("NAT gateway", "nat-1")},
		LBs:        []resource{r("load balancer", "arn:lb")},
		ClassicLBs: []resource{r("classic load balancer", "old")},
		RouteTabs: []routeTable{{resource: r("route table", "rtb-main"), Main: true},
			{resource: r("route table", "rtb-1"), Assocs: []string{"rtbassoc-1"}}},
		ENIs: []vpcENI{{resource: r("ENI", "eni-1"), Status: "available"}},
		Groups: []securityGroup{{resource: r("security group", "sg-default"), Default: true},
			{resource: r("security group", "sg-web")}, {resource: r("security group", "sg-db")}},
		Refs:    []sgRef{{From: "sg-db", To: "sg-web"}},
		ACLs:    []networkACL{{resource: r("network ACL", "acl-d"), Default: true}, {resource: r("network ACL", "acl-1")}},
		Subnets: []resource{r("subnet", "subnet-1")},
		IGWs:    []resource{r("internet gateway", "igw-1")},
	}
}

func TestPlanVPC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inv    func() *vpcInventory
		delete bool
		want   fixer.Verdict
		// action must contain these, in this order.
		action []string
	}{
		{"gone", func() *vpcInventory {
			return &vpcInventory{VPC: resource{ID: "vpc-1"}}
		}, false, fixer.Nothing, []string{"vpc vpc-1 no longer exists"}},
		{"default vpc", func() *vpcInventory {
			inv := fullVPC()
			inv.IsDefault = true
			return inv
		}, false, fixer.Refuse, []string{"default VPC"}},
		{"vpc of another stack", func() *vpcInventory {
			inv := fullVPC()
			inv.VPC.Tags = other()
			return inv
		}, false, fixer.Refuse, []string{`belongs to stack "infra/other"`}},
		{"unremovable blocker", func() *vpcInventory {
			inv := fullVPC()
			inv.Blockers = []string{"VPN gateway vgw-1"}
			return inv
		}, false, fixer.Refuse, []string{"does not remove: VPN gateway vgw-1"}},
		{"dependency of another stack", func() *vpcInventory {
			inv := fullVPC()
			inv.Groups[2].Tags = other()
			return inv
		}, false, fixer.Refuse, []string{`security group sg-db belongs to stack "infra/other"`}},
		{"load balancer of a cluster", func() *vpcInventory {
			inv := fullVPC()
			inv.LBs[0].Tags = map[string]string{"kubernetes.io/cluster/demo": "owned"}
			return inv
		}, false, fixer.Refuse, []string{`load balancer arn:lb belongs to Kubernetes cluster "demo"`}},
		{"everything in order", fullVPC, false, fixer.Act, []string{
			"terminate instance i-1", "delete VPC endpoint vpce-1", "delete NAT gateway nat-1",
			"delete load balancer arn:lb", "delete classic load balancer old",
			"delete route table rtb-1", "delete ENI eni-1", "revoke", "delete security group sg-web",
			"delete security group sg-db", "delete network ACL acl-1", "delete subnet subnet-1",
			"detach and delete internet gateway igw-1", "the step's re-run then deletes the VPC"}},
		{"vpc too", fullVPC, true, fixer.Act, []string{"igw-1", "delete VPC vpc-1"}},
		{"managed ENI is waited for", func() *vpcInventory {
			inv := fullVPC()
			inv.ENIs = append(inv.ENIs, vpcENI{resource: resource{Kind: "ENI", ID: "eni-l",
				Tags: other()}, Managed: "AWS Lambda VPC ENI-fn"})
			return inv
		}, false, fixer.Act, []string{"delete ENI eni-1", "wait for AWS to release ENI eni-l"}},
		{"nothing left", func() *vpcInventory {
			return &vpcInventory{VPC: resource{Kind: "VPC", ID: "vpc-1"}, Found: true,
				Groups: []securityGroup{{resource: resource{ID: "sg-d"}, Default: true}}}
		}, false, fixer.Nothing, []string{"vpc vpc-1 has no dependencies left"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := planVPC(tt.inv(), testOwn, tt.delete)
			if got.Verdict != tt.want {
				t.Fatalf("planVPC() verdict = %v (%s), want %v", got.Verdict, got.Action, tt.want)
			}
			requireInOrder(t, got.Action, tt.action)
		})
	}
}

// requireInOrder checks that each of want appears in text after the one
// before it.
func requireInOrder(t *testing.T, text string, want []string) {
	t.Helper()
	at := 0
	for _, w := range want {
		i := strings.Index(text[at:], w)
		if i < 0 {
			t.Fatalf("action %q\nlacks %q after position %d", text, w, at)
		}
		at += i + len(w)
	}
}

func TestPlanVPC_evidence(t *testing.T) {
	t.Parallel()
	inv := fullVPC()
	inv.ENIs = append(inv.ENIs, vpcENI{resource: resource{Kind: "ENI", ID: "eni-l"},
		Managed: "AWS Lambda VPC ENI-fn"})
	got := planVPC(inv, testOwn, false).Evidence
	want := []string{
		`ownership is read from the Stack tag (this stack: "infra/network"), CloudFormation's ` +
			"and Kubernetes' ownership tags",
		"vpc vpc-1 exists, is not the default VPC and belongs to this stack (Stack=infra/network)",
		"12 dependencies in vpc vpc-1, none owned by another stack, CloudFormation or a " +
			"Kubernetes cluster",
		"ENI eni-l is managed by AWS (AWS Lambda VPC ENI-fn): it is waited for, never deleted",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("planVPC() evidence mismatch (-want +got):\n%s", diff)
	}
}

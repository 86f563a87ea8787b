//go:build e2e

package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/self-heal/self-heal/pkg/report"
)

func (w *awsWorld) vpc(cidr string) string {
	w.t.Helper()
	out, err := w.ec2.CreateVpc(awsCtx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)})
	noErr(w.t, err, "create vpc")
	return aws.ToString(out.Vpc.VpcId)
}

func (w *awsWorld) group(vpc, name string, tags ...string) string {
	w.t.Helper()
	out, err := w.ec2.CreateSecurityGroup(awsCtx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String(name), Description: aws.String(name), VpcId: &vpc,
		TagSpecifications: ec2TagSpec(ec2types.ResourceTypeSecurityGroup, tags...)})
	noErr(w.t, err, "create security group %s", name)
	return aws.ToString(out.GroupId)
}

func (w *awsWorld) eni(subnet, description string, groups []string, tags ...string) string {
	w.t.Helper()
	out, err := w.ec2.CreateNetworkInterface(awsCtx, &ec2.CreateNetworkInterfaceInput{
		SubnetId: &subnet, Description: &description, Groups: groups,
		TagSpecifications: ec2TagSpec(ec2types.ResourceTypeNetworkInterface, tags...)})
	noErr(w.t, err, "create ENI")
	return aws.ToString(out.NetworkInterface.NetworkInterfaceId)
}

// groupRules returns the group IDs a group's rules name, as "in:sg-x" and
// "out:sg-y", or nil when the group is gone.
func (w *awsWorld) groupRules(id string) []string {
	w.t.Helper()
	out, err := w.ec2.DescribeSecurityGroups(awsCtx, &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{id}}}})
	noErr(w.t, err, "describe security group %s", id)
	if len(out.SecurityGroups) == 0 {
		return nil
	}
	refs := []string{}
	g := out.SecurityGroups[0]
	for _, p := range g.IpPermissions {
		for _, pair := range p.UserIdGroupPairs {
			refs = append(refs, "in:"+aws.ToString(pair.GroupId))
		}
	}
	for _, p := range g.IpPermissionsEgress {
		for _, pair := range p.UserIdGroupPairs {
			refs = append(refs, "out:"+aws.ToString(pair.GroupId))
		}
	}
	return refs
}

// eniGroups returns the groups of an ENI, or nil when it is gone.
func (w *awsWorld) eniGroups(id string) []string {
	w.t.Helper()
	out, err := w.ec2.DescribeNetworkInterfaces(awsCtx, &ec2.DescribeNetworkInterfacesInput{
		Filters: []ec2types.Filter{{Name: aws.String("network-interface-id"),
			Values: []string{id}}}})
	noErr(w.t, err, "describe ENI %s", id)
	if len(out.NetworkInterfaces) == 0 {
		return nil
	}
	groups := []string{}
	for _, g := range out.NetworkInterfaces[0].Groups {
		groups = append(groups, aws.ToString(g.GroupId))
	}
	return groups
}

func (w *awsWorld) allow(from, to string, egress bool) {
	w.t.Helper()
	perm := []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443),
		ToPort: aws.Int32(443), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: &to}}}}
	var err error
	if egress {
		_, err = w.ec2.AuthorizeSecurityGroupEgress(awsCtx,
			&ec2.AuthorizeSecurityGroupEgressInput{GroupId: &from, IpPermissions: perm})
	} else {
		_, err = w.ec2.AuthorizeSecurityGroupIngress(awsCtx,
			&ec2.AuthorizeSecurityGroupIngressInput{GroupId: &from, IpPermissions: perm})
	}
	noErr(w.t, err, "authorize %s -> %s", from, to)
}

// sgScene is a group "app" that two other groups reference and two free
// ENIs use.
type sgScene struct {
	vpc, app, db, lb, other, soloENI, sharedENI string
}

func buildSGScene(t *testing.T, w *awsWorld, dbTags ...string) sgScene {
	t.Helper()
	var s sgScene
	s.vpc = w.vpc("10.20.0.0/16")
	sub := subnet(t, w, s.vpc, "10.20.1.0/24", "us-east-1a")
	s.app = w.group(s.vpc, "app", "Stack", ourStack)
	s.db = w.group(s.vpc, "db", dbTags...)
	s.lb = w.group(s.vpc, "lb")
	s.other = w.group(s.vpc, "other")
	w.allow(s.db, s.app, false)
	w.allow(s.lb, s.app, true)
	s.soloENI = w.eni(sub, "worker", []string{s.app})
	s.sharedENI = w.eni(sub, "worker", []string{s.app, s.other})
	return s
}

// TestAWSSG_ReferencesRevoked heals the deletion of a security group that
// other groups' rules and two free ENIs still use: the rules go, the ENIs
// lose the group, and the group is deleted; the other groups and the ENIs
// stay.
func TestAWSSG_ReferencesRevoked(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.withGuard()
	s := buildSGScene(t, w)

	h := w.run(nil, "aws", "ec2", "delete-security-group", "--group-id", s.app)
	h.exitIs(t, 0)
	h.outcomeIs(t, report.Healed)
	if !strings.Contains(h.output, "resource "+s.app+" has a dependent object") {
		t.Errorf("the first attempt did not meet DependencyViolation:\n%s", h.output)
	}
	f := h.fixOf(t, "sg-dependency-violation", "aws.revoke-sg-references")
	wantApplied(t, f, "revoked ingress tcp 443 of "+s.db+" from "+s.app,
		"revoked egress tcp 443 of "+s.lb+" to "+s.app,
		"took "+s.app+" off ENI "+s.sharedENI+" (now in "+s.other+")",
		"took "+s.app+" off ENI "+s.soloENI)

	if got := w.groupRules(s.app); got != nil {
		t.Errorf("group %s still exists with rules %v", s.app, got)
	}
	for _, g := range []string{s.db, s.lb, s.other} {
		if got := w.groupRules(g); got == nil || strings.Contains(strings.Join(got, " "), s.app) {
			t.Errorf("group %s: rules %v, want it kept without references to %s", g, got, s.app)
		}
	}
	if got := w.eniGroups(s.sharedENI); strings.Join(got, ",") != s.other {
		t.Errorf("ENI %s groups = %v, want [%s]", s.sharedENI, got, s.other)
	}
	if got := w.eniGroups(s.soloENI); len(got) != 1 || got[0] == s.app {
		t.Errorf("ENI %s groups = %v, want the VPC's default group", s.soloENI, got)
	}
}

// TestAWSSG_ForeignRuleRefused leaves everything alone when a rule that
// references the group is held by another stack's group.
func TestAWSSG_ForeignRuleRefused(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.withGuard()
	s := buildSGScene(t, w, "Stack", "infra/database")

	h := w.run(nil, "aws", "ec2", "delete-security-group", "--group-id", s.app)
	h.exitIs(t, 255)
	h.outcomeIs(t, report.Refused)
	f := h.fixOf(t, "sg-dependency-violation", "aws.revoke-sg-references")
	wantRefused(t, f, "security group "+s.db+` belongs to stack "infra/database"`,
		"foreign_rules")
	if got := w.groupRules(s.db); strings.Join(got, ",") != "in:"+s.app {
		t.Errorf("group %s rules = %v, want its rule from %s kept", s.db, got, s.app)
	}
	if got := w.eniGroups(s.soloENI); strings.Join(got, ",") != s.app {
		t.Errorf("ENI %s groups = %v, want [%s] kept", s.soloENI, got, s.app)
	}
}

// TestAWSSG_ProductionBacksUpFirst runs the disruptive fix in production,
// where the policy allows it only after a backup: the backup records the
// rules before they are revoked.
func TestAWSSG_ProductionBacksUpFirst(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.withGuard()
	s := buildSGScene(t, w)

	h := w.run([]string{"--environment", "production"},
		"aws", "ec2", "delete-security-group", "--group-id", s.app)
	h.exitIs(t, 0)
	f := h.fixOf(t, "sg-dependency-violation", "aws.revoke-sg-references")
	wantApplied(t, f, "revoked ingress tcp 443 of "+s.db+" from "+s.app)
	if len(f.Backups) != 1 {
		t.Fatalf("backups = %q, want one", f.Backups)
	}
	body, err := os.ReadFile(f.Backups[0])
	noErr(t, err, "read backup")
	if !strings.Contains(string(body), "ingress tcp 443 of "+s.db+" from "+s.app) {
		t.Errorf("backup lacks the revoked rule:\n%s", body)
	}
}

// subnetScene is a subnet with a free ENI and one that Lambda holds.
type subnetScene struct {
	vpc, subnet, free, lambda string
}

func buildSubnetScene(t *testing.T, w *awsWorld, freeTags ...string) subnetScene {
	t.Helper()
	var s subnetScene
	s.vpc = w.vpc("10.30.0.0/16")
	s.subnet = subnet(t, w, s.vpc, "10.30.1.0/24", "us-east-1a")
	s.free = w.eni(s.subnet, "left by a deleted worker", nil, freeTags...)
	s.lambda = w.eni(s.subnet, "AWS Lambda VPC ENI-worker-6c1f2b9e", nil)
	return s
}

func (w *awsWorld) subnetExists(id string) bool {
	w.t.Helper()
	out, err := w.ec2.DescribeSubnets(awsCtx, &ec2.DescribeSubnetsInput{
		Filters: []ec2types.Filter{{Name: aws.String("subnet-id"), Values: []string{id}}}})
	noErr(w.t, err, "describe subnet %s", id)
	return len(out.Subnets) > 0
}

// TestAWSSubnet_ENIsReleasedAndFreedDeleted heals a subnet deletion that a
// free ENI and a Lambda ENI block: the Lambda ENI is waited for, with
// progress lines, until Lambda releases it; the free ENI is deleted.
func TestAWSSubnet_ENIsReleasedAndFreedDeleted(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.withGuard()
	s := buildSubnetScene(t, w)

	// Lambda releases its interface a while after the function is gone.
	released := make(chan error, 1)
	go func() {
		time.Sleep(12 * time.Second)
		_, err := w.ec2.DeleteNetworkInterface(awsCtx, &ec2.DeleteNetworkInterfaceInput{
			NetworkInterfaceId: &s.lambda})
		released <- err
	}()

	h := w.run(nil, "aws", "ec2", "delete-subnet", "--subnet-id", s.subnet)
	noErr(t, <-released, "release the Lambda ENI")
	h.exitIs(t, 0)
	h.outcomeIs(t, report.Healed)

	wait := h.fixOf(t, "subnet-dependency", "aws.wait-eni-release")
	if wait.Verdict != "act" || !wait.Applied || len(wait.Changed) > 0 {
		t.Errorf("wait-eni-release: verdict %q, applied %v, changed %q; want a wait that "+
			"changes nothing", wait.Verdict, wait.Applied, wait.Changed)
	}
	// The wait outlasted its first poll, so the re-run needs no back-off.
	if n := strings.Join(wait.Notes, "\n"); !strings.Contains(n, "AWS has released its ENIs in "+s.subnet+" (after ") ||
		h.report.Attempts[0].Wait != 0 {
		t.Errorf("wait-eni-release notes %q, then a back-off of %s; want a settled wait and none",
			n, h.report.Attempts[0].Wait)
	}
	if !strings.Contains(h.output, "waiting for "+s.lambda+" (AWS Lambda VPC ENI") ||
		!strings.Contains(h.output, "no ENI that AWS manages is left") {
		t.Errorf("output lacks the wait's progress lines:\n%s", h.output)
	}
	del := h.fixOf(t, "subnet-dependency", "aws.delete-available-enis")
	wantApplied(t, del, "deleted available ENI "+s.free)
	if strings.Contains(strings.Join(del.Changed, " "), s.lambda) {
		t.Errorf("delete-available-enis touched the Lambda ENI: %q", del.Changed)
	}
	if w.subnetExists(s.subnet) {
		t.Errorf("subnet %s still exists", s.subnet)
	}
}

// TestAWSSubnet_ForeignENIRefused leaves a subnet alone when its free ENI
// belongs to another stack.
func TestAWSSubnet_ForeignENIRefused(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.withGuard()
	s := buildSubnetScene(t, w, "Stack", "infra/batch")
	_, err := w.ec2.DeleteNetworkInterface(awsCtx, &ec2.DeleteNetworkInterfaceInput{
		NetworkInterfaceId: &s.lambda})
	noErr(t, err, "delete the Lambda ENI")

	h := w.run(nil, "aws", "ec2", "delete-subnet", "--subnet-id", s.subnet)
	h.exitIs(t, 255)
	h.outcomeIs(t, report.Refused)
	f := h.fixOf(t, "subnet-dependency", "aws.delete-available-enis")
	wantRefused(t, f, "ENI "+s.free+` belongs to stack "infra/batch"`)
	if w.eniGroups(s.free) == nil || !w.subnetExists(s.subnet) {
		t.Errorf("the ENI or the subnet is gone after a refusal")
	}
}

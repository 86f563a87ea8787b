//go:build e2e

package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/self-heal/self-heal/pkg/report"
)

// testVPC is a VPC full of what keeps AWS from deleting it.
type testVPC struct {
	id, subnetA, subnetB, igw, routeTable, nat, endpoint string
	lb, classicLB, instance, eni, web, db, acl           string
}

// buildVPC creates a VPC tagged as this stack's with subnets, an attached
// internet gateway, a route table, a NAT gateway, an interface endpoint,
// an ALB and a Classic ELB, an instance, a free ENI, two security groups
// that reference each other and a network ACL. eniTags tag the free ENI.
func buildVPC(t *testing.T, w *awsWorld, cidr string, eniTags ...string) testVPC {
	t.Helper()
	var v testVPC
	e := w.ec2
	vpc, err := e.CreateVpc(awsCtx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr + ".0.0/16"),
		TagSpecifications: ec2TagSpec(ec2types.ResourceTypeVpc, "Stack", ourStack)})
	noErr(t, err, "create vpc")
	v.id = aws.ToString(vpc.Vpc.VpcId)

	v.subnetA = subnet(t, w, v.id, cidr+".1.0/24", "us-east-1a")
	v.subnetB = subnet(t, w, v.id, cidr+".2.0/24", "us-east-1b")

	igw, err := e.CreateInternetGateway(awsCtx, &ec2.CreateInternetGatewayInput{})
	noErr(t, err, "create internet gateway")
	v.igw = aws.ToString(igw.InternetGateway.InternetGatewayId)
	_, err = e.AttachInternetGateway(awsCtx, &ec2.AttachInternetGatewayInput{
		InternetGatewayId: &v.igw, VpcId: &v.id})
	noErr(t, err, "attach internet gateway")

	rt, err := e.CreateRouteTable(awsCtx, &ec2.CreateRouteTableInput{VpcId: &v.id})
	noErr(t, err, "create route table")
	v.routeTable = aws.ToString(rt.RouteTable.RouteTableId)
	_, err = e.CreateRoute(awsCtx, &ec2.CreateRouteInput{RouteTableId: &v.routeTable,
		DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: &v.igw})
	noErr(t, err, "create route")
	_, err = e.AssociateRouteTable(awsCtx, &ec2.AssociateRouteTableInput{
		RouteTableId: &v.routeTable, SubnetId: &v.subnetA})
	noErr(t, err, "associate route table")

	eip, err := e.AllocateAddress(awsCtx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
	noErr(t, err, "allocate address")
	nat, err := e.CreateNatGateway(awsCtx, &ec2.CreateNatGatewayInput{SubnetId: &v.subnetA,
		AllocationId: eip.AllocationId})
	noErr(t, err, "create NAT gateway")
	v.nat = aws.ToString(nat.NatGateway.NatGatewayId)

	ep, err := e.CreateVpcEndpoint(awsCtx, &ec2.CreateVpcEndpointInput{VpcId: &v.id,
		ServiceName: aws.String("com.amazonaws.us-east-1.s3"), SubnetIds: []string{v.subnetB},
		VpcEndpointType: ec2types.VpcEndpointTypeInterface})
	noErr(t, err, "create VPC endpoint")
	v.endpoint = aws.ToString(ep.VpcEndpoint.VpcEndpointId)

	v.lb, v.classicLB = loadBalancers(t, w, v, "app-"+cidr[strings.LastIndex(cidr, ".")+1:])

	run, err := e.RunInstances(awsCtx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: &v.subnetB})
	noErr(t, err, "run instance")
	v.instance = aws.ToString(run.Instances[0].InstanceId)

	eni, err := e.CreateNetworkInterface(awsCtx, &ec2.CreateNetworkInterfaceInput{
		SubnetId: &v.subnetB, Description: aws.String("left by a deleted worker"),
		TagSpecifications: ec2TagSpec(ec2types.ResourceTypeNetworkInterface, eniTags...)})
	noErr(t, err, "create ENI")
	v.eni = aws.ToString(eni.NetworkInterface.NetworkInterfaceId)

	v.web, v.db = crossReferencedGroups(t, w, v.id)

	acl, err := e.CreateNetworkAcl(awsCtx, &ec2.CreateNetworkAclInput{VpcId: &v.id})
	noErr(t, err, "create network ACL")
	v.acl = aws.ToString(acl.NetworkAcl.NetworkAclId)
	moveSubnetToACL(t, w, v.id, v.subnetB, v.acl)
	return v
}

func subnet(t *testing.T, w *awsWorld, vpc, cidr, az string) string {
	t.Helper()
	out, err := w.ec2.CreateSubnet(awsCtx, &ec2.CreateSubnetInput{VpcId: &vpc,
		CidrBlock: &cidr, AvailabilityZone: &az})
	noErr(t, err, "create subnet %s", cidr)
	return aws.ToString(out.Subnet.SubnetId)
}

func loadBalancers(t *testing.T, w *awsWorld, v testVPC, name string) (string, string) {
	t.Helper()
	lb, err := w.elbv2.CreateLoadBalancer(awsCtx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String(name), Subnets: []string{v.subnetA, v.subnetB}})
	noErr(t, err, "create ALB")
	_, err = w.elb.CreateLoadBalancer(awsCtx, &elb.CreateLoadBalancerInput{
		LoadBalancerName: aws.String(name + "-classic"), Subnets: []string{v.subnetA},
		Listeners: []elbtypes.Listener{{Protocol: aws.String("HTTP"), LoadBalancerPort: 80,
			InstancePort: aws.Int32(80)}}})
	noErr(t, err, "create classic ELB")
	return aws.ToString(lb.LoadBalancers[0].LoadBalancerArn), name + "-classic"
}

// crossReferencedGroups creates web and db groups: db lets web in and web
// lets traffic out to db, so neither can be deleted first.
func crossReferencedGroups(t *testing.T, w *awsWorld, vpc string) (string, string) {
	t.Helper()
	group := func(name string) string {
		out, err := w.ec2.CreateSecurityGroup(awsCtx, &ec2.CreateSecurityGroupInput{
			GroupName: aws.String(name), Description: aws.String(name), VpcId: &vpc})
		noErr(t, err, "create security group %s", name)
		return aws.ToString(out.GroupId)
	}
	web, db := group("web"), group("db")
	perm := func(other string) []ec2types.IpPermission {
		return []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432),
			ToPort: aws.Int32(5432), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: &other}}}}
	}
	_, err := w.ec2.AuthorizeSecurityGroupIngress(awsCtx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: &db, IpPermissions: perm(web)})
	noErr(t, err, "authorize db ingress from web")
	_, err = w.ec2.AuthorizeSecurityGroupEgress(awsCtx, &ec2.AuthorizeSecurityGroupEgressInput{
		GroupId: &web, IpPermissions: perm(db)})
	noErr(t, err, "authorize web egress to db")
	return web, db
}

func moveSubnetToACL(t *testing.T, w *awsWorld, vpc, subnetID, acl string) {
	t.Helper()
	acls, err := w.ec2.DescribeNetworkAcls(awsCtx, &ec2.DescribeNetworkAclsInput{
		Filters: []ec2types.Filter{{Name: aws.String("association.subnet-id"),
			Values: []string{subnetID}}}})
	noErr(t, err, "describe network ACLs")
	for _, a := range acls.NetworkAcls[0].Associations {
		if aws.ToString(a.SubnetId) == subnetID {
			_, err := w.ec2.ReplaceNetworkAclAssociation(awsCtx,
				&ec2.ReplaceNetworkAclAssociationInput{AssociationId: a.NetworkAclAssociationId,
					NetworkAclId: &acl})
			noErr(t, err, "associate subnet with network ACL")
		}
	}
}

// vpcState is what of a testVPC still exists in moto.
type vpcState struct {
	vpc, subnets, groups, igw, routeTable, nat, endpoint, lb, classicLB, eni, acl bool
	instance                                                                      string
}

func readVPC(t *testing.T, w *awsWorld, v testVPC) vpcState {
	t.Helper()
	var s vpcState
	e := w.ec2
	vpcs, err := e.DescribeVpcs(awsCtx, &ec2.DescribeVpcsInput{
		Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{v.id}}}})
	noErr(t, err, "describe vpcs")
	s.vpc = len(vpcs.Vpcs) == 1
	vpcFilter := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{v.id}}}

	subnets, err := e.DescribeSubnets(awsCtx, &ec2.DescribeSubnetsInput{Filters: vpcFilter})
	noErr(t, err, "describe subnets")
	s.subnets = len(subnets.Subnets) > 0
	groups, err := e.DescribeSecurityGroups(awsCtx, &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{v.web, v.db}}}})
	noErr(t, err, "describe security groups")
	s.groups = len(groups.SecurityGroups) > 0
	igws, err := e.DescribeInternetGateways(awsCtx, &ec2.DescribeInternetGatewaysInput{
		Filters: []ec2types.Filter{{Name: aws.String("internet-gateway-id"),
			Values: []string{v.igw}}}})
	noErr(t, err, "describe internet gateways")
	s.igw = len(igws.InternetGateways) > 0
	rts, err := e.DescribeRouteTables(awsCtx, &ec2.DescribeRouteTablesInput{
		Filters: []ec2types.Filter{{Name: aws.String("route-table-id"),
			Values: []string{v.routeTable}}}})
	noErr(t, err, "describe route tables")
	s.routeTable = len(rts.RouteTables) > 0
	nats, err := e.DescribeNatGateways(awsCtx, &ec2.DescribeNatGatewaysInput{
		NatGatewayIds: []string{v.nat}})
	noErr(t, err, "describe NAT gateways")
	s.nat = len(nats.NatGateways) > 0 && nats.NatGateways[0].State != ec2types.NatGatewayStateDeleted
	eps, err := e.DescribeVpcEndpoints(awsCtx, &ec2.DescribeVpcEndpointsInput{Filters: vpcFilter})
	noErr(t, err, "describe endpoints")
	for _, ep := range eps.VpcEndpoints {
		s.endpoint = s.endpoint || !strings.EqualFold(string(ep.State), "deleted")
	}
	s.lb, s.classicLB = lbsExist(t, w, v)
	s.instance = instanceState(t, w, v.instance)
	enis, err := e.DescribeNetworkInterfaces(awsCtx, &ec2.DescribeNetworkInterfacesInput{
		Filters: []ec2types.Filter{{Name: aws.String("network-interface-id"),
			Values: []string{v.eni}}}})
	noErr(t, err, "describe ENIs")
	s.eni = len(enis.NetworkInterfaces) > 0
	acls, err := e.DescribeNetworkAcls(awsCtx, &ec2.DescribeNetworkAclsInput{
		Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{v.id}}}})
	noErr(t, err, "describe network ACLs")
	for _, a := range acls.NetworkAcls {
		s.acl = s.acl || aws.ToString(a.NetworkAclId) == v.acl
	}
	return s
}

func lbsExist(t *testing.T, w *awsWorld, v testVPC) (bool, bool) {
	t.Helper()
	lbs, err := w.elbv2.DescribeLoadBalancers(awsCtx, &elbv2.DescribeLoadBalancersInput{})
	noErr(t, err, "describe load balancers")
	var lb, classic bool
	for _, l := range lbs.LoadBalancers {
		lb = lb || aws.ToString(l.LoadBalancerArn) == v.lb
	}
	cls, err := w.elb.DescribeLoadBalancers(awsCtx, &elb.DescribeLoadBalancersInput{})
	noErr(t, err, "describe classic load balancers")
	for _, l := range cls.LoadBalancerDescriptions {
		classic = classic || aws.ToString(l.LoadBalancerName) == v.classicLB
	}
	return lb, classic
}

func instanceState(t *testing.T, w *awsWorld, id string) string {
	t.Helper()
	out, err := w.ec2.DescribeInstances(awsCtx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	noErr(t, err, "describe instance %s", id)
	return string(out.Reservations[0].Instances[0].State.Name)
}

var everything = vpcState{vpc: true, subnets: true, groups: true, igw: true, routeTable: true,
	nat: true, endpoint: true, lb: true, classicLB: true, eni: true, acl: true,
	instance: "running"}

// TestAWSVPC_DependenciesDeleted heals `aws ec2 delete-vpc` on a VPC full
// of dependencies: everything in it goes, in AWS's order, the re-run
// deletes the VPC, and a second VPC is left as it was.
func TestAWSVPC_DependenciesDeleted(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	v := buildVPC(t, w, "10.1")
	other := buildVPC(t, w, "10.2")

	h := w.run(nil, "aws", "ec2", "delete-vpc", "--vpc-id", v.id)
	h.exitIs(t, 0)
	h.outcomeIs(t, report.Healed)
	if !strings.Contains(h.output, "DependencyViolation") {
		t.Errorf("the first delete-vpc did not fail with DependencyViolation:\n%s", h.output)
	}

	f := h.fixOf(t, "vpc-dependency-violation", "aws.delete-vpc-dependencies")
	order := []string{v.instance, v.endpoint, v.nat, v.lb, v.classicLB, v.routeTable, v.eni,
		"revoke", v.web, v.acl, v.subnetA, v.igw}
	requireOrder(t, f.Action, order)
	wantApplied(t, f, "terminated instance "+v.instance, "deleted VPC endpoint "+v.endpoint,
		"deleted NAT gateway "+v.nat, "deleted load balancer "+v.lb,
		"deleted classic load balancer "+v.classicLB, "deleted route table "+v.routeTable,
		"deleted ENI "+v.eni, "revoked ingress tcp 5432 of "+v.db+" from "+v.web,
		"revoked egress tcp 5432 of "+v.web+" to "+v.db, "deleted security group "+v.web,
		"deleted security group "+v.db, "deleted network ACL "+v.acl,
		"deleted subnet "+v.subnetA, "deleted subnet "+v.subnetB,
		"detached and deleted internet gateway "+v.igw)

	if got := readVPC(t, w, v); got != (vpcState{instance: "terminated"}) {
		t.Errorf("after healing, of the VPC remain %+v, want nothing", got)
	}
	if got := readVPC(t, w, other); got != everything {
		t.Errorf("the other VPC is now %+v, want it untouched", got)
	}
}

// requireOrder checks that each of want appears in text after the one
// before it.
func requireOrder(t *testing.T, text string, want []string) {
	t.Helper()
	at := 0
	for _, w := range want {
		i := strings.Index(text[at:], w)
		if i < 0 {
			t.Fatalf("plan %q\nlacks %q after position %d", text, w, at)
		}
		at += i + len(w)
	}
}

// TestAWSVPC_ForeignResourceRefused leaves a VPC alone when one of its
// dependencies belongs to another stack: the report says which, nothing
// is deleted, and self-heal exits with the aws CLI's code.
func TestAWSVPC_ForeignResourceRefused(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	v := buildVPC(t, w, "10.3", "Stack", "infra/other")

	h := w.run(nil, "aws", "ec2", "delete-vpc", "--vpc-id", v.id)
	h.exitIs(t, 255)
	h.outcomeIs(t, report.Refused)
	f := h.fixOf(t, "vpc-dependency-violation", "aws.delete-vpc-dependencies")
	wantRefused(t, f, "ENI "+v.eni+` belongs to stack "infra/other"`)
	if f.Rule != "live check" {
		t.Errorf("refusal rule = %q, want the live check", f.Rule)
	}
	if got := readVPC(t, w, v); got != everything {
		t.Errorf("after the refusal the VPC is %+v, want it untouched", got)
	}
}

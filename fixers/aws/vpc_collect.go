package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// vpcInventory is everything in a VPC that its deletion waits for, read
// from live state.
type vpcInventory struct {
	VPC       resource
	Found     bool
	IsDefault bool

	Instances  []resource
	Endpoints  []resource
	NATs       []resource
	LBs        []resource // Application, Network and Gateway load balancers, by ARN
	ClassicLBs []resource // Classic load balancers, by name
	RouteTabs  []routeTable
	ENIs       []vpcENI
	Groups     []securityGroup
	Refs       []sgRef
	ACLs       []networkACL
	DefaultACL string
	Subnets    []resource
	IGWs       []resource
	EgressIGWs []resource
	// Blockers are dependencies this fixer does not remove.
	Blockers []string
}

type routeTable struct {
	resource
	Main bool
	// Assocs are the IDs of the table's explicit associations.
	Assocs []string
}

type vpcENI struct {
	resource
	Status string
	// Managed names the service that manages the ENI, or "".
	Managed string
	// Instance is the instance the ENI is attached to, or "".
	Instance string
}

type securityGroup struct {
	resource
	Name    string
	Default bool
}

type networkACL struct {
	resource
	Default bool
	Assocs  []string
}

// collectVPC reads the VPC and everything that blocks its deletion.
func collectVPC(ctx context.Context, c *clients, vpcID string) (*vpcInventory, error) {
	inv := &vpcInventory{VPC: resource{Kind: "VPC", ID: vpcID}}
	e := c.ec2()
	out, err := e.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpcID}})
	if isCode(err, "InvalidVpcID.NotFound") || (err == nil && len(out.Vpcs) == 0) {
		return inv, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe vpc %s: %w", vpcID, err)
	}
	inv.Found = true
	inv.IsDefault = aws.ToBool(out.Vpcs[0].IsDefault)
	inv.VPC.Tags = ec2Tags(out.Vpcs[0].Tags)

	steps := []func(context.Context, *clients, *vpcInventory) error{
		collectInstances, collectEndpoints, collectNATs, collectLBs, collectClassicLBs,
		collectRouteTables, collectENIs, collectGroups, collectACLs, collectSubnets,
		collectGateways, collectBlockers,
	}
	for _, step := range steps {
		if err := step(ctx, c, inv); err != nil {
			return nil, err
		}
	}
	return inv, nil
}

func vpcFilter(inv *vpcInventory) ec2types.Filter { return filter("vpc-id", inv.VPC.ID) }

func collectInstances(ctx context.Context, c *clients, inv *vpcInventory) error {
	p := ec2.NewDescribeInstancesPaginator(c.ec2(), &ec2.DescribeInstancesInput{
		Filters: []ec2types.Filter{vpcFilter(inv), filter("instance-state-name",
			"pending", "running", "stopping", "stopped", "shutting-down")},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe instances in %s: %w", inv.VPC.ID, err)
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				inv.Instances = append(inv.Instances, resource{Kind: "instance",
					ID: aws.ToString(i.InstanceId), Tags: ec2Tags(i.Tags)})
			}
		}
	}
	return nil
}

func collectEndpoints(ctx context.Context, c *clients, inv *vpcInventory) error {
	p := ec2.NewDescribeVpcEndpointsPaginator(c.ec2(), &ec2.DescribeVpcEndpointsInput{
		Filters: []ec2types.Filter{vpcFilter(inv)}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe vpc endpoints in %s: %w", inv.VPC.ID, err)
		}
		for _, ep := range page.VpcEndpoints {
			if endpointGone(ep.State) || strings.EqualFold(string(ep.State), "deleting") {
				continue
			}
			inv.Endpoints = append(inv.Endpoints, resource{Kind: "VPC endpoint",
				ID: aws.ToString(ep.VpcEndpointId), Tags: ec2Tags(ep.Tags)})
		}
	}
	return nil
}

// endpointGone reports whether a VPC endpoint's state is deleted. The API
// answers in lower case although the SDK's constants are capitalised.
func endpointGone(s ec2types.State) bool { return strings.EqualFold(string(s), "deleted") }

func collectNATs(ctx context.Context, c *clients, inv *vpcInventory) error {
	p := ec2.NewDescribeNatGatewaysPaginator(c.ec2(), &ec2.DescribeNatGatewaysInput{
		Filter: []ec2types.Filter{vpcFilter(inv)}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe NAT gateways in %s: %w", inv.VPC.ID, err)
		}
		for _, n := range page.NatGateways {
			if n.State == ec2types.NatGatewayStateDeleted {
				continue
			}
			inv.NATs = append(inv.NATs, resource{Kind: "NAT gateway",
				ID: aws.ToString(n.NatGatewayId), Tags: ec2Tags(n.Tags)})
		}
	}
	return nil
}

func collectLBs(ctx context.Context, c *clients, inv *vpcInventory) error {
	lbs, err := loadBalancersIn(ctx, c.elbv2(), inv.VPC.ID)
	inv.LBs = lbs
	return err
}

// loadBalancersIn lists the Application, Network and Gateway load
// balancers of a VPC with their tags.
func loadBalancersIn(ctx context.Context, c *elbv2.Client, vpcID string) ([]resource, error) {
	var out []resource
	p := elbv2.NewDescribeLoadBalancersPaginator(c, &elbv2.DescribeLoadBalancersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe load balancers: %w", err)
		}
		for _, lb := range page.LoadBalancers {
			if aws.ToString(lb.VpcId) == vpcID {
				out = append(out, resource{Kind: "load balancer",
					ID: aws.ToString(lb.LoadBalancerArn)})
			}
		}
	}
	return out, tagLBs(ctx, c, out)
}

// tagLBs fills in the tags of ELBv2 resources (load balancers or target
// groups), 20 ARNs per call.
func tagLBs(ctx context.Context, c *elbv2.Client, rs []resource) error {
	for start := 0; start < len(rs); start += 20 {
		batch := rs[start:min(start+20, len(rs))]
		arns := make([]string, len(batch))
		for i, r := range batch {
			arns[i] = r.ID
		}
		out, err := c.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: arns})
		if err != nil {
			return fmt.Errorf("describe load balancer tags: %w", err)
		}
		byARN := map[string]map[string]string{}
		for _, d := range out.TagDescriptions {
			m := map[string]string{}
			for _, t := range d.Tags {
				m[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			byARN[aws.ToString(d.ResourceArn)] = m
		}
		for i := range batch {
			batch[i].Tags = byARN[batch[i].ID]
		}
	}
	return nil
}

func collectClassicLBs(ctx context.Context, c *clients, inv *vpcInventory) error {
	lbs, err := classicLBsIn(ctx, c.elb(), inv.VPC.ID)
	inv.ClassicLBs = lbs
	return err
}

// classicLBsIn lists the Classic load balancers of a VPC with their tags.
func classicLBsIn(ctx context.Context, c *elb.Client, vpcID string) ([]resource, error) {
	var out []resource
	p := elb.NewDescribeLoadBalancersPaginator(c, &elb.DescribeLoadBalancersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe classic load balancers: %w", err)
		}
		for _, lb := range page.LoadBalancerDescriptions {
			if aws.ToString(lb.VPCId) == vpcID {
				out = append(out, resource{Kind: "classic load balancer",
					ID: aws.ToString(lb.LoadBalancerName)})
			}
		}
	}
	for start := 0; start < len(out); start += 20 {
		batch := out[start:min(start+20, len(out))]
		names := make([]string, len(batch))
		for i, r := range batch {
			names[i] = r.ID
		}
		tags, err := c.DescribeTags(ctx, &elb.DescribeTagsInput{LoadBalancerNames: names})
		if err != nil {
			return nil, fmt.Errorf("describe classic load balancer tags: %w", err)
		}
		byName := map[string]map[string]string{}
		for _, d := range tags.TagDescriptions {
			m := map[string]string{}
			for _, t := range d.Tags {
				m[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			byName[aws.ToString(d.LoadBalancerName)] = m
		}
		for i := range batch {
			batch[i].Tags = byName[batch[i].ID]
		}
	}
	return out, nil
}

func collectRouteTables(ctx context.Context, c *clients, inv *vpcInventory) error {
	p := ec2.NewDescribeRouteTablesPaginator(c.ec2(), &ec2.DescribeRouteTablesInput{
		Filters: []ec2types.Filter{vpcFilter(inv)}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe route tables in %s: %w", inv.VPC.ID, err)
		}
		for _, rt := range page.RouteTables {
			t := routeTable{resource: resource{Kind: "route table",
				ID: aws.ToString(rt.RouteTableId), Tags: ec2Tags(rt.Tags)}}
			for _, a := range rt.Associations {
				if aws.ToBool(a.Main) {
					t.Main = true
					continue
				}
				t.Assocs = append(t.Assocs, aws.ToString(a.RouteTableAssociationId))
			}
			inv.RouteTabs = append(inv.RouteTabs, t)
		}
	}
	return nil
}

func collectENIs(ctx context.Context, c *clients, inv *vpcInventory) error {
	enis, err := describeENIs(ctx, c.ec2(), vpcFilter(inv))
	if err != nil {
		return fmt.Errorf("in %s: %w", inv.VPC.ID, err)
	}
	for _, n := range enis {
		e := vpcENI{resource: eniResource(n), Status: string(n.Status), Managed: serviceManaged(n)}
		if n.Attachment != nil {
			e.Instance = aws.ToString(n.Attachment.InstanceId)
		}
		inv.ENIs = append(inv.ENIs, e)
	}
	return nil
}

func collectGroups(ctx context.Context, c *clients, inv *vpcInventory) error {
	groups, err := describeGroups(ctx, c.ec2(), vpcFilter(inv))
	if err != nil {
		return fmt.Errorf("in %s: %w", inv.VPC.ID, err)
	}
	doomed := map[string]bool{}
	for _, g := range groups {
		sg := securityGroup{resource: resource{Kind: "security group",
			ID: aws.ToString(g.GroupId), Tags: ec2Tags(g.Tags)},
			Name: aws.ToString(g.GroupName), Default: aws.ToString(g.GroupName) == "default"}
		inv.Groups = append(inv.Groups, sg)
		if !sg.Default {
			doomed[sg.ID] = true
		}
	}
	inv.Refs = refsTo(groups, doomed)
	return nil
}

func collectACLs(ctx context.Context, c *clients, inv *vpcInventory) error {
	p := ec2.NewDescribeNetworkAclsPaginator(c.ec2(), &ec2.DescribeNetworkAclsInput{
		Filters: []ec2types.Filter{vpcFilter(inv)}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe network ACLs in %s: %w", inv.VPC.ID, err)
		}
		for _, a := range page.NetworkAcls {
			acl := networkACL{resource: resource{Kind: "network ACL",
				ID: aws.ToString(a.NetworkAclId), Tags: ec2Tags(a.Tags)},
				Default: aws.ToBool(a.IsDefault)}
			if acl.Default {
				inv.DefaultACL = acl.ID
			}
			for _, as := range a.Associations {
				acl.Assocs = append(acl.Assocs, aws.ToString(as.NetworkAclAssociationId))
			}
			inv.ACLs = append(inv.ACLs, acl)
		}
	}
	return nil
}

func collectSubnets(ctx context.Context, c *clients, inv *vpcInventory) error {
	p := ec2.NewDescribeSubnetsPaginator(c.ec2(), &ec2.DescribeSubnetsInput{
		Filters: []ec2types.Filter{vpcFilter(inv)}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe subnets in %s: %w", inv.VPC.ID, err)
		}
		for _, s := range page.Subnets {
			inv.Subnets = append(inv.Subnets, resource{Kind: "subnet",
				ID: aws.ToString(s.SubnetId), Tags: ec2Tags(s.Tags)})
		}
	}
	return nil
}

func collectGateways(ctx context.Context, c *clients, inv *vpcInventory) error {
	e := c.ec2()
	igws, err := e.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{
		Filters: []ec2types.Filter{filter("attachment.vpc-id", inv.VPC.ID)}})
	if err != nil {
		return fmt.Errorf("describe internet gateways of %s: %w", inv.VPC.ID, err)
	}
	for _, g := range igws.InternetGateways {
		inv.IGWs = append(inv.IGWs, resource{Kind: "internet gateway",
			ID: aws.ToString(g.InternetGatewayId), Tags: ec2Tags(g.Tags)})
	}

	eg, err := e.DescribeEgressOnlyInternetGateways(ctx,
		&ec2.DescribeEgressOnlyInternetGatewaysInput{})
	if err != nil {
		return fmt.Errorf("describe egress-only internet gateways: %w", err)
	}
	for _, g := range eg.EgressOnlyInternetGateways {
		for _, a := range g.Attachments {
			if aws.ToString(a.VpcId) == inv.VPC.ID {
				inv.EgressIGWs = append(inv.EgressIGWs, resource{
					Kind: "egress-only internet gateway",
					ID:   aws.ToString(g.EgressOnlyInternetGatewayId), Tags: ec2Tags(g.Tags)})
			}
		}
	}
	return nil
}

// collectBlockers finds what this fixer leaves to people: attached VPN
// gateways and active peering connections.
func collectBlockers(ctx context.Context, c *clients, inv *vpcInventory) error {
	e := c.ec2()
	vgw, err := e.DescribeVpnGateways(ctx, &ec2.DescribeVpnGatewaysInput{
		Filters: []ec2types.Filter{filter("attachment.vpc-id", inv.VPC.ID)}})
	if err != nil {
		return fmt.Errorf("describe VPN gateways of %s: %w", inv.VPC.ID, err)
	}
	for _, g := range vgw.VpnGateways {
		for _, a := range g.VpcAttachments {
			if aws.ToString(a.VpcId) == inv.VPC.ID && a.State == ec2types.AttachmentStatusAttached {
				inv.Blockers = append(inv.Blockers, "VPN gateway "+aws.ToString(g.VpnGatewayId))
			}
		}
	}

	for _, side := range []string{"requester-vpc-info.vpc-id", "accepter-vpc-info.vpc-id"} {
		pcx, err := e.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{
			Filters: []ec2types.Filter{filter(side, inv.VPC.ID),
				filter("status-code", "active", "pending-acceptance", "provisioning")}})
		if err != nil {
			return fmt.Errorf("describe peering connections of %s: %w", inv.VPC.ID, err)
		}
		for _, p := range pcx.VpcPeeringConnections {
			inv.Blockers = append(inv.Blockers,
				"VPC peering connection "+aws.ToString(p.VpcPeeringConnectionId))
		}
	}
	return nil
}

package aws

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ec2Tags turns EC2 tags into a map.
func ec2Tags(tags []ec2types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// filter is one EC2 Describe filter.
func filter(name string, values ...string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String(name), Values: values}
}

// sgRef is one rule of a security group that lets in (or out) another
// group: the reference that keeps the other group from being deleted.
type sgRef struct {
	// From is the group holding the rule; To is the group it names.
	From, To string
	Egress   bool
	Perm     ec2types.IpPermission
}

// String describes the rule for people: "ingress tcp 443 of sg-a from
// sg-b".
func (r sgRef) String() string {
	dir, prep := "ingress", "from"
	if r.Egress {
		dir, prep = "egress", "to"
	}
	proto := aws.ToString(r.Perm.IpProtocol)
	if proto == "-1" {
		proto = "all traffic"
	}
	ports := ""
	if r.Perm.FromPort != nil && proto != "all traffic" {
		ports = fmt.Sprintf(" %d", aws.ToInt32(r.Perm.FromPort))
		if aws.ToInt32(r.Perm.ToPort) != aws.ToInt32(r.Perm.FromPort) {
			ports += fmt.Sprintf("-%d", aws.ToInt32(r.Perm.ToPort))
		}
	}
	return fmt.Sprintf("%s %s%s of %s %s %s", dir, proto, ports, r.From, prep, r.To)
}

// refsTo returns the rules of groups that name one of targets, leaving
// out a group's references to itself (which never block its deletion).
func refsTo(groups []ec2types.SecurityGroup, targets map[string]bool) []sgRef {
	var out []sgRef
	for _, g := range groups {
		from := aws.ToString(g.GroupId)
		out = append(out, permRefs(from, g.IpPermissions, false, targets)...)
		out = append(out, permRefs(from, g.IpPermissionsEgress, true, targets)...)
	}
	return out
}

func permRefs(from string, perms []ec2types.IpPermission, egress bool,
	targets map[string]bool,
) []sgRef {
	var out []sgRef
	for _, p := range perms {
		for _, pair := range p.UserIdGroupPairs {
			to := aws.ToString(pair.GroupId)
			if to == from || !targets[to] {
				continue
			}
			one := ec2types.IpPermission{
				IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort,
				UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(to)}},
			}
			out = append(out, sgRef{From: from, To: to, Egress: egress, Perm: one})
		}
	}
	return out
}

// revoke removes one referencing rule; a rule already gone is no error.
func revoke(ctx context.Context, c *ec2.Client, r sgRef) error {
	var err error
	if r.Egress {
		_, err = c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{
			GroupId: aws.String(r.From), IpPermissions: []ec2types.IpPermission{r.Perm}})
	} else {
		_, err = c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{
			GroupId: aws.String(r.From), IpPermissions: []ec2types.IpPermission{r.Perm}})
	}
	if err != nil && !isCode(err, "InvalidPermission.NotFound", "InvalidGroup.NotFound") {
		return fmt.Errorf("revoke %s: %w", r, err)
	}
	return nil
}

// describeGroups lists the security groups matching filters.
func describeGroups(ctx context.Context, c *ec2.Client, filters ...ec2types.Filter,
) ([]ec2types.SecurityGroup, error) {
	var out []ec2types.SecurityGroup
	p := ec2.NewDescribeSecurityGroupsPaginator(c, &ec2.DescribeSecurityGroupsInput{
		Filters: filters})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe security groups: %w", err)
		}
		out = append(out, page.SecurityGroups...)
	}
	return out, nil
}

// describeENIs lists the network interfaces matching filters.
func describeENIs(ctx context.Context, c *ec2.Client, filters ...ec2types.Filter,
) ([]ec2types.NetworkInterface, error) {
	var out []ec2types.NetworkInterface
	p := ec2.NewDescribeNetworkInterfacesPaginator(c, &ec2.DescribeNetworkInterfacesInput{
		Filters: filters})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe network interfaces: %w", err)
		}
		out = append(out, page.NetworkInterfaces...)
	}
	return out, nil
}

// serviceENIPrefixes are the descriptions AWS gives the interfaces that
// its services create and remove themselves.
var serviceENIPrefixes = []string{
	"AWS Lambda VPC ENI", "ELB ", "Interface for NAT Gateway", "VPC Endpoint Interface",
	"Amazon EKS", "AWS created network interface for directory", "RDSNetworkInterface",
	"EFS mount target", "Network Interface for Transit Gateway Attachment",
	"arn:aws:ecs:",
}

// serviceManaged says which service manages an ENI, or "" when it is an
// ordinary interface that its owner may delete. An ENI counts as managed
// when AWS marks it requester-managed, when its interface type is a
// service's, or when its description is one AWS gives its own.
func serviceManaged(n ec2types.NetworkInterface) string {
	desc := aws.ToString(n.Description)
	if aws.ToBool(n.RequesterManaged) {
		return firstOf(desc, "requester-managed by "+aws.ToString(n.RequesterId))
	}
	switch t := n.InterfaceType; t {
	case "", ec2types.NetworkInterfaceTypeInterface, ec2types.NetworkInterfaceTypeEfa,
		ec2types.NetworkInterfaceTypeTrunk, ec2types.NetworkInterfaceTypeBranch:
	default:
		return firstOf(desc, "interface type "+string(t))
	}
	for _, p := range serviceENIPrefixes {
		if strings.HasPrefix(desc, p) {
			return desc
		}
	}
	return ""
}

// eniResource describes an ENI as a resource.
func eniResource(n ec2types.NetworkInterface) resource {
	return resource{Kind: "ENI", ID: aws.ToString(n.NetworkInterfaceId),
		Tags: ec2Tags(n.TagSet)}
}

// poll calls cond every interval until it returns true, an error, or
// timeout passes. progress receives cond's status after each call.
func poll(ctx context.Context, timeout, interval time.Duration, progress func(string),
	cond func(context.Context) (bool, string, error),
) error {
	deadline := time.Now().Add(timeout)
	for {
		done, status, err := cond(ctx)
		if err != nil {
			return err
		}
		if progress != nil {
			progress(status)
		}
		if done {
			return nil
		}
		if time.Now().Add(interval).After(deadline) {
			return fmt.Errorf("not done after %s: %s", timeout, status)
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

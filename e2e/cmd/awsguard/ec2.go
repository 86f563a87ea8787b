package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

func ec2Filter(name string, values ...string) []ec2types.Filter {
	return []ec2types.Filter{{Name: aws.String(name), Values: values}}
}

// deleteSecurityGroup refuses while another group's rule names the group
// or an ENI uses it.
func deleteSecurityGroup(ctx context.Context, cfg aws.Config, args []string) (*awsError, error) {
	id := flag(args, "--group-id")
	c := ec2.NewFromConfig(cfg)
	groups, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{})
	if err != nil {
		return nil, fmt.Errorf("describe security groups: %w", err)
	}
	dependent := false
	for _, g := range groups.SecurityGroups {
		if aws.ToString(g.GroupId) == id {
			continue
		}
		for _, p := range append(g.IpPermissions, g.IpPermissionsEgress...) {
			for _, pair := range p.UserIdGroupPairs {
				dependent = dependent || aws.ToString(pair.GroupId) == id
			}
		}
	}
	enis, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{
		Filters: ec2Filter("group-id", id)})
	if err != nil {
		return nil, fmt.Errorf("describe network interfaces: %w", err)
	}
	if !dependent && len(enis.NetworkInterfaces) == 0 {
		return nil, nil
	}
	return &awsError{Code: "DependencyViolation", Operation: "DeleteSecurityGroup",
		Message: fmt.Sprintf("resource %s has a dependent object", id)}, nil
}

// deleteSubnet refuses while an ENI is in the subnet.
func deleteSubnet(ctx context.Context, cfg aws.Config, args []string) (*awsError, error) {
	id := flag(args, "--subnet-id")
	enis, err := ec2.NewFromConfig(cfg).DescribeNetworkInterfaces(ctx,
		&ec2.DescribeNetworkInterfacesInput{Filters: ec2Filter("subnet-id", id)})
	if err != nil {
		return nil, fmt.Errorf("describe network interfaces: %w", err)
	}
	if len(enis.NetworkInterfaces) == 0 {
		return nil, nil
	}
	return &awsError{Code: "DependencyViolation", Operation: "DeleteSubnet",
		Message: fmt.Sprintf("The subnet '%s' has dependencies and cannot be deleted.", id)}, nil
}

// detachInternetGateway refuses while anything in the VPC has a public
// address: an internet-facing load balancer or an ENI with a public IP.
func detachInternetGateway(ctx context.Context, cfg aws.Config, args []string) (*awsError, error) {
	vpc := flag(args, "--vpc-id")
	public, err := publicLBs(ctx, cfg, vpc)
	if err != nil {
		return nil, err
	}
	enis, err := ec2.NewFromConfig(cfg).DescribeNetworkInterfaces(ctx,
		&ec2.DescribeNetworkInterfacesInput{Filters: ec2Filter("vpc-id", vpc)})
	if err != nil {
		return nil, fmt.Errorf("describe network interfaces: %w", err)
	}
	for _, n := range enis.NetworkInterfaces {
		if n.Association != nil && aws.ToString(n.Association.PublicIp) != "" {
			public++
		}
	}
	if public == 0 {
		return nil, nil
	}
	return &awsError{Code: "DependencyViolation", Operation: "DetachInternetGateway",
		Message: fmt.Sprintf("Network %s has some mapped public address(es). Please unmap "+
			"those public address(es) before detaching the gateway.", vpc)}, nil
}

// publicLBs counts the internet-facing load balancers of a VPC.
func publicLBs(ctx context.Context, cfg aws.Config, vpc string) (int, error) {
	n := 0
	v2, err := elbv2.NewFromConfig(cfg).DescribeLoadBalancers(ctx,
		&elbv2.DescribeLoadBalancersInput{})
	if err != nil {
		return 0, fmt.Errorf("describe load balancers: %w", err)
	}
	for _, lb := range v2.LoadBalancers {
		if aws.ToString(lb.VpcId) == vpc && lb.Scheme == "internet-facing" {
			n++
		}
	}
	v1, err := elb.NewFromConfig(cfg).DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil {
		return 0, fmt.Errorf("describe classic load balancers: %w", err)
	}
	for _, lb := range v1.LoadBalancerDescriptions {
		if aws.ToString(lb.VPCId) == vpc && aws.ToString(lb.Scheme) == "internet-facing" {
			n++
		}
	}
	return n, nil
}

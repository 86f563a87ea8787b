package aws

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// pollInterval is how often a fixer re-reads state while AWS finishes.
const pollInterval = 5 * time.Second

// vpcDeleter deletes an inventory's resources in AWS's order and records
// what it changed.
type vpcDeleter struct {
	c       *clients
	inv     *vpcInventory
	req     fixer.Request
	wait    time.Duration
	changed []string
}

func (d *vpcDeleter) did(format string, args ...any) {
	line := fmt.Sprintf(format, args...) + " in " + d.inv.VPC.ID
	d.changed = append(d.changed, line)
	logf(d.req, "%s", line)
}

func (d *vpcDeleter) run(ctx context.Context, deleteVPC bool) error {
	steps := []func(context.Context) error{
		d.instances, d.endpoints, d.nats, d.loadBalancers, d.routeTables, d.enis,
		d.groups, d.acls, d.subnets, d.gateways,
	}
	if deleteVPC {
		steps = append(steps, d.vpc)
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

func ids(rs []resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func (d *vpcDeleter) instances(ctx context.Context) error {
	if len(d.inv.Instances) == 0 {
		return nil
	}
	e := d.c.ec2()
	_, err := e.TerminateInstances(ctx, &ec2.TerminateInstancesInput{
		InstanceIds: ids(d.inv.Instances)})
	if err != nil && !isCode(err, "InvalidInstanceID.NotFound") {
		return fmt.Errorf("terminate instances in %s: %w", d.inv.VPC.ID, err)
	}
	for _, i := range d.inv.Instances {
		d.did("terminated %s", i)
	}
	w := ec2.NewInstanceTerminatedWaiter(e, func(o *ec2.InstanceTerminatedWaiterOptions) {
		o.MinDelay, o.MaxDelay = pollInterval, 30*time.Second
	})
	err = w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids(d.inv.Instances)}, d.wait)
	if err != nil {
		return fmt.Errorf("wait for instances in %s to terminate: %w", d.inv.VPC.ID, err)
	}
	return nil
}

func (d *vpcDeleter) endpoints(ctx context.Context) error {
	if len(d.inv.Endpoints) == 0 {
		return nil
	}
	e := d.c.ec2()
	_, err := e.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{
		VpcEndpointIds: ids(d.inv.Endpoints)})
	if err != nil {
		return fmt.Errorf("delete VPC endpoints in %s: %w", d.inv.VPC.ID, err)
	}
	for _, ep := range d.inv.Endpoints {
		d.did("deleted %s", ep)
	}
	return poll(ctx, d.wait, pollInterval, d.progress, func(ctx context.Context) (bool, string, error) {
		out, err := e.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{
			Filters: []ec2types.Filter{vpcFilter(d.inv)}})
		if err != nil {
			return false, "", fmt.Errorf("describe VPC endpoints: %w", err)
		}
		left := 0
		for _, ep := range out.VpcEndpoints {
			if !endpointGone(ep.State) {
				left++
			}
		}
		return left == 0, fmt.Sprintf("%s still being deleted",
			plural(left, "VPC endpoint", "VPC endpoints")), nil
	})
}

func (d *vpcDeleter) progress(status string) { logf(d.req, "%s: %s", d.inv.VPC.ID, status) }

func (d *vpcDeleter) nats(ctx context.Context) error {
	if len(d.inv.NATs) == 0 {
		return nil
	}
	e := d.c.ec2()
	for _, n := range d.inv.NATs {
		_, err := e.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: &n.ID})
		if err != nil && !isCode(err, "NatGatewayNotFound", "InvalidNatGatewayID.NotFound") {
			return fmt.Errorf("delete %s: %w", n, err)
		}
		d.did("deleted %s", n)
	}
	w := ec2.NewNatGatewayDeletedWaiter(e, func(o *ec2.NatGatewayDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = pollInterval, 30*time.Second
	})
	err := w.Wait(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: ids(d.inv.NATs)}, d.wait)
	if err != nil {
		return fmt.Errorf("wait for NAT gateways in %s to be deleted: %w", d.inv.VPC.ID, err)
	}
	return nil
}

func (d *vpcDeleter) loadBalancers(ctx context.Context) error {
	if err := deleteLBs(ctx, d.c, d.inv.LBs, d.wait, d.did); err != nil {
		return err
	}
	return deleteClassicLBs(ctx, d.c, d.inv.ClassicLBs, d.did)
}

// deleteLBs deletes ELBv2 load balancers and waits until they are gone.
func deleteLBs(ctx context.Context, c *clients, lbs []resource, wait time.Duration,
	did func(string, ...any),
) error {
	if len(lbs) == 0 {
		return nil
	}
	v2 := c.elbv2()
	for _, lb := range lbs {
		_, err := v2.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: &lb.ID})
		if err != nil && !isCode(err, "LoadBalancerNotFound") {
			return fmt.Errorf("delete %s: %w", lb, err)
		}
		did("deleted %s", lb)
	}
	w := elbv2.NewLoadBalancersDeletedWaiter(v2, func(o *elbv2.LoadBalancersDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = pollInterval, 30*time.Second
	})
	err := w.Wait(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: ids(lbs)}, wait)
	if err != nil {
		return fmt.Errorf("wait for load balancers to be deleted: %w", err)
	}
	return nil
}

// deleteClassicLBs deletes Classic load balancers; AWS removes them at once.
func deleteClassicLBs(ctx context.Context, c *clients, lbs []resource,
	did func(string, ...any),
) error {
	v1 := c.elb()
	for _, lb := range lbs {
		_, err := v1.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerName: &lb.ID})
		if err != nil && !isCode(err, "LoadBalancerNotFound") {
			return fmt.Errorf("delete %s: %w", lb, err)
		}
		did("deleted %s", lb)
	}
	return nil
}

func (d *vpcDeleter) routeTables(ctx context.Context) error {
	e := d.c.ec2()
	for _, rt := range d.inv.RouteTabs {
		if rt.Main {
			continue
		}
		for _, a := range rt.Assocs {
			_, err := e.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: &a})
			if err != nil && !isCode(err, "InvalidAssociationID.NotFound") {
				return fmt.Errorf("disassociate %s (%s): %w", rt, a, err)
			}
		}
		_, err := e.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: &rt.ID})
		if err != nil && !isCode(err, "InvalidRouteTableID.NotFound") {
			return fmt.Errorf("delete %s: %w", rt, err)
		}
		d.did("deleted %s", rt)
	}
	return nil
}

// enis deletes the VPC's ordinary interfaces as they become free and waits
// for AWS to release the ones its services manage. The list is read again:
// deleting instances, endpoints, NAT gateways and load balancers removes
// interfaces or frees them.
func (d *vpcDeleter) enis(ctx context.Context) error {
	e := d.c.ec2()
	deleted := map[string]bool{}
	return poll(ctx, d.wait, pollInterval, d.progress, func(ctx context.Context) (bool, string, error) {
		enis, err := describeENIs(ctx, e, vpcFilter(d.inv))
		if err != nil {
			return false, "", err
		}
		var busy []string
		for _, n := range enis {
			r := eniResource(n)
			if m := serviceManaged(n); m != "" {
				busy = append(busy, fmt.Sprintf("%s (%s)", r.ID, m))
				continue
			}
			ok, err := deleteENI(ctx, e, r.ID)
			if err != nil {
				return false, "", err
			}
			if !ok {
				busy = append(busy, r.ID+" (in use)")
				continue
			}
			if !deleted[r.ID] {
				deleted[r.ID] = true
				d.did("deleted %s", r)
			}
		}
		return len(busy) == 0, fmt.Sprintf("%s not yet released: %v",
			plural(len(busy), "ENI", "ENIs"), busy), nil
	})
}

// deleteENI deletes an interface; ok is false while AWS still holds it in
// use (detaching from a terminated instance).
func deleteENI(ctx context.Context, e *ec2.Client, id string) (ok bool, err error) {
	_, err = e.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{
		NetworkInterfaceId: &id})
	switch {
	case err == nil, isCode(err, "InvalidNetworkInterfaceID.NotFound"):
		return true, nil
	case isCode(err, "InvalidNetworkInterface.InUse"):
		return false, nil
	}
	return false, fmt.Errorf("delete ENI %s: %w", id, err)
}

// groups revokes every rule that references a doomed group, then deletes
// the groups. The rules are read again, since deletions above may have
// changed them.
func (d *vpcDeleter) groups(ctx context.Context) error {
	e := d.c.ec2()
	live, err := describeGroups(ctx, e, vpcFilter(d.inv))
	if err != nil {
		return err
	}
	doomed := map[string]bool{}
	for _, g := range live {
		if aws.ToString(g.GroupName) != "default" {
			doomed[aws.ToString(g.GroupId)] = true
		}
	}
	for _, r := range refsTo(live, doomed) {
		if err := revoke(ctx, e, r); err != nil {
			return err
		}
		d.did("revoked %s", r)
	}
	for _, g := range d.inv.Groups {
		if g.Default {
			continue
		}
		_, err := e.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: &g.ID})
		if err != nil && !isCode(err, "InvalidGroup.NotFound") {
			return fmt.Errorf("delete %s: %w", g, err)
		}
		d.did("deleted %s", g)
	}
	return nil
}

func (d *vpcDeleter) acls(ctx context.Context) error {
	e := d.c.ec2()
	for _, a := range d.inv.ACLs {
		if a.Default {
			continue
		}
		for _, as := range a.Assocs {
			_, err := e.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{
				AssociationId: aws.String(as), NetworkAclId: aws.String(d.inv.DefaultACL)})
			if err != nil && !isCode(err, "InvalidAssociationID.NotFound") {
				return fmt.Errorf("move subnets of %s to the default network ACL: %w", a, err)
			}
		}
		_, err := e.DeleteNetworkAcl(ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: &a.ID})
		if err != nil && !isCode(err, "InvalidNetworkAclID.NotFound") {
			return fmt.Errorf("delete %s: %w", a, err)
		}
		d.did("deleted %s", a)
	}
	return nil
}

func (d *vpcDeleter) subnets(ctx context.Context) error {
	e := d.c.ec2()
	for _, s := range d.inv.Subnets {
		_, err := e.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &s.ID})
		if err != nil && !isCode(err, "InvalidSubnetID.NotFound") {
			return fmt.Errorf("delete %s: %w", s, err)
		}
		d.did("deleted %s", s)
	}
	return nil
}

func (d *vpcDeleter) gateways(ctx context.Context) error {
	e := d.c.ec2()
	for _, g := range d.inv.IGWs {
		_, err := e.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{
			InternetGatewayId: &g.ID, VpcId: &d.inv.VPC.ID})
		if err != nil && !isCode(err, "Gateway.NotAttached", "InvalidInternetGatewayID.NotFound") {
			return fmt.Errorf("detach %s: %w", g, err)
		}
		_, err = e.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: &g.ID})
		if err != nil && !isCode(err, "InvalidInternetGatewayID.NotFound") {
			return fmt.Errorf("delete %s: %w", g, err)
		}
		d.did("detached and deleted %s", g)
	}
	for _, g := range d.inv.EgressIGWs {
		_, err := e.DeleteEgressOnlyInternetGateway(ctx,
			&ec2.DeleteEgressOnlyInternetGatewayInput{EgressOnlyInternetGatewayId: &g.ID})
		if err != nil && !isCode(err, "InvalidGatewayID.NotFound") {
			return fmt.Errorf("delete %s: %w", g, err)
		}
		d.did("deleted %s", g)
	}
	return nil
}

func (d *vpcDeleter) vpc(ctx context.Context) error {
	_, err := d.c.ec2().DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &d.inv.VPC.ID})
	if err != nil && !isCode(err, "InvalidVpcID.NotFound") {
		return fmt.Errorf("delete %s: %w", d.inv.VPC, err)
	}
	d.changed = append(d.changed, "deleted "+d.inv.VPC.String())
	return nil
}

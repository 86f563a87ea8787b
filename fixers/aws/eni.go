package aws

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Defaults of the ENI wait.
const (
	defaultENITimeout  = 8 * time.Minute
	defaultENIInterval = 10 * time.Second
)

// subnetENIs are the network interfaces of a subnet.
type subnetENIs struct {
	Subnet string
	Found  bool
	ENIs   []vpcENI
}

func collectSubnetENIs(ctx context.Context, c *clients, subnet string) (*subnetENIs, error) {
	inv := &subnetENIs{Subnet: subnet}
	e := c.ec2()
	subnets, err := e.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{
		Filters: []ec2types.Filter{filter("subnet-id", subnet)}})
	if err != nil {
		return nil, fmt.Errorf("describe subnet %s: %w", subnet, err)
	}
	inv.Found = len(subnets.Subnets) > 0
	if !inv.Found {
		return inv, nil
	}
	enis, err := describeENIs(ctx, e, filter("subnet-id", subnet))
	if err != nil {
		return nil, err
	}
	for _, n := range enis {
		v := vpcENI{resource: eniResource(n), Status: string(n.Status), Managed: serviceManaged(n)}
		if n.Attachment != nil {
			v.Instance = aws.ToString(n.Attachment.InstanceId)
		}
		inv.ENIs = append(inv.ENIs, v)
	}
	return inv, nil
}

func (s *subnetENIs) managed() []string {
	var out []string
	for _, n := range s.ENIs {
		if n.Managed != "" {
			out = append(out, fmt.Sprintf("%s (%s, %s)", n.ID, n.Managed, n.Status))
		}
	}
	return out
}

// WaitENIRelease is the aws.wait-eni-release fixer: it polls the ENIs that
// AWS services manage in a subnet (Lambda, load balancers, NAT gateways,
// endpoints) until their services have released them, with a progress
// line per poll. It never deletes one. The zero value is ready to use and
// safe for concurrent use.
type WaitENIRelease struct{}

var (
	_ fixer.Fixer   = WaitENIRelease{}
	_ fixer.Retrier = WaitENIRelease{}
)

// Name returns "aws.wait-eni-release".
func (WaitENIRelease) Name() string { return "aws.wait-eni-release" }

// Safety returns [fixer.Safe]: it only waits.
func (WaitENIRelease) Safety() fixer.Safety { return fixer.Safe }

// RetryOnly returns true: waiting changes nothing.
func (WaitENIRelease) RetryOnly() bool { return true }

// Describe says what the fixer does in one line.
func (WaitENIRelease) Describe() string {
	return "wait until AWS releases the ENIs its services hold in the subnet; never deletes them"
}

// Inputs lists the subnet-dependency capture and the wait's parameters.
func (WaitENIRelease) Inputs() []fixer.Input {
	return []fixer.Input{
		subnetInput(),
		{Name: "timeout", Type: fixer.Duration, Default: defaultENITimeout.String(),
			Doc: "give up when the ENIs are still there after this long"},
		{Name: "interval", Type: fixer.Duration, Default: defaultENIInterval.String(),
			Doc: "time between two polls"},
	}
}

// noSubnet is the plan of both ENI fixers when the failure names no
// subnet (terraform's timeouts name only the resource): nothing is polled
// or deleted, and the pattern's back-off and re-run still apply.
const noSubnet = "the failure names no subnet ID, so no ENI is looked at; the step is " +
	"re-run after the pattern's back-off"

func subnetInput() fixer.Input {
	return fixer.Input{Name: "subnet_id", Type: fixer.String, Required: true,
		Doc: "subnet whose deletion failed (else --subnet-id of an aws CLI step)"}
}

// Check lists the subnet's service-managed ENIs: with some, it plans to
// wait for them; without, there is nothing to wait for.
func (WaitENIRelease) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	subnet := value(req, "subnet_id", "--subnet-id")
	if subnet == "" {
		return nothing(noSubnet), nil
	}
	timeout, err := req.Values.Duration("timeout", defaultENITimeout)
	if err != nil {
		return fixer.Plan{}, err
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	inv, err := collectSubnetENIs(ctx, c, subnet)
	if err != nil {
		return fixer.Plan{}, err
	}
	return planWaitENIs(inv, timeout), nil
}

func planWaitENIs(inv *subnetENIs, timeout time.Duration) fixer.Plan {
	if !inv.Found {
		return nothing(fmt.Sprintf("subnet %s no longer exists", inv.Subnet))
	}
	managed := inv.managed()
	if len(managed) == 0 {
		return nothing(fmt.Sprintf("no ENI that AWS manages is left in subnet %s", inv.Subnet))
	}
	return fixer.Plan{Verdict: fixer.Act,
		Action: fmt.Sprintf("wait up to %s for AWS to release %s in subnet %s: %s", timeout,
			plural(len(managed), "ENI", "ENIs"), inv.Subnet, strings.Join(managed, ", ")),
		Evidence: []string{fmt.Sprintf("%s in subnet %s %s managed by AWS services, which "+
			"delete them themselves; they are never deleted here", plural(len(managed), "ENI",
			"ENIs"), inv.Subnet, isAre(len(managed)))}}
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// Apply polls until no service-managed ENI is left in the subnet. It
// changes nothing and fails when timeout passes first.
func (WaitENIRelease) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	subnet := value(req, "subnet_id", "--subnet-id")
	timeout, err := req.Values.Duration("timeout", defaultENITimeout)
	if err != nil {
		return fixer.Result{}, err
	}
	interval, err := req.Values.Duration("interval", defaultENIInterval)
	if err != nil {
		return fixer.Result{}, err
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Result{}, err
	}
	start := time.Now()
	progress := func(s string) {
		logf(req, "%s after %s: %s", subnet, time.Since(start).Round(time.Second), s)
	}
	polls := 0
	err = poll(ctx, timeout, interval, progress, func(ctx context.Context) (bool, string, error) {
		polls++
		inv, err := collectSubnetENIs(ctx, c, subnet)
		if err != nil {
			return false, "", err
		}
		managed := inv.managed()
		if len(managed) == 0 {
			return true, "no ENI that AWS manages is left", nil
		}
		return false, fmt.Sprintf("waiting for %s", strings.Join(managed, ", ")), nil
	})
	if err != nil {
		return fixer.Result{}, fmt.Errorf("wait for AWS to release the ENIs of %s: %w", subnet, err)
	}
	return settled("AWS has released its ENIs in "+subnet, polls, time.Since(start)), nil
}

// DeleteAvailableENIs is the aws.delete-available-enis fixer: it deletes
// the ENIs of a subnet that nothing uses (status available), that no AWS
// service manages and that no other owner claims. The zero value is ready
// to use and safe for concurrent use.
type DeleteAvailableENIs struct{}

var _ fixer.Fixer = DeleteAvailableENIs{}

// Name returns "aws.delete-available-enis".
func (DeleteAvailableENIs) Name() string { return "aws.delete-available-enis" }

// Safety returns [fixer.Destructive]: it deletes network interfaces.
func (DeleteAvailableENIs) Safety() fixer.Safety { return fixer.Destructive }

// Describe says what the fixer does in one line.
func (DeleteAvailableENIs) Describe() string {
	return "delete the subnet's available ENIs that no AWS service manages and no other stack owns"
}

// Inputs lists the subnet-dependency capture and the ownership settings.
func (DeleteAvailableENIs) Inputs() []fixer.Input {
	return append([]fixer.Input{subnetInput()}, ownershipInputs()...)
}

// Check plans the deletion of the subnet's available ENIs. It refuses when
// one of them belongs to another owner or when an instance still uses an
// ENI of the subnet, and waits while AWS still holds service ENIs there.
func (DeleteAvailableENIs) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	subnet := value(req, "subnet_id", "--subnet-id")
	if subnet == "" {
		return nothing(noSubnet), nil
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	inv, err := collectSubnetENIs(ctx, c, subnet)
	if err != nil {
		return fixer.Plan{}, err
	}
	return planDeleteENIs(inv, ownershipOf(req)), nil
}

func planDeleteENIs(inv *subnetENIs, own Ownership) fixer.Plan {
	if !inv.Found {
		return nothing(fmt.Sprintf("subnet %s no longer exists", inv.Subnet))
	}
	var free []resource
	var inUse []string
	for _, n := range inv.ENIs {
		switch {
		case n.Managed != "":
		case n.Status == "available":
			free = append(free, n.resource)
		default:
			inUse = append(inUse, fmt.Sprintf("%s (%s, instance %s)", n.ID, n.Status, n.Instance))
		}
	}
	evidence := []string{own.describe()}
	if foreign := own.foreign(free); len(foreign) > 0 {
		return refuse(fmt.Sprintf("available ENIs in subnet %s belong to other owners and are "+
			"left alone: %s", inv.Subnet, strings.Join(foreign, "; ")), evidence...)
	}
	if len(inUse) > 0 {
		return refuse(fmt.Sprintf("instances still use ENIs in subnet %s: %s; deleting the "+
			"free ones would not free the subnet", inv.Subnet, strings.Join(inUse, ", ")),
			evidence...)
	}
	if m := inv.managed(); len(m) > 0 {
		return fixer.Plan{Verdict: fixer.Wait, Evidence: evidence,
			Action: fmt.Sprintf("AWS still holds %s in subnet %s: %s", plural(len(m), "ENI",
				"ENIs"), inv.Subnet, strings.Join(m, ", "))}
	}
	if len(free) == 0 {
		return nothing(fmt.Sprintf("no available ENI is left in subnet %s", inv.Subnet),
			evidence...)
	}
	evidence = append(evidence, fmt.Sprintf("%s in subnet %s %s available (attached to "+
		"nothing), not managed by an AWS service and not owned by another stack",
		plural(len(free), "ENI", "ENIs"), inv.Subnet, isAre(len(free))))
	return fixer.Plan{Verdict: fixer.Act, Evidence: evidence,
		Action: fmt.Sprintf("delete %s in subnet %s: %s", plural(len(free), "available ENI",
			"available ENIs"), inv.Subnet, strings.Join(ids(free), ", "))}
}

// Apply reads the subnet again and deletes its available ENIs when the
// plan still holds.
func (DeleteAvailableENIs) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	subnet := value(req, "subnet_id", "--subnet-id")
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Result{}, err
	}
	inv, err := collectSubnetENIs(ctx, c, subnet)
	if err != nil {
		return fixer.Result{}, err
	}
	plan := planDeleteENIs(inv, ownershipOf(req))
	switch plan.Verdict {
	case fixer.Nothing:
		return fixer.Result{}, nil
	case fixer.Refuse, fixer.Wait:
		return fixer.Result{}, stateChanged(plan)
	}
	var res fixer.Result
	e := c.ec2()
	for _, n := range inv.ENIs {
		if n.Managed != "" || n.Status != "available" {
			continue
		}
		if _, err := deleteENI(ctx, e, n.ID); err != nil {
			return res, err
		}
		res.Changed = append(res.Changed, fmt.Sprintf("deleted available %s in subnet %s",
			n.resource, subnet))
	}
	return res, nil
}

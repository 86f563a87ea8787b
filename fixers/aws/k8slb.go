package aws

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// DeleteK8sLoadBalancers is the aws.delete-k8s-load-balancers fixer: it
// deletes the load balancers, target groups and security groups that a
// Kubernetes cluster's controllers created in a VPC and that the IaC never
// knew, once the cluster is gone. The zero value is ready to use and safe
// for concurrent use.
type DeleteK8sLoadBalancers struct{}

var _ fixer.Fixer = DeleteK8sLoadBalancers{}

// Name returns "aws.delete-k8s-load-balancers".
func (DeleteK8sLoadBalancers) Name() string { return "aws.delete-k8s-load-balancers" }

// Safety returns [fixer.Destructive]: it deletes load balancers.
func (DeleteK8sLoadBalancers) Safety() fixer.Safety { return fixer.Destructive }

// Describe says what the fixer does in one line.
func (DeleteK8sLoadBalancers) Describe() string {
	return "delete the load balancers, target groups and security groups a deleted Kubernetes " +
		"cluster's controllers left in the VPC"
}

// Inputs lists the eks-lb-blocking-vpc captures and the `with:` parameters.
func (DeleteK8sLoadBalancers) Inputs() []fixer.Input {
	return append([]fixer.Input{
		{Name: "vpc_id", Type: fixer.String,
			Doc: "VPC the teardown is stuck on (else --vpc-id, else the group's VPC)"},
		{Name: "security_group_id", Type: fixer.String, Doc: "a blocking group, to find the VPC"},
		{Name: "cluster", Type: fixer.String,
			Doc: "the cluster whose leftovers to delete (default: the one the VPC is tagged for)"},
		{Name: "wait_timeout", Type: fixer.Duration, Default: defaultWaitTimeout.String(),
			Doc: "how long to wait for each deletion AWS finishes later"},
	}, ownershipInputs()...)
}

// k8sInventory is what a cluster's controllers left in a VPC.
type k8sInventory struct {
	VPC string
	// Named are the clusters the VPC, its subnets and its load balancers
	// name in their tags.
	Named []string
	// Cluster is the cluster chosen; Status is its EKS status, "" when EKS
	// does not know it.
	Cluster, Status               string
	LBs, TargetGroups, ClassicLBs []resource
	Groups                        []securityGroup
	// Holders are all groups of the VPC, for the rules in Refs.
	Holders map[string]resource
	Refs    []sgRef
}

// Check finds the cluster and what its controllers left, and plans their
// deletion. It refuses when no single cluster is named, when the cluster
// still exists, and when a rule that must go is held by another owner.
func (DeleteK8sLoadBalancers) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	inv, err := collectK8s(ctx, c, req)
	if err != nil || inv == nil {
		return refuse("the failure names no VPC or security group to look in"), err
	}
	return planK8s(inv, ownershipOf(req)), nil
}

func collectK8s(ctx context.Context, c *clients, req fixer.Request) (*k8sInventory, error) {
	vpc, err := k8sVPC(ctx, c, req)
	if vpc == "" || err != nil {
		return nil, err
	}
	inv := &k8sInventory{VPC: vpc, Holders: map[string]resource{}}
	if err := inv.readTags(ctx, c); err != nil {
		return nil, err
	}
	inv.Cluster = req.Values.String("cluster", "")
	if inv.Cluster == "" && len(inv.Named) == 1 {
		inv.Cluster = inv.Named[0]
	}
	if inv.Cluster == "" {
		return inv, nil
	}
	out, err := c.eks().DescribeCluster(ctx, &eks.DescribeClusterInput{Name: &inv.Cluster})
	switch {
	case err == nil:
		inv.Status = string(out.Cluster.Status)
	case !isCode(err, "ResourceNotFoundException"):
		return nil, fmt.Errorf("describe EKS cluster %s: %w", inv.Cluster, err)
	}
	return inv, inv.readLeftovers(ctx, c, ownershipOf(req))
}

// k8sVPC finds the VPC: the input, the aws CLI's --vpc-id, or the VPC of
// the blocking security group.
func k8sVPC(ctx context.Context, c *clients, req fixer.Request) (string, error) {
	if v := value(req, "vpc_id", "--vpc-id"); v != "" {
		return v, nil
	}
	sg := value(req, "security_group_id", "--group-id")
	if sg == "" {
		return "", nil
	}
	groups, err := describeGroups(ctx, c.ec2(), filter("group-id", sg))
	if err != nil || len(groups) == 0 {
		return "", err
	}
	return aws.ToString(groups[0].VpcId), nil
}

// readTags collects the load balancers of the VPC and the clusters that
// the VPC, its subnets and those load balancers name.
func (inv *k8sInventory) readTags(ctx context.Context, c *clients) error {
	named := map[string]bool{}
	note := func(tags map[string]string) {
		for _, n := range clustersNamed(tags) {
			named[n] = true
		}
	}
	e := c.ec2()
	vpcs, err := e.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{
		Filters: []ec2types.Filter{filter("vpc-id", inv.VPC)}})
	if err != nil {
		return fmt.Errorf("describe vpc %s: %w", inv.VPC, err)
	}
	for _, v := range vpcs.Vpcs {
		note(ec2Tags(v.Tags))
	}
	subnets, err := e.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{
		Filters: []ec2types.Filter{filter("vpc-id", inv.VPC)}})
	if err != nil {
		return fmt.Errorf("describe subnets of %s: %w", inv.VPC, err)
	}
	for _, s := range subnets.Subnets {
		note(ec2Tags(s.Tags))
	}
	if inv.LBs, err = loadBalancersIn(ctx, c.elbv2(), inv.VPC); err != nil {
		return err
	}
	if inv.ClassicLBs, err = classicLBsIn(ctx, c.elb(), inv.VPC); err != nil {
		return err
	}
	// The VPC's own tags name its cluster; load balancers are asked only
	// when the network names none, as another cluster may share it.
	if len(named) == 0 {
		for _, lb := range append(append([]resource{}, inv.LBs...), inv.ClassicLBs...) {
			note(lb.Tags)
		}
	}
	for n := range named {
		inv.Named = append(inv.Named, n)
	}
	sort.Strings(inv.Named)
	return nil
}

// readLeftovers keeps the load balancers the cluster owns and reads its
// target groups, load balancer security groups and the rules naming them.
func (inv *k8sInventory) readLeftovers(ctx context.Context, c *clients, own Ownership) error {
	inv.LBs = inv.owned(own, inv.LBs)
	inv.ClassicLBs = inv.owned(own, inv.ClassicLBs)

	var tgs []resource
	p := elbv2.NewDescribeTargetGroupsPaginator(c.elbv2(), &elbv2.DescribeTargetGroupsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe target groups: %w", err)
		}
		for _, tg := range page.TargetGroups {
			if aws.ToString(tg.VpcId) == inv.VPC {
				tgs = append(tgs, resource{Kind: "target group", ID: aws.ToString(tg.TargetGroupArn)})
			}
		}
	}
	if err := tagLBs(ctx, c.elbv2(), tgs); err != nil {
		return err
	}
	inv.TargetGroups = inv.owned(own, tgs)

	groups, err := describeGroups(ctx, c.ec2(), filter("vpc-id", inv.VPC))
	if err != nil {
		return err
	}
	doomed := map[string]bool{}
	for _, g := range groups {
		r := resource{Kind: "security group", ID: aws.ToString(g.GroupId), Tags: ec2Tags(g.Tags)}
		inv.Holders[r.ID] = r
		name := aws.ToString(g.GroupName)
		if isLBGroup(name, r.Tags) && len(inv.owned(own, []resource{r})) == 1 {
			inv.Groups = append(inv.Groups, securityGroup{resource: r, Name: name})
			doomed[r.ID] = true
		}
	}
	inv.Refs = refsTo(groups, doomed)
	return nil
}

// isLBGroup tells the groups Kubernetes creates for load balancers (the
// cloud provider's k8s-elb-*, the load balancer controller's k8s-*) from
// the cluster's own groups, which EKS deletes with the cluster.
func isLBGroup(name string, tags map[string]string) bool {
	if _, ok := tags[eksClusterTag]; ok {
		return false
	}
	if _, ok := tags[lbcClusterTag]; ok {
		return true
	}
	return strings.HasPrefix(name, "k8s-elb-")
}

// owned keeps the resources whose tags make the chosen cluster their owner.
func (inv *k8sInventory) owned(own Ownership, rs []resource) []resource {
	var out []resource
	for _, r := range rs {
		if c := own.Judge(r.Tags); c.Kind == Cluster && c.Owner == inv.Cluster {
			out = append(out, r)
		}
	}
	return out
}

// planK8s judges what a cluster left in a VPC.
func planK8s(inv *k8sInventory, own Ownership) fixer.Plan {
	switch {
	case inv.Cluster == "" && len(inv.Named) == 0:
		return refuse(fmt.Sprintf("no Kubernetes cluster is named by the tags of vpc %s, its "+
			"subnets or its load balancers; set `with: {cluster: ...}`", inv.VPC))
	case inv.Cluster == "":
		return refuse(fmt.Sprintf("vpc %s is tagged for several clusters (%s); set `with: "+
			"{cluster: ...}` to say whose leftovers to delete", inv.VPC,
			strings.Join(inv.Named, ", ")))
	case inv.Status != "":
		return refuse(fmt.Sprintf("EKS cluster %s still exists (%s); its controllers would "+
			"re-create the load balancers: delete its Services of type LoadBalancer and its "+
			"Ingresses, or the cluster, first", inv.Cluster, inv.Status))
	}
	evidence := []string{
		fmt.Sprintf("EKS does not know cluster %s any more: nothing will re-create its load "+
			"balancers", inv.Cluster),
		fmt.Sprintf("only resources tagged as owned by cluster %s (%s<name>=owned or %s) are "+
			"deleted", inv.Cluster, k8sClusterPrefix, lbcClusterTag),
	}
	var holders []resource
	for _, r := range inv.Refs {
		holders = append(holders, inv.Holders[r.From])
	}
	for _, h := range holders {
		if c := own.Judge(h.Tags); c.Foreign() && (c.Kind != Cluster || c.Owner != inv.Cluster) {
			return refuse(fmt.Sprintf("rules referencing the cluster's load balancer groups "+
				"are held by %s, which belongs to %s", h, c), evidence...)
		}
	}
	steps := inv.steps()
	if len(steps) == 0 {
		return nothing(fmt.Sprintf("no load balancer, target group or security group of "+
			"cluster %s is left in vpc %s", inv.Cluster, inv.VPC), evidence...)
	}
	return fixer.Plan{Verdict: fixer.Act, Evidence: evidence,
		Action: fmt.Sprintf("delete what cluster %s left in vpc %s: %s", inv.Cluster, inv.VPC,
			strings.Join(steps, "; "))}
}

func (inv *k8sInventory) steps() []string {
	var out []string
	for _, rs := range [][]resource{inv.LBs, inv.ClassicLBs, inv.TargetGroups} {
		for _, r := range rs {
			out = append(out, "delete "+r.String())
		}
	}
	for _, r := range inv.Refs {
		out = append(out, "revoke "+r.String())
	}
	for _, g := range inv.Groups {
		out = append(out, fmt.Sprintf("delete %s (%s)", g, g.Name))
	}
	return out
}

// Apply reads the VPC again and, when the plan still holds, deletes the
// load balancers (waiting until they are gone), the target groups, the
// rules that name the groups, and the groups.
func (DeleteK8sLoadBalancers) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	wait, err := req.Values.Duration("wait_timeout", defaultWaitTimeout)
	if err != nil {
		return fixer.Result{}, err
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Result{}, err
	}
	inv, err := collectK8s(ctx, c, req)
	if err != nil || inv == nil {
		return fixer.Result{}, err
	}
	plan := planK8s(inv, ownershipOf(req))
	switch plan.Verdict {
	case fixer.Nothing:
		return fixer.Result{}, nil
	case fixer.Refuse:
		return fixer.Result{}, stateChanged(plan)
	}

	var res fixer.Result
	did := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...) + " of cluster " + inv.Cluster
		res.Changed = append(res.Changed, line)
		logf(req, "%s", line)
	}
	if err := deleteLBs(ctx, c, inv.LBs, wait, did); err != nil {
		return res, err
	}
	if err := deleteClassicLBs(ctx, c, inv.ClassicLBs, did); err != nil {
		return res, err
	}
	for _, tg := range inv.TargetGroups {
		_, err := c.elbv2().DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{
			TargetGroupArn: &tg.ID})
		if err != nil && !isCode(err, "TargetGroupNotFound") {
			return res, fmt.Errorf("delete %s: %w", tg, err)
		}
		did("deleted %s", tg)
	}
	return res, inv.deleteGroups(ctx, c.ec2(), req, wait, did)
}

// deleteGroups revokes the rules naming the groups and deletes them,
// retrying while the load balancers' interfaces still hold them.
func (inv *k8sInventory) deleteGroups(ctx context.Context, e *ec2.Client, req fixer.Request,
	wait time.Duration, did func(string, ...any),
) error {
	for _, r := range inv.Refs {
		if err := revoke(ctx, e, r); err != nil {
			return err
		}
		did("revoked %s", r)
	}
	for _, g := range inv.Groups {
		err := poll(ctx, wait, pollInterval, func(s string) { logf(req, "%s", s) },
			func(ctx context.Context) (bool, string, error) {
				_, err := e.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: &g.ID})
				switch {
				case err == nil, isCode(err, "InvalidGroup.NotFound"):
					return true, g.String() + " deleted", nil
				case isCode(err, "DependencyViolation"):
					return false, g.String() + " is still in use by load balancer interfaces", nil
				}
				return false, "", fmt.Errorf("delete %s: %w", g, err)
			})
		if err != nil {
			return err
		}
		did("deleted %s (%s)", g, g.Name)
	}
	return nil
}

package aws

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eks"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// DeleteEKSNodegroups is the aws.delete-eks-nodegroups fixer: during a
// teardown it deletes the managed node groups and Fargate profiles that
// keep an EKS cluster from being deleted, waiting with the SDK's waiters
// until each is gone. The zero value is ready to use and safe for
// concurrent use.
type DeleteEKSNodegroups struct{}

var _ fixer.Fixer = DeleteEKSNodegroups{}

// Name returns "aws.delete-eks-nodegroups".
func (DeleteEKSNodegroups) Name() string { return "aws.delete-eks-nodegroups" }

// Safety returns [fixer.Destructive]: it deletes the cluster's nodes.
func (DeleteEKSNodegroups) Safety() fixer.Safety { return fixer.Destructive }

// Describe says what the fixer does in one line.
func (DeleteEKSNodegroups) Describe() string {
	return "delete the node groups and Fargate profiles of an EKS cluster being destroyed"
}

// Inputs lists the eks-nodegroups-attached captures and the `with:`
// parameters.
func (DeleteEKSNodegroups) Inputs() []fixer.Input {
	return append([]fixer.Input{
		{Name: "cluster", Type: fixer.String, Required: true,
			Doc: "cluster whose deletion failed (else --name of an aws CLI step)"},
		{Name: "nodegroup", Type: fixer.String, Doc: "a node group the failure names"},
		{Name: "wait_timeout", Type: fixer.Duration, Default: (20 * time.Minute).String(),
			Doc: "how long to wait for each deletion"},
	}, ownershipInputs()...)
}

// eksInventory is a cluster and what is attached to it.
type eksInventory struct {
	Cluster  resource
	Found    bool
	Groups   []resource
	Profiles []resource
}

// Check plans the deletion of the cluster's node groups and Fargate
// profiles. It refuses outside a teardown and when the cluster, a node
// group or a profile belongs to another owner.
func (DeleteEKSNodegroups) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	name := value(req, "cluster", "--name")
	if name == "" {
		return refuse("the failure names no EKS cluster"), nil
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	inv, err := collectEKS(ctx, c.eks(), name)
	if err != nil {
		return fixer.Plan{}, err
	}
	return planEKS(inv, req.Step, ownershipOf(req)), nil
}

func collectEKS(ctx context.Context, c *eks.Client, name string) (*eksInventory, error) {
	inv := &eksInventory{Cluster: resource{Kind: "EKS cluster", ID: name}}
	cl, err := c.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: &name})
	if isCode(err, "ResourceNotFoundException") {
		return inv, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe EKS cluster %s: %w", name, err)
	}
	inv.Found, inv.Cluster.Tags = true, cl.Cluster.Tags

	ng := eks.NewListNodegroupsPaginator(c, &eks.ListNodegroupsInput{ClusterName: &name})
	for ng.HasMorePages() {
		page, err := ng.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list node groups of %s: %w", name, err)
		}
		for _, g := range page.Nodegroups {
			out, err := c.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: &name,
				NodegroupName: &g})
			if err != nil {
				return nil, fmt.Errorf("describe node group %s: %w", g, err)
			}
			inv.Groups = append(inv.Groups, resource{Kind: "node group", ID: g,
				Tags: out.Nodegroup.Tags})
		}
	}
	fp := eks.NewListFargateProfilesPaginator(c, &eks.ListFargateProfilesInput{ClusterName: &name})
	for fp.HasMorePages() {
		page, err := fp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list Fargate profiles of %s: %w", name, err)
		}
		for _, p := range page.FargateProfileNames {
			out, err := c.DescribeFargateProfile(ctx, &eks.DescribeFargateProfileInput{
				ClusterName: &name, FargateProfileName: &p})
			if err != nil {
				return nil, fmt.Errorf("describe Fargate profile %s: %w", p, err)
			}
			inv.Profiles = append(inv.Profiles, resource{Kind: "Fargate profile", ID: p,
				Tags: out.FargateProfile.Tags})
		}
	}
	return inv, nil
}

func planEKS(inv *eksInventory, step fixer.Step, own Ownership) fixer.Plan {
	name := inv.Cluster.ID
	if !inv.Found {
		return nothing(fmt.Sprintf("EKS cluster %s no longer exists", name))
	}
	teardown, fact := teardownFact(step)
	if !teardown {
		return refuse(fmt.Sprintf("node groups are deleted only while their cluster is torn "+
			"down, and %s", fact), fact)
	}
	evidence := []string{fact, own.describe()}
	claim := own.Judge(inv.Cluster.Tags)
	if claim.Foreign() && claim.Kind != Cluster {
		return refuse(fmt.Sprintf("EKS cluster %s belongs to %s", name, claim), evidence...)
	}
	attached := append(append([]resource{}, inv.Groups...), inv.Profiles...)
	for _, r := range attached {
		if c := own.Judge(r.Tags); c.Foreign() && (c.Kind != Cluster || c.Owner != name) {
			return refuse(fmt.Sprintf("%s of cluster %s belongs to %s", r, name, c), evidence...)
		}
	}
	if len(attached) == 0 {
		return nothing(fmt.Sprintf("EKS cluster %s has no node groups or Fargate profiles left",
			name), evidence...)
	}
	var steps []string
	for _, r := range attached {
		steps = append(steps, "delete "+r.String())
	}
	evidence = append(evidence, fmt.Sprintf("EKS cluster %s belongs to %s; %s attached, none "+
		"owned by another stack", name, claim, plural(len(attached), "node group or profile is",
		"node groups and profiles are")))
	return fixer.Plan{Verdict: fixer.Act, Evidence: evidence,
		Action: fmt.Sprintf("%s of EKS cluster %s, waiting until each is gone; the step's "+
			"re-run then deletes the cluster", strings.Join(steps, "; "), name)}
}

// Apply deletes the node groups together and the Fargate profiles one at
// a time (EKS deletes one profile per cluster at once), waiting for each.
func (DeleteEKSNodegroups) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	wait, err := req.Values.Duration("wait_timeout", 20*time.Minute)
	if err != nil {
		return fixer.Result{}, err
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Result{}, err
	}
	k := c.eks()
	name := value(req, "cluster", "--name")
	inv, err := collectEKS(ctx, k, name)
	if err != nil {
		return fixer.Result{}, err
	}
	plan := planEKS(inv, req.Step, ownershipOf(req))
	switch plan.Verdict {
	case fixer.Nothing:
		return fixer.Result{}, nil
	case fixer.Refuse:
		return fixer.Result{}, stateChanged(plan)
	}

	var res fixer.Result
	for _, g := range inv.Groups {
		_, err := k.DeleteNodegroup(ctx, &eks.DeleteNodegroupInput{ClusterName: &name,
			NodegroupName: &g.ID})
		if err != nil && !isCode(err, "ResourceNotFoundException", "ResourceInUseException") {
			return res, fmt.Errorf("delete %s of %s: %w", g, name, err)
		}
	}
	w := eks.NewNodegroupDeletedWaiter(k, func(o *eks.NodegroupDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = pollInterval, 30*time.Second
	})
	for _, g := range inv.Groups {
		logf(req, "waiting for %s of %s to be deleted", g, name)
		err := w.Wait(ctx, &eks.DescribeNodegroupInput{ClusterName: &name, NodegroupName: &g.ID},
			wait)
		if err != nil {
			return res, fmt.Errorf("wait for %s of %s: %w", g, name, err)
		}
		res.Changed = append(res.Changed, fmt.Sprintf("deleted %s of EKS cluster %s", g, name))
	}
	for _, p := range inv.Profiles {
		if err := deleteProfile(ctx, k, name, p, wait); err != nil {
			return res, err
		}
		res.Changed = append(res.Changed, fmt.Sprintf("deleted %s of EKS cluster %s", p, name))
	}
	return res, nil
}

func deleteProfile(ctx context.Context, k *eks.Client, cluster string, p resource,
	wait time.Duration,
) error {
	_, err := k.DeleteFargateProfile(ctx, &eks.DeleteFargateProfileInput{ClusterName: &cluster,
		FargateProfileName: &p.ID})
	if err != nil && !isCode(err, "ResourceNotFoundException") {
		return fmt.Errorf("delete %s of %s: %w", p, cluster, err)
	}
	w := eks.NewFargateProfileDeletedWaiter(k, func(o *eks.FargateProfileDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = pollInterval, 30*time.Second
	})
	err = w.Wait(ctx, &eks.DescribeFargateProfileInput{ClusterName: &cluster,
		FargateProfileName: &p.ID}, wait)
	if err != nil {
		return fmt.Errorf("wait for %s of %s: %w", p, cluster, err)
	}
	return nil
}

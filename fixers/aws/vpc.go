package aws

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// defaultWaitTimeout bounds each wait of a fixer for AWS to finish a
// deletion or to release an interface.
const defaultWaitTimeout = 8 * time.Minute

// DeleteVPCDependencies is the aws.delete-vpc-dependencies fixer: it
// deletes what keeps a VPC from being deleted, in the order AWS requires,
// and leaves the VPC itself to the step's re-run. The zero value is ready
// to use and safe for concurrent use.
type DeleteVPCDependencies struct{}

var _ fixer.Fixer = DeleteVPCDependencies{}

// Name returns "aws.delete-vpc-dependencies".
func (DeleteVPCDependencies) Name() string { return "aws.delete-vpc-dependencies" }

// Safety returns [fixer.Destructive]: it terminates instances and deletes
// network resources.
func (DeleteVPCDependencies) Safety() fixer.Safety { return fixer.Destructive }

// Describe says what the fixer does in one line.
func (DeleteVPCDependencies) Describe() string {
	return "delete what still lives in the VPC named in the failure, in the order AWS requires"
}

// Inputs lists the vpc-dependency-violation capture and the `with:`
// parameters.
func (DeleteVPCDependencies) Inputs() []fixer.Input {
	return append([]fixer.Input{
		{Name: "vpc_id", Type: fixer.String, Required: true,
			Doc: "VPC whose deletion failed (else --vpc-id of an aws CLI step)"},
		{Name: "delete_vpc", Type: fixer.Bool, Default: "false",
			Doc: "delete the VPC too instead of leaving it to the step's re-run"},
		{Name: "wait_timeout", Type: fixer.Duration, Default: defaultWaitTimeout.String(),
			Doc: "how long to wait for each deletion AWS finishes later"},
	}, ownershipInputs()...)
}

// Check reads the VPC and its dependencies and plans their deletion. It
// refuses for the default VPC, for a VPC or dependency that another stack,
// CloudFormation or a Kubernetes cluster owns, and for dependencies it
// does not remove (VPN gateways, peering connections).
func (f DeleteVPCDependencies) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	vpcID := value(req, "vpc_id", "--vpc-id")
	if vpcID == "" {
		return refuse("the failure names no VPC, so there is nothing to clear"), nil
	}
	deleteVPC, err := req.Values.Bool("delete_vpc", false)
	if err != nil {
		return fixer.Plan{}, err
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	inv, err := collectVPC(ctx, c, vpcID)
	if err != nil {
		return fixer.Plan{}, err
	}
	return planVPC(inv, ownershipOf(req), deleteVPC), nil
}

// planVPC judges an inventory: the plan lists every deletion in order.
func planVPC(inv *vpcInventory, own Ownership, deleteVPC bool) fixer.Plan {
	id := inv.VPC.ID
	if !inv.Found {
		return nothing(fmt.Sprintf("vpc %s no longer exists", id),
			fmt.Sprintf("describe-vpcs does not find %s", id))
	}
	if inv.IsDefault {
		return refuse(fmt.Sprintf("vpc %s is the region's default VPC; it is never cleared "+
			"automatically", id), fmt.Sprintf("vpc %s is the default VPC", id))
	}
	claim := own.Judge(inv.VPC.Tags)
	evidence := []string{own.describe()}
	if claim.Foreign() {
		return refuse(fmt.Sprintf("vpc %s belongs to %s, not to this stack", id, claim),
			evidence...)
	}
	evidence = append(evidence, fmt.Sprintf("vpc %s exists, is not the default VPC and "+
		"belongs to %s", id, claim))

	if len(inv.Blockers) > 0 {
		return refuse(fmt.Sprintf("vpc %s has dependencies this fixer does not remove: %s",
			id, strings.Join(inv.Blockers, ", ")), evidence...)
	}
	if foreign := own.foreign(inv.doomed()); len(foreign) > 0 {
		return refuse(fmt.Sprintf("vpc %s holds resources of other owners, which are left "+
			"alone: %s", id, strings.Join(foreign, "; ")), evidence...)
	}

	steps := inv.steps(deleteVPC)
	if len(steps) == 0 {
		return nothing(fmt.Sprintf("vpc %s has no dependencies left", id), evidence...)
	}
	evidence = append(evidence, fmt.Sprintf("%s in vpc %s, none owned by another stack, "+
		"CloudFormation or a Kubernetes cluster", plural(len(inv.doomed()), "dependency",
		"dependencies"), id))
	for _, e := range inv.managedENIs() {
		evidence = append(evidence, fmt.Sprintf("ENI %s is managed by AWS (%s): it is waited "+
			"for, never deleted", e.ID, e.Managed))
	}
	tail := "; the step's re-run then deletes the VPC"
	if deleteVPC {
		tail = ""
	}
	return fixer.Plan{
		Verdict: fixer.Act,
		Action: fmt.Sprintf("clear vpc %s, in this order: %s%s", id,
			strings.Join(steps, "; "), tail),
		Evidence: evidence,
	}
}

// doomed returns every resource the fixer would delete.
func (inv *vpcInventory) doomed() []resource {
	var out []resource
	out = append(out, inv.Instances...)
	out = append(out, inv.Endpoints...)
	out = append(out, inv.NATs...)
	out = append(out, inv.LBs...)
	out = append(out, inv.ClassicLBs...)
	for _, rt := range inv.RouteTabs {
		if !rt.Main {
			out = append(out, rt.resource)
		}
	}
	for _, e := range inv.ENIs {
		if e.Managed == "" {
			out = append(out, e.resource)
		}
	}
	for _, g := range inv.Groups {
		if !g.Default {
			out = append(out, g.resource)
		}
	}
	for _, a := range inv.ACLs {
		if !a.Default {
			out = append(out, a.resource)
		}
	}
	out = append(out, inv.Subnets...)
	out = append(out, inv.IGWs...)
	return append(out, inv.EgressIGWs...)
}

func (inv *vpcInventory) managedENIs() []vpcENI {
	var out []vpcENI
	for _, e := range inv.ENIs {
		if e.Managed != "" {
			out = append(out, e)
		}
	}
	return out
}

// steps says in words what Apply does, in its order.
func (inv *vpcInventory) steps(deleteVPC bool) []string {
	var out []string
	add := func(verb string, rs []resource) {
		for _, r := range rs {
			out = append(out, verb+" "+r.String())
		}
	}
	add("terminate", inv.Instances)
	add("delete", inv.Endpoints)
	add("delete", inv.NATs)
	add("delete", inv.LBs)
	add("delete", inv.ClassicLBs)
	for _, rt := range inv.RouteTabs {
		if !rt.Main {
			out = append(out, "delete "+rt.String())
		}
	}
	for _, e := range inv.ENIs {
		if e.Managed == "" {
			out = append(out, "delete "+e.String())
		} else {
			out = append(out, "wait for AWS to release "+e.String())
		}
	}
	for _, r := range inv.Refs {
		out = append(out, "revoke "+r.String())
	}
	for _, g := range inv.Groups {
		if !g.Default {
			out = append(out, "delete "+g.String())
		}
	}
	for _, a := range inv.ACLs {
		if !a.Default {
			out = append(out, "delete "+a.String())
		}
	}
	add("delete", inv.Subnets)
	add("detach and delete", inv.IGWs)
	add("delete", inv.EgressIGWs)
	if deleteVPC && len(out) > 0 {
		out = append(out, "delete "+inv.VPC.String())
	}
	return out
}

// Apply reads the VPC again and, when the plan still holds, deletes its
// dependencies in order, waiting where AWS finishes later. A VPC with
// nothing left changes nothing.
func (f DeleteVPCDependencies) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	vpcID := value(req, "vpc_id", "--vpc-id")
	deleteVPC, err := req.Values.Bool("delete_vpc", false)
	if err != nil {
		return fixer.Result{}, err
	}
	wait, err := req.Values.Duration("wait_timeout", defaultWaitTimeout)
	if err != nil {
		return fixer.Result{}, err
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Result{}, err
	}
	inv, err := collectVPC(ctx, c, vpcID)
	if err != nil {
		return fixer.Result{}, err
	}
	plan := planVPC(inv, ownershipOf(req), deleteVPC)
	switch plan.Verdict {
	case fixer.Nothing:
		return fixer.Result{}, nil
	case fixer.Refuse:
		return fixer.Result{}, stateChanged(plan)
	}

	d := &vpcDeleter{c: c, inv: inv, req: req, wait: wait}
	err = d.run(ctx, deleteVPC)
	return fixer.Result{Changed: d.changed}, err
}

package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// RevokeSGReferences is the aws.revoke-sg-references fixer: for a security
// group whose deletion failed, it removes the rules of other groups that
// reference it and takes it off available ENIs. The other groups and the
// ENIs stay. The zero value is ready to use and safe for concurrent use.
type RevokeSGReferences struct{}

var (
	_ fixer.Fixer     = RevokeSGReferences{}
	_ fixer.Backupper = RevokeSGReferences{}
)

// Name returns "aws.revoke-sg-references".
func (RevokeSGReferences) Name() string { return "aws.revoke-sg-references" }

// Safety returns [fixer.Disruptive]: it changes the rules of other groups.
func (RevokeSGReferences) Safety() fixer.Safety { return fixer.Disruptive }

// Describe says what the fixer does in one line.
func (RevokeSGReferences) Describe() string {
	return "revoke other groups' rules that reference the security group being deleted, " +
		"and take it off available ENIs"
}

// Inputs lists the sg-dependency-violation capture and the `with:`
// parameters.
func (RevokeSGReferences) Inputs() []fixer.Input {
	return append([]fixer.Input{
		{Name: "security_group_id", Type: fixer.String, Required: true,
			Doc: "group whose deletion failed (else --group-id of an aws CLI step)"},
		{Name: "foreign_rules", Type: fixer.Bool, Default: "false",
			Doc: "also revoke rules held by groups another stack owns"},
	}, ownershipInputs()...)
}

// sgInventory is a security group and what keeps it from being deleted.
type sgInventory struct {
	Group        securityGroup
	Found        bool
	VPC          string
	DefaultGroup string
	Refs         []sgRef
	// Holders are the groups holding Refs, by ID.
	Holders map[string]resource
	ENIs    []sgENI
}

type sgENI struct {
	resource
	Status   string
	Managed  string
	Instance string
	Groups   []string
}

// Check reads the group, the rules that reference it and the ENIs that
// use it, and plans what to revoke and detach. It refuses for a group or a
// rule holder of another owner, for the VPC's default group, and when an
// instance's ENI uses the group; it waits while an ENI that AWS manages
// uses it.
func (RevokeSGReferences) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	id := value(req, "security_group_id", "--group-id")
	if id == "" {
		return refuse("the failure names no security group"), nil
	}
	foreignRules, err := req.Values.Bool("foreign_rules", false)
	if err != nil {
		return fixer.Plan{}, err
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	inv, err := collectSG(ctx, c.ec2(), id)
	if err != nil {
		return fixer.Plan{}, err
	}
	return planSG(inv, ownershipOf(req), foreignRules), nil
}

func collectSG(ctx context.Context, e *ec2.Client, id string) (*sgInventory, error) {
	inv := &sgInventory{Group: securityGroup{resource: resource{Kind: "security group", ID: id}},
		Holders: map[string]resource{}}
	out, err := describeGroups(ctx, e, filter("group-id", id))
	if err != nil || len(out) == 0 {
		return inv, err
	}
	g := out[0]
	inv.Found, inv.VPC = true, aws.ToString(g.VpcId)
	inv.Group.Tags, inv.Group.Name = ec2Tags(g.Tags), aws.ToString(g.GroupName)
	inv.Group.Default = inv.Group.Name == "default"

	groups, err := describeGroups(ctx, e, filter("vpc-id", inv.VPC))
	if err != nil {
		return nil, err
	}
	for _, h := range groups {
		if aws.ToString(h.GroupName) == "default" {
			inv.DefaultGroup = aws.ToString(h.GroupId)
		}
		inv.Holders[aws.ToString(h.GroupId)] = resource{Kind: "security group",
			ID: aws.ToString(h.GroupId), Tags: ec2Tags(h.Tags)}
	}
	inv.Refs = refsTo(groups, map[string]bool{id: true})

	enis, err := describeENIs(ctx, e, filter("group-id", id))
	if err != nil {
		return nil, err
	}
	for _, n := range enis {
		s := sgENI{resource: eniResource(n), Status: string(n.Status), Managed: serviceManaged(n)}
		if n.Attachment != nil {
			s.Instance = aws.ToString(n.Attachment.InstanceId)
		}
		for _, g := range n.Groups {
			s.Groups = append(s.Groups, aws.ToString(g.GroupId))
		}
		inv.ENIs = append(inv.ENIs, s)
	}
	return inv, nil
}

// planSG judges a group's references.
func planSG(inv *sgInventory, own Ownership, foreignRules bool) fixer.Plan {
	id := inv.Group.ID
	if !inv.Found {
		return nothing(fmt.Sprintf("security group %s no longer exists", id))
	}
	if inv.Group.Default {
		return refuse(fmt.Sprintf("%s is the default group of %s; it goes with the VPC", id,
			inv.VPC))
	}
	claim := own.Judge(inv.Group.Tags)
	evidence := []string{own.describe()}
	if claim.Foreign() {
		return refuse(fmt.Sprintf("security group %s belongs to %s, not to this stack", id,
			claim), evidence...)
	}
	evidence = append(evidence, fmt.Sprintf("security group %s (%s) in %s is the group whose "+
		"deletion failed, and belongs to %s", id, inv.Group.Name, inv.VPC, claim))

	if p, ok := inv.blockedByENIs(evidence); !ok {
		return p
	}
	if !foreignRules {
		var holders []resource
		for _, r := range inv.Refs {
			holders = append(holders, inv.Holders[r.From])
		}
		if foreign := own.foreign(holders); len(foreign) > 0 {
			return refuse(fmt.Sprintf("rules referencing %s are held by groups of other owners "+
				"(%s); set foreign_rules to revoke them anyway", id, strings.Join(foreign, "; ")),
				evidence...)
		}
	}

	steps := inv.steps()
	if len(steps) == 0 {
		return nothing(fmt.Sprintf("nothing references security group %s any more", id),
			evidence...)
	}
	evidence = append(evidence, fmt.Sprintf("%s and %s keep %s from being deleted",
		plural(len(inv.Refs), "rule", "rules"), plural(len(inv.ENIs), "ENI", "ENIs"), id))
	return fixer.Plan{Verdict: fixer.Act, Evidence: evidence,
		Action: "free " + id + ": " + strings.Join(steps, "; ") +
			"; the other groups and the ENIs themselves stay"}
}

// blockedByENIs returns a refusal or a wait when ENIs that this fixer must
// not change use the group; ok is true when none does.
func (inv *sgInventory) blockedByENIs(evidence []string) (fixer.Plan, bool) {
	var managed, attached []string
	for _, n := range inv.ENIs {
		switch {
		case n.Managed != "":
			managed = append(managed, fmt.Sprintf("%s (%s)", n.ID, n.Managed))
		case n.Status != "available":
			attached = append(attached, fmt.Sprintf("%s (instance %s)", n.ID, n.Instance))
		}
	}
	if len(attached) > 0 {
		return refuse(fmt.Sprintf("ENIs in use by instances use security group %s: %s; detach "+
			"or terminate them first", inv.Group.ID, strings.Join(attached, ", ")), evidence...), false
	}
	if len(managed) > 0 {
		return fixer.Plan{Verdict: fixer.Wait, Evidence: evidence,
			Action: fmt.Sprintf("ENIs that AWS manages still use %s: %s; waiting for their "+
				"service to release them", inv.Group.ID, strings.Join(managed, ", "))}, false
	}
	return fixer.Plan{}, true
}

// steps says in words what Apply changes.
func (inv *sgInventory) steps() []string {
	var out []string
	for _, r := range inv.Refs {
		out = append(out, "revoke "+r.String())
	}
	for _, n := range inv.ENIs {
		out = append(out, fmt.Sprintf("take %s off available %s", inv.Group.ID, n.resource))
	}
	return out
}

// remainingGroups returns the groups an ENI keeps once id is removed: the
// others, or the VPC's default group when id was its only one.
func (inv *sgInventory) remainingGroups(n sgENI) []string {
	var keep []string
	for _, g := range n.Groups {
		if g != inv.Group.ID {
			keep = append(keep, g)
		}
	}
	if len(keep) == 0 {
		keep = []string{inv.DefaultGroup}
	}
	return keep
}

// Backup writes the rules and ENI group sets Apply would change to a file
// in the artifact directory, so they can be restored by hand.
func (RevokeSGReferences) Backup(ctx context.Context, req fixer.Request) (string, error) {
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return "", err
	}
	inv, err := collectSG(ctx, c.ec2(), value(req, "security_group_id", "--group-id"))
	if err != nil {
		return "", err
	}
	type eniRecord struct {
		ID     string   `json:"id"`
		Groups []string `json:"groups"`
	}
	record := struct {
		Group string   `json:"group"`
		Rules []string `json:"rules"`
		ENIs  []eniRecord
	}{Group: inv.Group.ID}
	for _, r := range inv.Refs {
		record.Rules = append(record.Rules, r.String())
	}
	for _, n := range inv.ENIs {
		record.ENIs = append(record.ENIs, eniRecord{ID: n.ID, Groups: n.Groups})
	}
	return writeBackup(req.Step, "sg-references-"+inv.Group.ID, record)
}

// Apply reads the references again and, when the plan still holds,
// revokes the rules and takes the group off the available ENIs.
func (RevokeSGReferences) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	foreignRules, err := req.Values.Bool("foreign_rules", false)
	if err != nil {
		return fixer.Result{}, err
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Result{}, err
	}
	e := c.ec2()
	inv, err := collectSG(ctx, e, value(req, "security_group_id", "--group-id"))
	if err != nil {
		return fixer.Result{}, err
	}
	plan := planSG(inv, ownershipOf(req), foreignRules)
	switch plan.Verdict {
	case fixer.Nothing:
		return fixer.Result{}, nil
	case fixer.Refuse, fixer.Wait:
		return fixer.Result{}, stateChanged(plan)
	}

	var res fixer.Result
	for _, r := range inv.Refs {
		if err := revoke(ctx, e, r); err != nil {
			return res, err
		}
		res.Changed = append(res.Changed, "revoked "+r.String())
	}
	for _, n := range inv.ENIs {
		keep := inv.remainingGroups(n)
		_, err := e.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
			NetworkInterfaceId: aws.String(n.ID), Groups: keep})
		if err != nil && !isCode(err, "InvalidNetworkInterfaceID.NotFound") {
			return res, fmt.Errorf("take %s off %s: %w", inv.Group.ID, n.resource, err)
		}
		res.Changed = append(res.Changed, fmt.Sprintf("took %s off %s (now in %s)",
			inv.Group.ID, n.resource, strings.Join(keep, ", ")))
	}
	return res, nil
}

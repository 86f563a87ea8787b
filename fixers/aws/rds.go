package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// DeleteOrphanDBSubnetGroup is the aws.delete-orphan-db-subnet-group
// fixer: when creating a DB subnet group fails because the name is taken,
// it deletes the existing group if no DB instance or cluster uses it and
// no other stack owns it, so the re-run can create it. The zero value is
// ready to use and safe for concurrent use.
type DeleteOrphanDBSubnetGroup struct{}

var _ fixer.Fixer = DeleteOrphanDBSubnetGroup{}

// Name returns "aws.delete-orphan-db-subnet-group".
func (DeleteOrphanDBSubnetGroup) Name() string { return "aws.delete-orphan-db-subnet-group" }

// Safety returns [fixer.Destructive]: it deletes the existing group.
func (DeleteOrphanDBSubnetGroup) Safety() fixer.Safety { return fixer.Destructive }

// Describe says what the fixer does in one line.
func (DeleteOrphanDBSubnetGroup) Describe() string {
	return "delete a DB subnet group that holds the name the step creates, when nothing uses it"
}

// Inputs lists the rds-subnet-group-exists capture and the ownership
// settings.
func (DeleteOrphanDBSubnetGroup) Inputs() []fixer.Input {
	return append([]fixer.Input{
		{Name: "db_subnet_group", Type: fixer.String, Required: true,
			Doc: "name taken (else --db-subnet-group-name of an aws CLI step)"},
	}, ownershipInputs()...)
}

// dbGroupState is a DB subnet group and its users.
type dbGroupState struct {
	Group resource
	Found bool
	VPC   string
	Users []string
}

// Check plans to delete the group. It refuses when a DB instance or
// cluster uses it or another owner's tags are on it.
func (DeleteOrphanDBSubnetGroup) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	name := value(req, "db_subnet_group", "--db-subnet-group-name")
	if name == "" {
		return refuse("the failure names no DB subnet group"), nil
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	st, err := readDBGroup(ctx, c.rds(), name)
	if err != nil {
		return fixer.Plan{}, err
	}
	return planDBGroup(st, ownershipOf(req)), nil
}

func readDBGroup(ctx context.Context, c *rds.Client, name string) (*dbGroupState, error) {
	st := &dbGroupState{Group: resource{Kind: "DB subnet group", ID: name}}
	out, err := c.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{
		DBSubnetGroupName: &name})
	if isCode(err, "DBSubnetGroupNotFoundFault") {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe DB subnet group %s: %w", name, err)
	}
	g := out.DBSubnetGroups[0]
	st.Found, st.VPC = true, aws.ToString(g.VpcId)
	tags, err := c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{
		ResourceName: g.DBSubnetGroupArn})
	if err != nil {
		return nil, fmt.Errorf("list tags of DB subnet group %s: %w", name, err)
	}
	st.Group.Tags = map[string]string{}
	for _, t := range tags.TagList {
		st.Group.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}

	ip := rds.NewDescribeDBInstancesPaginator(c, &rds.DescribeDBInstancesInput{})
	for ip.HasMorePages() {
		page, err := ip.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe DB instances: %w", err)
		}
		for _, i := range page.DBInstances {
			if i.DBSubnetGroup != nil && aws.ToString(i.DBSubnetGroup.DBSubnetGroupName) == name {
				st.Users = append(st.Users, "DB instance "+aws.ToString(i.DBInstanceIdentifier))
			}
		}
	}
	cp := rds.NewDescribeDBClustersPaginator(c, &rds.DescribeDBClustersInput{})
	for cp.HasMorePages() {
		page, err := cp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe DB clusters: %w", err)
		}
		for _, cl := range page.DBClusters {
			if aws.ToString(cl.DBSubnetGroup) == name {
				st.Users = append(st.Users, "DB cluster "+aws.ToString(cl.DBClusterIdentifier))
			}
		}
	}
	return st, nil
}

func planDBGroup(st *dbGroupState, own Ownership) fixer.Plan {
	name := st.Group.ID
	if !st.Found {
		return nothing(fmt.Sprintf("DB subnet group %s no longer exists", name))
	}
	evidence := []string{own.describe()}
	claim := own.Judge(st.Group.Tags)
	if claim.Foreign() {
		return refuse(fmt.Sprintf("DB subnet group %s belongs to %s; give this stack's group "+
			"another name", name, claim), evidence...)
	}
	if len(st.Users) > 0 {
		return refuse(fmt.Sprintf("DB subnet group %s is in use by %s; import it instead of "+
			"re-creating it", name, strings.Join(st.Users, ", ")), evidence...)
	}
	evidence = append(evidence, fmt.Sprintf("DB subnet group %s (in %s) belongs to %s and no DB "+
		"instance or cluster uses it", name, st.VPC, claim))
	return fixer.Plan{Verdict: fixer.Act, Evidence: evidence,
		Action: fmt.Sprintf("delete the orphan DB subnet group %s; the step's re-run then "+
			"creates it", name)}
}

// Apply reads the group again and deletes it when the plan still holds.
func (DeleteOrphanDBSubnetGroup) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	name := value(req, "db_subnet_group", "--db-subnet-group-name")
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Result{}, err
	}
	r := c.rds()
	st, err := readDBGroup(ctx, r, name)
	if err != nil {
		return fixer.Result{}, err
	}
	plan := planDBGroup(st, ownershipOf(req))
	switch plan.Verdict {
	case fixer.Nothing:
		return fixer.Result{}, nil
	case fixer.Refuse:
		return fixer.Result{}, stateChanged(plan)
	}
	_, err = r.DeleteDBSubnetGroup(ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: &name})
	if err != nil && !isCode(err, "DBSubnetGroupNotFoundFault") {
		return fixer.Result{}, fmt.Errorf("delete DB subnet group %s: %w", name, err)
	}
	return fixer.Result{Changed: []string{fmt.Sprintf("deleted orphan DB subnet group %s in %s",
		name, st.VPC)}}, nil
}

package aws

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// DetachRoleDependencies is the aws.detach-role-dependencies fixer: when
// deleting an IAM role fails with DeleteConflict, it detaches the role's
// managed policies, deletes its inline policies and removes it from its
// instance profiles. The policies and profiles stay. The zero value is
// ready to use and safe for concurrent use.
type DetachRoleDependencies struct{}

var (
	_ fixer.Fixer     = DetachRoleDependencies{}
	_ fixer.Backupper = DetachRoleDependencies{}
)

// Name returns "aws.detach-role-dependencies".
func (DetachRoleDependencies) Name() string { return "aws.detach-role-dependencies" }

// Safety returns [fixer.Disruptive]: whatever runs as the role loses its
// permissions.
func (DetachRoleDependencies) Safety() fixer.Safety { return fixer.Disruptive }

// Describe says what the fixer does in one line.
func (DetachRoleDependencies) Describe() string {
	return "detach the policies and instance profiles of an IAM role being deleted"
}

// Inputs lists the iam-delete-conflict capture and the ownership settings.
func (DetachRoleDependencies) Inputs() []fixer.Input {
	return append([]fixer.Input{
		{Name: "role_name", Type: fixer.String, Required: true,
			Doc: "role whose deletion failed (else --role-name of `aws iam delete-role`)"},
	}, ownershipInputs()...)
}

// roleState is a role and what is attached to it.
type roleState struct {
	Role     resource
	Found    bool
	Path     string
	Managed  []string
	Inline   []string
	Profiles []string
}

// roleName finds the role whose deletion failed: the capture (from
// "deleting IAM Role (name)") or the --role-name of `aws iam delete-role`.
func roleName(req fixer.Request) (string, string) {
	if v := strings.TrimSpace(req.Values.String("role_name", "")); v != "" {
		return v, fmt.Sprintf("the failure reports that deleting role %s failed", v)
	}
	if req.Step.Tool == "aws" && req.Step.Goal == "delete-role" {
		if v := flagValue(req.Step.Args, "--role-name"); v != "" {
			return v, fmt.Sprintf("the step is `aws iam delete-role --role-name %s`", v)
		}
	}
	return "", ""
}

// Check plans to detach what keeps the role from being deleted. It refuses
// when the failure is not about deleting a role, for service-linked roles
// and for another owner's role.
func (DetachRoleDependencies) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	name, fact := roleName(req)
	if name == "" {
		return refuse("the failure is not about deleting an IAM role (a policy, user or group " +
			"conflict is left to people)"), nil
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	st, err := readRole(ctx, c.iam(), name)
	if err != nil {
		return fixer.Plan{}, err
	}
	return planRole(st, fact, ownershipOf(req)), nil
}

func readRole(ctx context.Context, c *iam.Client, name string) (*roleState, error) {
	st := &roleState{Role: resource{Kind: "role", ID: name}}
	out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	if isCode(err, "NoSuchEntity") {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get role %s: %w", name, err)
	}
	st.Found, st.Path = true, aws.ToString(out.Role.Path)
	st.Role.Tags = map[string]string{}
	for _, t := range out.Role.Tags {
		st.Role.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}

	mp := iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{
		RoleName: &name})
	for mp.HasMorePages() {
		page, err := mp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list policies attached to %s: %w", name, err)
		}
		for _, p := range page.AttachedPolicies {
			st.Managed = append(st.Managed, aws.ToString(p.PolicyArn))
		}
	}
	ip := iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: &name})
	for ip.HasMorePages() {
		page, err := ip.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list inline policies of %s: %w", name, err)
		}
		st.Inline = append(st.Inline, page.PolicyNames...)
	}
	pp := iam.NewListInstanceProfilesForRolePaginator(c, &iam.ListInstanceProfilesForRoleInput{
		RoleName: &name})
	for pp.HasMorePages() {
		page, err := pp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list instance profiles of %s: %w", name, err)
		}
		for _, p := range page.InstanceProfiles {
			st.Profiles = append(st.Profiles, aws.ToString(p.InstanceProfileName))
		}
	}
	return st, nil
}

func planRole(st *roleState, fact string, own Ownership) fixer.Plan {
	name := st.Role.ID
	if !st.Found {
		return nothing(fmt.Sprintf("role %s no longer exists", name))
	}
	if strings.HasPrefix(st.Path, "/aws-service-role/") {
		return refuse(fmt.Sprintf("role %s is service-linked; its service deletes it", name))
	}
	evidence := []string{fact, own.describe()}
	claim := own.Judge(st.Role.Tags)
	if claim.Foreign() {
		return refuse(fmt.Sprintf("role %s belongs to %s", name, claim), evidence...)
	}
	steps := st.steps()
	if len(steps) == 0 {
		return nothing(fmt.Sprintf("role %s has no policies or instance profiles left", name),
			evidence...)
	}
	evidence = append(evidence, fmt.Sprintf("role %s belongs to %s", name, claim))
	return fixer.Plan{Verdict: fixer.Act, Evidence: evidence,
		Action: fmt.Sprintf("free role %s: %s; the managed policies and instance profiles "+
			"themselves stay", name, strings.Join(steps, "; "))}
}

func (st *roleState) steps() []string {
	var out []string
	for _, p := range st.Managed {
		out = append(out, "detach managed policy "+p)
	}
	for _, p := range st.Inline {
		out = append(out, "delete inline policy "+p)
	}
	for _, p := range st.Profiles {
		out = append(out, "remove it from instance profile "+p)
	}
	return out
}

// Backup writes the role's attachments, with the inline policies'
// documents, to a file in the artifact directory, so they can be restored.
func (DetachRoleDependencies) Backup(ctx context.Context, req fixer.Request) (string, error) {
	name, _ := roleName(req)
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return "", err
	}
	i := c.iam()
	st, err := readRole(ctx, i, name)
	if err != nil {
		return "", err
	}
	record := struct {
		Role             string            `json:"role"`
		ManagedPolicies  []string          `json:"managed_policies"`
		InlinePolicies   map[string]string `json:"inline_policies"`
		InstanceProfiles []string          `json:"instance_profiles"`
	}{Role: name, ManagedPolicies: st.Managed, InlinePolicies: map[string]string{},
		InstanceProfiles: st.Profiles}
	for _, p := range st.Inline {
		out, err := i.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &name, PolicyName: &p})
		if err != nil {
			return "", fmt.Errorf("get inline policy %s of %s: %w", p, name, err)
		}
		doc := aws.ToString(out.PolicyDocument)
		if d, err := url.QueryUnescape(doc); err == nil {
			doc = d
		}
		record.InlinePolicies[p] = doc
	}
	return writeBackup(req.Step, "role-"+name, record)
}

// Apply reads the role again and, when the plan still holds, detaches its
// managed policies, deletes its inline policies and removes it from its
// instance profiles.
func (DetachRoleDependencies) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	name, fact := roleName(req)
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Result{}, err
	}
	i := c.iam()
	st, err := readRole(ctx, i, name)
	if err != nil {
		return fixer.Result{}, err
	}
	plan := planRole(st, fact, ownershipOf(req))
	switch plan.Verdict {
	case fixer.Nothing:
		return fixer.Result{}, nil
	case fixer.Refuse:
		return fixer.Result{}, stateChanged(plan)
	}

	var res fixer.Result
	for _, p := range st.Managed {
		_, err := i.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: &name, PolicyArn: &p})
		if err != nil && !isCode(err, "NoSuchEntity") {
			return res, fmt.Errorf("detach %s from role %s: %w", p, name, err)
		}
		res.Changed = append(res.Changed, fmt.Sprintf("detached managed policy %s from role %s",
			p, name))
	}
	for _, p := range st.Inline {
		_, err := i.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: &name, PolicyName: &p})
		if err != nil && !isCode(err, "NoSuchEntity") {
			return res, fmt.Errorf("delete inline policy %s of role %s: %w", p, name, err)
		}
		res.Changed = append(res.Changed, fmt.Sprintf("deleted inline policy %s of role %s",
			p, name))
	}
	for _, p := range st.Profiles {
		_, err := i.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{
			RoleName: &name, InstanceProfileName: &p})
		if err != nil && !isCode(err, "NoSuchEntity") {
			return res, fmt.Errorf("remove role %s from instance profile %s: %w", name, p, err)
		}
		res.Changed = append(res.Changed, fmt.Sprintf("removed role %s from instance profile %s",
			name, p))
	}
	return res, nil
}

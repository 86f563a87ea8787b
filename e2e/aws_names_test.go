//go:build e2e

package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/self-heal/self-heal/pkg/report"
)

// dbGroupScene creates DB subnet group app-db, left by an earlier run.
func dbGroupScene(t *testing.T, w *awsWorld) []string {
	t.Helper()
	vpc := w.vpc("10.50.0.0/16")
	subnets := []string{subnet(t, w, vpc, "10.50.1.0/24", "us-east-1a"),
		subnet(t, w, vpc, "10.50.2.0/24", "us-east-1b")}
	_, err := w.rds.CreateDBSubnetGroup(awsCtx, &rds.CreateDBSubnetGroupInput{
		DBSubnetGroupName: aws.String("app-db"), SubnetIds: subnets,
		DBSubnetGroupDescription: aws.String("left by an earlier run"),
		Tags:                     []rdstypes.Tag{{Key: aws.String("Stack"), Value: aws.String(ourStack)}}})
	noErr(t, err, "create DB subnet group")
	return subnets
}

func (w *awsWorld) dbGroupDescription(name string) string {
	w.t.Helper()
	out, err := w.rds.DescribeDBSubnetGroups(awsCtx, &rds.DescribeDBSubnetGroupsInput{
		DBSubnetGroupName: &name})
	noErr(w.t, err, "describe DB subnet group %s", name)
	return aws.ToString(out.DBSubnetGroups[0].DBSubnetGroupDescription)
}

func createDBGroupStep(subnets []string) []string {
	return append([]string{"aws", "rds", "create-db-subnet-group", "--db-subnet-group-name",
		"app-db", "--db-subnet-group-description", "app database", "--subnet-ids"}, subnets...)
}

// TestAWSRDS_OrphanSubnetGroupDeleted heals a create that meets an unused
// group of the same name: the orphan goes and the re-run creates the group.
func TestAWSRDS_OrphanSubnetGroupDeleted(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.withGuard()
	subnets := dbGroupScene(t, w)

	h := w.run(nil, createDBGroupStep(subnets)...)
	h.exitIs(t, 0)
	h.outcomeIs(t, report.Healed)
	if !strings.Contains(h.output, "The DB subnet group 'app-db' already exists.") {
		t.Errorf("the first attempt did not meet DBSubnetGroupAlreadyExists:\n%s", h.output)
	}
	f := h.fixOf(t, "rds-subnet-group-exists", "aws.delete-orphan-db-subnet-group")
	wantApplied(t, f, "deleted orphan DB subnet group app-db")
	if got := w.dbGroupDescription("app-db"); got != "app database" {
		t.Errorf("DB subnet group description = %q, want the re-run's %q", got, "app database")
	}
}

// TestAWSRDS_SubnetGroupInUseRefused leaves a group that a DB instance
// uses.
func TestAWSRDS_SubnetGroupInUseRefused(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.withGuard()
	subnets := dbGroupScene(t, w)
	_, err := w.rds.CreateDBInstance(awsCtx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("orders"), DBInstanceClass: aws.String("db.t3.micro"),
		Engine: aws.String("postgres"), MasterUsername: aws.String("app"),
		MasterUserPassword: aws.String("s3cr3t-pass"), AllocatedStorage: aws.Int32(20),
		DBSubnetGroupName: aws.String("app-db")})
	noErr(t, err, "create DB instance")

	h := w.run(nil, createDBGroupStep(subnets)...)
	h.exitIs(t, 255)
	h.outcomeIs(t, report.Refused)
	f := h.fixOf(t, "rds-subnet-group-exists", "aws.delete-orphan-db-subnet-group")
	wantRefused(t, f, "DB subnet group app-db is in use by DB instance orders")
	if got := w.dbGroupDescription("app-db"); got != "left by an earlier run" {
		t.Errorf("DB subnet group description = %q, want the old group kept", got)
	}
}

func (w *awsWorld) secret(name string) *secretsmanager.DescribeSecretOutput {
	w.t.Helper()
	out, err := w.secrets.DescribeSecret(awsCtx, &secretsmanager.DescribeSecretInput{
		SecretId: &name})
	noErr(w.t, err, "describe secret %s", name)
	return out
}

// TestAWSSecrets_ScheduledSecretPurged heals a create that meets a secret
// of the same name in its recovery window.
func TestAWSSecrets_ScheduledSecretPurged(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.withGuard()
	name := "app/db-password"
	_, err := w.secrets.CreateSecret(awsCtx, &secretsmanager.CreateSecretInput{Name: &name,
		SecretString: aws.String("old"),
		Tags:         []smtypes.Tag{{Key: aws.String("Stack"), Value: aws.String(ourStack)}}})
	noErr(t, err, "create secret")
	_, err = w.secrets.DeleteSecret(awsCtx, &secretsmanager.DeleteSecretInput{SecretId: &name,
		RecoveryWindowInDays: aws.Int64(7)})
	noErr(t, err, "schedule the secret for deletion")

	h := w.run(nil, "aws", "secretsmanager", "create-secret", "--name", name,
		"--secret-string", "new")
	h.exitIs(t, 0)
	h.outcomeIs(t, report.Healed)
	if !strings.Contains(h.output, "already scheduled for deletion") {
		t.Errorf("the first attempt did not meet the scheduled secret:\n%s", h.output)
	}
	f := h.fixOf(t, "secretsmanager-scheduled-for-deletion", "aws.purge-deleted-secret")
	wantApplied(t, f, "deleted secret "+name+" for good")
	if s := w.secret(name); s.DeletedDate != nil {
		t.Errorf("secret %s is scheduled for deletion after the re-run", name)
	}
	v, err := w.secrets.GetSecretValue(awsCtx, &secretsmanager.GetSecretValueInput{SecretId: &name})
	noErr(t, err, "get secret value")
	if aws.ToString(v.SecretString) != "new" {
		t.Errorf("secret value = %q, want the re-run's", aws.ToString(v.SecretString))
	}
}

// TestAWSSecrets_LiveSecretRefused refuses to touch a secret that exists
// and is not scheduled for deletion; moto's own answer (the older wording)
// is what the pattern recognises here.
func TestAWSSecrets_LiveSecretRefused(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.withGuard()
	name := "app/api-key"
	_, err := w.secrets.CreateSecret(awsCtx, &secretsmanager.CreateSecretInput{Name: &name,
		SecretString: aws.String("kept")})
	noErr(t, err, "create secret")

	h := w.run(nil, "aws", "secretsmanager", "create-secret", "--name", name,
		"--secret-string", "new")
	h.exitIs(t, 255)
	h.outcomeIs(t, report.Refused)
	f := h.fixOf(t, "secretsmanager-scheduled-for-deletion", "aws.purge-deleted-secret")
	wantRefused(t, f, "exists and is not scheduled for deletion; import it")
	v, err := w.secrets.GetSecretValue(awsCtx, &secretsmanager.GetSecretValueInput{SecretId: &name})
	noErr(t, err, "get secret value")
	if aws.ToString(v.SecretString) != "kept" {
		t.Errorf("secret value = %q, want it kept", aws.ToString(v.SecretString))
	}
}

func (w *awsWorld) logGroup(name string, retention int32, tags map[string]string) {
	w.t.Helper()
	_, err := w.logs.CreateLogGroup(awsCtx, &cloudwatchlogs.CreateLogGroupInput{
		LogGroupName: &name, Tags: tags})
	noErr(w.t, err, "create log group %s", name)
	if retention > 0 {
		_, err = w.logs.PutRetentionPolicy(awsCtx, &cloudwatchlogs.PutRetentionPolicyInput{
			LogGroupName: &name, RetentionInDays: &retention})
		noErr(w.t, err, "set retention of %s", name)
	}
}

// logGroupTags returns a log group's tags, or nil when it is gone.
func (w *awsWorld) logGroupTags(name string) map[string]string {
	w.t.Helper()
	out, err := w.logs.DescribeLogGroups(awsCtx, &cloudwatchlogs.DescribeLogGroupsInput{
		LogGroupNamePrefix: &name})
	noErr(w.t, err, "describe log group %s", name)
	if len(out.LogGroups) == 0 {
		return nil
	}
	arn := strings.TrimSuffix(aws.ToString(out.LogGroups[0].Arn), ":*")
	tags, err := w.logs.ListTagsForResource(awsCtx, &cloudwatchlogs.ListTagsForResourceInput{
		ResourceArn: &arn})
	noErr(w.t, err, "list tags of %s", name)
	return tags.Tags
}

// TestAWSLogs_AutoCreatedGroupDeleted heals a create that meets the group
// EKS made by itself: untagged, no retention.
func TestAWSLogs_AutoCreatedGroupDeleted(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	name := "/aws/eks/demo/cluster"
	w.logGroup(name, 0, nil)

	h := w.run(nil, "aws", "logs", "create-log-group", "--log-group-name", name,
		"--tags", "Stack="+ourStack)
	h.exitIs(t, 0)
	h.outcomeIs(t, report.Healed)
	f := h.fixOf(t, "log-group-already-exists", "aws.delete-auto-created-log-group")
	wantApplied(t, f, "deleted log group "+name+", which EKS had created by itself")
	if got := w.logGroupTags(name); got["Stack"] != ourStack {
		t.Errorf("log group tags = %v, want the re-run's Stack=%s", got, ourStack)
	}
}

// nearMiss05Group is the group of the near miss nearmiss--05: another
// stack created the EKS cluster's log group, with its tags and retention.
const nearMiss05Group = "/aws/eks/learnk8s/cluster"

// TestAWSLogs_NearMiss05Refused replays the near miss word for word: the
// text is the one a harmless auto-created group prints, but the group
// belongs to another stack, so the live check refuses and says to import
// it. The same refusal holds for the aws CLI's wording under `run`.
func TestAWSLogs_NearMiss05Refused(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.logGroup(nearMiss05Group, 90, map[string]string{"Stack": "infra/eks-platform"})

	ex := w.explain("terraform apply", catalogueLog(t, "nearmiss/nearmiss--05.log"))
	if ex.Pattern == nil || ex.Pattern.ID != "log-group-already-exists" {
		t.Fatalf("explain matched %+v, want log-group-already-exists", ex.Pattern)
	}
	if len(ex.Plan) != 1 || ex.Plan[0].Fixer != "aws.delete-auto-created-log-group" {
		t.Fatalf("explain plan = %+v, want the log group fixer", ex.Plan)
	}
	want := `log group /aws/eks/learnk8s/cluster belongs to stack "infra/eks-platform" ` +
		`(Stack=infra/eks-platform); import it instead (terraform import ` +
		`'module.eks.aws_cloudwatch_log_group.this[0]' '/aws/eks/learnk8s/cluster')`
	if !strings.HasPrefix(ex.Plan[0].Refused, want) {
		t.Errorf("explain refusal = %q\nwant it to start with %q", ex.Plan[0].Refused, want)
	}

	h := w.run(nil, "aws", "logs", "create-log-group", "--log-group-name", nearMiss05Group)
	h.exitIs(t, 255)
	h.outcomeIs(t, report.Refused)
	f := h.fixOf(t, "log-group-already-exists", "aws.delete-auto-created-log-group")
	wantRefused(t, f, `belongs to stack "infra/eks-platform"`, "import it instead")
	if got := w.logGroupTags(nearMiss05Group); got["Stack"] != "infra/eks-platform" {
		t.Errorf("log group tags = %v after the refusal, want the group untouched", got)
	}
}

// TestAWSLogs_ConfiguredGroupRefused refuses an untagged group that has a
// retention set: a service never sets one, so a stack manages it.
func TestAWSLogs_ConfiguredGroupRefused(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	name := "/aws/lambda/resize"
	w.logGroup(name, 14, nil)

	h := w.run(nil, "aws", "logs", "create-log-group", "--log-group-name", name)
	h.exitIs(t, 255)
	f := h.fixOf(t, "log-group-already-exists", "aws.delete-auto-created-log-group")
	wantRefused(t, f, "a retention of 14 days, which Lambda never sets", "import it")
	if w.logGroupTags(name) == nil {
		t.Errorf("log group %s is gone after the refusal", name)
	}
}

// roleScene creates role app-role with a managed policy, an inline policy
// and an instance profile.
func roleScene(t *testing.T, w *awsWorld, tags ...string) string {
	t.Helper()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
		`"Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	var iamTags []iamtypes.Tag
	for i := 0; i+1 < len(tags); i += 2 {
		iamTags = append(iamTags, iamtypes.Tag{Key: aws.String(tags[i]), Value: aws.String(tags[i+1])})
	}
	_, err := w.iam.CreateRole(awsCtx, &iam.CreateRoleInput{RoleName: aws.String("app-role"),
		AssumeRolePolicyDocument: &trust, Tags: iamTags})
	noErr(t, err, "create role")
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",` +
		`"Resource":"*"}]}`
	p, err := w.iam.CreatePolicy(awsCtx, &iam.CreatePolicyInput{PolicyName: aws.String("read"),
		PolicyDocument: &doc})
	noErr(t, err, "create policy")
	arn := aws.ToString(p.Policy.Arn)
	_, err = w.iam.AttachRolePolicy(awsCtx, &iam.AttachRolePolicyInput{
		RoleName: aws.String("app-role"), PolicyArn: &arn})
	noErr(t, err, "attach policy")
	_, err = w.iam.PutRolePolicy(awsCtx, &iam.PutRolePolicyInput{RoleName: aws.String("app-role"),
		PolicyName: aws.String("inline-logs"), PolicyDocument: &doc})
	noErr(t, err, "put inline policy")
	_, err = w.iam.CreateInstanceProfile(awsCtx, &iam.CreateInstanceProfileInput{
		InstanceProfileName: aws.String("app-profile")})
	noErr(t, err, "create instance profile")
	_, err = w.iam.AddRoleToInstanceProfile(awsCtx, &iam.AddRoleToInstanceProfileInput{
		InstanceProfileName: aws.String("app-profile"), RoleName: aws.String("app-role")})
	noErr(t, err, "add role to instance profile")
	return arn
}

// iamState says what of a roleScene exists: the role with its managed and
// inline policies, the policy, the profile with its roles.
func (w *awsWorld) iamState(policy string) string {
	w.t.Helper()
	var parts []string
	role := aws.String("app-role")
	if _, err := w.iam.GetRole(awsCtx, &iam.GetRoleInput{RoleName: role}); err == nil {
		att, err := w.iam.ListAttachedRolePolicies(awsCtx,
			&iam.ListAttachedRolePoliciesInput{RoleName: role})
		noErr(w.t, err, "list attached policies")
		inl, err := w.iam.ListRolePolicies(awsCtx, &iam.ListRolePoliciesInput{RoleName: role})
		noErr(w.t, err, "list inline policies")
		parts = append(parts, "role", aws.ToString(att.AttachedPolicies[0].PolicyName),
			strings.Join(inl.PolicyNames, ","))
	}
	if _, err := w.iam.GetPolicy(awsCtx, &iam.GetPolicyInput{PolicyArn: &policy}); err == nil {
		parts = append(parts, "policy")
	}
	ip, err := w.iam.GetInstanceProfile(awsCtx, &iam.GetInstanceProfileInput{
		InstanceProfileName: aws.String("app-profile")})
	if err == nil {
		parts = append(parts, "profile", string(rune('0'+len(ip.InstanceProfile.Roles))))
	}
	return strings.Join(parts, " ")
}

// TestAWSIAM_RoleDetached heals `aws iam delete-role` on a role with
// policies and an instance profile: the attachments go, the policy and
// the profile stay, the re-run deletes the role.
func TestAWSIAM_RoleDetached(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	policy := roleScene(t, w, "Stack", ourStack)

	h := w.run(nil, "aws", "iam", "delete-role", "--role-name", "app-role")
	h.exitIs(t, 0)
	h.outcomeIs(t, report.Healed)
	f := h.fixOf(t, "iam-delete-conflict", "aws.detach-role-dependencies")
	wantApplied(t, f, "detached managed policy "+policy+" from role app-role",
		"deleted inline policy inline-logs of role app-role",
		"removed role app-role from instance profile app-profile")
	if got, want := w.iamState(policy), "policy profile 0"; got != want {
		t.Errorf("IAM after healing: %q, want %q", got, want)
	}
}

// TestAWSIAM_ForeignRoleRefused leaves another stack's role attached.
func TestAWSIAM_ForeignRoleRefused(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	policy := roleScene(t, w, "Stack", "infra/platform")

	h := w.run(nil, "aws", "iam", "delete-role", "--role-name", "app-role")
	h.exitIs(t, 255)
	h.outcomeIs(t, report.Refused)
	f := h.fixOf(t, "iam-delete-conflict", "aws.detach-role-dependencies")
	wantRefused(t, f, `role app-role belongs to stack "infra/platform"`)
	if got, want := w.iamState(policy), "role read inline-logs policy profile 1"; got != want {
		t.Errorf("IAM after the refusal: %q, want %q", got, want)
	}
}

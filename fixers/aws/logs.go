package aws

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// serviceLogGroups are the names services give the log groups they create
// on first use, with the service's name.
var serviceLogGroups = []struct {
	re      *regexp.Regexp
	service string
}{
	{regexp.MustCompile(`^/aws/eks/[^/]+/cluster$`), "EKS"},
	{regexp.MustCompile(`^/aws/lambda/[^/]+$`), "Lambda"},
	{regexp.MustCompile(`^/aws/codebuild/[^/]+$`), "CodeBuild"},
	{regexp.MustCompile(`^/aws/rds/(?:instance|cluster)/[^/]+/[^/]+$`), "RDS"},
	{regexp.MustCompile(`^API-Gateway-Execution-Logs_[^/]+/[^/]+$`), "API Gateway"},
	{regexp.MustCompile(`^/aws/vendedlogs/states/[^/]+$`), "Step Functions"},
}

// DeleteAutoCreatedLogGroup is the aws.delete-auto-created-log-group
// fixer: when creating a log group fails because it exists, it deletes the
// existing group only if a service created it by itself (the service's
// name, no tags, no retention, no KMS key), so the re-run can create it
// with the stack's settings. Otherwise it refuses and says to import it.
// The zero value is ready to use and safe for concurrent use.
type DeleteAutoCreatedLogGroup struct{}

var _ fixer.Fixer = DeleteAutoCreatedLogGroup{}

// Name returns "aws.delete-auto-created-log-group".
func (DeleteAutoCreatedLogGroup) Name() string { return "aws.delete-auto-created-log-group" }

// Safety returns [fixer.Destructive]: the group's log events are lost.
func (DeleteAutoCreatedLogGroup) Safety() fixer.Safety { return fixer.Destructive }

// Describe says what the fixer does in one line.
func (DeleteAutoCreatedLogGroup) Describe() string {
	return "delete a log group that a service created by itself, so the stack can create it"
}

// Inputs lists the log-group-already-exists captures and the ownership
// settings.
func (DeleteAutoCreatedLogGroup) Inputs() []fixer.Input {
	return append([]fixer.Input{
		{Name: "log_group", Type: fixer.String, Required: true,
			Doc: "log group name (else --log-group-name of an aws CLI step)"},
		{Name: "resource", Type: fixer.String, Doc: "terraform address, for the import hint"},
	}, ownershipInputs()...)
}

// logGroupState is what Check knows of a log group.
type logGroupState struct {
	Name      string
	Found     bool
	Tags      map[string]string
	Retention int32
	KMSKey    string
	Bytes     int64
}

// Check plans the deletion when every sign says a service created the
// group; otherwise it refuses and names what says that something manages
// it, with the import command to use instead.
func (DeleteAutoCreatedLogGroup) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	name := value(req, "log_group", "--log-group-name")
	if name == "" {
		return refuse("the failure names no log group"), nil
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	st, err := readLogGroup(ctx, c.logs(), name)
	if err != nil {
		return fixer.Plan{}, err
	}
	return planLogGroup(st, req.Values.String("resource", ""), ownershipOf(req)), nil
}

func readLogGroup(ctx context.Context, c *cloudwatchlogs.Client, name string,
) (*logGroupState, error) {
	st := &logGroupState{Name: name}
	out, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{
		LogGroupNamePrefix: &name})
	if err != nil {
		return nil, fmt.Errorf("describe log group %s: %w", name, err)
	}
	var arn string
	for _, g := range out.LogGroups {
		if aws.ToString(g.LogGroupName) != name {
			continue
		}
		st.Found = true
		st.Retention = aws.ToInt32(g.RetentionInDays)
		st.KMSKey = aws.ToString(g.KmsKeyId)
		st.Bytes = aws.ToInt64(g.StoredBytes)
		arn = strings.TrimSuffix(aws.ToString(g.Arn), ":*")
	}
	if !st.Found {
		return st, nil
	}
	tags, err := c.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{
		ResourceArn: &arn})
	if err != nil {
		return nil, fmt.Errorf("list tags of log group %s: %w", name, err)
	}
	st.Tags = tags.Tags
	return st, nil
}

// autoCreatedBy returns the service whose naming the group follows, or "".
func autoCreatedBy(name string) string {
	for _, s := range serviceLogGroups {
		if s.re.MatchString(name) {
			return s.service
		}
	}
	return ""
}

func planLogGroup(st *logGroupState, address string, own Ownership) fixer.Plan {
	if !st.Found {
		return nothing(fmt.Sprintf("log group %s no longer exists", st.Name))
	}
	if address == "" {
		address = "<address>"
	}
	importIt := fmt.Sprintf("; import it instead (terraform import '%s' '%s') or remove it from "+
		"this configuration", address, st.Name)

	service := autoCreatedBy(st.Name)
	if service == "" {
		return refuse(fmt.Sprintf("log group %s does not follow the naming of a log group a "+
			"service creates by itself, so something created it on purpose%s", st.Name,
			importIt))
	}
	if c := own.Judge(st.Tags); c.Foreign() {
		return refuse(fmt.Sprintf("log group %s belongs to %s%s", st.Name, c, importIt),
			own.describe())
	}
	var managed []string
	if len(st.Tags) > 0 {
		managed = append(managed, "tags ("+strings.Join(tagList(st.Tags), ", ")+")")
	}
	if st.Retention != 0 {
		managed = append(managed, fmt.Sprintf("a retention of %d days", st.Retention))
	}
	if st.KMSKey != "" {
		managed = append(managed, "KMS key "+st.KMSKey)
	}
	if len(managed) > 0 {
		return refuse(fmt.Sprintf("log group %s has %s, which %s never sets: a stack manages "+
			"it%s", st.Name, strings.Join(managed, ", "), service, importIt))
	}
	evidence := []string{
		fmt.Sprintf("log group %s follows %s's naming for the groups it creates on first use",
			st.Name, service),
		fmt.Sprintf("log group %s has no tags, no retention and no KMS key, as %s creates them",
			st.Name, service),
	}
	return fixer.Plan{Verdict: fixer.Act, Evidence: evidence,
		Action: fmt.Sprintf("delete log group %s, which %s created by itself (%d bytes of logs "+
			"are lost); the step's re-run then creates it with the stack's settings", st.Name,
			service, st.Bytes)}
}

func tagList(tags map[string]string) []string {
	var out []string
	for _, k := range sortedKeys(tags) {
		out = append(out, k+"="+tags[k])
	}
	return out
}

// Apply reads the group again and deletes it when the plan still holds.
func (DeleteAutoCreatedLogGroup) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	name := value(req, "log_group", "--log-group-name")
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Result{}, err
	}
	l := c.logs()
	st, err := readLogGroup(ctx, l, name)
	if err != nil {
		return fixer.Result{}, err
	}
	plan := planLogGroup(st, req.Values.String("resource", ""), ownershipOf(req))
	switch plan.Verdict {
	case fixer.Nothing:
		return fixer.Result{}, nil
	case fixer.Refuse:
		return fixer.Result{}, stateChanged(plan)
	}
	_, err = l.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: &name})
	if err != nil && !isCode(err, "ResourceNotFoundException") {
		return fixer.Result{}, fmt.Errorf("delete log group %s: %w", name, err)
	}
	return fixer.Result{Changed: []string{fmt.Sprintf("deleted log group %s, which %s had "+
		"created by itself", name, autoCreatedBy(name))}}, nil
}

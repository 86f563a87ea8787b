package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Defaults of the role-assumable condition.
const (
	// defaultPropagationWindow is how old a role may be and still be
	// waiting for IAM to propagate it. Terraform's AWS provider retries
	// IAM eventual consistency for two minutes too.
	defaultPropagationWindow = 2 * time.Minute
	// defaultSettle is how old a new role should be before a service is
	// asked to assume it again.
	defaultSettle = 10 * time.Second
)

// RoleAssumable is the "aws.role-assumable" condition of wait.until, for a
// service that could not assume a role created moments ago. It holds once
// the role has existed for `settle`. It refuses to keep waiting when the
// role is older than the propagation `window`, or when its trust policy
// does not name the service: then the configuration is wrong, and time
// will not fix it. Create it with [NewRoleAssumable]; it is safe for
// concurrent use.
type RoleAssumable struct {
	now func() time.Time
}

// NewRoleAssumable returns the condition reading the clock with now; nil
// means time.Now.
func NewRoleAssumable(now func() time.Time) RoleAssumable {
	if now == nil {
		now = time.Now
	}
	return RoleAssumable{now: now}
}

// Name returns "aws.role-assumable".
func (RoleAssumable) Name() string { return "aws.role-assumable" }

// Describe says what holds once the wait is over.
func (RoleAssumable) Describe() string { return "IAM has propagated the role" }

// Inputs lists the iam-propagation captures and the condition's settings.
func (RoleAssumable) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "role_arn", Type: fixer.String,
			Doc: "role the service could not assume (else --role of an aws CLI step, else " +
				"the IAM roles of the failing resource's module in the terraform state)"},
		{Name: "resource", Type: fixer.String, Doc: "terraform address of the failing resource"},
		{Name: "window", Type: fixer.Duration, Default: defaultPropagationWindow.String(),
			Doc: "a role older than this has propagated: stop waiting"},
		{Name: "settle", Type: fixer.Duration, Default: defaultSettle.String(),
			Doc: "how old a role must be before the step is re-run"},
		{Name: "service", Type: fixer.String,
			Doc: "principal that must be trusted (default: read from the failure)"},
	}
}

// roleFacts is what the condition knows of a role.
type roleFacts struct {
	Name    string
	Found   bool
	Age     time.Duration
	Trusted []string
}

// Poll finds the role and judges it.
func (r RoleAssumable) Poll(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	window, err := req.Values.Duration("window", defaultPropagationWindow)
	if err != nil {
		return fixer.Plan{}, err
	}
	settle, err := req.Values.Duration("settle", defaultSettle)
	if err != nil {
		return fixer.Plan{}, err
	}
	names, source, err := rolesOf(ctx, req)
	if err != nil {
		return fixer.Plan{}, err
	}
	if len(names) == 0 {
		return nothing("the failure names no role and none was found for it, so its age " +
			"cannot be checked; the pattern's back-off and attempts bound the wait"), nil
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	service := req.Values.String("service", serviceOf(req.Failure))
	var plans []fixer.Plan
	for _, n := range names {
		f, err := readRoleFacts(ctx, c.iam(), n, r.now)
		if err != nil {
			return fixer.Plan{}, err
		}
		plans = append(plans, judgeRole(f, service, source, window, settle))
	}
	return worst(plans), nil
}

// worst returns the plan that decides for several roles: a refusal, else a
// wait, else the first.
func worst(plans []fixer.Plan) fixer.Plan {
	for _, v := range []fixer.Verdict{fixer.Refuse, fixer.Wait} {
		for _, p := range plans {
			if p.Verdict == v {
				return p
			}
		}
	}
	return plans[0]
}

func readRoleFacts(ctx context.Context, c *iam.Client, name string, now func() time.Time,
) (roleFacts, error) {
	f := roleFacts{Name: name}
	out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	if isCode(err, "NoSuchEntity") {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("get role %s: %w", name, err)
	}
	f.Found = true
	f.Age = now().Sub(aws.ToTime(out.Role.CreateDate))
	f.Trusted = trustedServices(aws.ToString(out.Role.AssumeRolePolicyDocument))
	return f, nil
}

// judgeRole decides from one role's facts.
func judgeRole(f roleFacts, service, source string, window, settle time.Duration) fixer.Plan {
	found := fmt.Sprintf("role %s (%s)", f.Name, source)
	if !f.Found {
		return fixer.Plan{Verdict: fixer.Wait, Action: found + " is not visible to IAM yet"}
	}
	age := f.Age.Round(time.Second)
	evidence := []string{fmt.Sprintf("%s was created %s ago", found, age)}
	if f.Age > window {
		return refuse(fmt.Sprintf("role %s was created %s ago, longer than the propagation "+
			"window of %s: IAM has propagated it, so the service cannot assume it because of "+
			"its trust policy or permissions; fix the configuration", f.Name, age, window),
			evidence...)
	}
	if service != "" && !contains(f.Trusted, service) {
		return refuse(fmt.Sprintf("role %s's trust policy lets %s assume it, not %s; waiting "+
			"cannot help", f.Name, listOrNone(f.Trusted), service), evidence...)
	}
	if service != "" {
		evidence = append(evidence, fmt.Sprintf("role %s trusts %s", f.Name, service))
	}
	if f.Age < settle {
		return fixer.Plan{Verdict: fixer.Wait, Evidence: evidence,
			Action: fmt.Sprintf("role %s is %s old; IAM needs about %s to propagate a new role",
				f.Name, age, settle)}
	}
	return nothing(fmt.Sprintf("role %s is %s old, within the propagation window, and has "+
		"had time to propagate", f.Name, age), evidence...)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "no service"
	}
	return strings.Join(xs, ", ")
}

// serviceWords map the names services use for themselves in their errors
// to their principals.
var serviceWords = map[string]string{
	"lambda": "lambda.amazonaws.com", "firehose": "firehose.amazonaws.com",
	"ecs": "ecs-tasks.amazonaws.com", "codebuild": "codebuild.amazonaws.com",
	"codepipeline": "codepipeline.amazonaws.com", "states": "states.amazonaws.com",
	"glue": "glue.amazonaws.com", "sagemaker": "sagemaker.amazonaws.com",
}

var serviceInFailure = regexp.MustCompile(`(?i)(?:cannot be assumed by (\w+)|\b(\w+) ` +
	`(?:is|was) unable to assume|\b(\w+) is not authorized to perform: sts:AssumeRole)`)

// serviceOf reads the principal the failure is about, or "".
func serviceOf(failure string) string {
	m := serviceInFailure.FindStringSubmatch(failure)
	if m == nil {
		return ""
	}
	for _, g := range m[1:] {
		if p, ok := serviceWords[strings.ToLower(g)]; ok && g != "" {
			return p
		}
	}
	return ""
}

// trustedServices lists the services a (URL-encoded) trust policy allows
// to assume the role.
func trustedServices(doc string) []string {
	if d, err := url.QueryUnescape(doc); err == nil {
		doc = d
	}
	var policy struct {
		Statement []struct {
			Effect    string
			Principal json.RawMessage
		}
	}
	if json.Unmarshal([]byte(doc), &policy) != nil {
		return nil
	}
	var out []string
	for _, s := range policy.Statement {
		var p struct{ Service json.RawMessage }
		if s.Effect != "Allow" || json.Unmarshal(s.Principal, &p) != nil {
			continue
		}
		var one string
		var many []string
		switch {
		case json.Unmarshal(p.Service, &one) == nil:
			out = append(out, one)
		case json.Unmarshal(p.Service, &many) == nil:
			out = append(out, many...)
		}
	}
	return out
}

// roleFromARN returns the name of a role ARN (the last path element).
func roleFromARN(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// rolesOf finds the roles a failure is about and says where they were
// found.
func rolesOf(ctx context.Context, req fixer.Request) ([]string, string, error) {
	if arn := req.Values.String("role_arn", ""); arn != "" {
		return []string{roleFromARN(arn)}, "named in the failure", nil
	}
	if req.Step.Tool == "aws" {
		for _, f := range []string{"--role", "--role-arn", "--execution-role-arn",
			"--service-role", "--task-role-arn"} {
			if arn := flagValue(req.Step.Args, f); arn != "" {
				return []string{roleFromARN(arn)}, "the step's " + f, nil
			}
		}
	}
	switch req.Step.Tool {
	case "terraform", "terragrunt", "tofu":
		names, err := stateRoles(ctx, req.Step, req.Values.String("resource", ""))
		return names, "in the terraform state beside " + req.Values.String("resource", ""), err
	}
	return nil, "", nil
}

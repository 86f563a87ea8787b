// Package aws holds the fixers that repair failures of AWS APIs: they
// remove what blocks a teardown (VPC dependencies, security group
// references, ENIs, Kubernetes load balancers, EKS node groups, bucket
// contents, IAM role attachments), clear names held by leftovers (DB
// subnet groups, secrets scheduled for deletion, log groups that a service
// created by itself), wait for AWS to catch up (ENI release, certificate
// validation, S3 conflicts, IAM propagation) and renew credentials (web
// identity, ECR logins).
//
// Every fixer calls AWS through aws-sdk-go-v2 with the job's credentials:
// the configuration is built from the step's environment, so
// AWS_ENDPOINT_URL, profiles and web identity work as they do for the step.
// Check reads live state only and refuses when the evidence is missing; it
// never acts on a resource tagged as owned by another stack (see
// [Ownership]). Apply reads the state again, acts in the order AWS
// requires, and is idempotent.
//
// The package does not decide whether a fixer may run (the policy does),
// and it does not parse the step's output: the pattern's captures arrive as
// inputs, with the step's own command line as a fallback for aws CLI steps.
package aws

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// apiCode returns the AWS error code of err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isCode reports whether err carries one of the AWS error codes.
func isCode(err error, codes ...string) bool {
	c := apiCode(err)
	for _, want := range codes {
		if c == want {
			return true
		}
	}
	return false
}

// value returns the input key, else the value of one of the aws CLI flags
// on the step's command line, else "".
func value(req fixer.Request, key string, flags ...string) string {
	if v := strings.TrimSpace(req.Values.String(key, "")); v != "" {
		return v
	}
	if req.Step.Tool != "aws" {
		return ""
	}
	return flagValue(req.Step.Args, flags...)
}

// flagValue finds `--flag value` or `--flag=value` in args.
func flagValue(args []string, flags ...string) string {
	for i, a := range args {
		for _, f := range flags {
			if v, ok := strings.CutPrefix(a, f+"="); ok {
				return v
			}
			if a == f && i+1 < len(args) {
				return args[i+1]
			}
		}
	}
	return ""
}

// Teardown reports whether the step deletes what it manages: a terraform,
// terragrunt or tofu destroy (or apply -destroy), an aws CLI delete-*
// operation (or `s3 rb`), or an eksctl delete.
func Teardown(step fixer.Step) bool {
	switch step.Tool {
	case "terraform", "terragrunt", "tofu":
		if step.Goal == "destroy" {
			return true
		}
		for _, a := range step.Args {
			if a == "-destroy" || a == "--destroy" {
				return true
			}
		}
	case "aws":
		return strings.HasPrefix(step.Goal, "delete-") || step.Goal == "rb"
	case "eksctl":
		return step.Goal == "delete"
	}
	return false
}

// teardownFact says whether the step is a teardown, as evidence.
func teardownFact(step fixer.Step) (bool, string) {
	cmd := strings.TrimSpace(step.Tool + " " + step.Goal)
	if Teardown(step) {
		return true, fmt.Sprintf("the step (%s) is a teardown", cmd)
	}
	if cmd == "" {
		cmd = "an unknown command"
	}
	return false, fmt.Sprintf("the step (%s) is not a destroy or delete", cmd)
}

// refuse returns a refusing plan with its evidence.
func refuse(action string, evidence ...string) fixer.Plan {
	return fixer.Plan{Verdict: fixer.Refuse, Action: action, Evidence: evidence}
}

// nothing returns a plan that has nothing to do.
func nothing(action string, evidence ...string) fixer.Plan {
	return fixer.Plan{Verdict: fixer.Nothing, Action: action, Evidence: evidence}
}

// plural returns "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// logf writes a progress line to the request's log.
func logf(req fixer.Request, format string, args ...any) {
	if req.Log != nil {
		req.Log.Info(fmt.Sprintf(format, args...))
	}
}

// stateChanged is returned by Apply when live state no longer supports the
// plan that Check made.
func stateChanged(plan fixer.Plan) error {
	return fmt.Errorf("live state changed since the check: %s", plan.Action)
}

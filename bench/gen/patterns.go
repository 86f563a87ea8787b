package main

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/self-heal/self-heal/pkg/pattern"
)

// The vocabulary of generated patterns: AWS-style services, operations,
// error codes and messages, so that the literals share words the way a
// team's patterns do.
var (
	services = strings.Fields("EC2 S3 IAM RDS EKS ECS Lambda DynamoDB SQS SNS KMS Route53 " +
		"ELBv2 CloudFront ACM SecretsManager CloudWatchLogs ECR EFS ElastiCache")
	verbs     = strings.Fields("Create Delete Modify Update Attach Detach Put Associate Tag")
	resources = strings.Fields("Vpc Subnet SecurityGroup Bucket Role Policy DBInstance Cluster " +
		"Nodegroup Function Table Queue Topic Key HostedZone LoadBalancer TargetGroup " +
		"Distribution Certificate Secret LogGroup Repository FileSystem ReplicationGroup")
	codeHeads = strings.Fields("Invalid Resource Limit Dependency Operation Conflict Request " +
		"Concurrent Entity Quota")
	codeTails = strings.Fields("NotFound InUse Exceeded Violation AlreadyExists Conflict " +
		"NotReady Malformed Pending Throttled")
	phrases = []string{
		"is currently being modified", "cannot be deleted while it is in use",
		"has reached its quota for this account", "already exists in the account",
		"is not in a valid state for this operation", "must be detached before it can be deleted",
		"was not found in this region", "is pending deletion", "has dependent objects",
		"is locked by another operation", "exceeds the maximum allowed size",
		"could not be reached within the timeout",
	}
	phraseRegexes = []string{
		`(?:is|was) (?:currently )?being modified`, `cannot be (?:deleted|removed) while`,
		`has reached (?:its|the) quota`, `already exists(?: in the account)?`,
		`is not in (?:a )?valid state`, `must be (?:detached|disassociated) before`,
		`was not found in (?:this )?region`, `is (?:pending|scheduled for) deletion`,
	}
)

// genPattern is one generated pattern.
type genPattern struct {
	id, title            string
	any, all, none       []cond
	captureName, capture string
}

// generate makes n patterns from a fixed seed, so that every run of the
// bench sees the same set.
func generate(n int) []genPattern {
	rng := rand.New(rand.NewPCG(7, uint64(n)))
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	out := make([]genPattern, 0, n)
	for i := range n {
		svc, verb, res := pick(services), pick(verbs), pick(resources)
		code := pick(codeHeads) + res + "." + pick(codeTails)
		noun := strings.ToLower(res)
		p := genPattern{
			id:    fmt.Sprintf("gen-%04d", i),
			title: fmt.Sprintf("%s %s%s fails with %s", svc, verb, res, code),
		}
		p.any = append(p.any, cond{literal: fmt.Sprintf("%s: The %s %s", code, noun, pick(phrases))})
		if i%2 == 0 {
			p.any = append(p.any, cond{regex: fmt.Sprintf(`(?i)the %s '[^']+' %s`, noun,
				pick(phraseRegexes))})
		}
		if i%3 == 0 {
			p.all = append(p.all, cond{regex: fmt.Sprintf(`operation error %s: %s%s,[^\n]*%s`,
				svc, verb, res, strings.SplitN(code, ".", 2)[0])})
		}
		if i%4 == 0 {
			p.none = append(p.none, cond{literal: pick(phrases) + " (will retry)"})
		}
		if i%2 == 1 {
			p.captureName = "resource_id"
			p.capture = fmt.Sprintf(`%s '([^']+)'`, noun)
		}
		out = append(out, p)
	}
	return out
}

func (p genPattern) conds() []cond {
	return append(append(append([]cond{}, p.any...), p.all...), p.none...)
}

func (p genPattern) yaml() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  - id: %s\n    title: %s\n    category: aws\n    match:\n", p.id, p.title)
	for _, part := range []struct {
		key   string
		conds []cond
	}{{"any", p.any}, {"all", p.all}, {"none", p.none}} {
		if len(part.conds) == 0 {
			continue
		}
		fmt.Fprintf(&b, "      %s:\n", part.key)
		for _, c := range part.conds {
			fmt.Fprintf(&b, "        - %s\n", c.yaml())
		}
	}
	if p.captureName != "" {
		fmt.Fprintf(&b, "    capture:\n      %s: '%s'\n", p.captureName,
			strings.ReplaceAll(p.capture, "'", "''"))
	}
	return b.String()
}

// catalogueConds returns every condition of the built-in catalogue.
func catalogueConds() ([]cond, error) {
	files, err := pattern.ReadPath("patterns", false)
	if err != nil {
		return nil, err
	}
	var out []cond
	for _, f := range files {
		for _, p := range f.Patterns {
			for _, cs := range [][]pattern.Cond{p.Match.Any, p.Match.All, p.Match.None} {
				for _, c := range cs {
					out = append(out, cond{literal: c.Literal, regex: c.Regex})
				}
			}
		}
	}
	return out, nil
}

package aws

import (
	"fmt"
	"sort"
	"strings"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Tag keys that say who owns a resource.
const (
	// DefaultStackTag is the tag that names the stack owning a resource,
	// unless a pattern sets `with: {stack_tag: ...}`.
	DefaultStackTag = "Stack"
	// cfnStackTag is set by CloudFormation on every resource of a stack.
	cfnStackTag = "aws:cloudformation:stack-name"
	// k8sClusterPrefix + name is set to "owned" by Kubernetes' cloud
	// provider on what it creates for the cluster, and to "shared" on what
	// the cluster only uses.
	k8sClusterPrefix = "kubernetes.io/cluster/"
	// lbcClusterTag is set by the AWS Load Balancer Controller.
	lbcClusterTag = "elbv2.k8s.aws/cluster"
	// eksClusterTag is set by EKS on what it creates for a cluster.
	eksClusterTag = "aws:eks:cluster-name"
	// eksctlClusterTag is set by eksctl on its stacks' resources.
	eksctlClusterTag = "alpha.eksctl.io/cluster-name"
)

// ClaimKind says who a resource's tags name as its owner.
type ClaimKind int

// The kinds of ownership tags tell apart.
const (
	// Unclaimed resources carry no ownership tag.
	Unclaimed ClaimKind = iota
	// Ours carries the stack tag with this stack's name.
	Ours
	// OtherStack carries the stack tag with another stack's name.
	OtherStack
	// CloudFormation resources belong to a CloudFormation stack.
	CloudFormation
	// Cluster resources were created by a Kubernetes cluster's
	// controllers (or by EKS or eksctl for the cluster).
	Cluster
)

// Claim is who a resource's tags name as its owner.
type Claim struct {
	Kind ClaimKind
	// Owner is the stack or cluster named; Tag is the tag that names it.
	Owner, Tag string
}

// Foreign reports whether the claim forbids a generic fixer to touch the
// resource: anything owned by another stack, CloudFormation or a cluster.
func (c Claim) Foreign() bool {
	return c.Kind == OtherStack || c.Kind == CloudFormation || c.Kind == Cluster
}

// String says who owns the resource, for evidence.
func (c Claim) String() string {
	switch c.Kind {
	case Ours:
		return fmt.Sprintf("this stack (%s=%s)", c.Tag, c.Owner)
	case OtherStack:
		return fmt.Sprintf("stack %q (%s=%s)", c.Owner, c.Tag, c.Owner)
	case CloudFormation:
		return fmt.Sprintf("CloudFormation stack %q (%s)", c.Owner, c.Tag)
	case Cluster:
		return fmt.Sprintf("Kubernetes cluster %q (%s)", c.Owner, c.Tag)
	}
	return "no owner tag"
}

// Ownership tells this stack's resources from others' by their tags. The
// stack tag (DefaultStackTag unless configured) names the owning stack;
// CloudFormation and Kubernetes ownership tags name owners that are never
// this stack. Resources without any of these tags are unclaimed.
type Ownership struct {
	// Stack is this stack's name; StackTag is the tag key that holds it.
	Stack, StackTag string
}

// ownershipInputs are the inputs every fixer that judges ownership reads.
func ownershipInputs() []fixer.Input {
	return []fixer.Input{
		{Name: "stack", Type: fixer.String,
			Doc: "this stack's name in the stack tag (default: the step's stack)"},
		{Name: "stack_tag", Type: fixer.String, Default: DefaultStackTag,
			Doc: "tag key that names the stack owning a resource"},
	}
}

// ownershipOf reads the ownership settings of a request.
func ownershipOf(req fixer.Request) Ownership {
	return Ownership{
		Stack:    req.Values.String("stack", req.Step.Stack),
		StackTag: req.Values.String("stack_tag", DefaultStackTag),
	}
}

// Judge returns who tags names as the owner. The stack tag decides first,
// then CloudFormation's tag, then a cluster's "owned" tags. A cluster's
// "shared" tag is not ownership: the cluster only uses the resource.
func (o Ownership) Judge(tags map[string]string) Claim {
	if v, ok := tags[o.StackTag]; ok && o.StackTag != "" {
		if v == o.Stack {
			return Claim{Kind: Ours, Owner: v, Tag: o.StackTag}
		}
		return Claim{Kind: OtherStack, Owner: v, Tag: o.StackTag}
	}
	if v, ok := tags[cfnStackTag]; ok {
		return Claim{Kind: CloudFormation, Owner: v, Tag: cfnStackTag}
	}
	if name, tag := clusterOf(tags); name != "" {
		return Claim{Kind: Cluster, Owner: name, Tag: tag}
	}
	return Claim{Kind: Unclaimed}
}

// describe is the evidence line saying how ownership is told.
func (o Ownership) describe() string {
	return fmt.Sprintf("ownership is read from the %s tag (this stack: %q), CloudFormation's "+
		"and Kubernetes' ownership tags", o.StackTag, o.Stack)
}

// clusterOf returns the cluster that tags say owns a resource, and the tag
// that says so.
func clusterOf(tags map[string]string) (name, tag string) {
	for _, k := range []string{lbcClusterTag, eksClusterTag, eksctlClusterTag} {
		if v := tags[k]; v != "" {
			return v, k
		}
	}
	for _, k := range sortedKeys(tags) {
		if n, ok := strings.CutPrefix(k, k8sClusterPrefix); ok && tags[k] == "owned" {
			return n, k + "=owned"
		}
	}
	return "", ""
}

// clustersNamed returns the clusters any k8s cluster tag names, owned or
// shared.
func clustersNamed(tags map[string]string) []string {
	var out []string
	for _, k := range sortedKeys(tags) {
		if n, ok := strings.CutPrefix(k, k8sClusterPrefix); ok && n != "" {
			out = append(out, n)
		}
	}
	for _, k := range []string{lbcClusterTag, eksClusterTag, eksctlClusterTag} {
		if v := tags[k]; v != "" {
			out = append(out, v)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// resource is one AWS resource a fixer may act on.
type resource struct {
	// Kind names the resource type for people ("security group").
	Kind string
	ID   string
	Tags map[string]string
}

func (r resource) String() string { return r.Kind + " " + r.ID }

// foreign returns the resources another owner claims, each described with
// its owner, in order.
func (o Ownership) foreign(rs []resource) []string {
	var out []string
	for _, r := range rs {
		if c := o.Judge(r.Tags); c.Foreign() {
			out = append(out, fmt.Sprintf("%s belongs to %s", r, c))
		}
	}
	return out
}

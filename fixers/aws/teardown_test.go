package aws

import (
	"testing"

	"github.com/self-heal/self-heal/pkg/fixer"
)

var (
	destroy = fixer.Step{Tool: "terraform", Goal: "destroy", Args: []string{"terraform", "destroy"}}
	apply   = fixer.Step{Tool: "terraform", Goal: "apply", Args: []string{"terraform", "apply"}}
)

func TestTeardown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		step fixer.Step
		want bool
	}{
		{destroy, true},
		{apply, false},
		{fixer.Step{Tool: "terraform", Goal: "apply", Args: []string{"terraform", "apply",
			"-destroy"}}, true},
		{fixer.Step{Tool: "terragrunt", Goal: "destroy"}, true},
		{fixer.Step{Tool: "aws", Goal: "delete-bucket"}, true},
		{fixer.Step{Tool: "aws", Goal: "rb"}, true},
		{fixer.Step{Tool: "aws", Goal: "create-bucket"}, false},
		{fixer.Step{Tool: "eksctl", Goal: "delete"}, true},
		{fixer.Step{Tool: "make", Goal: ""}, false},
	}
	for _, tt := range tests {
		if got := Teardown(tt.step); got != tt.want {
			t.Errorf("Teardown(%s %s %v) = %v, want %v", tt.step.Tool, tt.step.Goal,
				tt.step.Args, got, tt.want)
		}
	}
}

func TestPlanEmpty(t *testing.T) {
	t.Parallel()
	full := func() *bucketState {
		return &bucketState{Name: "b", Found: true, Tags: ours(), Versions: 1200, Markers: 60}
	}
	tests := []struct {
		name   string
		edit   func(*bucketState)
		step   fixer.Step
		want   fixer.Verdict
		action string
	}{
		{"versions to delete", func(*bucketState) {}, destroy, fixer.Act,
			"delete every object version and delete marker in bucket b (1260 entries)"},
		{"counting stopped", func(s *bucketState) { s.More = true }, destroy, fixer.Act,
			"(at least 1260 entries)"},
		{"not a teardown", func(*bucketState) {}, apply, fixer.Refuse,
			"the step (terraform apply) is not a destroy or delete"},
		{"other stack", func(s *bucketState) { s.Tags = other() }, destroy, fixer.Refuse,
			`belongs to stack "infra/other"`},
		{"cloudformation", func(s *bucketState) {
			s.Tags = map[string]string{"aws:cloudformation:stack-name": "cdk-assets"}
		}, destroy, fixer.Refuse, `CloudFormation stack "cdk-assets"`},
		{"object lock", func(s *bucketState) { s.ObjectLock = true }, destroy, fixer.Refuse,
			"Object Lock"},
		{"empty", func(s *bucketState) { s.Versions, s.Markers = 0, 0 }, destroy,
			fixer.Nothing, "bucket b is empty"},
		{"gone", func(s *bucketState) { s.Found = false }, apply, fixer.Nothing,
			"no longer exists"},
		{"untagged", func(s *bucketState) { s.Tags = nil }, destroy, fixer.Act, "bucket b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := full()
			tt.edit(st)
			got := planEmpty(st, tt.step, testOwn)
			if got.Verdict != tt.want {
				t.Fatalf("planEmpty() verdict = %v (%s), want %v", got.Verdict, got.Action, tt.want)
			}
			requireInOrder(t, got.Action, []string{tt.action})
		})
	}
}

func TestPlanEKS(t *testing.T) {
	t.Parallel()
	full := func() *eksInventory {
		return &eksInventory{Cluster: resource{Kind: "EKS cluster", ID: "demo", Tags: ours()},
			Found:    true,
			Groups:   []resource{{Kind: "node group", ID: "ng-a"}},
			Profiles: []resource{{Kind: "Fargate profile", ID: "fp"}}}
	}
	tests := []struct {
		name   string
		edit   func(*eksInventory)
		step   fixer.Step
		want   fixer.Verdict
		action string
	}{
		{"attached", func(*eksInventory) {}, destroy, fixer.Act,
			"delete node group ng-a; delete Fargate profile fp of EKS cluster demo"},
		{"not a teardown", func(*eksInventory) {}, apply, fixer.Refuse, "torn down"},
		{"cluster of cloudformation", func(i *eksInventory) {
			i.Cluster.Tags = map[string]string{"aws:cloudformation:stack-name": "eksctl-demo"}
		}, destroy, fixer.Refuse, "CloudFormation"},
		{"node group of eksctl for this cluster", func(i *eksInventory) {
			i.Groups[0].Tags = map[string]string{"alpha.eksctl.io/cluster-name": "demo"}
		}, destroy, fixer.Act, "ng-a"},
		{"node group of another stack", func(i *eksInventory) { i.Groups[0].Tags = other() },
			destroy, fixer.Refuse, `node group ng-a of cluster demo belongs to stack`},
		{"nothing attached", func(i *eksInventory) { i.Groups, i.Profiles = nil, nil },
			destroy, fixer.Nothing, "no node groups or Fargate profiles left"},
		{"gone", func(i *eksInventory) { i.Found = false }, destroy, fixer.Nothing,
			"no longer exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := full()
			tt.edit(inv)
			got := planEKS(inv, tt.step, testOwn)
			if got.Verdict != tt.want {
				t.Fatalf("planEKS() verdict = %v (%s), want %v", got.Verdict, got.Action, tt.want)
			}
			requireInOrder(t, got.Action, []string{tt.action})
		})
	}
}

func TestPlanK8s(t *testing.T) {
	t.Parallel()
	owned := map[string]string{"kubernetes.io/cluster/demo": "owned"}
	full := func() *k8sInventory {
		return &k8sInventory{VPC: "vpc-1", Named: []string{"demo"}, Cluster: "demo",
			LBs:     []resource{{Kind: "load balancer", ID: "arn:lb", Tags: owned}},
			Groups:  []securityGroup{{resource: resource{Kind: "security group", ID: "sg-elb"}, Name: "k8s-elb-a"}},
			Refs:    []sgRef{{From: "sg-node", To: "sg-elb"}},
			Holders: map[string]resource{"sg-node": {Kind: "security group", ID: "sg-node", Tags: owned}},
		}
	}
	tests := []struct {
		name   string
		edit   func(*k8sInventory)
		want   fixer.Verdict
		action string
	}{
		{"leftovers", func(*k8sInventory) {}, fixer.Act,
			"delete what cluster demo left in vpc vpc-1: delete load balancer arn:lb; revoke"},
		{"cluster alive", func(i *k8sInventory) { i.Status = "ACTIVE" }, fixer.Refuse,
			"EKS cluster demo still exists (ACTIVE)"},
		{"no cluster named", func(i *k8sInventory) { i.Cluster, i.Named = "", nil },
			fixer.Refuse, "no Kubernetes cluster is named"},
		{"two clusters", func(i *k8sInventory) { i.Cluster, i.Named = "", []string{"a", "b"} },
			fixer.Refuse, "several clusters (a, b)"},
		{"rule in another stack's group", func(i *k8sInventory) {
			i.Holders["sg-node"] = resource{Kind: "security group", ID: "sg-node", Tags: other()}
		}, fixer.Refuse, `security group sg-node, which belongs to stack "infra/other"`},
		{"nothing left", func(i *k8sInventory) { i.LBs, i.Groups, i.Refs = nil, nil, nil },
			fixer.Nothing, "no load balancer, target group or security group of cluster demo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := full()
			tt.edit(inv)
			got := planK8s(inv, testOwn)
			if got.Verdict != tt.want {
				t.Fatalf("planK8s() verdict = %v (%s), want %v", got.Verdict, got.Action, tt.want)
			}
			requireInOrder(t, got.Action, []string{tt.action})
		})
	}
}

func TestIsLBGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tags map[string]string
		want bool
	}{
		{"k8s-elb-a1b2", map[string]string{"kubernetes.io/cluster/demo": "owned"}, true},
		{"k8s-default-web-1a2b", map[string]string{"elbv2.k8s.aws/cluster": "demo"}, true},
		{"eks-cluster-sg-demo-1", map[string]string{"kubernetes.io/cluster/demo": "owned",
			"aws:eks:cluster-name": "demo"}, false},
		{"demo-node", map[string]string{"kubernetes.io/cluster/demo": "owned"}, false},
	}
	for _, tt := range tests {
		if got := isLBGroup(tt.name, tt.tags); got != tt.want {
			t.Errorf("isLBGroup(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

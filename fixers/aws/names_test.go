package aws

import (
	"testing"
	"time"

	"github.com/self-heal/self-heal/pkg/fixer"
)

func TestPlanDBGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		st     dbGroupState
		want   fixer.Verdict
		action string
	}{
		{"orphan", dbGroupState{Found: true, VPC: "vpc-1"}, fixer.Act,
			"delete the orphan DB subnet group g"},
		{"in use", dbGroupState{Found: true, Users: []string{"DB instance orders"}},
			fixer.Refuse, "in use by DB instance orders; import it"},
		{"other stack", dbGroupState{Found: true, Group: resource{Tags: other()}},
			fixer.Refuse, `belongs to stack "infra/other"`},
		{"gone", dbGroupState{}, fixer.Nothing, "no longer exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := tt.st
			st.Group.ID = "g"
			got := planDBGroup(&st, testOwn)
			if got.Verdict != tt.want {
				t.Fatalf("planDBGroup() verdict = %v (%s), want %v", got.Verdict, got.Action, tt.want)
			}
			requireInOrder(t, got.Action, []string{tt.action})
		})
	}
}

func TestPlanSecret(t *testing.T) {
	t.Parallel()
	when := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		st     secretState
		want   fixer.Verdict
		action string
	}{
		{"scheduled", secretState{Found: true, Deleted: &when}, fixer.Act,
			"delete secret s for good"},
		{"not scheduled", secretState{Found: true}, fixer.Refuse,
			"exists and is not scheduled for deletion; import it"},
		{"other stack", secretState{Found: true, Deleted: &when,
			Secret: resource{Tags: other()}}, fixer.Refuse, `belongs to stack "infra/other"`},
		{"gone", secretState{}, fixer.Nothing, "no longer exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := tt.st
			st.Secret.ID = "s"
			got := planSecret(&st, testOwn)
			if got.Verdict != tt.want {
				t.Fatalf("planSecret() verdict = %v (%s), want %v", got.Verdict, got.Action, tt.want)
			}
			requireInOrder(t, got.Action, []string{tt.action})
		})
	}
}

func TestPlanLogGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		st      logGroupState
		address string
		want    fixer.Verdict
		action  string
	}{
		{"eks created it", logGroupState{Name: "/aws/eks/demo/cluster", Found: true, Bytes: 42},
			"", fixer.Act, "delete log group /aws/eks/demo/cluster, which EKS created by itself " +
				"(42 bytes of logs are lost)"},
		{"lambda created it", logGroupState{Name: "/aws/lambda/resize", Found: true}, "",
			fixer.Act, "which Lambda created by itself"},
		{"near miss 05: another stack's group",
			logGroupState{Name: "/aws/eks/learnk8s/cluster", Found: true, Retention: 90,
				Tags: map[string]string{"Stack": "infra/eks-a"}},
			"module.eks.aws_cloudwatch_log_group.this[0]", fixer.Refuse,
			`belongs to stack "infra/eks-a" (Stack=infra/eks-a); import it instead (terraform ` +
				`import 'module.eks.aws_cloudwatch_log_group.this[0]' '/aws/eks/learnk8s/cluster')`},
		{"tags of no stack", logGroupState{Name: "/aws/eks/demo/cluster", Found: true,
			Tags: map[string]string{"team": "platform"}}, "", fixer.Refuse,
			"has tags (team=platform), which EKS never sets: a stack manages it; import it"},
		{"retention", logGroupState{Name: "/aws/eks/demo/cluster", Found: true, Retention: 7},
			"", fixer.Refuse, "a retention of 7 days"},
		{"kms key", logGroupState{Name: "/aws/eks/demo/cluster", Found: true, KMSKey: "k"},
			"", fixer.Refuse, "KMS key k"},
		{"not a service's name", logGroupState{Name: "/app/web", Found: true}, "",
			fixer.Refuse, "does not follow the naming"},
		{"gone", logGroupState{Name: "/aws/eks/demo/cluster"}, "", fixer.Nothing,
			"no longer exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := tt.st
			got := planLogGroup(&st, tt.address, testOwn)
			if got.Verdict != tt.want {
				t.Fatalf("planLogGroup() verdict = %v (%s), want %v", got.Verdict, got.Action,
					tt.want)
			}
			requireInOrder(t, got.Action, []string{tt.action})
		})
	}
}

func TestPlanRole(t *testing.T) {
	t.Parallel()
	full := roleState{Role: resource{ID: "r", Tags: ours()}, Found: true,
		Managed: []string{"arn:p"}, Inline: []string{"i"}, Profiles: []string{"ip"}}
	tests := []struct {
		name   string
		edit   func(*roleState)
		want   fixer.Verdict
		action string
	}{
		{"attached", func(*roleState) {}, fixer.Act, "free role r: detach managed policy " +
			"arn:p; delete inline policy i; remove it from instance profile ip"},
		{"service-linked", func(s *roleState) { s.Path = "/aws-service-role/elb.amazonaws.com/" },
			fixer.Refuse, "service-linked"},
		{"other stack", func(s *roleState) { s.Role.Tags = other() }, fixer.Refuse,
			`belongs to stack "infra/other"`},
		{"nothing attached", func(s *roleState) { s.Managed, s.Inline, s.Profiles = nil, nil, nil },
			fixer.Nothing, "no policies or instance profiles left"},
		{"gone", func(s *roleState) { s.Found = false }, fixer.Nothing, "no longer exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := full
			tt.edit(&st)
			got := planRole(&st, "fact", testOwn)
			if got.Verdict != tt.want {
				t.Fatalf("planRole() verdict = %v (%s), want %v", got.Verdict, got.Action, tt.want)
			}
			requireInOrder(t, got.Action, []string{tt.action})
		})
	}
}

func TestRoleName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  fixer.Request
		want string
	}{
		{"capture", fixer.Request{Values: fixer.Values{"role_name": "r"}}, "r"},
		{"aws delete-role", fixer.Request{Step: fixer.Step{Tool: "aws", Goal: "delete-role",
			Args: []string{"aws", "iam", "delete-role", "--role-name", "r2"}}}, "r2"},
		{"aws delete-policy", fixer.Request{Step: fixer.Step{Tool: "aws", Goal: "delete-policy",
			Args: []string{"aws", "iam", "delete-policy", "--role-name", "r3"}}}, ""},
	}
	for _, tt := range tests {
		if got, _ := roleName(tt.req); got != tt.want {
			t.Errorf("%s: roleName() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

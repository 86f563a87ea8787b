package aws

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/fixer"
)

func TestJudgeRole(t *testing.T) {
	t.Parallel()
	lambda := "lambda.amazonaws.com"
	tests := []struct {
		name    string
		facts   roleFacts
		service string
		want    fixer.Verdict
		action  string
	}{
		{"new role", roleFacts{Name: "r", Found: true, Age: 3 * time.Second,
			Trusted: []string{lambda}}, lambda, fixer.Wait, "role r is 3s old; IAM needs about 10s"},
		{"settled", roleFacts{Name: "r", Found: true, Age: 40 * time.Second,
			Trusted: []string{lambda}}, lambda, fixer.Nothing, "within the propagation window"},
		{"near miss 07: old role", roleFacts{Name: "r", Found: true, Age: 3 * time.Hour,
			Trusted: []string{lambda}}, lambda, fixer.Refuse,
			"role r was created 3h0m0s ago, longer than the propagation window of 2m0s"},
		{"trust lacks the service", roleFacts{Name: "r", Found: true, Age: time.Second,
			Trusted: []string{"edgelambda.amazonaws.com"}}, lambda, fixer.Refuse,
			"lets edgelambda.amazonaws.com assume it, not lambda.amazonaws.com"},
		{"service unknown", roleFacts{Name: "r", Found: true, Age: time.Minute}, "",
			fixer.Nothing, "has had time"},
		{"not visible", roleFacts{Name: "r"}, lambda, fixer.Wait, "not visible to IAM yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := judgeRole(tt.facts, tt.service, "named in the failure", 2*time.Minute,
				10*time.Second)
			if got.Verdict != tt.want {
				t.Fatalf("judgeRole() verdict = %v (%s), want %v", got.Verdict, got.Action, tt.want)
			}
			requireInOrder(t, got.Action, []string{tt.action})
		})
	}
}

func TestServiceOf(t *testing.T) {
	t.Parallel()
	tests := []struct{ failure, want string }{
		{"The role defined for the function cannot be assumed by Lambda.", "lambda.amazonaws.com"},
		{"Firehose is unable to assume role arn:aws:iam::1:role/x", "firehose.amazonaws.com"},
		{"ECS was unable to assume the role", "ecs-tasks.amazonaws.com"},
		{"CodeBuild is not authorized to perform: sts:AssumeRole on x", "codebuild.amazonaws.com"},
		{"Invalid principal in policy", ""},
	}
	for _, tt := range tests {
		if got := serviceOf(tt.failure); got != tt.want {
			t.Errorf("serviceOf(%q) = %q, want %q", tt.failure, got, tt.want)
		}
	}
}

func TestTrustedServices(t *testing.T) {
	t.Parallel()
	tests := []struct {
		doc  string
		want []string
	}{
		{`{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"}}]}`,
			[]string{"lambda.amazonaws.com"}},
		{`%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22` +
			`Service%22%3A%5B%22a%22%2C%22b%22%5D%7D%7D%5D%7D`, []string{"a", "b"}},
		{`{"Statement":[{"Effect":"Deny","Principal":{"Service":"x"}},` +
			`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"}}]}`, nil},
		{`not json`, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, trustedServices(tt.doc)); diff != "" {
			t.Errorf("trustedServices(%q) mismatch (-want +got):\n%s", tt.doc, diff)
		}
	}
}

func TestRolesInModule(t *testing.T) {
	t.Parallel()
	state := []byte(`{"resources":[
	 {"module":"module.test_lambda","mode":"managed","type":"aws_iam_role",
	  "instances":[{"attributes":{"name":"lambda-role"}}]},
	 {"module":"module.other","mode":"managed","type":"aws_iam_role",
	  "instances":[{"attributes":{"name":"other-role"}}]},
	 {"mode":"managed","type":"aws_iam_role","instances":[{"attributes":{"name":"root-role"}}]},
	 {"module":"module.test_lambda","mode":"data","type":"aws_iam_role",
	  "instances":[{"attributes":{"name":"read-only"}}]}]}`)
	tests := []struct {
		address string
		want    []string
	}{
		{"module.test_lambda.aws_lambda_function.this[0]", []string{"lambda-role"}},
		{`module.test_lambda["x"].aws_lambda_function.this`, []string{"lambda-role"}},
		{"aws_lambda_function.fn", []string{"root-role"}},
	}
	for _, tt := range tests {
		got, err := rolesInModule(state, tt.address)
		if err != nil {
			t.Fatalf("rolesInModule(%q) error = %v", tt.address, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("rolesInModule(%q) mismatch (-want +got):\n%s", tt.address, diff)
		}
	}
}

func TestPlanCert(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		st     certState
		want   fixer.Verdict
		action string
	}{
		{"issued", certState{ARN: "c", Status: "ISSUED"}, fixer.Nothing, "is issued"},
		{"pending with records", certState{ARN: "c", Status: "PENDING_VALIDATION"}, fixer.Act,
			"wait up to 10m0s for ACM to issue certificate c"},
		{"pending elsewhere", certState{ARN: "c", Status: "PENDING_VALIDATION",
			Unchecked: []string{"example.org"}}, fixer.Act, "wait up to"},
		{"record missing", certState{ARN: "c", Status: "PENDING_VALIDATION",
			Missing: []string{"_x.example.com. CNAME _y in zone example.com. (Z1)"}},
			fixer.Refuse, "missing; create them, waiting cannot help: _x.example.com."},
		{"failed", certState{ARN: "c", Status: "FAILED"}, fixer.Refuse, "c is FAILED"},
		{"timed out", certState{ARN: "c", Status: "VALIDATION_TIMED_OUT"}, fixer.Refuse,
			"request a new one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := tt.st
			got := planCert(&st, 10*time.Minute)
			if got.Verdict != tt.want {
				t.Fatalf("planCert() verdict = %v (%s), want %v", got.Verdict, got.Action, tt.want)
			}
			requireInOrder(t, got.Action, []string{tt.action})
		})
	}
}

func TestZoneFor(t *testing.T) {
	t.Parallel()
	zones := []zone{{"Z1", "example.com."}, {"Z2", "dev.example.com."}, {"Z3", "ample.com."}}
	tests := []struct{ name, want string }{
		{"_a.app.example.com.", "Z1"},
		{"_a.api.dev.example.com.", "Z2"},
		{"_a.example.org.", ""},
	}
	for _, tt := range tests {
		got, _ := zoneFor(zones, tt.name)
		if got.ID != tt.want {
			t.Errorf("zoneFor(%q) = %q, want %q", tt.name, got.ID, tt.want)
		}
	}
}

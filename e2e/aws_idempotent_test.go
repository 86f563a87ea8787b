//go:build e2e

package e2e

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	awsfix "github.com/self-heal/self-heal/fixers/aws"
	"github.com/self-heal/self-heal/pkg/fixer"
)

// TestAWSFixers_SecondRunHasNothingToDo runs each fixer that changes AWS
// twice against moto, in this process: the first Apply changes what Check
// planned; then Check finds nothing to do and a second Apply changes
// nothing.
func TestAWSFixers_SecondRunHasNothingToDo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fx    fixer.Fixer
		setup func(t *testing.T, w *awsWorld) (fixer.Values, []string)
	}{
		{"vpc dependencies", awsfix.DeleteVPCDependencies{},
			func(t *testing.T, w *awsWorld) (fixer.Values, []string) {
				v := buildVPC(t, w, "10.61")
				return fixer.Values{"vpc_id": v.id}, []string{"aws", "ec2", "delete-vpc"}
			}},
		{"security group references", awsfix.RevokeSGReferences{},
			func(t *testing.T, w *awsWorld) (fixer.Values, []string) {
				s := buildSGScene(t, w)
				return fixer.Values{"security_group_id": s.app},
					[]string{"aws", "ec2", "delete-security-group"}
			}},
		{"available ENIs", awsfix.DeleteAvailableENIs{},
			func(t *testing.T, w *awsWorld) (fixer.Values, []string) {
				s := buildSubnetScene(t, w)
				_, err := w.ec2.DeleteNetworkInterface(awsCtx, &ec2.DeleteNetworkInterfaceInput{
					NetworkInterfaceId: &s.lambda})
				noErr(t, err, "delete the Lambda ENI")
				return fixer.Values{"subnet_id": s.subnet}, []string{"aws", "ec2", "delete-subnet"}
			}},
		{"kubernetes load balancers", awsfix.DeleteK8sLoadBalancers{},
			func(t *testing.T, w *awsWorld) (fixer.Values, []string) {
				s := buildK8sScene(t, w)
				return fixer.Values{"vpc_id": s.vpc},
					[]string{"aws", "ec2", "detach-internet-gateway"}
			}},
		{"EKS node groups", awsfix.DeleteEKSNodegroups{},
			func(t *testing.T, w *awsWorld) (fixer.Values, []string) {
				buildEKSScene(t, w, nil)
				return fixer.Values{"cluster": "demo"}, []string{"aws", "eks", "delete-cluster"}
			}},
		{"bucket contents", awsfix.EmptyBucket{},
			func(t *testing.T, w *awsWorld) (fixer.Values, []string) {
				w.fillBucket("assets", 20)
				return fixer.Values{"bucket": "assets"}, []string{"aws", "s3api", "delete-bucket"}
			}},
		{"orphan DB subnet group", awsfix.DeleteOrphanDBSubnetGroup{},
			func(t *testing.T, w *awsWorld) (fixer.Values, []string) {
				dbGroupScene(t, w)
				return fixer.Values{"db_subnet_group": "app-db"},
					[]string{"aws", "rds", "create-db-subnet-group"}
			}},
		{"scheduled secret", awsfix.PurgeDeletedSecret{},
			func(t *testing.T, w *awsWorld) (fixer.Values, []string) {
				_, err := w.secrets.CreateSecret(awsCtx, &secretsmanager.CreateSecretInput{
					Name: aws.String("old"), SecretString: aws.String("x")})
				noErr(t, err, "create secret")
				_, err = w.secrets.DeleteSecret(awsCtx, &secretsmanager.DeleteSecretInput{
					SecretId: aws.String("old")})
				noErr(t, err, "schedule the secret for deletion")
				return fixer.Values{"secret": "old"},
					[]string{"aws", "secretsmanager", "create-secret"}
			}},
		{"auto-created log group", awsfix.DeleteAutoCreatedLogGroup{},
			func(t *testing.T, w *awsWorld) (fixer.Values, []string) {
				w.logGroup("/aws/lambda/resize", 0, nil)
				return fixer.Values{"log_group": "/aws/lambda/resize"},
					[]string{"aws", "logs", "create-log-group"}
			}},
		{"role attachments", awsfix.DetachRoleDependencies{},
			func(t *testing.T, w *awsWorld) (fixer.Values, []string) {
				roleScene(t, w)
				return fixer.Values{"role_name": "app-role"},
					[]string{"aws", "iam", "delete-role"}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newAWSWorld(t)
			values, args := tt.setup(t, w)
			req := fixer.Request{Values: values, Log: slog.New(slog.DiscardHandler),
				Step: fixer.Step{Tool: args[0], Goal: args[2], Args: args, Env: w.env,
					Dir: w.dir, Stack: ourStack, ArtifactDir: t.TempDir()}}
			twice(t, tt.fx, req)
		})
	}
}

// twice checks one fixer's plan, applies it, and checks with [again] that
// a second round has nothing left to do and says why.
func twice(t *testing.T, fx fixer.Fixer, req fixer.Request, why ...string) fixer.Result {
	t.Helper()
	ctx := context.Background()
	plan, err := fx.Check(ctx, req)
	noErr(t, err, "first check")
	if plan.Verdict != fixer.Act {
		t.Fatalf("first check: %v (%s), want act", plan.Verdict, plan.Action)
	}
	res, err := fx.Apply(ctx, req)
	noErr(t, err, "first apply")
	if len(res.Changed) == 0 {
		t.Fatalf("first apply changed nothing")
	}
	return again(t, fx, req, why...)
}

// again is the second round of a fixer whose fix is done: Check must find
// nothing to do and say why, in words that contain every why; Apply must
// change nothing. It returns what the second Apply reported.
func again(t *testing.T, fx fixer.Fixer, req fixer.Request, why ...string) fixer.Result {
	t.Helper()
	ctx := context.Background()
	plan, err := fx.Check(ctx, req)
	noErr(t, err, "second check")
	if plan.Verdict != fixer.Nothing || plan.Action == "" {
		t.Errorf("%s second check: %v %q, want nothing to do and why", fx.Name(), plan.Verdict,
			plan.Action)
	}
	for _, w := range why {
		if !strings.Contains(plan.Action, w) {
			t.Errorf("%s second check says %q, want it to say %q", fx.Name(), plan.Action, w)
		}
	}
	res, err := fx.Apply(ctx, req)
	noErr(t, err, "second apply")
	if len(res.Changed) > 0 {
		t.Errorf("%s second apply changed %q, want nothing", fx.Name(), res.Changed)
	}
	return res
}

// TestAWSWaitENIRelease_SecondRunHasNothingToDo runs the wait for a Lambda
// ENI twice in a row: the first run waits, changing nothing, until Lambda
// releases the ENI; the second finds no ENI that AWS manages left in the
// subnet, says so, and returns without waiting.
func TestAWSWaitENIRelease_SecondRunHasNothingToDo(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	s := buildSubnetScene(t, w)
	fx := awsfix.WaitENIRelease{}
	req := fixer.Request{
		Values: fixer.Values{"subnet_id": s.subnet, "interval": "1s", "timeout": "1m"},
		Step: fixer.Step{Tool: "aws", Args: []string{"aws", "ec2", "delete-subnet",
			"--subnet-id", s.subnet}, Env: w.env, Dir: w.dir},
		Log: slog.New(slog.DiscardHandler),
	}
	plan, err := fx.Check(awsCtx, req)
	noErr(t, err, "first check")
	if plan.Verdict != fixer.Act || !strings.Contains(plan.Action, s.lambda) {
		t.Fatalf("first check: %v (%s), want a wait for %s", plan.Verdict, plan.Action, s.lambda)
	}

	// Lambda releases its interface a while after the function is gone.
	released := make(chan error, 1)
	go func() {
		time.Sleep(3 * time.Second)
		_, err := w.ec2.DeleteNetworkInterface(awsCtx, &ec2.DeleteNetworkInterfaceInput{
			NetworkInterfaceId: &s.lambda})
		released <- err
	}()
	res, err := fx.Apply(awsCtx, req)
	noErr(t, <-released, "release the Lambda ENI")
	noErr(t, err, "first apply")
	if len(res.Changed) > 0 {
		t.Errorf("first apply changed %q, want a wait that changes nothing", res.Changed)
	}

	res = again(t, fx, req, "no ENI that AWS manages is left in subnet "+s.subnet)
	contains(t, "second apply's notes", strings.Join(res.Notes, "\n"),
		"AWS has released its ENIs in "+s.subnet+" at the first poll")
}

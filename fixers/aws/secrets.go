package aws

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// PurgeDeletedSecret is the aws.purge-deleted-secret fixer: when a secret
// name is held by a secret already scheduled for deletion, it deletes that
// secret for good, so the re-run can create the name again. The zero
// value is ready to use and safe for concurrent use.
type PurgeDeletedSecret struct{}

var _ fixer.Fixer = PurgeDeletedSecret{}

// Name returns "aws.purge-deleted-secret".
func (PurgeDeletedSecret) Name() string { return "aws.purge-deleted-secret" }

// Safety returns [fixer.Destructive]: the secret's value is gone for good.
func (PurgeDeletedSecret) Safety() fixer.Safety { return fixer.Destructive }

// Describe says what the fixer does in one line.
func (PurgeDeletedSecret) Describe() string {
	return "delete for good a secret that is already scheduled for deletion"
}

// Inputs lists the secretsmanager-scheduled-for-deletion capture and the
// ownership settings.
func (PurgeDeletedSecret) Inputs() []fixer.Input {
	return append([]fixer.Input{
		{Name: "secret", Type: fixer.String, Required: true,
			Doc: "secret name (else --name or --secret-id of an aws CLI step)"},
	}, ownershipInputs()...)
}

// secretState is what Check knows of a secret.
type secretState struct {
	Secret  resource
	Found   bool
	Deleted *time.Time
}

// Check plans the purge. It refuses for a secret that is not scheduled for
// deletion (it exists: import it) and for another owner's secret.
func (PurgeDeletedSecret) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	name := value(req, "secret", "--name", "--secret-id")
	if name == "" {
		return refuse("the failure names no secret"), nil
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	st, err := readSecret(ctx, c.secrets(), name)
	if err != nil {
		return fixer.Plan{}, err
	}
	return planSecret(st, ownershipOf(req)), nil
}

func readSecret(ctx context.Context, c *secretsmanager.Client, name string) (*secretState, error) {
	st := &secretState{Secret: resource{Kind: "secret", ID: name}}
	out, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: &name})
	if isCode(err, "ResourceNotFoundException") {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe secret %s: %w", name, err)
	}
	st.Found, st.Deleted = true, out.DeletedDate
	st.Secret.Tags = map[string]string{}
	for _, t := range out.Tags {
		st.Secret.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return st, nil
}

func planSecret(st *secretState, own Ownership) fixer.Plan {
	name := st.Secret.ID
	if !st.Found {
		return nothing(fmt.Sprintf("secret %s no longer exists", name))
	}
	if st.Deleted == nil {
		return refuse(fmt.Sprintf("secret %s exists and is not scheduled for deletion; import it "+
			"instead of creating it", name), "describe-secret shows no DeletedDate")
	}
	evidence := []string{own.describe(), fmt.Sprintf("secret %s was scheduled for deletion on %s",
		name, st.Deleted.UTC().Format(time.RFC3339))}
	claim := own.Judge(st.Secret.Tags)
	if claim.Foreign() {
		return refuse(fmt.Sprintf("secret %s belongs to %s", name, claim), evidence...)
	}
	evidence = append(evidence, fmt.Sprintf("secret %s belongs to %s", name, claim))
	return fixer.Plan{Verdict: fixer.Act, Evidence: evidence,
		Action: fmt.Sprintf("delete secret %s for good, without its recovery window; the "+
			"step's re-run then creates it", name)}
}

// Apply reads the secret again and, when the plan still holds, deletes it
// without recovery and waits until the name is free.
func (PurgeDeletedSecret) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	name := value(req, "secret", "--name", "--secret-id")
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Result{}, err
	}
	sm := c.secrets()
	st, err := readSecret(ctx, sm, name)
	if err != nil {
		return fixer.Result{}, err
	}
	plan := planSecret(st, ownershipOf(req))
	switch plan.Verdict {
	case fixer.Nothing:
		return fixer.Result{}, nil
	case fixer.Refuse:
		return fixer.Result{}, stateChanged(plan)
	}

	_, err = sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: &name,
		ForceDeleteWithoutRecovery: aws.Bool(true)})
	if err != nil && !isCode(err, "ResourceNotFoundException") {
		return fixer.Result{}, fmt.Errorf("delete secret %s without recovery: %w", name, err)
	}
	res := fixer.Result{Changed: []string{fmt.Sprintf("deleted secret %s for good "+
		"(it was scheduled for deletion)", name)}}
	// The deletion finishes in the background; the name is free once
	// describe-secret no longer finds the secret.
	err = poll(ctx, time.Minute, 2*time.Second, nil, func(ctx context.Context) (bool, string, error) {
		st, err := readSecret(ctx, sm, name)
		if err != nil {
			return false, "", err
		}
		return !st.Found, "secret " + name + " is still being deleted", nil
	})
	return res, err
}

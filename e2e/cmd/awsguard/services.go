package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

// iamPropagation is how long a new role stays invisible to Lambda here.
// AWS documents no figure; seconds is what is commonly seen.
const iamPropagation = 8 * time.Second

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// createDBSubnetGroup refuses a name that is taken.
func createDBSubnetGroup(ctx context.Context, cfg aws.Config, args []string) (*awsError, error) {
	name := flag(args, "--db-subnet-group-name")
	_, err := rds.NewFromConfig(cfg).DescribeDBSubnetGroups(ctx,
		&rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: &name})
	switch {
	case apiCode(err) == "DBSubnetGroupNotFoundFault":
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("describe db subnet group %s: %w", name, err)
	}
	return &awsError{Code: "DBSubnetGroupAlreadyExists", Operation: "CreateDBSubnetGroup",
		Message: fmt.Sprintf("The DB subnet group '%s' already exists.", name)}, nil
}

// createSecret refuses a name held by a secret scheduled for deletion,
// with the wording Secrets Manager uses today.
func createSecret(ctx context.Context, cfg aws.Config, args []string) (*awsError, error) {
	name := flag(args, "--name")
	out, err := secretsmanager.NewFromConfig(cfg).DescribeSecret(ctx,
		&secretsmanager.DescribeSecretInput{SecretId: &name})
	switch {
	case apiCode(err) == "ResourceNotFoundException":
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("describe secret %s: %w", name, err)
	case out.DeletedDate == nil:
		return nil, nil
	}
	return &awsError{Code: "InvalidRequestException", Operation: "CreateSecret",
		Message: "You can't create this secret because a secret with this name is already " +
			"scheduled for deletion."}, nil
}

// createBucket refuses while a bucket of the name still exists in another
// region: S3 answers OperationAborted until the deletion of the old bucket
// has spread.
func createBucket(ctx context.Context, cfg aws.Config, args []string) (*awsError, error) {
	name := flag(args, "--bucket")
	want := "us-east-1"
	if c := flag(args, "--create-bucket-configuration"); c != "" {
		want = strings.TrimPrefix(c, "LocationConstraint=")
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: &name})
	switch {
	case apiCode(err) == "NoSuchBucket":
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get location of bucket %s: %w", name, err)
	}
	region := string(loc.LocationConstraint)
	if region == "" {
		region = "us-east-1"
	}
	if region == want {
		return nil, nil
	}
	return &awsError{Code: "OperationAborted", Operation: "CreateBucket",
		Message: "A conflicting conditional operation is currently in progress against this " +
			"resource. Please try again."}, nil
}

// createFunction refuses a role that Lambda cannot assume yet: one whose
// trust policy leaves Lambda out, or one IAM has not propagated.
func createFunction(ctx context.Context, cfg aws.Config, args []string) (*awsError, error) {
	arn := flag(args, "--role")
	name := arn[strings.LastIndex(arn, "/")+1:]
	role, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	if err != nil {
		return nil, fmt.Errorf("get role %s: %w", name, err)
	}
	refusal := &awsError{Code: "InvalidParameterValueException", Operation: "CreateFunction",
		Message: "The role defined for the function cannot be assumed by Lambda."}
	if !trusts(aws.ToString(role.Role.AssumeRolePolicyDocument), "lambda.amazonaws.com") {
		return refusal, nil
	}
	if time.Since(aws.ToTime(role.Role.CreateDate)) < iamPropagation {
		return refusal, nil
	}
	return nil, nil
}

// trusts reports whether a (URL-encoded) trust policy lets service assume
// the role.
func trusts(doc, service string) bool {
	if d, err := url.QueryUnescape(doc); err == nil {
		doc = d
	}
	var policy struct {
		Statement []struct {
			Effect    string
			Principal struct{ Service any }
		}
	}
	if json.Unmarshal([]byte(doc), &policy) != nil {
		return false
	}
	for _, s := range policy.Statement {
		if s.Effect != "Allow" {
			continue
		}
		switch v := s.Principal.Service.(type) {
		case string:
			if v == service {
				return true
			}
		case []any:
			for _, x := range v {
				if x == service {
					return true
				}
			}
		}
	}
	return false
}

// waitCertificate stands for the CertificateValidated waiter: it fails as
// the waiter finally does while the certificate is not issued.
func waitCertificate(ctx context.Context, cfg aws.Config, args []string) (*awsError, error) {
	if flag(args, "--certificate-arn") == "" || !strings.Contains(strings.Join(args, " "),
		"certificate-validated") {
		return nil, nil
	}
	arn := flag(args, "--certificate-arn")
	out, err := acm.NewFromConfig(cfg).DescribeCertificate(ctx,
		&acm.DescribeCertificateInput{CertificateArn: &arn})
	if err != nil {
		return nil, fmt.Errorf("describe certificate %s: %w", arn, err)
	}
	if out.Certificate.Status == "ISSUED" {
		return nil, nil
	}
	return &awsError{Message: "Waiter CertificateValidated failed: Max attempts exceeded"}, nil
}

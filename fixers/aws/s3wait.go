package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// BucketSettled is the "aws.s3-bucket-settled" condition of wait.until,
// for S3's OperationAborted ("a conflicting conditional operation is
// currently in progress"). For CreateBucket it holds once no bucket of the
// name exists in another region (S3 is still deleting the old one); for
// other operations once the bucket answers without a conflict. The zero
// value is ready to use and safe for concurrent use.
type BucketSettled struct{}

// Name returns "aws.s3-bucket-settled".
func (BucketSettled) Name() string { return "aws.s3-bucket-settled" }

// Describe says what holds once the wait is over.
func (BucketSettled) Describe() string { return "S3 has settled the bucket's operation" }

// Inputs lists the s3-operation-aborted captures the condition reads.
func (BucketSettled) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "bucket", Type: fixer.String,
			Doc: "bucket of the aborted operation (else --bucket of an aws CLI step)"},
		{Name: "operation", Type: fixer.String, Doc: "the S3 operation that was aborted"},
	}
}

// targetRegion is where the step creates the bucket: its
// LocationConstraint, else its --region, else the step's region.
func targetRegion(req fixer.Request) string {
	c := flagValue(req.Step.Args, "--create-bucket-configuration")
	if r, ok := strings.CutPrefix(c, "LocationConstraint="); ok && req.Step.Tool == "aws" {
		return r
	}
	if r := flagValue(req.Step.Args, "--region"); r != "" && req.Step.Tool == "aws" {
		return r
	}
	return firstOf(req.Step.Getenv("AWS_REGION"), req.Step.Getenv("AWS_DEFAULT_REGION"),
		"us-east-1")
}

// Poll reads the bucket once.
func (BucketSettled) Poll(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	name := bucketName(req)
	if name == "" {
		return nothing("the failure names no bucket; the pattern's back-off applies"), nil
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	op := value(req, "operation")
	if op == "" && req.Step.Tool == "aws" && req.Step.Goal == "create-bucket" {
		op = "CreateBucket"
	}
	if op == "CreateBucket" {
		return nameFree(ctx, c.s3(), name, targetRegion(req))
	}
	_, err = c.s3().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &name})
	switch {
	case err == nil:
		return nothing(fmt.Sprintf("bucket %s answers without a conflict", name)), nil
	case isCode(err, "NotFound", "NoSuchBucket"):
		return nothing(fmt.Sprintf("bucket %s no longer exists", name)), nil
	case isCode(err, "OperationAborted", "Conflict"):
		return fixer.Plan{Verdict: fixer.Wait,
			Action: fmt.Sprintf("bucket %s still reports a conflicting operation", name)}, nil
	}
	return fixer.Plan{}, fmt.Errorf("head bucket %s: %w", name, err)
}

// nameFree holds when the bucket name is free, or taken by the bucket in
// the region the step wants.
func nameFree(ctx context.Context, c *s3.Client, name, want string) (fixer.Plan, error) {
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: &name})
	switch {
	case isCode(err, "NoSuchBucket", "NotFound"):
		return nothing(fmt.Sprintf("no bucket holds the name %s any more", name),
			fmt.Sprintf("get-bucket-location finds no bucket %s", name)), nil
	case isCode(err, "AccessDenied"):
		return refuse(fmt.Sprintf("bucket name %s belongs to another account; waiting cannot "+
			"free it", name)), nil
	case err != nil:
		return fixer.Plan{}, fmt.Errorf("get location of bucket %s: %w", name, err)
	}
	region := firstOf(string(loc.LocationConstraint), "us-east-1")
	if region == want {
		return nothing(fmt.Sprintf("bucket %s exists in %s, where the step creates it", name,
			region)), nil
	}
	return fixer.Plan{Verdict: fixer.Wait,
		Action: fmt.Sprintf("bucket %s still exists in %s while the step creates it in %s; "+
			"waiting for S3 to finish deleting it", name, region, want),
		Evidence: []string{fmt.Sprintf("get-bucket-location says %s is in %s", name, region)}}, nil
}

package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// maxCount bounds how many versions Check counts before it says "more".
const maxCount = 100_000

// EmptyBucket is the aws.empty-bucket fixer: during a teardown it deletes
// every object version and delete marker of the bucket whose deletion
// failed, in pages of a thousand. The zero value is ready to use and safe
// for concurrent use.
type EmptyBucket struct{}

var _ fixer.Fixer = EmptyBucket{}

// Name returns "aws.empty-bucket".
func (EmptyBucket) Name() string { return "aws.empty-bucket" }

// Safety returns [fixer.Destructive]: the objects are gone for good.
func (EmptyBucket) Safety() fixer.Safety { return fixer.Destructive }

// Describe says what the fixer does in one line.
func (EmptyBucket) Describe() string {
	return "delete every object version and delete marker of a bucket being destroyed"
}

// Inputs lists the s3-bucket-not-empty capture and the ownership settings.
func (EmptyBucket) Inputs() []fixer.Input {
	return append([]fixer.Input{
		{Name: "bucket", Type: fixer.String, Required: true,
			Doc: "bucket whose deletion failed (else --bucket or s3://name of an aws CLI step)"},
	}, ownershipInputs()...)
}

// bucketName finds the bucket: the input, --bucket, or an s3:// argument.
func bucketName(req fixer.Request) string {
	if b := value(req, "bucket", "--bucket"); b != "" {
		return b
	}
	if req.Step.Tool != "aws" {
		return ""
	}
	for _, a := range req.Step.Args {
		if rest, ok := strings.CutPrefix(a, "s3://"); ok {
			return strings.SplitN(rest, "/", 2)[0]
		}
	}
	return ""
}

// bucketState is what Check knows of a bucket.
type bucketState struct {
	Name       string
	Found      bool
	Tags       map[string]string
	ObjectLock bool
	// Versions and Markers count object versions and delete markers;
	// More is set when counting stopped at maxCount.
	Versions, Markers int
	More              bool
}

// Check plans to empty the bucket. It refuses outside a teardown, for a
// bucket of another owner and for a bucket with Object Lock, whose
// retained versions must not be deleted.
func (EmptyBucket) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	name := bucketName(req)
	if name == "" {
		return refuse("the failure names no bucket"), nil
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	st, err := readBucket(ctx, c.s3(), name)
	if err != nil {
		return fixer.Plan{}, err
	}
	return planEmpty(st, req.Step, ownershipOf(req)), nil
}

func readBucket(ctx context.Context, c *s3.Client, name string) (*bucketState, error) {
	st := &bucketState{Name: name}
	_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &name})
	if isCode(err, "NotFound", "NoSuchBucket") {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("head bucket %s: %w", name, err)
	}
	st.Found = true

	tags, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &name})
	switch {
	case err == nil:
		st.Tags = map[string]string{}
		for _, t := range tags.TagSet {
			st.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	case !isCode(err, "NoSuchTagSet", "NoSuchTagSetError"):
		return nil, fmt.Errorf("get tags of bucket %s: %w", name, err)
	}

	lock, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &name})
	switch {
	case err == nil:
		st.ObjectLock = lock.ObjectLockConfiguration != nil &&
			lock.ObjectLockConfiguration.ObjectLockEnabled == s3types.ObjectLockEnabledEnabled
	case !isCode(err, "ObjectLockConfigurationNotFoundError"):
		return nil, fmt.Errorf("get object lock of bucket %s: %w", name, err)
	}
	return st, st.count(ctx, c)
}

func (st *bucketState) count(ctx context.Context, c *s3.Client) error {
	p := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: &st.Name})
	for p.HasMorePages() {
		if st.Versions+st.Markers >= maxCount {
			st.More = true
			return nil
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list object versions of %s: %w", st.Name, err)
		}
		st.Versions += len(page.Versions)
		st.Markers += len(page.DeleteMarkers)
	}
	return nil
}

func planEmpty(st *bucketState, step fixer.Step, own Ownership) fixer.Plan {
	if !st.Found {
		return nothing(fmt.Sprintf("bucket %s no longer exists", st.Name))
	}
	teardown, fact := teardownFact(step)
	if !teardown {
		return refuse(fmt.Sprintf("a bucket is emptied only while it is destroyed, and %s", fact),
			fact)
	}
	evidence := []string{fact, own.describe()}
	claim := own.Judge(st.Tags)
	if claim.Foreign() {
		return refuse(fmt.Sprintf("bucket %s belongs to %s, not to this stack", st.Name, claim),
			evidence...)
	}
	if st.ObjectLock {
		return refuse(fmt.Sprintf("bucket %s has Object Lock enabled; its retained versions "+
			"must not be deleted automatically", st.Name), evidence...)
	}
	if st.Versions+st.Markers == 0 {
		return nothing(fmt.Sprintf("bucket %s is empty", st.Name), evidence...)
	}
	more := ""
	if st.More {
		more = "at least "
	}
	evidence = append(evidence, fmt.Sprintf("bucket %s is the one whose deletion failed, "+
		"belongs to %s, has no Object Lock and holds %s%s and %s", st.Name, claim, more,
		plural(st.Versions, "object version", "object versions"),
		plural(st.Markers, "delete marker", "delete markers")))
	return fixer.Plan{Verdict: fixer.Act, Evidence: evidence,
		Action: fmt.Sprintf("delete every object version and delete marker in bucket %s (%s%s), "+
			"1000 per request; the step's re-run then deletes the bucket", st.Name, more,
			plural(st.Versions+st.Markers, "entry", "entries"))}
}

// Apply reads the bucket again and, when the plan still holds, deletes
// its versions and delete markers page by page until none is left.
func (EmptyBucket) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Result{}, err
	}
	s := c.s3()
	name := bucketName(req)
	st, err := readBucket(ctx, s, name)
	if err != nil {
		return fixer.Result{}, err
	}
	plan := planEmpty(st, req.Step, ownershipOf(req))
	switch plan.Verdict {
	case fixer.Nothing:
		return fixer.Result{}, nil
	case fixer.Refuse:
		return fixer.Result{}, stateChanged(plan)
	}

	versions, markers, err := emptyBucket(ctx, s, req, name)
	var res fixer.Result
	if versions+markers > 0 {
		res.Changed = []string{fmt.Sprintf("deleted %s and %s from bucket %s",
			plural(versions, "object version", "object versions"),
			plural(markers, "delete marker", "delete markers"), name)}
	}
	return res, err
}

// emptyBucket deletes the first page of versions until a listing comes
// back empty, so versions written meanwhile go too.
func emptyBucket(ctx context.Context, s *s3.Client, req fixer.Request, name string,
) (versions, markers int, err error) {
	for page := 1; ; page++ {
		out, err := s.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &name})
		if err != nil {
			return versions, markers, fmt.Errorf("list object versions of %s: %w", name, err)
		}
		var ids []s3types.ObjectIdentifier
		for _, v := range out.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range out.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if len(ids) == 0 {
			return versions, markers, nil
		}
		del, err := s.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &name,
			Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return versions, markers, fmt.Errorf("delete objects from %s: %w", name, err)
		}
		if len(del.Errors) > 0 {
			e := del.Errors[0]
			return versions, markers, fmt.Errorf("delete %s (version %s) from %s: %s: %s",
				aws.ToString(e.Key), aws.ToString(e.VersionId), name, aws.ToString(e.Code),
				aws.ToString(e.Message))
		}
		versions += len(out.Versions)
		markers += len(out.DeleteMarkers)
		logf(req, "bucket %s: page %d: deleted %d entries", name, page, len(ids))
	}
}

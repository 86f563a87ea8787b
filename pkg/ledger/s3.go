package ledger

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3 is a ledger under an S3 prefix: one object per run at
// prefix/date=YYYY-MM-DD/<id>.json, written with the job's credentials.
// Object keys are unique per run, so concurrent jobs never overwrite
// each other.
type S3 struct {
	Client *s3.Client
	Bucket string
	// Prefix is the key prefix, empty or ending in "/".
	Prefix string
}

var _ Store = (*S3)(nil)

// fetchers is how many objects Walk downloads at once.
const fetchers = 16

// NewS3 returns the ledger at s3://bucket/prefix, with an AWS
// configuration built by the SDK's default chain from the job's
// environment (see [AWSConfig]).
func NewS3(ctx context.Context, bucket, prefix string, environ []string) (*S3, error) {
	cfg, endpoint, err := AWSConfig(ctx, environ)
	if err != nil {
		return nil, fmt.Errorf("open ledger s3://%s/%s: %w", bucket, prefix, err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		// A custom endpoint (moto, MinIO, LocalStack) seldom serves
		// virtual-hosted bucket names.
		o.UsePathStyle = endpoint != ""
	})
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &S3{Client: client, Bucket: bucket, Prefix: prefix}, nil
}

// AWSConfig loads the SDK's default configuration with the region,
// profile, config files, static credentials and endpoint
// (AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL) that environ sets taking
// precedence, so that the step's environment decides even where it
// differs from the process's. It returns the endpoint it applied.
func AWSConfig(ctx context.Context, environ []string) (aws.Config, string, error) {
	get := lookup(environ)
	var opts []func(*config.LoadOptions) error
	if r := firstSet(get("AWS_REGION"), get("AWS_DEFAULT_REGION")); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if p := firstSet(get("AWS_PROFILE"), get("AWS_DEFAULT_PROFILE")); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	if f := get("AWS_CONFIG_FILE"); f != "" {
		opts = append(opts, config.WithSharedConfigFiles([]string{f}))
	}
	if f := get("AWS_SHARED_CREDENTIALS_FILE"); f != "" {
		opts = append(opts, config.WithSharedCredentialsFiles([]string{f}))
	}
	if id, secret := get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(id, secret, get("AWS_SESSION_TOKEN"))))
	}
	endpoint := firstSet(get("AWS_ENDPOINT_URL_S3"), get("AWS_ENDPOINT_URL"))
	if endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, "", fmt.Errorf("load aws config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return cfg, endpoint, nil
}

func lookup(environ []string) func(string) string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(k string) string { return m[k] }
}

func firstSet(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// String names the store as an s3:// URL.
func (s *S3) String() string { return "s3://" + s.Bucket + "/" + s.Prefix }

// Put writes the record's object.
func (s *S3) Put(ctx context.Context, r *Record) error {
	data, err := Encode(r)
	if err != nil {
		return err
	}
	key := s.Prefix + objectName(r)
	_, err = s.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.Bucket, Key: &key, Body: bytes.NewReader(data),
		ContentType: aws.String("application/json"),
	})
	if err != nil {
		return fmt.Errorf("write ledger record s3://%s/%s: %w", s.Bucket, key, err)
	}
	return nil
}

// Walk lists the day prefixes from since on and reads their objects,
// several at a time.
func (s *S3) Walk(ctx context.Context, since time.Time, fn func(*Record) error) ([]Problem, error) {
	days, err := s.days(ctx, since)
	if err != nil {
		return nil, err
	}
	var problems []Problem
	for _, day := range days {
		keys, err := s.keys(ctx, day)
		if err != nil {
			return problems, err
		}
		recs, probs := s.fetch(ctx, keys)
		problems = append(problems, probs...)
		for _, r := range recs {
			if r == nil || r.Time.Before(since) {
				continue
			}
			if err := fn(r); err != nil {
				return problems, err
			}
		}
	}
	return problems, nil
}

// days lists the store's date= prefixes that may hold runs from since on.
func (s *S3) days(ctx context.Context, since time.Time) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{
		Bucket: &s.Bucket, Prefix: &s.Prefix, Delimiter: aws.String("/"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list ledger %s: %w", s, err)
		}
		for _, cp := range page.CommonPrefixes {
			name := strings.TrimPrefix(aws.ToString(cp.Prefix), s.Prefix)
			if day, ok := dayOf(name); ok && wantDay(day, since) {
				out = append(out, aws.ToString(cp.Prefix))
			}
		}
	}
	return out, nil
}

// keys lists the record objects under a day prefix.
func (s *S3) keys(ctx context.Context, day string) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: &s.Bucket, Prefix: &day})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list ledger %s: %w", s, err)
		}
		for _, o := range page.Contents {
			if k := aws.ToString(o.Key); strings.HasSuffix(k, ".json") {
				out = append(out, k)
			}
		}
	}
	return out, nil
}

// fetch downloads and decodes objects; recs[i] is nil where keys[i]
// became a problem.
func (s *S3) fetch(ctx context.Context, keys []string) ([]*Record, []Problem) {
	recs := make([]*Record, len(keys))
	errs := make([]error, len(keys))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(fetchers, len(keys)) {
		wg.Go(func() {
			for i := range next {
				recs[i], errs[i] = s.get(ctx, keys[i])
			}
		})
	}
	for i := range keys {
		next <- i
	}
	close(next)
	wg.Wait()

	var problems []Problem
	for i, err := range errs {
		if err != nil {
			problems = append(problems, Problem{Name: "s3://" + s.Bucket + "/" + keys[i], Err: err})
		}
	}
	return recs, problems
}

func (s *S3) get(ctx context.Context, key string) (*Record, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.Bucket, Key: &key})
	if err != nil {
		return nil, err
	}
	defer func() { _ = out.Body.Close() }()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, err
	}
	return Decode(data)
}

package terraform

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// backendClients are the S3 and DynamoDB clients that reach an s3
// backend the way terraform does: the backend's region, profile,
// endpoints and path style first, then the step's environment, then the
// SDK's default chain.
type backendClients struct {
	s3  *s3.Client
	ddb *dynamodb.Client
}

func newBackendClients(ctx context.Context, step fixer.Step, b *backend) (*backendClients, error) {
	cfg, err := loadAWSConfig(ctx, step, b)
	if err != nil {
		return nil, err
	}
	s3End := firstOf(b.endpoint("s3"), step.Getenv("AWS_ENDPOINT_URL_S3"))
	ddbEnd := firstOf(b.endpoint("dynamodb"), step.Getenv("AWS_ENDPOINT_URL_DYNAMODB"))
	pathStyle := b.flag("use_path_style") || b.flag("force_path_style")
	return &backendClients{
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = pathStyle
			if s3End != "" {
				o.BaseEndpoint = aws.String(s3End)
			}
		}),
		ddb: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			if ddbEnd != "" {
				o.BaseEndpoint = aws.String(ddbEnd)
			}
		}),
	}, nil
}

// loadAWSConfig builds the configuration from the backend's settings and
// the step's environment; what neither sets comes from the default chain.
func loadAWSConfig(ctx context.Context, step fixer.Step, b *backend) (aws.Config, error) {
	get := step.Getenv
	var opts []func(*config.LoadOptions) error
	if r := firstOf(b.str("region"), get("AWS_REGION"), get("AWS_DEFAULT_REGION")); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if e := get("AWS_ENDPOINT_URL"); e != "" {
		opts = append(opts, config.WithBaseEndpoint(e))
	}
	if p := firstOf(b.str("profile"), get("AWS_PROFILE")); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	if f := get("AWS_CONFIG_FILE"); f != "" {
		opts = append(opts, config.WithSharedConfigFiles([]string{f}))
	}
	if f := get("AWS_SHARED_CREDENTIALS_FILE"); f != "" {
		opts = append(opts, config.WithSharedCredentialsFiles([]string{f}))
	}
	if strings.EqualFold(get("AWS_EC2_METADATA_DISABLED"), "true") {
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	id := firstOf(b.str("access_key"), get("AWS_ACCESS_KEY_ID"))
	secret := firstOf(b.str("secret_key"), get("AWS_SECRET_ACCESS_KEY"))
	if id != "" && secret != "" {
		token := firstOf(b.str("token"), get("AWS_SESSION_TOKEN"))
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(id, secret, token)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration for the s3 backend: %w", err)
	}
	return cfg, nil
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

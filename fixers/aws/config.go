package aws

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// clients builds AWS service clients for one step. The configuration comes
// from the step's environment: region, endpoints (AWS_ENDPOINT_URL and the
// per-service AWS_ENDPOINT_URL_<SERVICE>), profile and its files, static
// keys, and web identity (AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE).
// Whatever the step's environment does not set falls back to the SDK's
// default chain.
type clients struct {
	cfg  aws.Config
	step fixer.Step
}

// newClients loads the configuration for step.
func newClients(ctx context.Context, step fixer.Step) (*clients, error) {
	cfg, err := loadConfig(ctx, step)
	if err != nil {
		return nil, err
	}
	return &clients{cfg: cfg, step: step}, nil
}

// loadConfig builds the aws.Config a step's own AWS calls would use.
func loadConfig(ctx context.Context, step fixer.Step) (aws.Config, error) {
	get := step.Getenv
	var opts []func(*config.LoadOptions) error
	if r := firstOf(get("AWS_REGION"), get("AWS_DEFAULT_REGION")); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if e := get("AWS_ENDPOINT_URL"); e != "" && !ignoreEndpoints(step) {
		opts = append(opts, config.WithBaseEndpoint(e))
	}
	if p := get("AWS_PROFILE"); p != "" {
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
	if f := get("AWS_CA_BUNDLE"); f != "" {
		pem, err := os.Open(f)
		if err != nil {
			return aws.Config{}, fmt.Errorf("read AWS_CA_BUNDLE: %w", err)
		}
		defer pem.Close()
		opts = append(opts, config.WithCustomCABundle(pem))
	}
	if id, secret := get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"); id != "" &&
		secret != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(id, secret, get("AWS_SESSION_TOKEN"))))
	}

	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration from the step's environment: %w",
			err)
	}
	if get("AWS_ACCESS_KEY_ID") == "" && webIdentity(step) {
		stsc := sts.NewFromConfig(cfg, func(o *sts.Options) {
			o.BaseEndpoint = serviceEndpoint(step, "STS", o.BaseEndpoint)
		})
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewWebIdentityRoleProvider(
			stsc, get("AWS_ROLE_ARN"), stscreds.IdentityTokenFile(get("AWS_WEB_IDENTITY_TOKEN_FILE")),
			func(o *stscreds.WebIdentityRoleOptions) {
				o.RoleSessionName = get("AWS_ROLE_SESSION_NAME")
			}))
	}
	return cfg, nil
}

// webIdentity reports whether the step's environment names a role to
// assume with a web identity token file.
func webIdentity(step fixer.Step) bool {
	return step.Getenv("AWS_ROLE_ARN") != "" && step.Getenv("AWS_WEB_IDENTITY_TOKEN_FILE") != ""
}

func ignoreEndpoints(step fixer.Step) bool {
	return strings.EqualFold(step.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true")
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// serviceEndpoint returns the service's own endpoint from
// AWS_ENDPOINT_URL_<SERVICE> in the step's environment, else def.
func serviceEndpoint(step fixer.Step, service string, def *string) *string {
	if e := step.Getenv("AWS_ENDPOINT_URL_" + service); e != "" && !ignoreEndpoints(step) {
		return &e
	}
	return def
}

func (c *clients) ec2() *ec2.Client {
	return ec2.NewFromConfig(c.cfg, func(o *ec2.Options) {
		o.BaseEndpoint = serviceEndpoint(c.step, "EC2", o.BaseEndpoint)
	})
}

// s3 returns an S3 client; against a custom endpoint (moto, MinIO,
// LocalStack) it addresses buckets by path, as those servers expect.
func (c *clients) s3() *s3.Client {
	custom := c.customEndpoint("S3")
	return s3.NewFromConfig(c.cfg, func(o *s3.Options) {
		o.BaseEndpoint = serviceEndpoint(c.step, "S3", o.BaseEndpoint)
		o.UsePathStyle = o.UsePathStyle || custom
	})
}

// customEndpoint reports whether the service is reached through an
// endpoint outside amazonaws.com.
func (c *clients) customEndpoint(service string) bool {
	e := firstOf(c.step.Getenv("AWS_ENDPOINT_URL_"+service), c.step.Getenv("AWS_ENDPOINT_URL"))
	if e == "" || ignoreEndpoints(c.step) {
		return false
	}
	u, err := url.Parse(e)
	return err == nil && !strings.HasSuffix(u.Hostname(), ".amazonaws.com")
}

func (c *clients) elbv2() *elbv2.Client {
	return elbv2.NewFromConfig(c.cfg, func(o *elbv2.Options) {
		o.BaseEndpoint = serviceEndpoint(c.step, "ELASTIC_LOAD_BALANCING_V2", o.BaseEndpoint)
	})
}

func (c *clients) elb() *elb.Client {
	return elb.NewFromConfig(c.cfg, func(o *elb.Options) {
		o.BaseEndpoint = serviceEndpoint(c.step, "ELASTIC_LOAD_BALANCING", o.BaseEndpoint)
	})
}

func (c *clients) eks() *eks.Client {
	return eks.NewFromConfig(c.cfg, func(o *eks.Options) {
		o.BaseEndpoint = serviceEndpoint(c.step, "EKS", o.BaseEndpoint)
	})
}

func (c *clients) rds() *rds.Client {
	return rds.NewFromConfig(c.cfg, func(o *rds.Options) {
		o.BaseEndpoint = serviceEndpoint(c.step, "RDS", o.BaseEndpoint)
	})
}

func (c *clients) secrets() *secretsmanager.Client {
	return secretsmanager.NewFromConfig(c.cfg, func(o *secretsmanager.Options) {
		o.BaseEndpoint = serviceEndpoint(c.step, "SECRETS_MANAGER", o.BaseEndpoint)
	})
}

func (c *clients) logs() *cloudwatchlogs.Client {
	return cloudwatchlogs.NewFromConfig(c.cfg, func(o *cloudwatchlogs.Options) {
		o.BaseEndpoint = serviceEndpoint(c.step, "CLOUDWATCH_LOGS", o.BaseEndpoint)
	})
}

func (c *clients) iam() *iam.Client {
	return iam.NewFromConfig(c.cfg, func(o *iam.Options) {
		o.BaseEndpoint = serviceEndpoint(c.step, "IAM", o.BaseEndpoint)
	})
}

func (c *clients) sts() *sts.Client {
	return sts.NewFromConfig(c.cfg, func(o *sts.Options) {
		o.BaseEndpoint = serviceEndpoint(c.step, "STS", o.BaseEndpoint)
	})
}

func (c *clients) acm() *acm.Client {
	return acm.NewFromConfig(c.cfg, func(o *acm.Options) {
		o.BaseEndpoint = serviceEndpoint(c.step, "ACM", o.BaseEndpoint)
	})
}

func (c *clients) ecr() *ecr.Client {
	return ecr.NewFromConfig(c.cfg, func(o *ecr.Options) {
		o.BaseEndpoint = serviceEndpoint(c.step, "ECR", o.BaseEndpoint)
	})
}

func (c *clients) route53() *route53.Client {
	return route53.NewFromConfig(c.cfg, func(o *route53.Options) {
		o.BaseEndpoint = serviceEndpoint(c.step, "ROUTE_53", o.BaseEndpoint)
	})
}

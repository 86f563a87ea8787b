package kube

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// eksTokenPrefix starts every EKS bearer token; the rest is the base64url
// form of a presigned STS GetCallerIdentity URL.
const eksTokenPrefix = "k8s-aws-v1."

// eksClusterHeader is the signed header that binds a token to a cluster.
const eksClusterHeader = "x-k8s-aws-id"

// eksTokenLifetime is how long EKS accepts a token after it was signed.
const eksTokenLifetime = 15 * time.Minute

// eksUser is what the kubeconfig says about an EKS user.
type eksUser struct {
	cluster string
	region  string
	roleARN string
	profile string
	// token is the static token the kubeconfig holds, if any.
	token string
}

// eksUserOf recognises an EKS user: a static EKS token, `aws eks
// get-token` or `aws-iam-authenticator token` as exec plugin. ok is false
// for any other kind of credential.
func eksUserOf(user *clientcmdapi.AuthInfo, clusterName string) (eksUser, bool) {
	var u eksUser
	if arn := parseClusterARN(clusterName); arn.name != "" {
		u.cluster, u.region = arn.name, arn.region
	}
	switch {
	case user == nil:
		return u, false
	case strings.HasPrefix(user.Token, eksTokenPrefix):
		u.token = user.Token
		return u, true
	case user.Exec != nil:
		return u, u.fromExec(user.Exec)
	}
	return u, false
}

// fromExec reads the cluster, region, role and profile of an exec plugin.
func (u *eksUser) fromExec(e *clientcmdapi.ExecConfig) bool {
	args := e.Args
	base := e.Command[strings.LastIndex(e.Command, "/")+1:]
	switch {
	case base == "aws" && containsSeq(args, "eks", "get-token"):
		u.set(&u.cluster, flagOf(args, "--cluster-name", "--cluster-id"))
		u.set(&u.region, flagOf(args, "--region"))
		u.set(&u.roleARN, flagOf(args, "--role-arn"))
		u.set(&u.profile, flagOf(args, "--profile"))
	case base == "aws-iam-authenticator" && slices.Contains(args, "token"):
		u.set(&u.cluster, flagOf(args, "-i", "--cluster-id"))
		u.set(&u.roleARN, flagOf(args, "-r", "--role"))
		u.set(&u.region, flagOf(args, "--region"))
	default:
		return false
	}
	for _, env := range e.Env {
		switch env.Name {
		case "AWS_PROFILE":
			u.set(&u.profile, env.Value)
		case "AWS_REGION", "AWS_DEFAULT_REGION":
			u.set(&u.region, env.Value)
		}
	}
	return true
}

func (u *eksUser) set(field *string, v string) {
	if v != "" {
		*field = v
	}
}

func containsSeq(args []string, a, b string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == a && args[i+1] == b {
			return true
		}
	}
	return false
}

func flagOf(args []string, names ...string) string {
	for i, a := range args {
		for _, n := range names {
			if a == n && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, n+"="); ok {
				return v
			}
		}
	}
	return ""
}

// clusterARN is the part of an EKS cluster ARN the fixer uses.
type clusterARN struct{ region, name string }

// parseClusterARN reads arn:aws:eks:REGION:ACCOUNT:cluster/NAME, the name
// `aws eks update-kubeconfig` gives clusters and contexts.
func parseClusterARN(s string) clusterARN {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "eks" {
		return clusterARN{}
	}
	name, ok := strings.CutPrefix(parts[5], "cluster/")
	if !ok {
		return clusterARN{}
	}
	return clusterARN{region: parts[3], name: name}
}

// tokenSignedAt reads when an EKS token was signed and how long it was
// meant to last.
func tokenSignedAt(token string) (time.Time, time.Duration, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, eksTokenPrefix))
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("decode EKS token: %w", err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("parse EKS token URL: %w", err)
	}
	q := u.Query()
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("EKS token date: %w", err)
	}
	life := eksTokenLifetime
	if s, err := strconv.Atoi(q.Get("X-Amz-Expires")); err == nil && s > 0 {
		life = min(life, time.Duration(s)*time.Second)
	}
	return signed, life, nil
}

// awsConfig builds the AWS configuration of the step from its environment
// (not this process's): static keys, a profile and its files, or a web
// identity role, with the step's region and STS endpoint. Anything the
// step does not set falls back to the SDK's default chain.
func awsConfig(ctx context.Context, step fixer.Step, u eksUser) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	region := firstOf(u.region, step.Getenv("AWS_REGION"), step.Getenv("AWS_DEFAULT_REGION"),
		"us-east-1")
	opts = append(opts, config.WithRegion(region))
	if p := firstOf(u.profile, step.Getenv("AWS_PROFILE")); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	if f := step.Getenv("AWS_CONFIG_FILE"); f != "" {
		opts = append(opts, config.WithSharedConfigFiles([]string{f}))
	}
	if f := step.Getenv("AWS_SHARED_CREDENTIALS_FILE"); f != "" {
		opts = append(opts, config.WithSharedCredentialsFiles([]string{f}))
	}
	if key := step.Getenv("AWS_ACCESS_KEY_ID"); key != "" && u.profile == "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
			key, step.Getenv("AWS_SECRET_ACCESS_KEY"), step.Getenv("AWS_SESSION_TOKEN"))))
	}
	if ep := stsEndpoint(step); ep != "" {
		opts = append(opts, config.WithBaseEndpoint(ep))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("load AWS configuration: %w", err)
	}
	role, file := step.Getenv("AWS_ROLE_ARN"), step.Getenv("AWS_WEB_IDENTITY_TOKEN_FILE")
	if role != "" && file != "" && step.Getenv("AWS_ACCESS_KEY_ID") == "" {
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewWebIdentityRoleProvider(
			sts.NewFromConfig(cfg), role, stscreds.IdentityTokenFile(file)))
	}
	if u.roleARN != "" {
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(
			sts.NewFromConfig(cfg), u.roleARN))
	}
	return cfg, nil
}

func stsEndpoint(step fixer.Step) string {
	return firstOf(step.Getenv("AWS_ENDPOINT_URL_STS"), step.Getenv("AWS_ENDPOINT_URL"))
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// mintToken presigns an STS GetCallerIdentity request bound to cluster,
// the token aws-iam-authenticator and `aws eks get-token` make.
func mintToken(ctx context.Context, cfg aws.Config, cluster string) (string, error) {
	client := sts.NewFromConfig(cfg)
	presigned, err := sts.NewPresignClient(client).PresignGetCallerIdentity(ctx,
		&sts.GetCallerIdentityInput{}, func(o *sts.PresignOptions) {
			o.ClientOptions = append(o.ClientOptions, func(so *sts.Options) {
				so.APIOptions = append(so.APIOptions,
					smithyhttp.SetHeaderValue(eksClusterHeader, cluster),
					smithyhttp.SetHeaderValue("X-Amz-Expires", "60"))
			})
		})
	if err != nil {
		return "", fmt.Errorf("presign STS GetCallerIdentity: %w", err)
	}
	return eksTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(presigned.URL)), nil
}

// callerARN asks STS who the step's credentials are.
func callerARN(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("STS GetCallerIdentity: %w", err)
	}
	return aws.ToString(out.Arn), nil
}

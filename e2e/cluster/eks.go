package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// IAMUser is an IAM user made in moto, with its access key.
type IAMUser struct {
	ARN       string
	AccessKey string
	SecretKey string
}

// CreateIAMUser creates an IAM user and an access key for it in moto at
// endpoint. STS then answers GetCallerIdentity with the user's ARN for
// requests signed with that key.
func CreateIAMUser(ctx context.Context, endpoint, name string) (IAMUser, error) {
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(endpoint),
	}
	client := iam.NewFromConfig(cfg)
	user, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	if err != nil {
		return IAMUser{}, fmt.Errorf("create IAM user %s: %w", name, err)
	}
	key, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		return IAMUser{}, fmt.Errorf("create an access key for %s: %w", name, err)
	}
	return IAMUser{
		ARN:       aws.ToString(user.User.Arn),
		AccessKey: aws.ToString(key.AccessKey.AccessKeyId),
		SecretKey: aws.ToString(key.AccessKey.SecretAccessKey),
	}, nil
}

// Env returns the AWS variables of a step that acts as the user.
func (u IAMUser) Env(endpoint string) []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + u.AccessKey, "AWS_SECRET_ACCESS_KEY=" + u.SecretKey,
		"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL=" + endpoint, "AWS_EC2_METADATA_DISABLED=true",
	}
}

// emptyPayload is the SHA-256 of an empty body, which a presigned GET
// signs.
var emptyPayload = func() string {
	sum := sha256.Sum256(nil)
	return hex.EncodeToString(sum[:])
}()

// SignToken makes an EKS token for cluster, signed as the user at
// signedAt: a token signed twenty minutes ago is one EKS refuses as
// expired. It signs the request itself, independently of the fixer's way
// of minting tokens.
func SignToken(ctx context.Context, u IAMUser, stsEndpoint, cluster string,
	signedAt time.Time,
) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		stsEndpoint+"/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", nil)
	if err != nil {
		return "", fmt.Errorf("STS request: %w", err)
	}
	req.Header.Set("x-k8s-aws-id", cluster)
	creds := aws.Credentials{AccessKeyID: u.AccessKey, SecretAccessKey: u.SecretKey}
	signed, _, err := v4.NewSigner().PresignHTTP(ctx, creds, req, emptyPayload, "sts",
		"us-east-1", signedAt.UTC())
	if err != nil {
		return "", fmt.Errorf("presign STS request: %w", err)
	}
	return "k8s-aws-v1." + base64.RawURLEncoding.EncodeToString([]byte(signed)), nil
}

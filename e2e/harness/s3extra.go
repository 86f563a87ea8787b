package harness

import (
	"bytes"
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// EnableVersioning turns on versioning for bucket.
func (a *AWS) EnableVersioning(ctx context.Context, bucket string) error {
	_, err := a.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket: &bucket,
		VersioningConfiguration: &s3types.VersioningConfiguration{
			Status: s3types.BucketVersioningStatusEnabled,
		},
	})
	if err != nil {
		return fmt.Errorf("enable versioning of %s: %w", bucket, err)
	}
	return nil
}

// Object returns an object's body, or nil when there is none.
func (a *AWS) Object(ctx context.Context, bucket, key string) ([]byte, error) {
	return a.object(ctx, bucket, key)
}

// PutObject writes an object behind terraform's back.
func (a *AWS) PutObject(ctx context.Context, bucket, key string, body []byte) error {
	_, err := a.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &bucket, Key: &key, Body: bytes.NewReader(body),
	})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// Digest returns the MD5 digest the s3 backend keeps for bucket/key in
// table, or "" when there is none.
func (a *AWS) Digest(ctx context.Context, table, bucket, key string) (string, error) {
	out, err := a.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &table,
		Key:            map[string]ddbtypes.AttributeValue{"LockID": str(bucket + "/" + key + "-md5")},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("get digest of %s/%s: %w", bucket, key, err)
	}
	d, _ := out.Item["Digest"].(*ddbtypes.AttributeValueMemberS)
	if d == nil {
		return "", nil
	}
	return d.Value, nil
}

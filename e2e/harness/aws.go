package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// AWS holds clients for the moto server of a test.
type AWS struct {
	S3       *s3.Client
	DynamoDB *dynamodb.Client
}

// NewAWS returns clients for endpoint with the fake credentials of
// [TerraformEnv]. It reads nothing from the environment.
func NewAWS(endpoint string) *AWS {
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
	}
	return &AWS{
		S3:       s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		DynamoDB: dynamodb.NewFromConfig(cfg),
	}
}

// CreateBucket creates the S3 bucket name.
func (a *AWS) CreateBucket(ctx context.Context, name string) error {
	if _, err := a.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

// CreateLockTable creates a DynamoDB table the s3 backend can lock in: a
// string hash key named LockID.
func (a *AWS) CreateLockTable(ctx context.Context, name string) error {
	_, err := a.DynamoDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: &name,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("LockID"), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String("LockID"), KeyType: ddbtypes.KeyTypeHash},
		},
		BillingMode: ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	return nil
}

// LockInfo is a terraform state lock as the backend stores it.
type LockInfo struct {
	ID        string
	Operation string
	Info      string
	Who       string
	Version   string
	Created   time.Time
	Path      string
}

// LockObject returns the lock the s3 backend keeps next to the state when
// use_lockfile is set, or nil when there is none.
func (a *AWS) LockObject(ctx context.Context, bucket, key string) (*LockInfo, error) {
	body, err := a.object(ctx, bucket, key+".tflock")
	if body == nil || err != nil {
		return nil, err
	}
	return parseLock(body)
}

// LockItem returns the lock the s3 backend keeps in a DynamoDB table, or
// nil when there is none.
func (a *AWS) LockItem(ctx context.Context, table, bucket, key string) (*LockInfo, error) {
	out, err := a.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &table,
		Key:            map[string]ddbtypes.AttributeValue{"LockID": str(bucket + "/" + key)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get lock item of %s/%s: %w", bucket, key, err)
	}
	info, ok := out.Item["Info"].(*ddbtypes.AttributeValueMemberS)
	if !ok || info.Value == "" {
		return nil, nil
	}
	return parseLock([]byte(info.Value))
}

func str(v string) *ddbtypes.AttributeValueMemberS {
	return &ddbtypes.AttributeValueMemberS{Value: v}
}

func parseLock(b []byte) (*LockInfo, error) {
	var l LockInfo
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("parse lock %q: %w", b, err)
	}
	return &l, nil
}

// State is the part of a terraform state the tests read.
type State struct {
	Version   int             `json:"version"`
	Serial    int             `json:"serial"`
	Lineage   string          `json:"lineage"`
	Resources []StateResource `json:"resources"`
}

// StateResource is one resource of a [State].
type StateResource struct {
	Mode      string `json:"mode"`
	Type      string `json:"type"`
	Name      string `json:"name"`
	Instances []struct {
		Attributes map[string]any `json:"attributes"`
	} `json:"instances"`
}

// Resource returns the managed resource typ.name, or nil.
func (s *State) Resource(typ, name string) *StateResource {
	for i, r := range s.Resources {
		if r.Mode == "managed" && r.Type == typ && r.Name == name {
			return &s.Resources[i]
		}
	}
	return nil
}

// ParseState parses a terraform state file; it fails on anything that is
// not a version 4 state with a lineage.
func ParseState(b []byte) (*State, error) {
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("parse state: %w", err)
	}
	if st.Version != 4 || st.Lineage == "" {
		return nil, fmt.Errorf("parse state: version %d, lineage %q: not a state",
			st.Version, st.Lineage)
	}
	return &st, nil
}

// State returns the state stored at bucket/key, or nil when there is none.
func (a *AWS) State(ctx context.Context, bucket, key string) (*State, error) {
	body, err := a.object(ctx, bucket, key)
	if body == nil || err != nil {
		return nil, err
	}
	return ParseState(body)
}

// object reads an S3 object; a missing one is nil without error.
func (a *AWS) object(ctx context.Context, bucket, key string) ([]byte, error) {
	out, err := a.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	var missing *s3types.NoSuchKey
	if errors.As(err, &missing) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	return body, nil
}

package terraform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Heartbeat settings. While self-heal runs a terraform step it refreshes a
// heartbeat beside the state every interval; a lock whose holder's
// heartbeat is older than staleBeats intervals has lost its holder.
const (
	// DefaultHeartbeatInterval is how often a heartbeat is refreshed.
	DefaultHeartbeatInterval = 30 * time.Second
	// HeartbeatIntervalEnv, in the step's environment, sets another
	// interval (a Go duration); the heartbeat records it for its readers.
	HeartbeatIntervalEnv = "SELF_HEAL_HEARTBEAT_INTERVAL"
	staleBeats           = 3
)

// heartbeat is what a running self-heal keeps beside the state.
type heartbeat struct {
	Who      string    `json:"who"`
	PID      int       `json:"pid"`
	Command  string    `json:"command"`
	Updated  time.Time `json:"updated"`
	Interval string    `json:"interval"`
}

// staleAfter is how old the heartbeat may get before its writer is taken
// as gone.
func (h heartbeat) staleAfter() time.Duration {
	d, err := time.ParseDuration(h.Interval)
	if err != nil || d <= 0 {
		d = DefaultHeartbeatInterval
	}
	return staleBeats * d
}

// heartbeats reads and writes the heartbeats beside one state: S3 objects
// next to the state when the backend locks with a lock file, items of the
// lock table when it locks in DynamoDB. Each holder, named by terraform's
// user@host, has its own.
type heartbeats struct {
	c      *backendClients
	bucket string
	state  string // object key of the state
	table  string
}

func newHeartbeats(ctx context.Context, step fixer.Step, b *backend) (*heartbeats, error) {
	c, err := newBackendClients(ctx, step, b)
	if err != nil {
		return nil, err
	}
	return &heartbeats{c: c, bucket: b.str("bucket"), state: b.statePath(), table: b.lockTable()},
		nil
}

// key is the object key, or the lock table's LockID, of who's heartbeat.
func (h *heartbeats) key(who string) string {
	k := h.state + ".heartbeat/" + who
	if h.table != "" {
		return h.bucket + "/" + k
	}
	return k
}

// where names the heartbeat's place for evidence.
func (h *heartbeats) where(who string) string {
	if h.table != "" {
		return fmt.Sprintf("item %s of table %s", h.key(who), h.table)
	}
	return fmt.Sprintf("s3://%s/%s", h.bucket, h.key(who))
}

func (h *heartbeats) put(ctx context.Context, hb heartbeat) error {
	body, err := json.Marshal(hb)
	if err != nil {
		return err
	}
	if h.table != "" {
		_, err = h.c.ddb.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(h.table),
			Item: map[string]ddbtypes.AttributeValue{
				"LockID": &ddbtypes.AttributeValueMemberS{Value: h.key(hb.Who)},
				"Info":   &ddbtypes.AttributeValueMemberS{Value: string(body)},
			},
		})
	} else {
		_, err = h.c.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(h.bucket), Key: aws.String(h.key(hb.Who)),
			Body: bytes.NewReader(body), ContentType: aws.String("application/json"),
		})
	}
	if err != nil {
		return fmt.Errorf("write heartbeat %s: %w", h.where(hb.Who), err)
	}
	return nil
}

// get returns who's heartbeat, or nil when there is none.
func (h *heartbeats) get(ctx context.Context, who string) (*heartbeat, error) {
	body, err := h.read(ctx, who)
	if body == nil || err != nil {
		return nil, err
	}
	var hb heartbeat
	if err := json.Unmarshal(body, &hb); err != nil {
		return nil, fmt.Errorf("parse heartbeat %s: %w", h.where(who), err)
	}
	return &hb, nil
}

func (h *heartbeats) read(ctx context.Context, who string) ([]byte, error) {
	if h.table != "" {
		out, err := h.c.ddb.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String(h.table),
			Key:            map[string]ddbtypes.AttributeValue{"LockID": attrS(h.key(who))},
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, fmt.Errorf("read heartbeat %s: %w", h.where(who), err)
		}
		info, ok := out.Item["Info"].(*ddbtypes.AttributeValueMemberS)
		if !ok {
			return nil, nil
		}
		return []byte(info.Value), nil
	}
	out, err := h.c.s3.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(h.bucket), Key: aws.String(h.key(who)),
	})
	var missing *s3types.NoSuchKey
	if errors.As(err, &missing) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read heartbeat %s: %w", h.where(who), err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func (h *heartbeats) remove(ctx context.Context, who string) error {
	var err error
	if h.table != "" {
		_, err = h.c.ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(h.table),
			Key:       map[string]ddbtypes.AttributeValue{"LockID": attrS(h.key(who))},
		})
	} else {
		_, err = h.c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{
			Bucket: aws.String(h.bucket), Key: aws.String(h.key(who)),
		})
	}
	if err != nil {
		return fmt.Errorf("remove heartbeat %s: %w", h.where(who), err)
	}
	return nil
}

func attrS(v string) *ddbtypes.AttributeValueMemberS {
	return &ddbtypes.AttributeValueMemberS{Value: v}
}

// lockingGoals are the commands that take the state lock.
var lockingGoals = map[string]bool{
	"apply": true, "plan": true, "destroy": true, "import": true, "refresh": true,
	"taint": true, "untaint": true, "state": true,
}

// heartbeatInterval is the step's interval setting or the default.
func heartbeatInterval(step fixer.Step) time.Duration {
	if d, err := time.ParseDuration(step.Getenv(HeartbeatIntervalEnv)); err == nil && d > 0 {
		return d
	}
	return DefaultHeartbeatInterval
}

// Watch keeps a heartbeat beside the state of an s3 backend while a
// terraform, tofu or terragrunt command that takes the state lock runs,
// and removes it when stop is called. For other commands and backends it
// does nothing and returns nil. Failures to write are not fatal: a missing
// heartbeat only leaves other runs with less evidence.
func (f *ForceUnlock) Watch(ctx context.Context, step fixer.Step) (stop func()) {
	if !terraformFamily[step.Tool] || !lockingGoals[step.Goal] {
		return nil
	}
	b, err := readBackend(step)
	if err != nil || requireS3(b) != "" {
		return nil
	}
	who, err := f.host.who()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.beat(ctx, step, b, who)
	}()
	return func() {
		cancel()
		<-done
	}
}

// beat refreshes the heartbeat until ctx ends, then removes it.
func (f *ForceUnlock) beat(ctx context.Context, step fixer.Step, b *backend, who string) {
	hbs, err := newHeartbeats(ctx, step, b)
	if err != nil {
		return
	}
	every := heartbeatInterval(step)
	hb := heartbeat{Who: who, PID: os.Getpid(), Command: strings.Join(step.Args, " "),
		Interval: every.String()}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		hb.Updated = f.host.Now().UTC()
		_ = hbs.put(ctx, hb)
		select {
		case <-ctx.Done():
			cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = hbs.remove(cleanup, who)
			return
		case <-t.C:
		}
	}
}

// heartbeatEvidence reads the heartbeat of the lock's holder. It returns
// the verdict it supports (Act for a stale heartbeat, Wait for a fresh
// one) and the fact, or ok=false when there is no heartbeat to go by.
func (f *ForceUnlock) heartbeatEvidence(ctx context.Context, step fixer.Step, l lockInfo,
) (v fixer.Verdict, fact string, ok bool) {
	b, err := readBackend(step)
	if err != nil || requireS3(b) != "" || l.Who == "" {
		return 0, "", false
	}
	hbs, err := newHeartbeats(ctx, step, b)
	if err != nil {
		return 0, "", false
	}
	if bucket, key, found := strings.Cut(l.Path, "/"); found && bucket == hbs.bucket {
		hbs.state = key
	}
	hb, err := hbs.get(ctx, l.Who)
	switch {
	case err != nil:
		return 0, fmt.Sprintf("the heartbeat of %s cannot be read (%v)", l.Who, err), false
	case hb == nil:
		return 0, fmt.Sprintf("%s keeps no self-heal heartbeat at %s", l.Who, hbs.where(l.Who)),
			false
	}
	age := f.host.Now().Sub(hb.Updated).Round(time.Second)
	if age > hb.staleAfter() {
		return fixer.Act, fmt.Sprintf("the self-heal heartbeat of %s at %s was last refreshed %s "+
			"ago, more than %d intervals of %s: its run is gone",
			l.Who, hbs.where(l.Who), age, staleBeats, hb.Interval), true
	}
	return fixer.Wait, fmt.Sprintf("the self-heal heartbeat of %s at %s was refreshed %s ago "+
		"(every %s): its run is alive", l.Who, hbs.where(l.Who), age, hb.Interval), true
}

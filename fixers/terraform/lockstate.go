package terraform

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// heldLock is the lock an s3 backend holds on a state now, as read from
// the lock file beside the state or the item of the lock table.
type heldLock struct {
	// id is the ID of the lock held now, "" when the state is not locked.
	id string
	// where names the places that were read, for messages.
	where string
}

// readHeldLock reads which lock the step's s3 backend holds on the state
// the error named. ok is false when that cannot be told: another backend,
// no locking configured, or a read that failed; the caller then goes by
// the error's captures alone.
func readHeldLock(ctx context.Context, step fixer.Step, l lockInfo) (heldLock, bool) {
	b, err := readBackend(step)
	if err != nil || requireS3(b) != "" {
		return heldLock{}, false
	}
	c, err := newBackendClients(ctx, step, b)
	if err != nil {
		return heldLock{}, false
	}
	bucket, key := b.str("bucket"), b.statePath()
	if lb, lk, found := strings.Cut(l.Path, "/"); found && lb == bucket {
		key = strings.TrimSuffix(lk, ".tflock")
	}

	var where []string
	if b.flag("use_lockfile") {
		loc := "s3://" + bucket + "/" + key + ".tflock"
		body, err := getObject(ctx, c.s3, bucket, key+".tflock", "")
		if err != nil {
			return heldLock{}, false
		}
		if id := lockID(body); id != "" {
			return heldLock{id: id, where: loc}, true
		}
		where = append(where, loc)
	}
	if table := b.lockTable(); table != "" {
		loc := fmt.Sprintf("item %s/%s of table %s", bucket, key, table)
		out, err := c.ddb.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String(table),
			Key:            map[string]ddbtypes.AttributeValue{"LockID": attrS(bucket + "/" + key)},
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return heldLock{}, false
		}
		if info, ok := out.Item["Info"].(*ddbtypes.AttributeValueMemberS); ok {
			if id := lockID([]byte(info.Value)); id != "" {
				return heldLock{id: id, where: loc}, true
			}
		}
		where = append(where, loc)
	}
	if len(where) == 0 {
		return heldLock{}, false
	}
	return heldLock{where: strings.Join(where, " and ")}, true
}

// lockID returns the ID of a lock's JSON record, or "".
func lockID(body []byte) string {
	var rec struct {
		ID string `json:"ID"`
	}
	if len(body) == 0 || json.Unmarshal(body, &rec) != nil {
		return ""
	}
	return rec.ID
}

// releasedPlan is the plan when the lock the error named is no longer the
// one held: there is nothing left to force.
func releasedPlan(l lockInfo, held heldLock) fixer.Plan {
	if held.id == "" {
		return fixer.Plan{Verdict: fixer.Nothing,
			Action:   fmt.Sprintf("no lock is held: lock %s was released", l.ID),
			Evidence: []string{"no lock is held at " + held.where}}
	}
	return fixer.Plan{Verdict: fixer.Nothing,
		Action: fmt.Sprintf("lock %s is no longer held; the state is now locked by %s, "+
			"which a new failure would name", l.ID, held.id),
		Evidence: []string{fmt.Sprintf("lock %s is held at %s", held.id, held.where)}}
}

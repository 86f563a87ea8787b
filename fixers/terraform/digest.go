package terraform

import (
	"context"
	"crypto/md5" //nolint:gosec // the s3 backend keeps an MD5 digest; not for security
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Defaults of the repair-digest inputs.
const (
	defaultDigestWait  = time.Minute
	defaultDigestPoll  = 5 * time.Second
	maxVersionsToCheck = 50
)

// RepairDigest is the terraform.repair-digest fixer. When the MD5 digest
// the s3 backend keeps in DynamoDB disagrees with the state object, it
// waits for the two to converge; if they do not, and the object is a
// valid state of the same lineage as the state the digest describes, it
// writes the object's real MD5 into the digest item, after saving both.
// The zero value is ready to use and safe for concurrent use.
type RepairDigest struct {
	// sleep waits between polls; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

var (
	_ fixer.Fixer     = (*RepairDigest)(nil)
	_ fixer.Backupper = (*RepairDigest)(nil)
)

// Name returns "terraform.repair-digest".
func (*RepairDigest) Name() string { return "terraform.repair-digest" }

// Safety returns [fixer.Disruptive]: a wrong digest hides a state that
// really is out of date.
func (*RepairDigest) Safety() fixer.Safety { return fixer.Disruptive }

// Describe says what the fixer does in one line.
func (*RepairDigest) Describe() string {
	return "wait for the s3 backend's DynamoDB digest to match the state, then set it to the " +
		"state's MD5 if the state is valid and of the same lineage"
}

// Inputs lists the `with:` parameters.
func (*RepairDigest) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "wait", Type: fixer.Duration, Default: defaultDigestWait.String(),
			Doc: "how long to wait for S3 and DynamoDB to agree before writing the digest"},
		{Name: "poll", Type: fixer.Duration, Default: defaultDigestPoll.String(),
			Doc: "time between two looks while waiting"},
		{Name: "lineage", Type: fixer.String,
			Doc: "the lineage the state must have, when the bucket keeps no versions"},
	}
}

// digestView is what the fixer sees of a state and its digest.
type digestView struct {
	b       *backend
	c       *backendClients
	body    []byte // the state object, nil when missing
	md5     string
	stored  string // the digest item's value, "" when missing
	lineage string
	serial  int
}

func (v *digestView) converged() bool { return v.body != nil && v.md5 == v.stored }

func (v *digestView) digestID() string { return v.b.str("bucket") + "/" + v.b.statePath() + "-md5" }

// Check reads the state object and the digest once. It finds nothing to do
// when they agree, refuses when the object is not a valid state or its
// lineage cannot be shown to match, and otherwise acts.
func (f *RepairDigest) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	v, refusal, err := look(ctx, req.Step)
	if err != nil || refusal != "" {
		return fixer.Plan{Verdict: fixer.Refuse, Action: refusal}, err
	}
	evidence := []string{fmt.Sprintf("%s has MD5 %s; digest item %s in table %s holds %q",
		v.b.location(), v.md5, v.digestID(), v.b.lockTable(), v.stored)}
	if v.converged() {
		return fixer.Plan{Verdict: fixer.Nothing, Action: "the digest matches the state now",
			Evidence: evidence}, nil
	}
	fact, refusal, err := v.verifyLineage(ctx, req.Values.String("lineage", ""))
	if err != nil {
		return fixer.Plan{}, err
	}
	evidence = append(evidence, fact)
	if refusal != "" {
		return fixer.Plan{Verdict: fixer.Refuse, Action: refusal, Evidence: evidence}, nil
	}
	wait, err := req.Values.Duration("wait", defaultDigestWait)
	if err != nil {
		return fixer.Plan{}, err
	}
	return fixer.Plan{
		Verdict: fixer.Act,
		Action: fmt.Sprintf("wait up to %s for the digest to converge; then back up the state "+
			"and set %s to %s", wait, v.digestID(), v.md5),
		Evidence: evidence,
	}, nil
}

// look reads the backend settings, the state object and its digest item.
func look(ctx context.Context, step fixer.Step) (*digestView, string, error) {
	b, err := readBackend(step)
	if err != nil {
		return nil, "", err
	}
	if why := requireS3(b); why != "" {
		return nil, why, nil
	}
	if b.lockTable() == "" {
		return nil, "the s3 backend keeps no digest: it has no dynamodb_table", nil
	}
	c, err := newBackendClients(ctx, step, b)
	if err != nil {
		return nil, "", err
	}
	v := &digestView{b: b, c: c}
	if err := v.read(ctx); err != nil {
		return nil, "", err
	}
	if v.body == nil {
		return nil, fmt.Sprintf("%s does not exist; there is no state to take a digest of",
			b.location()), nil
	}
	if err := v.parse(); err != nil {
		return nil, fmt.Sprintf("%s is not a valid state (%v); it must be repaired by hand",
			b.location(), err), nil
	}
	return v, "", nil
}

// read fetches the object and the digest.
func (v *digestView) read(ctx context.Context) error {
	body, err := getObject(ctx, v.c.s3, v.b.str("bucket"), v.b.statePath(), "")
	if err != nil {
		return err
	}
	v.body, v.md5 = body, ""
	if body != nil {
		v.md5 = md5hex(body)
	}
	out, err := v.c.ddb.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(v.b.lockTable()),
		Key:            map[string]ddbtypes.AttributeValue{"LockID": attrS(v.digestID())},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("read digest %s: %w", v.digestID(), err)
	}
	v.stored = ""
	if d, ok := out.Item["Digest"].(*ddbtypes.AttributeValueMemberS); ok {
		v.stored = d.Value
	}
	return nil
}

// parse checks that the object is a terraform state and reads its head.
func (v *digestView) parse() error {
	st, err := parseStateHead(v.body)
	if err != nil {
		return err
	}
	v.lineage, v.serial = st.Lineage, st.Serial
	return nil
}

type stateHeader struct {
	Version int    `json:"version"`
	Serial  int    `json:"serial"`
	Lineage string `json:"lineage"`
}

func parseStateHead(b []byte) (stateHeader, error) {
	var st stateHeader
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("not JSON: %w", err)
	}
	if st.Version < 3 || st.Lineage == "" {
		return st, fmt.Errorf("version %d with lineage %q is not a state", st.Version, st.Lineage)
	}
	return st, nil
}

// verifyLineage compares the object's lineage with that of the state the
// digest describes: the version of the object whose MD5 is the stored
// digest, found in the bucket's versions, or else the lineage input. It
// returns the fact, or a refusal.
func (v *digestView) verifyLineage(ctx context.Context, given string) (string, string, error) {
	want, source, err := v.digestLineage(ctx)
	if err != nil {
		return "", "", err
	}
	if want == "" && given != "" {
		want, source = given, "the lineage input"
	}
	if want == "" {
		return "no earlier version of the state has the stored digest", "the lineage of " +
			v.b.location() + " cannot be verified (no object version matches the stored digest " +
			"and no lineage input is set); check the backend key and fix the digest by hand", nil
	}
	if want != v.lineage {
		return fmt.Sprintf("the state has lineage %s, but %s has %s", v.lineage, source, want),
			"the state in " + v.b.location() + " belongs to another lineage: the key may be wrong " +
				"or the state replaced; the digest is left alone", nil
	}
	return fmt.Sprintf("the state (serial %d) has lineage %s, the same as %s",
		v.serial, v.lineage, source), "", nil
}

// digestLineage finds the lineage of the object version whose MD5 is the
// stored digest, or "" when the bucket keeps no such version.
func (v *digestView) digestLineage(ctx context.Context) (string, string, error) {
	if v.stored == "" {
		return "", "", nil
	}
	bucket, key := v.b.str("bucket"), v.b.statePath()
	out, err := v.c.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{
		Bucket: aws.String(bucket), Prefix: aws.String(key),
		MaxKeys: aws.Int32(maxVersionsToCheck),
	})
	if err != nil {
		return "", "", fmt.Errorf("list versions of %s: %w", v.b.location(), err)
	}
	for _, ver := range out.Versions {
		if aws.ToString(ver.Key) != key {
			continue
		}
		body, err := getObject(ctx, v.c.s3, bucket, key, aws.ToString(ver.VersionId))
		if err != nil || body == nil || md5hex(body) != v.stored {
			continue
		}
		if st, err := parseStateHead(body); err == nil {
			return st.Lineage, "version " + aws.ToString(ver.VersionId) +
				" of the object, whose MD5 is the stored digest", nil
		}
	}
	return "", "", nil
}

// Backup saves the state object and the digest value into the artifact
// directory and returns the state's path.
func (f *RepairDigest) Backup(ctx context.Context, req fixer.Request) (string, error) {
	v, refusal, err := look(ctx, req.Step)
	if err != nil {
		return "", err
	}
	if refusal != "" {
		return "", errors.New(refusal)
	}
	return v.backup(req.Step)
}

func (v *digestView) backup(step fixer.Step) (string, error) {
	dir, err := artifactDir(step)
	if err != nil {
		return "", err
	}
	stamp := time.Now().UTC().Format("20060102T150405.000Z")
	path := filepath.Join(dir, fmt.Sprintf("tfstate-%s-%s.tfstate",
		fileSafe(v.b.str("bucket")+"/"+v.b.statePath()), stamp))
	if err := os.WriteFile(path, v.body, 0o600); err != nil {
		return "", fmt.Errorf("write state backup: %w", err)
	}
	digest := path + ".digest"
	if err := os.WriteFile(digest, []byte(v.stored+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write digest backup: %w", err)
	}
	return path, nil
}

// Apply waits for the digest to converge and, when it does not, verifies
// the state again, backs it up and writes its MD5 into the digest item,
// on condition that the item still holds the value read. A digest that
// converges is left alone, and the notes say so.
func (f *RepairDigest) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	wait, err := req.Values.Duration("wait", defaultDigestWait)
	if err != nil {
		return fixer.Result{}, err
	}
	poll, err := req.Values.Duration("poll", defaultDigestPoll)
	if err != nil {
		return fixer.Result{}, err
	}
	v, err := f.awaitConvergence(ctx, req.Step, wait, poll)
	if err != nil {
		return fixer.Result{}, err
	}
	if v == nil {
		return fixer.Result{Notes: []string{"the digest matches the state; it was left " +
			"as it is"}}, nil
	}
	if _, refusal, err := v.verifyLineage(ctx, req.Values.String("lineage", "")); err != nil ||
		refusal != "" {
		return fixer.Result{}, errors.Join(err, errorIf(refusal))
	}
	path, err := v.backup(req.Step)
	if err != nil {
		return fixer.Result{}, fmt.Errorf("back up state before writing the digest: %w", err)
	}
	if err := v.writeDigest(ctx); err != nil {
		return fixer.Result{Backups: []string{path}}, err
	}
	return fixer.Result{
		Changed: []string{fmt.Sprintf("set digest %s in table %s to %s, the MD5 of %s "+
			"(was %q)", v.digestID(), v.b.lockTable(), v.md5, v.b.location(), v.stored)},
		Backups: []string{path},
	}, nil
}

// awaitConvergence polls until the digest matches or wait passes. It
// returns nil when they converged, else the last view.
func (f *RepairDigest) awaitConvergence(ctx context.Context, step fixer.Step, wait,
	poll time.Duration,
) (*digestView, error) {
	deadline := time.Now().Add(wait)
	for {
		v, refusal, err := look(ctx, step)
		if err != nil || refusal != "" {
			return nil, errors.Join(err, errorIf(refusal))
		}
		if v.converged() {
			return nil, nil
		}
		if !time.Now().Add(poll).Before(deadline) {
			return v, nil
		}
		if err := f.pause(ctx, poll); err != nil {
			return nil, err
		}
	}
}

func (f *RepairDigest) pause(ctx context.Context, d time.Duration) error {
	if f.sleep != nil {
		return f.sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writeDigest stores the object's MD5, unless someone changed the item
// since it was read.
func (v *digestView) writeDigest(ctx context.Context) error {
	in := &dynamodb.PutItemInput{
		TableName: aws.String(v.b.lockTable()),
		Item: map[string]ddbtypes.AttributeValue{
			"LockID": attrS(v.digestID()), "Digest": attrS(v.md5),
		},
	}
	if v.stored == "" {
		in.ConditionExpression = aws.String("attribute_not_exists(Digest)")
	} else {
		in.ConditionExpression = aws.String("Digest = :old")
		in.ExpressionAttributeValues = map[string]ddbtypes.AttributeValue{":old": attrS(v.stored)}
	}
	if _, err := v.c.ddb.PutItem(ctx, in); err != nil {
		return fmt.Errorf("write digest %s: %w", v.digestID(), err)
	}
	return nil
}

// getObject reads an object (a given version when version is set); a
// missing one is nil without error.
func getObject(ctx context.Context, c *s3.Client, bucket, key, version string) ([]byte, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if version != "" {
		in.VersionId = aws.String(version)
	}
	out, err := c.GetObject(ctx, in)
	var missing *s3types.NoSuchKey
	if errors.As(err, &missing) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	return body, nil
}

func md5hex(b []byte) string {
	sum := md5.Sum(b) //nolint:gosec // see the import
	return hex.EncodeToString(sum[:])
}

func errorIf(msg string) error {
	if msg == "" {
		return nil
	}
	return errors.New(msg)
}

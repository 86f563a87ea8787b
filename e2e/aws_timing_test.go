//go:build e2e

package e2e

import (
	"archive/zip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/self-heal/self-heal/e2e/harness"
	awsfix "github.com/self-heal/self-heal/fixers/aws"
	"github.com/self-heal/self-heal/fixers/wait"
	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/report"
)

// TestAWSS3_ConflictWaitedOut heals a bucket re-created in another region
// while S3 still deletes the old one: wait.until polls, with progress
// lines, until the old bucket is gone, and the re-run creates the bucket.
// A second run of wait.until has nothing to wait for.
func TestAWSS3_ConflictWaitedOut(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.withGuard()
	_, err := w.s3.CreateBucket(awsCtx, &s3.CreateBucketInput{Bucket: aws.String("media")})
	noErr(t, err, "create bucket media")

	// The teardown that deleted the old bucket is still spreading.
	gone := make(chan error, 1)
	go func() {
		time.Sleep(8 * time.Second)
		_, err := w.s3.DeleteBucket(awsCtx, &s3.DeleteBucketInput{Bucket: aws.String("media")})
		gone <- err
	}()

	step := []string{"aws", "s3api", "create-bucket", "--bucket", "media", "--region",
		"eu-west-1", "--create-bucket-configuration", "LocationConstraint=eu-west-1"}
	h := w.run(nil, step...)
	noErr(t, <-gone, "delete the old bucket")
	h.exitIs(t, 0)
	h.outcomeIs(t, report.Healed)
	if !strings.Contains(h.output, "(OperationAborted) when calling the CreateBucket") {
		t.Errorf("the first attempt did not meet OperationAborted:\n%s", h.output)
	}
	f := h.fixOf(t, "s3-operation-aborted", "wait.until")
	if f.Verdict != "act" || !f.Applied || len(f.Changed) > 0 {
		t.Errorf("wait.until: verdict %q, applied %v, changed %q; want a wait", f.Verdict,
			f.Applied, f.Changed)
	}
	for _, want := range []string{"bucket media still exists in us-east-1 while the step " +
		"creates it in eu-west-1", "aws.s3-bucket-settled: poll 2 after 10s: no bucket holds " +
		"the name media any more"} {
		if !strings.Contains(h.output, want) {
			t.Errorf("output lacks %q:\n%s", want, h.output)
		}
	}
	loc, err := w.s3.GetBucketLocation(awsCtx, &s3.GetBucketLocationInput{
		Bucket: aws.String("media")})
	noErr(t, err, "get bucket location")
	if loc.LocationConstraint != "eu-west-1" {
		t.Errorf("bucket media is in %q, want eu-west-1", loc.LocationConstraint)
	}

	// A second run finds the name settled and waits for nothing.
	res := again(t, wait.NewUntil(awsfix.BucketSettled{}), fixer.Request{
		Values: fixer.Values{"condition": "aws.s3-bucket-settled", "bucket": "media"},
		Step: fixer.Step{Tool: "aws", Goal: "create-bucket", Args: step, Env: w.env,
			Dir: w.dir}}, "nothing to wait for", "bucket media exists in eu-west-1")
	contains(t, "second apply's notes", strings.Join(res.Notes, "\n"),
		"S3 has settled the bucket's operation already")
}

// lambdaZip writes a small function package and returns its path.
func lambdaZip(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fn.zip")
	f, err := os.Create(path)
	noErr(t, err, "create zip")
	z := zip.NewWriter(f)
	body, err := z.Create("handler.py")
	noErr(t, err, "add handler")
	_, err = body.Write([]byte("def handler(event, context):\n    return event\n"))
	noErr(t, err, "write handler")
	noErr(t, z.Close(), "close zip")
	noErr(t, f.Close(), "close file")
	return path
}

func (w *awsWorld) role(name, service string) string {
	w.t.Helper()
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+
		`"Principal":{"Service":"%s"},"Action":"sts:AssumeRole"}]}`, service)
	out, err := w.iam.CreateRole(awsCtx, &iam.CreateRoleInput{RoleName: &name,
		AssumeRolePolicyDocument: &trust})
	noErr(w.t, err, "create role %s", name)
	return aws.ToString(out.Role.Arn)
}

func createFunctionStep(t *testing.T, role string) []string {
	return []string{"aws", "lambda", "create-function", "--function-name", "resize",
		"--runtime", "python3.12", "--handler", "handler.handler", "--role", role,
		"--zip-file", "fileb://" + lambdaZip(t)}
}

// TestAWSIAMPropagation_NewRoleWaitedFor heals a function created with a
// role made a moment ago: wait.until polls until the role has had time to
// propagate, and the re-run creates the function.
func TestAWSIAMPropagation_NewRoleWaitedFor(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.withGuard()
	arn := w.role("resize-fn", "lambda.amazonaws.com")

	h := w.run(nil, createFunctionStep(t, arn)...)
	h.exitIs(t, 0)
	h.outcomeIs(t, report.Healed)
	if !strings.Contains(h.output, "cannot be assumed by Lambda") {
		t.Errorf("the first attempt did not meet the propagation error:\n%s", h.output)
	}
	f := h.fixOf(t, "iam-propagation", "wait.until")
	if f.Verdict != "act" || !f.Applied {
		t.Errorf("wait.until: verdict %q, applied %v; want a wait", f.Verdict, f.Applied)
	}
	want := "role resize-fn (the step's --role) was created"
	if len(f.Evidence) == 0 || !strings.HasPrefix(f.Evidence[0], want) {
		t.Errorf("wait.until evidence = %q, want it to start with %q", f.Evidence, want)
	}
	if !strings.Contains(h.output, "within the propagation window, and has had time to "+
		"propagate") {
		t.Errorf("output lacks the last poll's line:\n%s", h.output)
	}
}

// TestAWSIAMPropagation_NearMiss07Refused replays the near miss word for
// word. Its text is the one propagation prints, but the role was created
// long before (its trust policy is what is wrong), so the live check
// refuses to keep waiting, both for the terraform wording, whose role is
// found in the state beside the failing resource, and under `run`.
func TestAWSIAMPropagation_NearMiss07Refused(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.withGuard()
	arn := w.role("test-lambda-edge", "ec2.amazonaws.com")
	state := fmt.Sprintf(`{"version":4,"terraform_version":"1.11.4","serial":3,`+
		`"lineage":"5c3e0f52-0d6b-4b38-9c5e-1d2f8a7e6b10","outputs":{},"resources":[`+
		`{"module":"module.test_lambda","mode":"managed","type":"aws_iam_role","name":"this",`+
		`"provider":"provider[\"registry.terraform.io/hashicorp/aws\"]","instances":[`+
		`{"index_key":0,"schema_version":0,"attributes":{"arn":%q,"name":"test-lambda-edge"}}]}],`+
		`"check_results":null}`, arn)
	noErr(t, os.WriteFile(filepath.Join(w.dir, "terraform.tfstate"), []byte(state), 0o644),
		"write the state")

	// The built-in window is two minutes: let the role grow older.
	time.Sleep(2*time.Minute + 5*time.Second)

	ex := w.explain("terraform apply", catalogueLog(t, "nearmiss/nearmiss--07.log"))
	if ex.Pattern == nil || ex.Pattern.ID != "iam-propagation" || len(ex.Plan) != 1 {
		t.Fatalf("explain = %+v, want iam-propagation with one fix", ex)
	}
	want := "role test-lambda-edge was created 2m"
	if !strings.HasPrefix(ex.Plan[0].Refused, want) ||
		!strings.Contains(ex.Plan[0].Refused, "longer than the propagation window of 2m0s") {
		t.Errorf("explain refusal = %q, want the role's age against the window", ex.Plan[0].Refused)
	}

	h := w.run(nil, createFunctionStep(t, arn)...)
	h.exitIs(t, 255)
	h.outcomeIs(t, report.Refused)
	f := h.fixOf(t, "iam-propagation", "wait.until")
	wantRefused(t, f, "longer than the propagation window of 2m0s", "fix the configuration")
	if len(h.report.Attempts) != 1 {
		t.Errorf("self-heal ran the step %d times, want once", len(h.report.Attempts))
	}
}

// TestAWSACM_CertificateWaitedFor waits for a certificate whose DNS
// validation record is in place until ACM issues it, after which a second
// run has nothing to wait for, and refuses one whose record is missing
// from its zone. Moto issues a pending certificate after
// MOTO_ACM_VALIDATION_WAIT seconds, which only its environment sets, so
// this test does not run in parallel.
func TestAWSACM_CertificateWaitedFor(t *testing.T) {
	t.Setenv("MOTO_ACM_VALIDATION_WAIT", "20")
	harness.SelfHealBinary(t)
	w := newAWSWorldAt(t, harness.StartMoto(t))
	w.withGuard()
	zone, err := w.route53.CreateHostedZone(awsCtx, &route53.CreateHostedZoneInput{
		Name: aws.String("example.com"), CallerReference: aws.String("e2e")})
	noErr(t, err, "create hosted zone")
	zoneID := aws.ToString(zone.HostedZone.Id)
	good := w.certificate("app.example.com")
	w.validationRecord(zoneID, good)

	goodStep := []string{"aws", "acm", "wait", "certificate-validated", "--certificate-arn", good}
	h := w.run(nil, goodStep...)
	h.exitIs(t, 0)
	h.outcomeIs(t, report.Healed)
	f := h.fixOf(t, "acm-validation-timeout", "aws.wait-certificate")
	if f.Verdict != "act" || !f.Applied || len(f.Changed) > 0 {
		t.Errorf("wait-certificate: verdict %q, applied %v; want a wait", f.Verdict, f.Applied)
	}
	if !strings.Contains(strings.Join(f.Evidence, "\n"), "every DNS validation record is in "+
		"its Route 53 zone") || !strings.Contains(h.output, good+" after 0s: PENDING_VALIDATION") {
		t.Errorf("evidence %q or progress lines missing:\n%s", f.Evidence, h.output)
	}
	// A second run finds the certificate issued and waits for nothing.
	res := again(t, awsfix.WaitCertificate{}, fixer.Request{
		Values: fixer.Values{"certificate_arn": good},
		Step:   fixer.Step{Tool: "aws", Args: goodStep, Env: w.env, Dir: w.dir}},
		"certificate "+good+" is issued")
	contains(t, "second apply's notes", strings.Join(res.Notes, "\n"),
		"certificate "+good+" is issued at the first poll")

	bad := w.certificate("api.example.com")
	h = w.run(nil, "aws", "acm", "wait", "certificate-validated", "--certificate-arn", bad)
	h.exitIs(t, 255)
	h.outcomeIs(t, report.Refused)
	f = h.fixOf(t, "acm-validation-timeout", "aws.wait-certificate")
	wantRefused(t, f, "DNS validation records that are missing", "in zone example.com.")
}

func (w *awsWorld) certificate(domain string) string {
	w.t.Helper()
	out, err := w.acm.RequestCertificate(awsCtx, &acm.RequestCertificateInput{
		DomainName: &domain, ValidationMethod: acmtypes.ValidationMethodDns})
	noErr(w.t, err, "request certificate for %s", domain)
	return aws.ToString(out.CertificateArn)
}

// validationRecord creates a certificate's DNS validation record.
func (w *awsWorld) validationRecord(zoneID, arn string) {
	w.t.Helper()
	out, err := w.acm.DescribeCertificate(awsCtx, &acm.DescribeCertificateInput{
		CertificateArn: &arn})
	noErr(w.t, err, "describe certificate")
	rr := out.Certificate.DomainValidationOptions[0].ResourceRecord
	_, err = w.route53.ChangeResourceRecordSets(awsCtx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: &zoneID,
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{
			Action: r53types.ChangeActionUpsert,
			ResourceRecordSet: &r53types.ResourceRecordSet{Name: rr.Name, Type: "CNAME",
				TTL: aws.Int64(300), ResourceRecords: []r53types.ResourceRecord{{Value: rr.Value}}},
		}}}})
	noErr(w.t, err, "create validation record")
}

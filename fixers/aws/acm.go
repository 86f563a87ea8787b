package aws

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Defaults of the certificate wait.
const (
	defaultCertTimeout  = 10 * time.Minute
	defaultCertInterval = 15 * time.Second
)

// WaitCertificate is the aws.wait-certificate fixer: it polls an ACM
// certificate until it is issued, with a progress line per poll, and
// refuses when waiting cannot help: validation failed, or a DNS validation
// record is missing from a Route 53 zone of this account. The zero value
// is ready to use and safe for concurrent use.
type WaitCertificate struct{}

var (
	_ fixer.Fixer   = WaitCertificate{}
	_ fixer.Retrier = WaitCertificate{}
)

// Name returns "aws.wait-certificate".
func (WaitCertificate) Name() string { return "aws.wait-certificate" }

// Safety returns [fixer.Safe]: it only reads.
func (WaitCertificate) Safety() fixer.Safety { return fixer.Safe }

// RetryOnly returns true: waiting changes nothing.
func (WaitCertificate) RetryOnly() bool { return true }

// Describe says what the fixer does in one line.
func (WaitCertificate) Describe() string {
	return "wait until ACM issues the certificate; report validation records that are missing"
}

// Inputs lists the acm-validation-timeout capture and the wait's settings.
func (WaitCertificate) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "certificate_arn", Type: fixer.String,
			Doc: "certificate (else --certificate-arn of an aws CLI step)"},
		{Name: "timeout", Type: fixer.Duration, Default: defaultCertTimeout.String(),
			Doc: "give up when the certificate is not issued after this long"},
		{Name: "interval", Type: fixer.Duration, Default: defaultCertInterval.String(),
			Doc: "time between two polls"},
	}
}

// certState is a certificate's status and what its DNS validation lacks.
type certState struct {
	ARN, Status string
	// Missing lists validation records absent from a zone of this account;
	// Unchecked names the domains no zone of this account holds; Email
	// names domains validated by email.
	Missing, Unchecked, Email []string
}

// Check reads the certificate and its validation records.
func (WaitCertificate) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	arn := value(req, "certificate_arn", "--certificate-arn")
	if arn == "" {
		return nothing("the failure names no certificate; the pattern's back-off applies"), nil
	}
	timeout, err := req.Values.Duration("timeout", defaultCertTimeout)
	if err != nil {
		return fixer.Plan{}, err
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	st, err := readCert(ctx, c, arn)
	if err != nil {
		return fixer.Plan{}, err
	}
	return planCert(st, timeout), nil
}

func readCert(ctx context.Context, c *clients, arn string) (*certState, error) {
	out, err := c.acm().DescribeCertificate(ctx, &acm.DescribeCertificateInput{
		CertificateArn: &arn})
	if err != nil {
		return nil, fmt.Errorf("describe certificate %s: %w", arn, err)
	}
	cert := out.Certificate
	st := &certState{ARN: arn, Status: string(cert.Status)}
	if cert.Status != acmtypes.CertificateStatusPendingValidation {
		return st, nil
	}
	zones, err := hostedZones(ctx, c.route53())
	if err != nil {
		return nil, err
	}
	for _, o := range cert.DomainValidationOptions {
		if err := st.checkRecord(ctx, c.route53(), zones, o); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// zone is a Route 53 hosted zone: its ID and its name with a final dot.
type zone struct{ ID, Name string }

func hostedZones(ctx context.Context, c *route53.Client) ([]zone, error) {
	var out []zone
	p := route53.NewListHostedZonesPaginator(c, &route53.ListHostedZonesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list hosted zones: %w", err)
		}
		for _, z := range page.HostedZones {
			out = append(out, zone{ID: aws.ToString(z.Id), Name: dotted(aws.ToString(z.Name))})
		}
	}
	return out, nil
}

func dotted(name string) string { return strings.TrimSuffix(name, ".") + "." }

// zoneFor returns the zone holding name (the longest suffix), if any.
func zoneFor(zones []zone, name string) (zone, bool) {
	var best zone
	for _, z := range zones {
		if (name == z.Name || strings.HasSuffix(name, "."+z.Name)) && len(z.Name) > len(best.Name) {
			best = z
		}
	}
	return best, best.ID != ""
}

// checkRecord looks for one domain's validation record.
func (st *certState) checkRecord(ctx context.Context, c *route53.Client, zones []zone,
	o acmtypes.DomainValidation,
) error {
	domain := aws.ToString(o.DomainName)
	if o.ValidationMethod == acmtypes.ValidationMethodEmail {
		st.Email = append(st.Email, domain)
		return nil
	}
	if o.ResourceRecord == nil {
		return nil
	}
	name, want := dotted(aws.ToString(o.ResourceRecord.Name)), aws.ToString(o.ResourceRecord.Value)
	z, ok := zoneFor(zones, name)
	if !ok {
		st.Unchecked = append(st.Unchecked, domain)
		return nil
	}
	out, err := c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{
		HostedZoneId: &z.ID, StartRecordName: &name, StartRecordType: "CNAME",
		MaxItems: aws.Int32(10)})
	if err != nil {
		return fmt.Errorf("list records of zone %s: %w", z.Name, err)
	}
	for _, rs := range out.ResourceRecordSets {
		if dotted(aws.ToString(rs.Name)) != name || rs.Type != "CNAME" {
			continue
		}
		for _, r := range rs.ResourceRecords {
			if dotted(aws.ToString(r.Value)) == dotted(want) {
				return nil
			}
		}
	}
	st.Missing = append(st.Missing, fmt.Sprintf("%s CNAME %s in zone %s (%s)", name, want,
		z.Name, z.ID))
	return nil
}

func planCert(st *certState, timeout time.Duration) fixer.Plan {
	switch st.Status {
	case "ISSUED":
		return nothing(fmt.Sprintf("certificate %s is issued", st.ARN))
	case "PENDING_VALIDATION":
	default:
		return refuse(fmt.Sprintf("certificate %s is %s; it will never be issued, request a "+
			"new one", st.ARN, st.Status))
	}
	if len(st.Missing) > 0 {
		return refuse(fmt.Sprintf("certificate %s waits for DNS validation records that are "+
			"missing; create them, waiting cannot help: %s", st.ARN,
			strings.Join(st.Missing, "; ")))
	}
	evidence := []string{fmt.Sprintf("certificate %s is PENDING_VALIDATION", st.ARN)}
	if len(st.Unchecked) == 0 && len(st.Email) == 0 {
		evidence = append(evidence, "every DNS validation record is in its Route 53 zone")
	}
	if len(st.Unchecked) > 0 {
		evidence = append(evidence, fmt.Sprintf("no Route 53 zone of this account holds %s; "+
			"the validation records there were not checked", strings.Join(st.Unchecked, ", ")))
	}
	if len(st.Email) > 0 {
		evidence = append(evidence, fmt.Sprintf("%s %s validated by email, which someone "+
			"must approve", strings.Join(st.Email, ", "), isAre(len(st.Email))))
	}
	return fixer.Plan{Verdict: fixer.Act, Evidence: evidence,
		Action: fmt.Sprintf("wait up to %s for ACM to issue certificate %s", timeout, st.ARN)}
}

// Apply polls the certificate until it is issued; it fails when the
// certificate can no longer be issued or timeout passes.
func (WaitCertificate) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	arn := value(req, "certificate_arn", "--certificate-arn")
	timeout, err := req.Values.Duration("timeout", defaultCertTimeout)
	if err != nil {
		return fixer.Result{}, err
	}
	interval, err := req.Values.Duration("interval", defaultCertInterval)
	if err != nil {
		return fixer.Result{}, err
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Result{}, err
	}
	start := time.Now()
	progress := func(s string) {
		logf(req, "%s after %s: %s", arn, time.Since(start).Round(time.Second), s)
	}
	polls := 0
	err = poll(ctx, timeout, interval, progress, func(ctx context.Context) (bool, string, error) {
		polls++
		st, err := readCert(ctx, c, arn)
		if err != nil {
			return false, "", err
		}
		plan := planCert(st, timeout)
		switch plan.Verdict {
		case fixer.Nothing:
			return true, "ISSUED", nil
		case fixer.Refuse:
			return false, "", fmt.Errorf("stop waiting: %s", plan.Action)
		}
		return false, st.Status, nil
	})
	if err != nil {
		return fixer.Result{}, fmt.Errorf("wait for certificate %s: %w", arn, err)
	}
	return settled("certificate "+arn+" is issued", polls, time.Since(start)), nil
}

// settled is the result of a wait that ended because what it waited for
// holds. Only a wait that outlasted its first poll settled anything; one
// that found the condition holding leaves the pattern's back-off in place.
func settled(holds string, polls int, took time.Duration) fixer.Result {
	if polls <= 1 {
		return fixer.Result{Notes: []string{holds + " at the first poll"}}
	}
	return fixer.Result{Settled: true,
		Notes: []string{fmt.Sprintf("%s (after %s, %d polls)", holds, took.Round(time.Second), polls)}}
}

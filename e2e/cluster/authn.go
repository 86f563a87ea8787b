package cluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
)

// EKS makes the test API server authenticate bearer tokens the way EKS
// does, through a token webhook of the tests' own that works like
// aws-iam-authenticator: the token is a presigned STS GetCallerIdentity
// URL; the webhook checks its age, sends it to STS (moto), and maps the
// identity STS returns to a Kubernetes user.
type EKS struct {
	// ClusterID is the cluster name tokens must be bound to (the signed
	// x-k8s-aws-id header).
	ClusterID string
	// STS is the STS endpoint (moto's URL) that tokens must point at.
	STS string
	// Identities maps IAM ARNs (users, or roles for assumed-role
	// sessions) to Kubernetes users. Other identities are refused, as an
	// identity missing from aws-auth is on EKS.
	Identities map[string]Identity
}

// Identity is the Kubernetes user an IAM identity maps to.
type Identity struct {
	Username string
	Groups   []string
}

// eksTokenLifetime is how long aws-iam-authenticator accepts a token
// after it was signed.
const eksTokenLifetime = 15 * time.Minute

// Decision is what the webhook answered for one token.
type Decision struct {
	ARN           string
	Authenticated bool
	Reason        string
}

// authenticator serves the token webhook.
type authenticator struct {
	eks    EKS
	client *http.Client

	mu        sync.Mutex
	decisions []Decision
}

// ServeHTTP answers one TokenReview.
func (a *authenticator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var review authenticationv1.TokenReview
	if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
		http.Error(w, "decode TokenReview: "+err.Error(), http.StatusBadRequest)
		return
	}
	arn, user, err := a.authenticate(r.Context(), review.Spec.Token)
	d := Decision{ARN: arn, Authenticated: err == nil}
	review.Status = authenticationv1.TokenReviewStatus{}
	if err != nil {
		d.Reason = err.Error()
		review.Status.Error = err.Error()
	} else {
		review.Status.Authenticated = true
		review.Status.User = user
	}
	a.mu.Lock()
	a.decisions = append(a.decisions, d)
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(review)
}

// Decisions returns every answer so far.
func (a *authenticator) Decisions() []Decision {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.decisions)
}

// authenticate checks a token and returns the caller's ARN and user.
func (a *authenticator) authenticate(ctx context.Context, token string,
) (string, authenticationv1.UserInfo, error) {
	var none authenticationv1.UserInfo
	u, err := a.presignedURL(token)
	if err != nil {
		return "", none, err
	}
	caller, err := a.callSTS(ctx, u)
	if err != nil {
		return "", none, err
	}
	arn := canonicalARN(caller.Arn)
	id, ok := a.eks.Identities[arn]
	if !ok {
		return arn, none, fmt.Errorf("ARN is not mapped: %s", arn)
	}
	return arn, authenticationv1.UserInfo{
		Username: id.Username,
		UID:      "aws-iam-authenticator:" + caller.Account + ":" + caller.UserID,
		Groups:   id.Groups,
		Extra: map[string]authenticationv1.ExtraValue{
			"arn": {caller.Arn}, "canonicalArn": {arn},
		},
	}, nil
}

// presignedURL decodes a token and checks it the way the authenticator
// does: STS host, action, signed cluster header, age.
func (a *authenticator) presignedURL(token string) (*url.URL, error) {
	rest, ok := strings.CutPrefix(token, "k8s-aws-v1.")
	if !ok {
		return nil, errors.New("token is not an EKS token")
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("token is not base64url: %w", err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		return nil, fmt.Errorf("token is not a URL: %w", err)
	}
	sts, err := url.Parse(a.eks.STS)
	if err != nil {
		return nil, fmt.Errorf("STS endpoint: %w", err)
	}
	q := u.Query()
	switch {
	case u.Host != sts.Host:
		return nil, fmt.Errorf("unexpected STS host %q", u.Host)
	case q.Get("Action") != "GetCallerIdentity":
		return nil, fmt.Errorf("unexpected action %q", q.Get("Action"))
	case !slices.Contains(strings.Split(q.Get("X-Amz-SignedHeaders"), ";"), "x-k8s-aws-id"):
		return nil, errors.New("x-k8s-aws-id is not signed")
	}
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return nil, fmt.Errorf("X-Amz-Date: %w", err)
	}
	if time.Since(signed) > eksTokenLifetime {
		return nil, fmt.Errorf("X-Amz-Date parameter is expired (%s expiration), signed at %s",
			eksTokenLifetime, signed.Format(time.RFC3339))
	}
	return u, nil
}

// callerIdentity is the part of STS's answer the webhook reads.
type callerIdentity struct {
	Arn     string `json:"Arn" xml:"GetCallerIdentityResult>Arn"`
	Account string `json:"Account" xml:"GetCallerIdentityResult>Account"`
	UserID  string `json:"UserId" xml:"GetCallerIdentityResult>UserId"`
}

// callSTS sends the presigned request, bound to this cluster.
func (a *authenticator) callSTS(ctx context.Context, u *url.URL) (callerIdentity, error) {
	var id callerIdentity
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return id, fmt.Errorf("STS request: %w", err)
	}
	req.Header.Set("x-k8s-aws-id", a.eks.ClusterID)
	req.Header.Set("Accept", "application/json")
	// moto routes a request to a service by its Authorization header (or
	// its body) and takes anything else for S3; a presigned request
	// carries its credential in the query. The webhook repeats that
	// credential in the header form moto routes on. Real STS would refuse
	// two forms of authentication at once; this is for moto only.
	q := u.Query()
	req.Header.Set("Authorization", fmt.Sprintf("%s Credential=%s, SignedHeaders=%s, "+
		"Signature=%s", q.Get("X-Amz-Algorithm"), q.Get("X-Amz-Credential"),
		q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature")))
	resp, err := a.client.Do(req)
	if err != nil {
		return id, fmt.Errorf("call STS: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return id, fmt.Errorf("read STS answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return id, fmt.Errorf("STS answered %s: %s", resp.Status, body)
	}
	var wrapped struct {
		R struct {
			Result callerIdentity `json:"GetCallerIdentityResult"`
		} `json:"GetCallerIdentityResponse"`
	}
	if json.Unmarshal(body, &wrapped) == nil && wrapped.R.Result.Arn != "" {
		return wrapped.R.Result, nil
	}
	if err := xml.Unmarshal(body, &id); err != nil || id.Arn == "" {
		return id, fmt.Errorf("read STS answer %q: %v", body, err)
	}
	return id, nil
}

var assumedRole = regexp.MustCompile(`^arn:aws:sts::(\d+):assumed-role/([^/]+)/.+$`)

// canonicalARN maps an assumed-role session to its role, as
// aws-iam-authenticator does before it looks the identity up.
func canonicalARN(arn string) string {
	if m := assumedRole.FindStringSubmatch(arn); m != nil {
		return "arn:aws:iam::" + m[1] + ":role/" + m[2]
	}
	return arn
}

// serveWebhook starts the webhook on a free port of 127.0.0.1 and returns
// its URL and a function that stops it.
func serveWebhook(a *authenticator) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen for the token webhook: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/authenticate", a)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String() + "/authenticate", stop, nil
}

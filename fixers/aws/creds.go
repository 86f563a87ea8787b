package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Defaults of the credential refresh.
const (
	defaultSessionDuration = time.Hour
	defaultAudience        = "sts.amazonaws.com"
	defaultSessionName     = "self-heal"
)

// RefreshCredentials is the aws.refresh-credentials fixer: when the job's
// AWS session expired mid-run, it assumes the job's role again through web
// identity (a token file, or a fresh GitHub Actions OIDC token) and hands
// the new credentials to the step's re-run only. When terraform could not
// save its state and left errored.tfstate, it pushes that state with the
// new credentials first. Create it with [NewRefreshCredentials]; it is
// safe for concurrent use.
type RefreshCredentials struct {
	http *http.Client
}

var _ fixer.Fixer = RefreshCredentials{}

// NewRefreshCredentials returns the fixer fetching OIDC tokens with c; nil
// means a client with a 30 second timeout.
func NewRefreshCredentials(c *http.Client) RefreshCredentials {
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	return RefreshCredentials{http: c}
}

// Name returns "aws.refresh-credentials".
func (RefreshCredentials) Name() string { return "aws.refresh-credentials" }

// Safety returns [fixer.Safe]: the job gets back what it had.
func (RefreshCredentials) Safety() fixer.Safety { return fixer.Safe }

// Describe says what the fixer does in one line.
func (RefreshCredentials) Describe() string {
	return "re-assume the job's role through web identity for the re-run, pushing " +
		"errored.tfstate first when terraform left one"
}

// Inputs lists the aws-expired-token captures and the session's settings.
func (RefreshCredentials) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "errored_state", Type: fixer.String,
			Doc: "state file terraform wrote when it could not save the state"},
		{Name: "duration", Type: fixer.Duration, Default: defaultSessionDuration.String(),
			Doc: "lifetime of the new session"},
		{Name: "audience", Type: fixer.String, Default: defaultAudience,
			Doc: "audience of a GitHub Actions OIDC token"},
		{Name: "session_name", Type: fixer.String, Default: defaultSessionName,
			Doc: "role session name (default: AWS_ROLE_SESSION_NAME, else self-heal)"},
	}
}

// notExpiry are the errors that look like credential trouble but are not
// an expired session: refreshing cannot help with them.
var notExpiry = regexp.MustCompile(`\b(InvalidClientTokenId|SignatureDoesNotMatch|` +
	`UnrecognizedClientException|AccessDenied(?:Exception)?|UnauthorizedOperation|` +
	`InvalidAccessKeyId)\b|is not authorized to perform`)

// tokenSource is where a new web identity token comes from.
type tokenSource struct {
	Role string
	// File is the token file; URL and Bearer are GitHub Actions' OIDC
	// request URL and token, used when there is no file.
	File, URL, Bearer string
}

func (s tokenSource) describe() string {
	if s.File != "" {
		return "the token file AWS_WEB_IDENTITY_TOKEN_FILE names"
	}
	return "a fresh GitHub Actions OIDC token"
}

func sourceOf(step fixer.Step) (tokenSource, string) {
	s := tokenSource{Role: step.Getenv("AWS_ROLE_ARN"), File: step.Getenv("AWS_WEB_IDENTITY_TOKEN_FILE"),
		URL: step.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), Bearer: step.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")}
	switch {
	case s.Role == "":
		return s, "the step's environment names no role to assume (AWS_ROLE_ARN)"
	case s.File != "":
		if _, err := os.Stat(s.File); err != nil {
			return s, fmt.Sprintf("the web identity token file %s cannot be read (%v)", s.File, err)
		}
		return s, ""
	case s.URL != "" && s.Bearer != "":
		return s, ""
	}
	return s, "the step's environment has neither AWS_WEB_IDENTITY_TOKEN_FILE nor GitHub " +
		"Actions' ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN"
}

// Check refuses for errors that are not expiry and when no web identity
// source is at hand; it asks STS whether the step's credentials still
// work, and has nothing to do when they do and no state waits to be
// pushed.
func (f RefreshCredentials) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	if m := notExpiry.FindString(req.Failure); m != "" {
		return refuse(fmt.Sprintf("the failure also says %q: the credentials are wrong or lack "+
			"a permission, which refreshing cannot fix", m)), nil
	}
	src, missing := sourceOf(req.Step)
	if missing != "" {
		return refuse("the job's credentials cannot be renewed here: " + missing +
			"; re-run the job for fresh credentials"), nil
	}
	expired, fact, err := sessionExpired(ctx, req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	state := erroredState(req)
	evidence := []string{fact}
	if !expired && state == "" {
		return nothing("the step's credentials work again; nothing to refresh", evidence...), nil
	}
	action := fmt.Sprintf("assume role %s again with %s and pass the new credentials to the "+
		"step's re-run only", src.Role, src.describe())
	if state != "" {
		evidence = append(evidence, fmt.Sprintf("terraform left %s, the state it could not save",
			state))
		action += "; first push " + state + " to the backend with terraform state push"
	}
	return fixer.Plan{Verdict: fixer.Act, Action: action, Evidence: evidence}, nil
}

// sessionExpired asks STS who the step's credentials are.
func sessionExpired(ctx context.Context, step fixer.Step) (bool, string, error) {
	c, err := newClients(ctx, step)
	if err != nil {
		return false, "", err
	}
	out, err := c.sts().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	switch {
	case err == nil:
		return false, "sts get-caller-identity accepts the step's credentials (" +
			aws.ToString(out.Arn) + ")", nil
	case isCode(err, "ExpiredToken", "ExpiredTokenException", "RequestExpired"):
		return true, "sts get-caller-identity answers " + apiCode(err) + " for the step's " +
			"credentials", nil
	}
	return true, fmt.Sprintf("sts get-caller-identity fails for the step's credentials (%s)",
		firstOf(apiCode(err), "no answer")), nil
}

// Apply assumes the role again, pushes errored.tfstate when terraform left
// one, and returns the credentials for the re-run, masked as secrets. When
// the step's credentials work and no state waits to be pushed, it changes
// nothing and says so in its notes.
func (f RefreshCredentials) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	src, missing := sourceOf(req.Step)
	if missing != "" {
		return fixer.Result{}, errors.New(missing)
	}
	if erroredState(req) == "" {
		expired, fact, err := sessionExpired(ctx, req.Step)
		if err != nil {
			return fixer.Result{}, err
		}
		if !expired {
			return fixer.Result{Notes: []string{"kept the step's credentials: " + fact}}, nil
		}
	}
	creds, err := f.assume(ctx, req, src)
	if err != nil {
		return fixer.Result{}, err
	}
	res := fixer.Result{
		Env: map[string]string{
			"AWS_ACCESS_KEY_ID":     aws.ToString(creds.AccessKeyId),
			"AWS_SECRET_ACCESS_KEY": aws.ToString(creds.SecretAccessKey),
			"AWS_SESSION_TOKEN":     aws.ToString(creds.SessionToken),
		},
		Secrets: []string{aws.ToString(creds.SecretAccessKey), aws.ToString(creds.SessionToken)},
		Changed: []string{fmt.Sprintf("assumed role %s again with %s; the re-run's session "+
			"expires at %s", src.Role, src.describe(),
			aws.ToTime(creds.Expiration).UTC().Format(time.RFC3339))},
	}
	if state := erroredState(req); state != "" {
		line, backup, err := pushState(ctx, req, state, res.Env)
		if err != nil {
			return res, err
		}
		res.Changed = append(res.Changed, line)
		res.Backups = append(res.Backups, backup)
	}
	return res, nil
}

func (f RefreshCredentials) assume(ctx context.Context, req fixer.Request, src tokenSource,
) (ststypes.Credentials, error) {
	token, err := f.token(ctx, req, src)
	if err != nil {
		return ststypes.Credentials{}, err
	}
	duration, err := req.Values.Duration("duration", defaultSessionDuration)
	if err != nil {
		return ststypes.Credentials{}, err
	}
	cfg, err := loadConfig(ctx, req.Step)
	if err != nil {
		return ststypes.Credentials{}, err
	}
	// The call is signed by the token; the expired credentials stay out.
	cfg.Credentials = aws.AnonymousCredentials{}
	name := req.Values.String("session_name", firstOf(req.Step.Getenv("AWS_ROLE_SESSION_NAME"),
		defaultSessionName))
	out, err := sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.BaseEndpoint = serviceEndpoint(req.Step, "STS", o.BaseEndpoint)
	}).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: &src.Role, RoleSessionName: &name, WebIdentityToken: &token,
		DurationSeconds: aws.Int32(int32(duration.Seconds())),
	})
	if err != nil {
		return ststypes.Credentials{}, fmt.Errorf("assume role %s with web identity: %w", src.Role, err)
	}
	if out.Credentials == nil {
		return ststypes.Credentials{}, fmt.Errorf("assume role %s: STS returned no credentials",
			src.Role)
	}
	return *out.Credentials, nil
}

// token reads the token file, or asks GitHub Actions for a fresh token.
func (f RefreshCredentials) token(ctx context.Context, req fixer.Request, src tokenSource,
) (string, error) {
	if src.File != "" {
		b, err := os.ReadFile(src.File)
		if err != nil {
			return "", fmt.Errorf("read web identity token: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	u, err := url.Parse(src.URL)
	if err != nil {
		return "", fmt.Errorf("parse ACTIONS_ID_TOKEN_REQUEST_URL: %w", err)
	}
	q := u.Query()
	q.Set("audience", req.Values.String("audience", defaultAudience))
	u.RawQuery = q.Encode()
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("request an OIDC token: %w", err)
	}
	r.Header.Set("Authorization", "Bearer "+src.Bearer)
	r.Header.Set("Accept", "application/json")
	resp, err := f.http.Do(r)
	if err != nil {
		return "", fmt.Errorf("request an OIDC token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read the OIDC token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("request an OIDC token: %s", resp.Status)
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Value == "" {
		return "", fmt.Errorf("the OIDC token response holds no token")
	}
	return v.Value, nil
}

// pushState pushes the state terraform could not save, with the new
// credentials, and moves the file into the artifact directory so it is
// neither pushed twice nor left for the next run. When the failure says
// terraform could not release its lock either, the lock is the failed
// run's own and the push does not wait for it.
func pushState(ctx context.Context, req fixer.Request, state string, env map[string]string,
) (string, string, error) {
	tf, err := newTerraform(req.Step, env)
	if err != nil {
		return "", "", err
	}
	ownLock := strings.Contains(req.Failure, "Error releasing the state lock")
	if err := tf.StatePush(ctx, state, tfexec.Lock(!ownLock)); err != nil {
		return "", "", fmt.Errorf("push %s: %w", state, err)
	}
	dir := firstOf(req.Step.ArtifactDir, filepath.Dir(state))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("create artifact directory: %w", err)
	}
	kept := filepath.Join(dir, fmt.Sprintf("errored-%s.tfstate",
		time.Now().UTC().Format("20060102T150405Z")))
	if err := moveFile(state, kept); err != nil {
		return "", "", fmt.Errorf("keep %s: %w", state, err)
	}
	line := fmt.Sprintf("pushed %s to the state backend with the new credentials (kept as %s)",
		filepath.Base(state), kept)
	if ownLock {
		line += "; the failed run's lock was left for the next attempt to report"
	}
	return line, kept, nil
}

// moveFile renames src to dst, copying when they are on different file
// systems.
func moveFile(src, dst string) error {
	if err := os.Rename(src, dst); err == nil {
		return nil
	}
	body, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.WriteFile(dst, body, 0o600); err != nil {
		return err
	}
	return os.Remove(src)
}

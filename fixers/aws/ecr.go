package aws

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// ECRLogin is the aws.ecr-login fixer: it asks ECR for a fresh token and
// writes the registry's login into the docker configuration the step
// uses, only for a registry of the account the job's credentials belong
// to. The zero value is ready to use and safe for concurrent use.
type ECRLogin struct{}

var _ fixer.Fixer = ECRLogin{}

// Name returns "aws.ecr-login".
func (ECRLogin) Name() string { return "aws.ecr-login" }

// Safety returns [fixer.Safe]: it renews a login the job already had.
func (ECRLogin) Safety() fixer.Safety { return fixer.Safe }

// Describe says what the fixer does in one line.
func (ECRLogin) Describe() string {
	return "log docker in to the job's own ECR registry again with a fresh token"
}

// Inputs lists the ecr-auth-expired captures.
func (ECRLogin) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "registry", Type: fixer.String, Required: true, Doc: "ECR registry host"},
		{Name: "region", Type: fixer.String, Doc: "the registry's region"},
	}
}

var ecrHost = regexp.MustCompile(`^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)

// dockerConfigPath is the config.json the step's docker reads.
func dockerConfigPath(step fixer.Step) string {
	dir := step.Getenv("DOCKER_CONFIG")
	if dir == "" {
		dir = filepath.Join(firstOf(step.Getenv("HOME"), os.Getenv("HOME")), ".docker")
	}
	return filepath.Join(dir, "config.json")
}

// dockerConfig is config.json, with every key kept as it was.
type dockerConfig map[string]json.RawMessage

func readDockerConfig(path string) (dockerConfig, error) {
	body, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return dockerConfig{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read docker config: %w", err)
	}
	var cfg dockerConfig
	if err := json.Unmarshal(body, &cfg); err != nil {
		return nil, fmt.Errorf("parse docker config %s: %w", path, err)
	}
	return cfg, nil
}

// helperFor returns the credential helper or store that docker uses for
// host instead of config.json's auths, or "".
func (c dockerConfig) helperFor(host string) string {
	var helpers map[string]string
	if json.Unmarshal(c["credHelpers"], &helpers) == nil && helpers[host] != "" {
		return "credential helper docker-credential-" + helpers[host]
	}
	var store string
	if json.Unmarshal(c["credsStore"], &store) == nil && store != "" {
		return "credential store docker-credential-" + store
	}
	return ""
}

// Check refuses without a legible ECR host, for a registry of another
// account than the caller's, and when docker keeps credentials in a
// helper instead of config.json. It has nothing to do when config.json
// already holds a login for the registry that is still good (see
// [ECRLogin.Apply]).
func (f ECRLogin) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	host := strings.ToLower(req.Values.String("registry", ""))
	m := ecrHost.FindStringSubmatch(host)
	if m == nil {
		return refuse(fmt.Sprintf("the failure names no legible ECR registry host (got %q); "+
			"a masked host cannot be checked against the caller's account", host)), nil
	}
	path := dockerConfigPath(req.Step)
	cfg, err := readDockerConfig(path)
	if err != nil {
		return fixer.Plan{}, err
	}
	if h := cfg.helperFor(host); h != "" {
		return refuse(fmt.Sprintf("docker reads the credentials for %s from the %s, not from "+
			"%s; log in through it", host, h, path)), nil
	}
	c, err := newClients(ctx, req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	id, err := c.sts().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fixer.Plan{}, fmt.Errorf("ask STS for the caller's account: %w", err)
	}
	plan := planECR(host, m[1], aws.ToString(id.Account), path)
	if plan.Verdict != fixer.Act {
		return plan, nil
	}
	fresh, err := f.token(ctx, req, m[2])
	if err != nil {
		return fixer.Plan{}, err
	}
	if why := goodLogin(cfg, host, fresh, time.Now()); why != "" {
		return nothing(fmt.Sprintf("%s already holds a good login for %s: %s; nothing to "+
			"renew", path, host, why), plan.Evidence...), nil
	}
	return plan, nil
}

func planECR(host, registryAccount, callerAccount, path string) fixer.Plan {
	if registryAccount != callerAccount {
		return refuse(fmt.Sprintf("registry %s belongs to account %s, but the job's credentials "+
			"are account %s's: a login would not be for this registry; check the account ID in "+
			"the image name", host, registryAccount, callerAccount))
	}
	return fixer.Plan{Verdict: fixer.Act,
		Action: fmt.Sprintf("write a fresh ECR login for %s into %s", host, path),
		Evidence: []string{fmt.Sprintf("registry %s belongs to account %s, the caller's "+
			"account", host, registryAccount)}}
}

// token asks ECR, in the registry's region, for an authorization token.
// Asking changes nothing: a token is valid until it expires, whether or
// not a newer one was issued.
func (ECRLogin) token(ctx context.Context, req fixer.Request, hostRegion string,
) (ecrtypes.AuthorizationData, error) {
	step := req.Step
	if region := req.Values.String("region", hostRegion); region != "" {
		step.Env = append(append([]string(nil), step.Env...), "AWS_REGION="+region)
	}
	c, err := newClients(ctx, step)
	if err != nil {
		return ecrtypes.AuthorizationData{}, err
	}
	out, err := c.ecr().GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return ecrtypes.AuthorizationData{}, fmt.Errorf("get an ECR authorization token: %w", err)
	}
	if len(out.AuthorizationData) == 0 {
		return ecrtypes.AuthorizationData{}, errors.New("ECR returned no authorization token")
	}
	return out.AuthorizationData[0], nil
}

// loginMargin is how long a stored login must stay valid to be kept: a
// login about to expire is renewed.
const loginMargin = 15 * time.Minute

// goodLogin says why the login docker keeps for host is still good, or
// returns "": it is the very token ECR issues now, or its password says
// it expires after loginMargin from now. ECR's passwords carry their
// expiry in a base64 JSON payload; that format is ECR's own and not
// documented, so a password that does not read that way is not trusted.
func goodLogin(cfg dockerConfig, host string, fresh ecrtypes.AuthorizationData,
	now time.Time,
) string {
	stored := cfg.auth(host)
	switch {
	case stored == "":
		return ""
	case stored == aws.ToString(fresh.AuthorizationToken):
		return "it is the token ECR issues now"
	}
	decoded, err := base64.StdEncoding.DecodeString(stored)
	if err != nil {
		return ""
	}
	_, password, _ := strings.Cut(string(decoded), ":")
	payload, err := base64.StdEncoding.DecodeString(password)
	if err != nil {
		return ""
	}
	var p struct {
		Expiration int64 `json:"expiration"`
	}
	if json.Unmarshal(payload, &p) != nil || p.Expiration == 0 {
		return ""
	}
	expiry := time.Unix(p.Expiration, 0)
	if expiry.Before(now.Add(loginMargin)) {
		return ""
	}
	return "its token is valid until " + expiry.UTC().Format(time.RFC3339)
}

// auth returns auths[host].auth, or "".
func (c dockerConfig) auth(host string) string {
	var auths map[string]struct {
		Auth string `json:"auth"`
	}
	if json.Unmarshal(c["auths"], &auths) != nil {
		return ""
	}
	return auths[host].Auth
}

// Apply gets an authorization token for the registry and writes it into
// the docker configuration, keeping everything else in the file. A login
// that is still good is kept, and the notes say so.
func (f ECRLogin) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	host := strings.ToLower(req.Values.String("registry", ""))
	m := ecrHost.FindStringSubmatch(host)
	if m == nil {
		return fixer.Result{}, fmt.Errorf("no ECR registry host in %q", host)
	}
	data, err := f.token(ctx, req, m[2])
	if err != nil {
		return fixer.Result{}, fmt.Errorf("%s: %w", host, err)
	}
	path := dockerConfigPath(req.Step)
	cfg, err := readDockerConfig(path)
	if err != nil {
		return fixer.Result{}, err
	}
	if why := goodLogin(cfg, host, data, time.Now()); why != "" {
		return fixer.Result{Notes: []string{fmt.Sprintf("kept the login for %s in %s: %s",
			host, path, why)}}, nil
	}

	auth := aws.ToString(data.AuthorizationToken)
	decoded, err := base64.StdEncoding.DecodeString(auth)
	if err != nil {
		return fixer.Result{}, fmt.Errorf("decode the ECR authorization token: %w", err)
	}
	_, password, _ := strings.Cut(string(decoded), ":")
	if err := writeLogin(path, host, auth); err != nil {
		return fixer.Result{}, err
	}
	return fixer.Result{
		Changed: []string{fmt.Sprintf("wrote a fresh ECR login for %s into %s (token valid "+
			"until %s)", host, path, aws.ToTime(data.ExpiresAt).UTC().Format(time.RFC3339))},
		Secrets: []string{auth, password},
	}, nil
}

// writeLogin sets auths[host].auth in the docker configuration at path.
func writeLogin(path, host, auth string) error {
	cfg, err := readDockerConfig(path)
	if err != nil {
		return err
	}
	auths := map[string]json.RawMessage{}
	if raw, ok := cfg["auths"]; ok {
		if err := json.Unmarshal(raw, &auths); err != nil {
			return fmt.Errorf("parse auths of %s: %w", path, err)
		}
	}
	entry, err := json.Marshal(map[string]string{"auth": auth})
	if err != nil {
		return err
	}
	auths[host] = entry
	if cfg["auths"], err = json.Marshal(auths); err != nil {
		return err
	}
	body, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create docker config directory: %w", err)
	}
	if err := os.WriteFile(path, append(body, '\n'), 0o600); err != nil {
		return fmt.Errorf("write docker config: %w", err)
	}
	return nil
}

package kube

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/self-heal/self-heal/fixers/kube/kubeconfig"
	"github.com/self-heal/self-heal/pkg/fixer"
)

// RefreshToken is the kube.refresh-token fixer. For an EKS cluster it
// mints a fresh token with the AWS SDK (a presigned STS GetCallerIdentity
// request, as `aws eks get-token` makes), proves that the API server
// accepts it, and hands the re-run a kubeconfig that carries it. When the
// API server refuses even the fresh token, the identity has no access to
// the cluster, and the fixer refuses: access must be granted by a person.
type RefreshToken struct {
	now func() time.Time
}

var _ fixer.Fixer = (*RefreshToken)(nil)

// NewRefreshToken returns the fixer, reading the wall clock.
func NewRefreshToken() *RefreshToken { return &RefreshToken{now: time.Now} }

// Name returns "kube.refresh-token".
func (*RefreshToken) Name() string { return "kube.refresh-token" }

// Safety returns [fixer.Safe]: it only makes credentials for the re-run.
func (*RefreshToken) Safety() fixer.Safety { return fixer.Safe }

// Describe says what the fixer does in one line.
func (*RefreshToken) Describe() string {
	return "mint a fresh EKS token with the AWS SDK and give it to the re-run"
}

// Inputs lists the optional cluster name.
func (*RefreshToken) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "cluster", Type: fixer.String,
			Doc: "the EKS cluster name; read from the kubeconfig when unset"},
	}
}

// tokenTarget is what the fixer learnt about the step's credentials.
type tokenTarget struct {
	access  *kubeconfig.Access
	raw     clientcmdapi.Config
	context string
	user    eksUser
	rest    *rest.Config
}

// Check has nothing to do when the step's own token is still valid and
// the API server accepts it; otherwise it mints a fresh token and asks the
// API server who it is.
func (r *RefreshToken) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	t, plan, done, err := r.inspect(req)
	if done || err != nil {
		return plan, err
	}
	if fact, ok, err := r.tokenWorks(ctx, t); err != nil || ok {
		return fixer.Plan{Verdict: fixer.Nothing, Evidence: []string{fact},
			Action: "the step's EKS token works; nothing to refresh"}, err
	}
	cfg, err := awsConfig(ctx, req.Step, t.user)
	if err != nil {
		return fixer.Plan{}, err
	}
	token, err := mintToken(ctx, cfg, t.user.cluster)
	if err != nil {
		return fixer.Plan{}, err
	}
	ev := r.oldTokenEvidence(t.user.token)
	who, refused, err := whoAmI(ctx, t.rest, token)
	if err != nil {
		return fixer.Plan{}, err
	}
	if refused {
		return r.accessMissing(ctx, cfg, t, ev), nil
	}
	ev = append(ev, "a freshly minted token for cluster "+t.user.cluster+
		" is accepted: it authenticates as "+who)
	return fixer.Plan{Verdict: fixer.Act, Evidence: ev, Action: fmt.Sprintf(
		"give the re-run a kubeconfig for context %s with a fresh EKS token for cluster %s",
		t.context, t.user.cluster)}, nil
}

// accessMissing is the refusal for an identity the cluster does not know.
func (r *RefreshToken) accessMissing(ctx context.Context, cfg aws.Config, t tokenTarget,
	ev []string,
) fixer.Plan {
	identity := "the step's AWS identity"
	if arn, err := callerARN(ctx, cfg); err == nil {
		identity = arn
	}
	ev = append(ev, "a freshly minted token for cluster "+t.user.cluster+
		" is refused too (401 Unauthorized)")
	return fixer.Plan{Verdict: fixer.Refuse, Evidence: ev, Action: fmt.Sprintf(
		"%s has no access to cluster %s even with a fresh token: access must be granted "+
			"(an EKS access entry or a mapping in the aws-auth ConfigMap)", identity,
		t.user.cluster)}
}

// tokenWorks reports whether the step's own token is valid for a while
// yet and the API server accepts it, with the fact that says so.
func (r *RefreshToken) tokenWorks(ctx context.Context, t tokenTarget) (string, bool, error) {
	if t.user.token == "" {
		return "", false, nil
	}
	signed, life, err := tokenSignedAt(t.user.token)
	if err != nil || r.now().Add(tokenMargin).After(signed.Add(life)) {
		return "", false, nil
	}
	who, refused, err := whoAmI(ctx, t.rest, t.user.token)
	if err != nil || refused {
		return "", false, err
	}
	return fmt.Sprintf("the step's EKS token for cluster %s is valid until %s and "+
		"authenticates as %s", t.user.cluster, signed.Add(life).UTC().Format(time.RFC3339),
		who), true, nil
}

// tokenMargin is how long the step's token must stay valid to be kept. It
// is short: a token minted for the re-run says it expires after a minute
// (X-Amz-Expires), and the re-run uses it at once.
const tokenMargin = 10 * time.Second

// oldTokenEvidence says when the step's own token expired, if it has one.
func (r *RefreshToken) oldTokenEvidence(token string) []string {
	if token == "" {
		return nil
	}
	signed, life, err := tokenSignedAt(token)
	if err != nil {
		return []string{"the step's EKS token cannot be read: " + err.Error()}
	}
	expiry := signed.Add(life)
	if r.now().After(expiry) {
		return []string{fmt.Sprintf("the step's EKS token was signed at %s and expired %s ago",
			signed.UTC().Format(time.RFC3339), age(r.now(), expiry))}
	}
	return []string{fmt.Sprintf("the step's EKS token was signed at %s and is valid until %s",
		signed.UTC().Format(time.RFC3339), expiry.UTC().Format(time.RFC3339))}
}

// inspect reads the step's kubeconfig. done is set with the plan to
// return when the credentials are not EKS ones the fixer can refresh.
func (r *RefreshToken) inspect(req fixer.Request) (tokenTarget, fixer.Plan, bool, error) {
	a := kubeconfig.ForStep(req.Step)
	t := tokenTarget{access: a}
	if p := kubeconfig.FlagValue(req.Step.Args, "--kubeconfig"); p != "" {
		return t, refusal("the step names its kubeconfig with --kubeconfig " + p +
			", which a refreshed KUBECONFIG cannot replace; refresh that file instead"), true, nil
	}
	var err error
	if t.raw, err = a.Raw(); err != nil {
		return t, fixer.Plan{}, true, err
	}
	if t.context, err = a.CurrentContext(); err != nil {
		return t, fixer.Plan{}, true, err
	}
	kctx := t.raw.Contexts[t.context]
	if kctx == nil {
		return t, fixer.Plan{}, true, fmt.Errorf("kubeconfig has no context %q", t.context)
	}
	user, ok := eksUserOf(t.raw.AuthInfos[kctx.AuthInfo], kctx.Cluster)
	if c := req.Values.String("cluster", ""); c != "" {
		user.cluster, ok = c, true
	}
	if !ok {
		return t, refusal("the credentials of context " + t.context + " are not an EKS " +
			"token or an aws eks get-token plugin; refresh them by hand"), true, nil
	}
	if user.cluster == "" {
		return t, refusal("cannot tell the EKS cluster of context " + t.context +
			"; set it with with: {cluster: NAME}"), true, nil
	}
	t.user = user
	if t.rest, err = a.ToRESTConfig(); err != nil {
		return t, fixer.Plan{}, true, err
	}
	return t, fixer.Plan{}, false, nil
}

// whoAmI asks the API server who token is. refused is set on 401.
func whoAmI(ctx context.Context, base *rest.Config, token string) (string, bool, error) {
	cfg := rest.AnonymousClientConfig(base)
	cfg.BearerToken = token
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", false, fmt.Errorf("kubernetes client: %w", err)
	}
	review, err := kc.AuthenticationV1().SelfSubjectReviews().Create(ctx,
		&authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	switch {
	case apierrors.IsUnauthorized(err):
		return "", true, nil
	case apierrors.IsForbidden(err):
		return "an identity the API server knows (it may not review itself)", false, nil
	case err != nil:
		return "", false, fmt.Errorf("review the fresh token: %w", err)
	}
	u := review.Status.UserInfo
	who := "user " + u.Username
	if len(u.Groups) > 0 {
		who += " (groups " + strings.Join(u.Groups, ", ") + ")"
	}
	return who, false, nil
}

// Apply mints a fresh token and writes a kubeconfig for the re-run that
// holds it, in a private temporary directory. When the step's own token
// works, it changes nothing and says so in its notes.
func (r *RefreshToken) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	t, plan, done, err := r.inspect(req)
	if err != nil {
		return fixer.Result{}, err
	}
	if done {
		return fixer.Result{}, fmt.Errorf("not applied: %s", plan.Action)
	}
	if fact, ok, err := r.tokenWorks(ctx, t); err != nil || ok {
		return fixer.Result{Notes: []string{"kept the step's kubeconfig: " + fact}}, err
	}
	cfg, err := awsConfig(ctx, req.Step, t.user)
	if err != nil {
		return fixer.Result{}, err
	}
	token, err := mintToken(ctx, cfg, t.user.cluster)
	if err != nil {
		return fixer.Result{}, err
	}
	if _, refused, err := whoAmI(ctx, t.rest, token); err != nil || refused {
		if err == nil {
			err = fmt.Errorf("%s", r.accessMissing(ctx, cfg, t, nil).Action)
		}
		return fixer.Result{}, err
	}
	path, err := writeTokenKubeconfig(t, token)
	if err != nil {
		return fixer.Result{}, err
	}
	return fixer.Result{
		Changed: []string{fmt.Sprintf("minted a fresh EKS token for cluster %s (valid for %s) "+
			"and pointed the re-run's KUBECONFIG at %s", t.user.cluster, eksTokenLifetime, path)},
		Env:     map[string]string{"KUBECONFIG": path},
		Secrets: []string{token},
	}, nil
}

// writeTokenKubeconfig writes a kubeconfig holding only the step's
// context, its cluster and a user with the fresh token.
func writeTokenKubeconfig(t tokenTarget, token string) (string, error) {
	kctx := *t.raw.Contexts[t.context]
	cluster, ok := t.raw.Clusters[kctx.Cluster]
	if !ok {
		return "", fmt.Errorf("kubeconfig has no cluster %q", kctx.Cluster)
	}
	userName := kctx.AuthInfo + "-refreshed"
	kctx.AuthInfo = userName
	if ns := t.access.Namespace(); kctx.Namespace == "" && ns != "default" {
		kctx.Namespace = ns
	}
	out := clientcmdapi.NewConfig()
	out.Clusters[kctx.Cluster] = cluster
	out.AuthInfos[userName] = &clientcmdapi.AuthInfo{Token: token}
	out.Contexts[t.context] = &kctx
	out.CurrentContext = t.context

	dir, err := os.MkdirTemp("", "self-heal-kubeconfig-")
	if err != nil {
		return "", fmt.Errorf("create kubeconfig directory: %w", err)
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*out, path); err != nil {
		return "", fmt.Errorf("write kubeconfig: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return "", fmt.Errorf("restrict kubeconfig: %w", err)
	}
	return path, nil
}

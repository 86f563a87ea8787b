// Package kubeconfig gives the Kubernetes and Helm fixers the cluster
// access of the step they heal: the kubeconfig that kubectl or helm in that
// step would read, found by client-go's default loading rules applied to
// the step's environment (KUBECONFIG, else .kube/config under the step's
// HOME), with the step's --kubeconfig, --context (helm: --kube-context)
// and --namespace flags on top.
//
// It never reads this process's environment, so a fixer acts with exactly
// the credentials and context of the failing step.
package kubeconfig

import (
	"fmt"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Access is the cluster access of one step. It implements the
// RESTClientGetter interface that the Helm SDK takes. It is safe for
// concurrent use once built.
type Access struct {
	loader    clientcmd.ClientConfig
	namespace string
	context   string
}

// ForStep builds the access of step. It reads no file yet; errors in the
// kubeconfig surface when a client is made.
func ForStep(step fixer.Step) *Access {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.Precedence = kubeconfigPaths(step)
	rules.ExplicitPath = ""
	if p := flagValue(step.Args, "--kubeconfig"); p != "" {
		rules.ExplicitPath = absolute(step.Dir, p)
	}

	overrides := &clientcmd.ConfigOverrides{}
	overrides.CurrentContext = flagValue(step.Args, "--context", "--kube-context")
	if overrides.CurrentContext == "" {
		overrides.CurrentContext = step.Getenv("HELM_KUBECONTEXT")
	}
	ns := flagValue(step.Args, "-n", "--namespace")
	if ns == "" && isHelm(step) {
		ns = step.Getenv("HELM_NAMESPACE")
	}
	overrides.Context.Namespace = ns
	return &Access{
		loader:    clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides),
		namespace: ns,
		context:   overrides.CurrentContext,
	}
}

// kubeconfigPaths returns the files the default loading rules read for
// step: the KUBECONFIG list of its environment, else .kube/config in its
// HOME.
func kubeconfigPaths(step fixer.Step) []string {
	if list := step.Getenv("KUBECONFIG"); list != "" {
		var out []string
		for _, p := range filepath.SplitList(list) {
			if p != "" {
				out = append(out, absolute(step.Dir, p))
			}
		}
		return out
	}
	home := step.Getenv("HOME")
	if home == "" {
		return []string{clientcmd.RecommendedHomeFile}
	}
	return []string{filepath.Join(home, clientcmd.RecommendedHomeDir,
		clientcmd.RecommendedFileName)}
}

func absolute(dir, p string) string {
	if filepath.IsAbs(p) || dir == "" {
		return p
	}
	return filepath.Join(dir, p)
}

func isHelm(step fixer.Step) bool {
	return step.Tool == "helm" || (len(step.Args) > 0 && filepath.Base(step.Args[0]) == "helm")
}

// flagValue returns the value of the last of names in args, in either the
// "--flag value" or the "--flag=value" form, or "".
func flagValue(args []string, names ...string) string {
	val := ""
	for i := 0; i < len(args); i++ {
		for _, n := range names {
			switch {
			case args[i] == n && i+1 < len(args):
				val = args[i+1]
			case strings.HasPrefix(args[i], n+"="):
				val = strings.TrimPrefix(args[i], n+"=")
			}
		}
	}
	return val
}

// FlagValue is the step-argument lookup the fixers share: the value of the
// last of names in args, as "--flag value" or "--flag=value", or "".
func FlagValue(args []string, names ...string) string { return flagValue(args, names...) }

// Namespace returns the namespace the step works in: its --namespace flag,
// else its context's namespace, else "default".
func (a *Access) Namespace() string {
	if a.namespace != "" {
		return a.namespace
	}
	ns, _, err := a.loader.Namespace()
	if err != nil || ns == "" {
		return "default"
	}
	return ns
}

// Raw returns the merged kubeconfig the step sees.
func (a *Access) Raw() (clientcmdapi.Config, error) {
	cfg, err := a.loader.RawConfig()
	if err != nil {
		return cfg, fmt.Errorf("load kubeconfig: %w", err)
	}
	return cfg, nil
}

// CurrentContext returns the name of the context the step uses.
func (a *Access) CurrentContext() (string, error) {
	raw, err := a.Raw()
	if err != nil {
		return "", err
	}
	if a.context != "" {
		return a.context, nil
	}
	return raw.CurrentContext, nil
}

// ToRESTConfig returns the REST configuration of the step's context.
func (a *Access) ToRESTConfig() (*rest.Config, error) {
	cfg, err := a.loader.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	// Deprecation warnings (v1 Endpoints, listed while surveying a
	// namespace) would go to the job log as klog lines.
	cfg.WarningHandler = rest.NoWarnings{}
	return cfg, nil
}

// ToDiscoveryClient returns a discovery client that caches in memory.
func (a *Access) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	cfg, err := a.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	return memory.NewMemCacheClient(dc), nil
}

// ToRESTMapper returns a mapper between kinds and resources backed by
// discovery.
func (a *Access) ToRESTMapper() (meta.RESTMapper, error) {
	dc, err := a.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	return restmapper.NewDeferredDiscoveryRESTMapper(dc), nil
}

// ToRawKubeConfigLoader returns the loader, as the Helm SDK wants it.
func (a *Access) ToRawKubeConfigLoader() clientcmd.ClientConfig { return a.loader }

// Clients are the typed, dynamic and discovery clients of one access.
type Clients struct {
	Kube      kubernetes.Interface
	Dynamic   dynamic.Interface
	Discovery discovery.CachedDiscoveryInterface
	Mapper    meta.RESTMapper
	Config    *rest.Config
}

// Clients makes every client of the step's context.
func (a *Access) Clients() (*Clients, error) {
	cfg, err := a.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	dc, err := a.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	return &Clients{
		Kube: kc, Dynamic: dyn, Discovery: dc, Config: cfg,
		Mapper: restmapper.NewDeferredDiscoveryRESTMapper(dc),
	}, nil
}

// Mapping maps what a failure names ("configmaps", "ConfigMap",
// "deployment.apps", "Deployment") to a resource of the cluster.
func Mapping(mapper meta.RESTMapper, what string) (*meta.RESTMapping, error) {
	what = strings.TrimSpace(what)
	if what == "" {
		return nil, fmt.Errorf("no kind or resource given")
	}
	name, group, _ := strings.Cut(what, ".")
	if gvr, err := mapper.ResourceFor(schema.GroupVersionResource{
		Group: group, Resource: strings.ToLower(name),
	}); err == nil {
		gvk, err := mapper.KindFor(gvr)
		if err == nil {
			return mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		}
	}
	gvk, err := mapper.KindFor(schema.GroupVersionResource{Group: group, Resource: name})
	if err != nil {
		return nil, fmt.Errorf("find the resource for %q: %w", what, err)
	}
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("find the resource for %q: %w", what, err)
	}
	return m, nil
}

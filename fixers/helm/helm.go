// Package helm holds the fixers that repair Helm releases through the Helm
// SDK (v4, which reads releases made by Helm 3 too): helm.recover-release,
// helm.uninstall-release, helm.adopt-resource and helm.diagnose-timeout.
//
// A fixer reaches the cluster with the step's kubeconfig (package
// kubeconfig), the step's namespace and the step's storage driver
// (HELM_DRIVER); it never runs the helm binary. Which release a failure is
// about comes from the pattern's captures, else from the step's own helm
// command line.
package helm

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"

	"github.com/self-heal/self-heal/fixers/kube/kubeconfig"
	"github.com/self-heal/self-heal/pkg/fixer"
)

// The inputs every Helm fixer reads.
var (
	releaseInput = fixer.Input{Name: "release", Type: fixer.String,
		Doc: "the release (a capture); the step's when unset"}
	namespaceInput = fixer.Input{Name: "namespace", Type: fixer.String,
		Doc: "the release's namespace; the step's when unset"}
)

// defaultHelmTimeout is helm's own --timeout default.
const defaultHelmTimeout = 5 * time.Minute

// target is the release a request is about and how to reach it.
type target struct {
	name      string
	namespace string
	cfg       *action.Configuration
	access    *kubeconfig.Access
}

// fieldManager makes the SDK write as the helm CLI does. Objects a
// rollback or uninstall changes for a release must stay managed by "helm",
// or the next helm run with server-side apply meets field conflicts with
// this program's name.
var fieldManager sync.Once

// newTarget finds the release of the request and prepares the SDK for its
// namespace.
func newTarget(req fixer.Request) (*target, error) {
	fieldManager.Do(func() { kube.ManagedFieldsManager = "helm" })
	a := kubeconfig.ForStep(req.Step)
	name := req.Values.String("release", "")
	if name == "" {
		name = releaseArg(req.Step.Args)
	}
	if name == "" {
		return nil, errors.New("neither the failure nor the step's command names a release")
	}
	ns := req.Values.String("namespace", "")
	if ns == "" {
		ns = a.Namespace()
	}
	log := req.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(log.Handler()))
	if err := cfg.Init(a, ns, req.Step.Getenv("HELM_DRIVER")); err != nil {
		return nil, fmt.Errorf("prepare the Helm SDK for namespace %s: %w", ns, err)
	}
	return &target{name: name, namespace: ns, cfg: cfg, access: a}, nil
}

// String names the release for reports.
func (t *target) String() string {
	return fmt.Sprintf("release %s in namespace %s", t.name, t.namespace)
}

// history returns the release's revisions, oldest first; none when the
// release does not exist.
func (t *target) history() ([]*release.Release, error) {
	items, err := t.cfg.Releases.History(t.name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the history of %s: %w", t, err)
	}
	out := make([]*release.Release, 0, len(items))
	for _, it := range items {
		switch r := it.(type) {
		case *release.Release:
			out = append(out, r)
		case release.Release:
			out = append(out, &r)
		default:
			return nil, fmt.Errorf("read the history of %s: unsupported release type %T", t, it)
		}
	}
	sortByRevision(out)
	return out, nil
}

func sortByRevision(rels []*release.Release) {
	for i := 1; i < len(rels); i++ {
		for j := i; j > 0 && rels[j].Version < rels[j-1].Version; j-- {
			rels[j], rels[j-1] = rels[j-1], rels[j]
		}
	}
}

// lastDeployed returns the newest deployed revision, or nil.
func lastDeployed(rels []*release.Release) *release.Release {
	for i := len(rels) - 1; i >= 0; i-- {
		if rels[i].Info != nil && rels[i].Info.Status == common.StatusDeployed {
			return rels[i]
		}
	}
	return nil
}

// statusOf returns a revision's status, "unknown" when it has none.
func statusOf(r *release.Release) common.Status {
	if r.Info == nil {
		return common.StatusUnknown
	}
	return r.Info.Status
}

// summary renders a history as "1 deployed, 2 pending-upgrade".
func summary(rels []*release.Release) string {
	parts := make([]string, len(rels))
	for i, r := range rels {
		parts[i] = fmt.Sprintf("%d %s", r.Version, statusOf(r))
	}
	return strings.Join(parts, ", ")
}

// helmValueFlags are the helm flags that take a value as the next
// argument; every other flag is a switch.
var helmValueFlags = map[string]bool{
	"-n": true, "--namespace": true, "--kube-context": true, "--kubeconfig": true,
	"--timeout": true, "--version": true, "-f": true, "--values": true, "--set": true,
	"--set-string": true, "--set-file": true, "--set-json": true, "--set-literal": true,
	"--description": true, "--history-max": true, "--post-renderer": true,
	"--post-renderer-args": true, "--repo": true, "--username": true, "--password": true,
	"--ca-file": true, "--cert-file": true, "--key-file": true, "-o": true, "--output": true,
	"--kube-apiserver": true, "--kube-token": true, "--kube-as-user": true,
	"--kube-as-group": true, "--kube-ca-file": true, "--kube-tls-server-name": true,
	"--labels": true, "-l": true, "--max-history": true, "--registry-config": true,
	"--repository-cache": true, "--repository-config": true, "--burst-limit": true,
	"--qps": true, "--keyring": true, "--name-template": true, "--deletion-propagation": true,
}

// helmReleaseCommands are the helm subcommands whose first argument is a
// release name.
var helmReleaseCommands = map[string]bool{
	"install": true, "upgrade": true, "rollback": true, "uninstall": true, "delete": true,
	"status": true, "history": true, "test": true,
}

// releaseArg finds the release name on a helm command line: the first
// positional argument after install, upgrade, rollback, uninstall and the
// like. It returns "" for any other command.
func releaseArg(args []string) string {
	i := helmIndex(args)
	if i < 0 {
		return ""
	}
	var pos []string
	for j := i + 1; j < len(args); j++ {
		a := args[j]
		if strings.HasPrefix(a, "-") {
			if !strings.Contains(a, "=") && helmValueFlags[a] {
				j++
			}
			continue
		}
		pos = append(pos, a)
	}
	if len(pos) < 2 || !helmReleaseCommands[pos[0]] {
		return ""
	}
	return pos[1]
}

// helmIndex finds the helm program in args (it may follow a wrapper such
// as env or sudo).
func helmIndex(args []string) int {
	for i, a := range args {
		if filepath.Base(a) == "helm" {
			return i
		}
	}
	return -1
}

// stepTimeout returns the step's helm --timeout, or helm's default.
func stepTimeout(args []string) (time.Duration, bool) {
	v := kubeconfig.FlagValue(args, "--timeout")
	if v == "" {
		return defaultHelmTimeout, false
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return defaultHelmTimeout, false
	}
	return d, true
}

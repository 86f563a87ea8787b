package terraform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-exec/tfexec"
	"github.com/zclconf/go-cty/cty"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// lockFileName is terraform's dependency lock file.
const lockFileName = ".terraform.lock.hcl"

// LockProviders is the terraform.lock-providers fixer. When installed
// providers do not match the checksums of the dependency lock file, it
// adds the current platform's checksums with `terraform providers lock`,
// against the configured mirror or else the registry, and never drops a
// recorded one. When the lock file selects no version of a required
// provider, it runs init. It refuses version changes. The zero value is
// ready to use and safe for concurrent use.
type LockProviders struct{}

var (
	_ fixer.Fixer     = LockProviders{}
	_ fixer.Backupper = LockProviders{}
)

// Name returns "terraform.lock-providers".
func (LockProviders) Name() string { return "terraform.lock-providers" }

// Safety returns [fixer.Disruptive]: new checksums make terraform trust
// the packages the mirror serves now.
func (LockProviders) Safety() fixer.Safety { return fixer.Disruptive }

// Describe says what the fixer does in one line.
func (LockProviders) Describe() string {
	return "add this platform's provider checksums to the lock file (keeping the recorded " +
		"ones), or run init when no version is selected"
}

// Inputs lists the captures and `with:` parameters.
func (LockProviders) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "provider", Type: fixer.String, Doc: "the provider the error names"},
		{Name: "platform", Type: fixer.String, Default: runtime.GOOS + "_" + runtime.GOARCH,
			Doc: "the platform whose checksums to add"},
		{Name: "fs_mirror", Type: fixer.String,
			Doc: "a filesystem mirror to lock from; default: the CLI configuration's"},
		{Name: "net_mirror", Type: fixer.String,
			Doc: "a network mirror to lock from; default: the CLI configuration's"},
	}
}

// lockMode is the remedy a lock-file failure calls for.
type lockMode int

const (
	lockRefuse lockMode = iota
	lockChecksums
	lockInit
)

// lockModeOf reads the failure for the kind of mismatch.
func lockModeOf(failure string) (lockMode, string) {
	switch {
	case strings.Contains(failure, "checksum list has unexpected"):
		return lockRefuse, "the registry's own checksums disagree with the package: " +
			"a broken or tampered release that no lock-file change may cover"
	case regexp.MustCompile(`match\s+any\s+of\s+the\s+checksums`).MatchString(failure):
		return lockChecksums, ""
	case strings.Contains(failure, "no version is selected"),
		strings.Contains(failure, "Required plugins are not installed"),
		strings.Contains(failure, "Missing required provider"),
		strings.Contains(failure, "Plugin reinitialization required"):
		return lockInit, ""
	}
	return lockRefuse, "the selected provider versions do not fit the configuration: changing " +
		"them is a decision for review (terraform init -upgrade, then commit the lock file)"
}

// Check decides from the failure which remedy applies and names the
// mirror the checksums would come from. It has nothing to do when terraform
// validate, which loads the providers as plan does, accepts them with the
// lock file as it is now. It changes nothing.
func (f LockProviders) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	mode, why := lockModeOf(req.Failure)
	if mode == lockRefuse {
		return fixer.Plan{Verdict: fixer.Refuse, Action: why}, nil
	}
	if ok, fact := providersAccepted(ctx, req.Step); ok {
		return fixer.Plan{Verdict: fixer.Nothing, Action: fact, Evidence: []string{fact}}, nil
	}
	switch mode {
	case lockInit:
		return fixer.Plan{Verdict: fixer.Act,
			Action:   "run terraform init -input=false -backend=false to install and record providers",
			Evidence: []string{"the lock file selects no usable version of a required provider"}}, nil
	}
	src, err := lockSource(req)
	if err != nil {
		return fixer.Plan{}, err
	}
	return fixer.Plan{
		Verdict: fixer.Act,
		Action: fmt.Sprintf("add the %s checksums from %s to %s with terraform providers lock, "+
			"keeping the recorded ones", platform(req), src, lockFileName),
		Evidence: []string{"an installed provider matches none of the checksums in " + lockFileName},
	}, nil
}

func platform(req fixer.Request) string {
	return req.Values.String("platform", runtime.GOOS+"_"+runtime.GOARCH)
}

// mirrorSource says where providers lock gets packages from.
type mirrorSource struct{ fs, net string }

func (m mirrorSource) String() string {
	switch {
	case m.fs != "":
		return "the filesystem mirror " + m.fs
	case m.net != "":
		return "the network mirror " + m.net
	}
	return "the providers' registries"
}

func (m mirrorSource) options() []tfexec.ProvidersLockOption {
	switch {
	case m.fs != "":
		return []tfexec.ProvidersLockOption{tfexec.FSMirror(m.fs)}
	case m.net != "":
		return []tfexec.ProvidersLockOption{tfexec.NetMirror(m.net)}
	}
	return nil
}

// lockSource is the mirror from the inputs, else the first one of the
// step's CLI configuration, else none (the registry).
func lockSource(req fixer.Request) (mirrorSource, error) {
	m := mirrorSource{fs: req.Values.String("fs_mirror", ""),
		net: req.Values.String("net_mirror", "")}
	if m.fs != "" || m.net != "" {
		return m, nil
	}
	path := cliConfigPath(req.Step)
	if path == "" {
		return m, nil
	}
	body, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("read CLI configuration: %w", err)
	}
	return mirrorsIn(path, body)
}

// cliConfigPath is the CLI configuration terraform reads in the step.
func cliConfigPath(step fixer.Step) string {
	if p := step.Getenv("TF_CLI_CONFIG_FILE"); p != "" {
		return p
	}
	if p := step.Getenv("TERRAFORM_CONFIG"); p != "" {
		return p
	}
	if home := step.Getenv("HOME"); home != "" {
		return filepath.Join(home, ".terraformrc")
	}
	return ""
}

// mirrorsIn finds the first mirror in a CLI configuration's
// provider_installation block.
func mirrorsIn(name string, body []byte) (mirrorSource, error) {
	file, diags := hclsyntax.ParseConfig(body, name, hcl.InitialPos)
	if diags.HasErrors() {
		return mirrorSource{}, fmt.Errorf("parse CLI configuration: %w", diags)
	}
	root, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		return mirrorSource{}, nil
	}
	for _, blk := range root.Blocks {
		if blk.Type != "provider_installation" {
			continue
		}
		for _, m := range blk.Body.Blocks {
			attr := map[string]string{"filesystem_mirror": "path", "network_mirror": "url"}[m.Type]
			a, ok := m.Body.Attributes[attr]
			if !ok {
				continue
			}
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() || v.IsNull() || !v.Type().Equals(cty.String) {
				continue
			}
			if m.Type == "filesystem_mirror" {
				return mirrorSource{fs: v.AsString()}, nil
			}
			return mirrorSource{net: v.AsString()}, nil
		}
	}
	return mirrorSource{}, nil
}

var recordedHash = regexp.MustCompile(`"((?:h1|zh):[^"]+)"`)

// lockHashes returns every checksum in a lock file.
func lockHashes(body []byte) []string {
	var out []string
	for _, m := range recordedHash.FindAllSubmatch(body, -1) {
		out = append(out, string(m[1]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Backup copies the lock file into the artifact directory.
func (LockProviders) Backup(_ context.Context, req fixer.Request) (string, error) {
	body, err := os.ReadFile(filepath.Join(stepDir(req.Step), lockFileName))
	if errors.Is(err, os.ErrNotExist) {
		body = nil
	} else if err != nil {
		return "", fmt.Errorf("read %s: %w", lockFileName, err)
	}
	return saveArtifact(req.Step, "terraform.lock.hcl", body)
}

// Apply backs the lock file up, runs providers lock (or init), and checks
// that every recorded checksum is still there; if one is gone it puts the
// old file back and fails. When terraform accepts the providers already,
// it changes nothing and says so in its notes.
func (f LockProviders) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	mode, why := lockModeOf(req.Failure)
	if mode == lockRefuse {
		return fixer.Result{}, errors.New(why)
	}
	if ok, fact := providersAccepted(ctx, req.Step); ok {
		return fixer.Result{Notes: []string{fact}}, nil
	}
	lockPath := filepath.Join(stepDir(req.Step), lockFileName)
	before, err := os.ReadFile(lockPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fixer.Result{}, fmt.Errorf("read %s: %w", lockFileName, err)
	}
	backup, err := f.Backup(ctx, req)
	if err != nil {
		return fixer.Result{}, err
	}
	res := fixer.Result{Backups: []string{backup}}
	what, err := f.run(ctx, req, mode)
	if err != nil {
		return res, err
	}
	after, err := os.ReadFile(lockPath)
	if err != nil {
		return res, fmt.Errorf("read %s after %s: %w", lockFileName, what, err)
	}
	added, dropped := diffHashes(lockHashes(before), lockHashes(after))
	if len(dropped) > 0 {
		if err := os.WriteFile(lockPath, before, 0o644); err != nil {
			return res, fmt.Errorf("restore %s: %w", lockFileName, err)
		}
		return res, fmt.Errorf("%s dropped recorded checksums %s; %s restored",
			what, strings.Join(dropped, ", "), lockFileName)
	}
	res.Changed = []string{fmt.Sprintf("ran %s in %s", what, stepDir(req.Step))}
	if len(added) > 0 {
		res.Changed = append(res.Changed, fmt.Sprintf("added checksums %s to %s",
			strings.Join(added, ", "), lockFileName))
	}
	return res, nil
}

func (f LockProviders) run(ctx context.Context, req fixer.Request, mode lockMode,
) (string, error) {
	tf, err := newTerraform(req.Step)
	if err != nil {
		return "", err
	}
	if mode == lockInit {
		what := "terraform init -input=false -backend=false"
		if err := tf.Init(ctx, tfexec.Backend(false)); err != nil {
			return what, fmt.Errorf("%s: %w", what, err)
		}
		return what, nil
	}
	src, err := lockSource(req)
	if err != nil {
		return "", err
	}
	opts := append(src.options(), tfexec.Platform(platform(req)))
	what := fmt.Sprintf("terraform providers lock -platform=%s from %s", platform(req), src)
	if err := tf.ProvidersLock(ctx, opts...); err != nil {
		return what, fmt.Errorf("%s: %w", what, err)
	}
	return what, nil
}

// diffHashes lists the checksums after has that before lacks, and the
// other way round.
func diffHashes(before, after []string) (added, dropped []string) {
	for _, h := range after {
		if !slices.Contains(before, h) {
			added = append(added, h)
		}
	}
	for _, h := range before {
		if !slices.Contains(after, h) {
			dropped = append(dropped, h)
		}
	}
	return added, dropped
}

// providersAccepted runs terraform validate in the step's directory. Like
// plan, validate loads every provider the configuration requires and
// checks its version and checksum against the lock file, without reaching
// the backend. ok is set, with the fact, when it passes; a failure, for
// whatever reason, leaves the decision to the failure's wording.
func providersAccepted(ctx context.Context, step fixer.Step) (bool, string) {
	tf, err := newTerraform(step)
	if err != nil {
		return false, ""
	}
	out, err := tf.Validate(ctx)
	if err != nil || out == nil || !out.Valid {
		return false, ""
	}
	return true, "terraform validate loads every required provider with the versions and " +
		"checksums of " + lockFileName + " as it is; nothing to lock"
}

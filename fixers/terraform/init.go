package terraform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Init is the terraform.init fixer: it initialises a working directory
// whose backend is not initialised, or whose backend settings changed.
// For a change it reconfigures (init -reconfigure) only when the state at
// the new location exists or the one at the old location is empty; moving
// a state is a migration, which it refuses. The zero value is ready to use
// and safe for concurrent use.
type Init struct{}

var _ fixer.Fixer = Init{}

// Name returns "terraform.init".
func (Init) Name() string { return "terraform.init" }

// Safety returns [fixer.Safe]: init changes only the working directory.
func (Init) Safety() fixer.Safety { return fixer.Safe }

// Describe says what the fixer does in one line.
func (Init) Describe() string {
	return "run terraform init; after a backend change, -reconfigure only when no state " +
		"would be left behind"
}

// Inputs lists the `with:` parameters.
func (Init) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "backend_config", Type: fixer.String,
			Doc: "comma-separated -backend-config values (files or key=value) for init, besides " +
				"those of the step and of TF_CLI_ARGS_init"},
	}
}

// initPlan is what Check found: the init to run and the facts.
type initPlan struct {
	reconfigure bool
	configs     []string
	evidence    []string
	refusal     string
	// done says why there is nothing to run: the directory is initialised
	// for the configured backend already.
	done string
}

// Check compares the recorded backend with the configured one and reads
// the states at both locations when they differ. It has nothing to do
// when the recorded backend has the configured settings and configuration
// hash. It changes nothing in
// the working directory: the new location is read through a scratch data
// directory.
func (Init) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	p, err := planInit(ctx, req)
	if err != nil {
		return fixer.Plan{}, err
	}
	if p.refusal != "" {
		return fixer.Plan{Verdict: fixer.Refuse, Action: p.refusal, Evidence: p.evidence}, nil
	}
	if p.done != "" {
		return fixer.Plan{Verdict: fixer.Nothing, Action: p.done, Evidence: p.evidence}, nil
	}
	return fixer.Plan{Verdict: fixer.Act, Action: "run " + p.command(), Evidence: p.evidence}, nil
}

func (p initPlan) command() string {
	args := []string{"terraform", "init", "-input=false"}
	if p.reconfigure {
		args = append(args, "-reconfigure")
	}
	for _, c := range p.configs {
		args = append(args, "-backend-config="+c)
	}
	return strings.Join(args, " ")
}

func planInit(ctx context.Context, req fixer.Request) (initPlan, error) {
	p := initPlan{configs: backendConfigs(req)}
	old, err := readBackend(req.Step)
	if err != nil {
		return p, err
	}
	if old == nil {
		p.evidence = []string{"the working directory has no initialised backend"}
		return p, nil
	}
	newer, newState, err := probeNew(ctx, req.Step, p.configs)
	if err != nil {
		return p, err
	}
	if newer.Type == old.Type && reflect.DeepEqual(newer.Config, old.Config) {
		if newer.Hash != "" && newer.Hash == old.Hash {
			p.evidence = []string{fmt.Sprintf("the recorded backend has the configured "+
				"settings and the configuration hash %s", old.Hash)}
			p.done = fmt.Sprintf("the working directory is already initialised for %s; "+
				"nothing to init", describe(old))
			return p, nil
		}
		p.evidence = []string{"the configured backend is the one recorded; init completes it"}
		return p, nil
	}
	oldState, err := pullWith(ctx, req.Step, old)
	if err != nil {
		return p, err
	}
	p.evidence = []string{
		fmt.Sprintf("the backend changed from %s to %s", describe(old), describe(newer)),
		"at the new location: " + stateFact(newState),
		"at the old location: " + stateFact(oldState),
	}
	if hasState(newState) || isEmpty(oldState) {
		p.reconfigure = true
		return p, nil
	}
	p.refusal = fmt.Sprintf("the state at %s would be left behind: the new location %s has "+
		"none; moving it is a migration, a human decision (terraform init -migrate-state)",
		describe(old), describe(newer))
	return p, nil
}

// describe names a backend's location for messages.
func describe(b *backend) string {
	if b.Type == "s3" {
		return b.location()
	}
	return fmt.Sprintf("the %s backend", b.Type)
}

// Apply runs init as Check planned it, after saving the recorded backend
// settings into the artifact directory. When Check has nothing to do, it
// runs nothing and says so in its notes.
func (Init) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	p, err := planInit(ctx, req)
	if err != nil {
		return fixer.Result{}, err
	}
	if p.refusal != "" {
		return fixer.Result{}, errors.New(p.refusal)
	}
	if p.done != "" {
		return fixer.Result{Notes: []string{p.done}}, nil
	}
	var res fixer.Result
	if body, err := os.ReadFile(backendFile(req.Step)); err == nil {
		path, err := saveArtifact(req.Step, "backend-settings.json", body)
		if err != nil {
			return res, err
		}
		res.Backups = append(res.Backups, path)
	}
	tf, err := newTerraform(req.Step)
	if err != nil {
		return res, err
	}
	opts := []tfexec.InitOption{tfexec.Reconfigure(p.reconfigure)}
	for _, c := range p.configs {
		opts = append(opts, tfexec.BackendConfig(c))
	}
	if err := tf.Init(ctx, opts...); err != nil {
		return res, fmt.Errorf("%s: %w", p.command(), err)
	}
	res.Changed = []string{"ran " + p.command() + " in " + stepDir(req.Step)}
	return res, nil
}

// probeNew initialises the configured backend in a scratch data directory
// and pulls its state, leaving the working directory's own as it is.
func probeNew(ctx context.Context, step fixer.Step, configs []string) (*backend, []byte, error) {
	scratch, err := os.MkdirTemp("", "self-heal-init-")
	if err != nil {
		return nil, nil, fmt.Errorf("create scratch data directory: %w", err)
	}
	defer os.RemoveAll(scratch)
	for _, sub := range []string{"providers", "modules"} {
		if src := filepath.Join(dataDir(step), sub); exists(src) {
			if err := os.Symlink(src, filepath.Join(scratch, sub)); err != nil {
				return nil, nil, fmt.Errorf("link %s: %w", sub, err)
			}
		}
	}
	probe := step
	probe.Env = append(append([]string(nil), step.Env...), "TF_DATA_DIR="+scratch)
	tf, err := newTerraform(probe)
	if err != nil {
		return nil, nil, err
	}
	opts := []tfexec.InitOption{tfexec.Reconfigure(true), tfexec.Get(false)}
	for _, c := range configs {
		opts = append(opts, tfexec.BackendConfig(c))
	}
	if err := tf.Init(ctx, opts...); err != nil {
		return nil, nil, fmt.Errorf("initialise the configured backend in a scratch directory: %w",
			err)
	}
	b, err := readBackend(probe)
	if err != nil || b == nil {
		return nil, nil, errors.Join(err, errors.New("the scratch init recorded no backend"))
	}
	state, err := tf.StatePull(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read the state at %s: %w", describe(b), err)
	}
	return b, []byte(state), nil
}

// pullWith reads the state a recorded backend points at, through a scratch
// configuration that holds nothing but that backend.
func pullWith(ctx context.Context, step fixer.Step, b *backend) ([]byte, error) {
	scratch, err := os.MkdirTemp("", "self-heal-oldstate-")
	if err != nil {
		return nil, fmt.Errorf("create scratch configuration: %w", err)
	}
	defer os.RemoveAll(scratch)
	settings := map[string]any{}
	for k, v := range b.Config {
		if v != nil {
			settings[k] = v
		}
	}
	conf := map[string]any{"terraform": map[string]any{"backend": map[string]any{b.Type: settings}}}
	body, err := json.Marshal(conf)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(scratch, "backend.tf.json"), body, 0o600); err != nil {
		return nil, fmt.Errorf("write scratch configuration: %w", err)
	}
	if err := writeWorkspace(scratch, b.workspace); err != nil {
		return nil, err
	}
	old := step
	old.Dir = scratch
	old.Env = append(append([]string(nil), step.Env...),
		"TF_DATA_DIR="+filepath.Join(scratch, ".terraform"))
	tf, err := newTerraform(old)
	if err != nil {
		return nil, err
	}
	if err := tf.Init(ctx, tfexec.Reconfigure(true)); err != nil {
		return nil, fmt.Errorf("initialise the recorded backend in a scratch directory: %w", err)
	}
	state, err := tf.StatePull(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the state at %s: %w", describe(b), err)
	}
	return []byte(state), nil
}

func writeWorkspace(dir, ws string) error {
	if ws == "" || ws == "default" {
		return nil
	}
	data := filepath.Join(dir, ".terraform")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return fmt.Errorf("create scratch data directory: %w", err)
	}
	return os.WriteFile(filepath.Join(data, "environment"), []byte(ws), 0o600)
}

// stateSummary is the part of a pulled state that says whether it is empty.
type stateSummary struct {
	Serial    int               `json:"serial"`
	Lineage   string            `json:"lineage"`
	Resources []json.RawMessage `json:"resources"`
	Outputs   map[string]any    `json:"outputs"`
}

func summarise(state []byte) (stateSummary, bool) {
	var s stateSummary
	if len(strings.TrimSpace(string(state))) == 0 || json.Unmarshal(state, &s) != nil {
		return s, false
	}
	return s, s.Lineage != ""
}

// hasState reports whether a pulled state exists.
func hasState(state []byte) bool {
	_, ok := summarise(state)
	return ok
}

// isEmpty reports whether a pulled state is missing or holds no resources
// and no outputs.
func isEmpty(state []byte) bool {
	s, ok := summarise(state)
	return !ok || len(s.Resources) == 0 && len(s.Outputs) == 0
}

func stateFact(state []byte) string {
	s, ok := summarise(state)
	if !ok {
		return "no state"
	}
	return fmt.Sprintf("a state of lineage %s, serial %d, with %d resources",
		s.Lineage, s.Serial, len(s.Resources))
}

// backendConfigs collects the -backend-config values init must be given:
// the step's own when it is an init, those of TF_CLI_ARGS and
// TF_CLI_ARGS_init (which terraform-exec does not pass on), and the
// backend_config input.
func backendConfigs(req fixer.Request) []string {
	var out []string
	if req.Step.Goal == "init" && len(req.Step.Args) > 1 {
		out = append(out, backendConfigFlags(req.Step.Args[1:])...)
	}
	for _, v := range []string{"TF_CLI_ARGS", "TF_CLI_ARGS_init"} {
		out = append(out, backendConfigFlags(splitArgs(req.Step.Getenv(v)))...)
	}
	for _, c := range strings.Split(req.Values.String("backend_config", ""), ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// backendConfigFlags extracts the values of -backend-config flags.
func backendConfigFlags(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := strings.TrimLeft(args[i], "-")
		switch {
		case strings.HasPrefix(a, "backend-config="):
			out = append(out, strings.TrimPrefix(a, "backend-config="))
		case a == "backend-config" && i+1 < len(args):
			out = append(out, args[i+1])
			i++
		}
	}
	return out
}

// splitArgs splits a TF_CLI_ARGS value into words, honouring quotes.
func splitArgs(s string) []string {
	var out []string
	var cur strings.Builder
	quote, in := rune(0), false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '"' || r == '\''):
			quote, in = r, true
		case quote == 0 && (r == ' ' || r == '\t' || r == '\n'):
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// saveArtifact writes body into the artifact directory under a name made
// of the time and base, and returns its path.
func saveArtifact(step fixer.Step, base string, body []byte) (string, error) {
	dir, err := artifactDir(step)
	if err != nil {
		return "", err
	}
	stamp := time.Now().UTC().Format("20060102T150405.000Z")
	path := filepath.Join(dir, stamp+"-"+base)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		return "", fmt.Errorf("write backup %s: %w", path, err)
	}
	return path, nil
}

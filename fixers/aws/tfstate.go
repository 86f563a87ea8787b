package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// newTerraform returns terraform-exec for the step's directory, its
// terraform (or tofu) and its environment with extra overlaid.
func newTerraform(step fixer.Step, extra map[string]string) (*tfexec.Terraform, error) {
	name := "terraform"
	if step.Tool == "tofu" {
		name = "tofu"
	}
	bin, err := lookPath(step, name)
	if err != nil {
		return nil, err
	}
	dir := firstOf(step.Dir, ".")
	tf, err := tfexec.NewTerraform(dir, bin)
	if err != nil {
		return nil, fmt.Errorf("prepare %s in %s: %w", name, dir, err)
	}
	env := map[string]string{}
	for _, kv := range step.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			env[k] = v
		}
	}
	for k, v := range extra {
		env[k] = v
	}
	if err := tf.SetEnv(tfexec.CleanEnv(env)); err != nil {
		return nil, fmt.Errorf("set environment for %s: %w", name, err)
	}
	return tf, nil
}

// lookPath finds name on the step's PATH, else on this process's.
func lookPath(step fixer.Step, name string) (string, error) {
	for _, dir := range filepath.SplitList(step.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		if p, err := exec.LookPath(filepath.Join(dir, name)); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("find %s on the step's PATH: %w", name, err)
	}
	return p, nil
}

// rawState is the part of a terraform state the fixers read.
type rawState struct {
	Resources []struct {
		Module    string `json:"module"`
		Mode      string `json:"mode"`
		Type      string `json:"type"`
		Instances []struct {
			Attributes map[string]any `json:"attributes"`
		} `json:"instances"`
	} `json:"resources"`
}

// moduleOf returns the module path of a resource address:
// module.a.module.b for module.a.module.b.aws_x.y[0], "" for the root.
var moduleOf = regexp.MustCompile(`^((?:module\.[\w-]+(?:\[[^\]]+\])?\.)*)`)

// stateRoles returns the names of the IAM roles that the terraform state
// holds in the same module as address. It returns nothing without an
// address, and nothing when the state cannot be read.
func stateRoles(ctx context.Context, step fixer.Step, address string) ([]string, error) {
	if address == "" {
		return nil, nil
	}
	tf, err := newTerraform(step, nil)
	if err != nil {
		return nil, nil //nolint:nilerr // no terraform here means no state to read
	}
	body, err := tf.StatePull(ctx)
	if err != nil || body == "" {
		return nil, nil //nolint:nilerr // an unreadable state names no role
	}
	return rolesInModule([]byte(body), address)
}

// rolesInModule returns the names of the IAM roles in a raw state that
// live in the same module as address.
func rolesInModule(body []byte, address string) ([]string, error) {
	var st rawState
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("parse the terraform state: %w", err)
	}
	module := stripIndexes(strings.TrimSuffix(moduleOf.FindString(address), "."))
	var names []string
	for _, r := range st.Resources {
		if r.Mode != "managed" || r.Type != "aws_iam_role" || stripIndexes(r.Module) != module {
			continue
		}
		for _, i := range r.Instances {
			if n, ok := i.Attributes["name"].(string); ok && n != "" {
				names = append(names, n)
			}
		}
	}
	return names, nil
}

var indexes = regexp.MustCompile(`\[[^\]]*\]`)

func stripIndexes(s string) string { return indexes.ReplaceAllString(s, "") }

// erroredState returns the path of the errored.tfstate terraform left in
// the step's directory (or where the failure says it wrote it), or "".
func erroredState(req fixer.Request) string {
	switch req.Step.Tool {
	case "terraform", "terragrunt", "tofu":
	default:
		return ""
	}
	name := req.Values.String("errored_state", "errored.tfstate")
	if !filepath.IsAbs(name) {
		name = filepath.Join(firstOf(req.Step.Dir, "."), name)
	}
	if _, err := os.Stat(name); err != nil {
		return ""
	}
	return name
}

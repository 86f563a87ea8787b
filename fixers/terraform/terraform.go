// Package terraform holds the fixers that repair Terraform and OpenTofu
// state: today terraform.force-unlock, which releases a state lock whose
// holder is gone.
//
// Every call to the tool goes through terraform-exec, in the step's
// directory, with the step's binary and environment, so a fixer sees the
// same backend and credentials as the step it heals. The package does not
// parse the step's output; the pattern's captures arrive as inputs.
package terraform

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// terraformFamily are the tools whose steps these fixers serve.
var terraformFamily = map[string]bool{"terraform": true, "tofu": true, "terragrunt": true}

// binaryName returns the program the step's tool runs: tofu for OpenTofu,
// terraform for everything else (terragrunt included).
func binaryName(step fixer.Step) string {
	if step.Tool == "tofu" {
		return "tofu"
	}
	return "terraform"
}

// findBinary locates the step's terraform or tofu: the step's own Args[0]
// when it is a path to that program, else the first match on the step's
// PATH, else the first match on this process's PATH.
func findBinary(step fixer.Step) (string, error) {
	name := binaryName(step)
	if len(step.Args) > 0 && filepath.Base(step.Args[0]) == name &&
		strings.ContainsRune(step.Args[0], filepath.Separator) {
		p := step.Args[0]
		if !filepath.IsAbs(p) {
			p = filepath.Join(step.Dir, p)
		}
		return exec.LookPath(p)
	}
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

// stepEnv turns the step's environment into the map terraform-exec takes,
// dropping the variables it manages itself (TF_LOG, TF_CLI_ARGS, TF_VAR_*
// and the like) and refuses in SetEnv. None of them changes which backend
// or lock a state command reaches, except TF_WORKSPACE, which
// [workspaceProblem] guards.
func stepEnv(step fixer.Step) map[string]string {
	environ := step.Env
	if len(environ) == 0 {
		environ = os.Environ()
	}
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k != "" {
			env[k] = v
		}
	}
	return tfexec.CleanEnv(env)
}

// workspaceProblem explains why the step's workspace cannot be reached, or
// returns "". terraform-exec removes TF_WORKSPACE from every command, so a
// step that selects a workspace through it would have its lock looked up
// in the default workspace.
func workspaceProblem(step fixer.Step) string {
	ws := step.Getenv("TF_WORKSPACE")
	if ws == "" || ws == "default" {
		return ""
	}
	return fmt.Sprintf("the step selects workspace %q through TF_WORKSPACE, which "+
		"terraform-exec does not pass on; release the lock by hand", ws)
}

// newTerraform returns a terraform-exec handle for the step's directory,
// binary and environment.
func newTerraform(step fixer.Step) (*tfexec.Terraform, error) {
	bin, err := findBinary(step)
	if err != nil {
		return nil, err
	}
	dir := step.Dir
	if dir == "" {
		dir = "."
	}
	tf, err := tfexec.NewTerraform(dir, bin)
	if err != nil {
		return nil, fmt.Errorf("prepare %s in %s: %w", bin, dir, err)
	}
	if err := tf.SetEnv(stepEnv(step)); err != nil {
		return nil, fmt.Errorf("set environment for %s: %w", bin, err)
	}
	return tf, nil
}

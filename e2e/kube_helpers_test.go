//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/self-heal/self-heal/e2e/cluster"
	"github.com/self-heal/self-heal/e2e/harness"
	"github.com/self-heal/self-heal/patterns"
	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/pattern"
	"github.com/self-heal/self-heal/pkg/report"
)

// step is one CI step run under self-heal against a test cluster.
type step struct {
	// dir is the step's working directory; a fresh one when empty.
	dir string
	env []string
	// flags go to `self-heal run` before the step's command.
	flags []string
	// tune changes built-in patterns for this run through a repository
	// pattern file, as a user would (thresholds, allow lists).
	tune map[string]func(*pattern.Pattern)
	args []string
}

// k8sRun is what one `self-heal run` did.
type k8sRun struct {
	exit      int
	output    string
	report    report.Run
	artifacts string
}

// fixes returns every fix that fixer planned under pattern, in order.
func (r k8sRun) fixes(pattern, fixer string) []report.Fix {
	var out []report.Fix
	for _, a := range r.report.Attempts {
		if a.Match == nil || a.Match.ID != pattern {
			continue
		}
		for _, f := range a.Fixes {
			if f.Fixer == fixer {
				out = append(out, f)
			}
		}
	}
	return out
}

// only returns the single fix of fixer under pattern, failing the test
// when there is not exactly one.
func (r k8sRun) only(t *testing.T, pattern, fixer string) report.Fix {
	t.Helper()
	fs := r.fixes(pattern, fixer)
	if len(fs) != 1 {
		t.Fatalf("report has %d %s fixes under %s, want 1\n%s", len(fs), fixer, pattern, r.output)
	}
	return fs[0]
}

// start runs self-heal in the background; wait collects the result.
func (s step) start(t *testing.T) (*harness.Process, func() k8sRun) {
	t.Helper()
	bin := harness.SelfHealBinary(t)
	dir := s.dir
	if dir == "" {
		dir = t.TempDir()
	}
	if len(s.tune) > 0 {
		writeTuned(t, dir, s.tune)
	}
	out := t.TempDir()
	r := k8sRun{artifacts: filepath.Join(out, "artifacts")}
	reportPath := filepath.Join(out, "report.json")
	args := append([]string{"run", "--report", reportPath, "--artifact-dir", r.artifacts},
		s.flags...)
	args = append(append(args, "--"), s.args...)
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, s.env
	p := harness.Start(t, cmd)
	return p, func() k8sRun {
		t.Helper()
		err := p.Wait(t, 10*time.Minute)
		r.output = p.Output()
		if testing.Verbose() {
			t.Logf("self-heal %s:\n%s", strings.Join(s.args, " "), r.output)
		}
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			r.exit = exit.ExitCode()
		case err != nil:
			t.Fatalf("run self-heal: %v\n%s", err, r.output)
		}
		body, err := os.ReadFile(reportPath)
		if err != nil {
			t.Fatalf("read report (exit %d): %v\n%s", r.exit, err, r.output)
		}
		if err := json.Unmarshal(body, &r.report); err != nil {
			t.Fatalf("parse report: %v\n%s", err, body)
		}
		return r
	}
}

// run runs self-heal to the end.
func (s step) run(t *testing.T) k8sRun {
	t.Helper()
	_, wait := s.start(t)
	return wait()
}

// writeTuned writes the built-in patterns named in tune, changed by their
// functions, to the repository pattern directory of dir.
func writeTuned(t *testing.T, dir string, tune map[string]func(*pattern.Pattern)) {
	t.Helper()
	files, err := pattern.ReadFS(patterns.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	var out []*pattern.Pattern
	for _, f := range files {
		for _, p := range f.Patterns {
			if fn, ok := tune[p.ID]; ok {
				p.Examples = pattern.Examples{}
				fn(p)
				out = append(out, p)
			}
		}
	}
	if len(out) != len(tune) {
		t.Fatalf("found %d of the %d patterns to tune", len(out), len(tune))
	}
	body, err := pattern.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	pdir := filepath.Join(dir, ".self-heal", "patterns")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pdir, "tuned.yaml"), body, 0o644); err != nil {
		t.Fatal(err)
	}
}

// with sets a with: value of the pattern's fix that uses fixer.
func with(fixer string, kv ...string) func(*pattern.Pattern) {
	return func(p *pattern.Pattern) {
		for i := range p.Fixes {
			if p.Fixes[i].Use != fixer {
				continue
			}
			if p.Fixes[i].With == nil {
				p.Fixes[i].With = map[string]string{}
			}
			for j := 0; j+1 < len(kv); j += 2 {
				p.Fixes[i].With[kv[j]] = kv[j+1]
			}
		}
	}
}

// kubectl runs kubectl against the cluster as administrator and returns
// its output, failing the test on error.
func kubectl(t *testing.T, c *cluster.Cluster, args ...string) string {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// writeFile writes text to name under dir and returns its path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.TrimLeft(text, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// changedHas reports whether a change line contains every part.
func changedHas(changed []string, parts ...string) bool {
	for _, c := range changed {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(c, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// checkIdempotent asks fx about the healed failure again: with the fix
// done, Check must find nothing to do and say why, and Apply must change
// nothing (see [again]).
func checkIdempotent(t *testing.T, fx fixer.Fixer, values fixer.Values, env []string,
	args ...string,
) {
	t.Helper()
	again(t, fx, fixer.Request{Values: values, Step: fixer.Step{Env: env, Args: args}})
}

// ctx returns a context for one call to the cluster.
func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

var getOpts = metav1.GetOptions{}

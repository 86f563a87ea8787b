package cmd_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/fixers"
	"github.com/self-heal/self-heal/patterns"
	"github.com/self-heal/self-heal/pkg/ci"
	"github.com/self-heal/self-heal/pkg/ci/citest"
	"github.com/self-heal/self-heal/pkg/cmd"
	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/report"
)

// secret is a value of the job's environment that must never leave it.
const secret = "s3cr3t-deploy-value-9f8e7d"

const flakyPatterns = `version: 1
patterns:
  - id: flaky-net
    title: Flaky network
    category: timing
    hint: Retry; the network recovers.
    match: {any: ["connection reset by peer"]}
    fixes: [{use: wait.backoff}]
    retry: {attempts: 2, initial: 0s, max: 0s}
`

// flaky fails once, printing the secret, then passes.
const flaky = `if [ -f once ]; then echo applied; else touch once; ` +
	`echo "Error: connection reset by peer (token $DEPLOY_TOKEN)" >&2; exit 4; fi`

// repo makes a repository with a stack in infra/prod and returns the
// stack's directory.
func repo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	stack := filepath.Join(root, "infra", "prod")
	for _, d := range []string{filepath.Join(root, ".git"), stack} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	err := os.WriteFile(filepath.Join(stack, "flaky.yaml"), []byte(flakyPatterns), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return stack
}

// runCLI runs the command line in dir on platform p. The CLI opens paths
// relative to the process's directory, so the test changes to dir and
// cannot run in parallel.
func runCLI(t *testing.T, dir string, p ci.Platform, args ...string) (int, string, string) {
	t.Helper()
	t.Chdir(dir)
	reg := &fixer.Registry{}
	if err := fixers.Register(reg); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	env := &cmd.Env{
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Environ: []string{"PATH=" + os.Getenv("PATH"), "DEPLOY_TOKEN=" + secret},
		Dir:     dir, Builtins: patterns.FS, Registry: reg, Platform: p, Version: "test",
	}
	code := cmd.Main(context.Background(), args, env)
	return code, stdout.String(), stderr.String()
}

func githubJob() *citest.Platform {
	return &citest.Platform{Where: ci.Info{
		Name: "github", Repository: "acme/infra", ChangeRequest: "7", Job: "deploy / apply",
		RunURL: "https://github.com/acme/infra/actions/runs/42",
	}}
}

func TestPublishRun_healed(t *testing.T) {
	dir, p := repo(t), githubJob()
	code, _, stderr := runCLI(t, dir, p, "run", "--patterns", "flaky.yaml",
		"--report", "out/report.json", "--environment", "staging", "--", "sh", "-c", flaky)
	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr:\n%s", code, stderr)
	}

	wantOutputs := map[string]string{
		"outcome": "healed", "healed": "true", "attempts": "2", "pattern": "flaky-net",
		"fixes": "wait.backoff", "report": filepath.Join(dir, "out", "report.json"),
	}
	if diff := cmp.Diff(wantOutputs, p.Outputs()); diff != "" {
		t.Errorf("outputs mismatch (-want +got):\n%s", diff)
	}

	ann := p.Annotations()
	if len(ann) != 1 || ann[0].Level != "warning" || ann[0].Title != "self-heal: Flaky network" ||
		!strings.Contains(ann[0].Message, "Hint: Retry; the network recovers.") {
		t.Errorf("annotations = %+v, want one warning with the title and hint", ann)
	}

	key := "deploy / apply:infra/prod@staging"
	comments := p.Comments()
	if _, ok := comments[key]; !ok || len(comments) != 1 {
		t.Fatalf("comments = %v, want one under %q", keys(comments), key)
	}
	comment, summary := comments[key], strings.Join(p.Summaries(), "")
	if !strings.HasPrefix(comment, report.Marker(key)+"\n") {
		t.Errorf("comment does not start with its marker:\n%s", comment)
	}
	for _, text := range []string{comment, summary} {
		for _, want := range []string{"healed", "`flaky-net`", "Retry; the network recovers.",
			"`wait.backoff`", "connection reset by peer (token ***)", "[run log]("} {
			if !strings.Contains(text, want) {
				t.Errorf("report lacks %q:\n%s", want, text)
			}
		}
	}
	// stderr carries the step's own output, which passes through as it is.
	assertNoSecret(t, p, "")
}

func TestPublishRun_unknown(t *testing.T) {
	dir, p := repo(t), githubJob()
	code, _, _ := runCLI(t, dir, p, "run", "--", "sh", "-c", "echo 'odd trouble' >&2; exit 3")
	if code != 3 {
		t.Errorf("exit code = %d, want the step's 3", code)
	}
	if got := p.Outputs()["outcome"]; got != "failed" {
		t.Errorf("outcome output = %q, want failed", got)
	}
	if got := p.Annotations(); len(got) != 0 {
		t.Errorf("annotations = %+v, want none for an unrecognised failure", got)
	}
	c := p.Comments()["deploy / apply:infra/prod"]
	if !strings.Contains(c, "no pattern recognised it") {
		t.Errorf("comment does not say the failure was not recognised:\n%s", c)
	}
}

func TestPublishRun_noComment(t *testing.T) {
	dir, p := repo(t), githubJob()
	runCLI(t, dir, p, "run", "--comment=false", "--", "true")
	if got := p.Comments(); len(got) != 0 {
		t.Errorf("comments = %v, want none with --comment=false", keys(got))
	}
	if got := p.Outputs()["outcome"]; got != "succeeded" {
		t.Errorf("outcome output = %q, want succeeded", got)
	}
}

// TestPublishRun_failures checks that each capability that fails gives one
// warning and changes no exit code.
func TestPublishRun_failures(t *testing.T) {
	tests := []struct {
		name      string
		set       func(*citest.Platform)
		wantWarns []string
	}{
		{
			name: "comment refused",
			set:  func(p *citest.Platform) { p.CommentErr = errors.New("403 Forbidden") },
			wantWarns: []string{"the report was not posted as a comment (the job summary and " +
				"annotations carry it): 403 Forbidden"},
		},
		{
			name: "no pull request",
			set:  func(p *citest.Platform) { p.CommentErr = ci.ErrNoChangeRequest },
		},
		{
			name: "everything fails",
			set: func(p *citest.Platform) {
				p.AnnotateErr = errors.New("log closed")
				p.SummaryErr = errors.New("no summary file")
				p.OutputErr = errors.New("no output file " + secret)
				p.CommentErr = errors.New("no token")
			},
			wantWarns: []string{
				"set the step outputs: no output file ***",
				"annotate the failure: log closed",
				"write the job summary: no summary file",
				"the report was not posted as a comment (the job summary and annotations carry it): no token",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, p := repo(t), githubJob()
			tt.set(p)
			code, _, stderr := runCLI(t, dir, p, "run", "--patterns", "flaky.yaml", "--",
				"sh", "-c", flaky)
			if code != 0 {
				t.Errorf("exit code = %d, want 0: publishing never changes it", code)
			}
			var warns []string
			for _, a := range p.Annotations() {
				if a.Title == "self-heal" {
					warns = append(warns, a.Message)
				}
			}
			for _, line := range strings.Split(stderr, "\n") {
				if w, ok := strings.CutPrefix(line, "self-heal: warning: "); ok {
					warns = append(warns, w)
				}
			}
			if diff := cmp.Diff(tt.wantWarns, warns); diff != "" {
				t.Errorf("warnings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReportMerge(t *testing.T) {
	dir := repo(t)
	code, _, stderr := runCLI(t, dir, &citest.Platform{}, "run", "--patterns", "flaky.yaml",
		"--report", "reports/a.json", "--", "sh", "-c", flaky)
	if code != 0 {
		t.Fatalf("run = %d:\n%s", code, stderr)
	}
	runCLI(t, dir, &citest.Platform{}, "run", "--report", "reports/b.json", "--",
		"sh", "-c", "echo odd >&2; exit 3")

	other := filepath.Join(dir, "reports", "package.json")
	if err := os.WriteFile(other, []byte(`{"name": "infra"}`), 0o644); err != nil {
		t.Fatal(err)
	}

	p := githubJob()
	p.Where.Job = "deploy / report"
	code, stdout, stderr := runCLI(t, dir, p, "report", "merge", "reports")
	if code != 0 {
		t.Fatalf("report merge = %d:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "skipped "+other+": ") {
		t.Errorf("report merge of a directory did not warn about %s:\n%s", other, stderr)
	}
	for _, want := range []string{"2 runs: 1 healed, 1 failed", "| `infra/prod` |",
		"`flaky-net`", "token ***"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("merged report lacks %q:\n%s", want, stdout)
		}
	}
	key := "deploy / report:merged"
	if c := p.Comments()[key]; c != stdout {
		t.Errorf("comment under %q differs from the printed report; comments: %v", key,
			keys(p.Comments()))
	}
	wantOutputs := map[string]string{"outcome": "failed", "healed": "true", "attempts": "3",
		"pattern": "flaky-net", "fixes": "wait.backoff"}
	if diff := cmp.Diff(wantOutputs, p.Outputs()); diff != "" {
		t.Errorf("outputs mismatch (-want +got):\n%s", diff)
	}
	assertNoSecret(t, p, stdout)

	code, _, stderr = runCLI(t, dir, p, "report", "merge", "reports/package.json")
	if code != cmd.ExitError || !strings.Contains(stderr, "package.json is not a self-heal run report") {
		t.Errorf("report merge of a non-report = %d, %q; want %d naming the file", code, stderr,
			cmd.ExitError)
	}
	code, _, stderr = runCLI(t, dir, p, "report", "merge", "missing")
	if code != cmd.ExitError || !strings.Contains(stderr, "missing") {
		t.Errorf("report merge missing = %d, %q; want %d naming the path", code, stderr,
			cmd.ExitError)
	}
}

// assertNoSecret checks that the secret reached nothing that leaves the job.
func assertNoSecret(t *testing.T, p *citest.Platform, extra string) {
	t.Helper()
	all := []string{extra}
	all = append(all, p.Summaries()...)
	for _, c := range p.Comments() {
		all = append(all, c)
	}
	for _, a := range p.Annotations() {
		all = append(all, a.Title, a.Message)
	}
	for _, v := range p.Outputs() {
		all = append(all, v)
	}
	for _, text := range all {
		if strings.Contains(text, secret) {
			t.Errorf("the secret left the job in:\n%s", text)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

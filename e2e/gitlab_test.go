//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/e2e/harness"
	"github.com/self-heal/self-heal/gitlab/gitlabtest"
	"github.com/self-heal/self-heal/pkg/report"
)

// The merge request the pipelines run for, and the token for its notes.
const (
	gitlabToken   = "glpat-e2e-token"
	gitlabProject = "42"
	gitlabMR      = 7
	notesPath     = "/api/v4/projects/42/merge_requests/7/notes"
	stickyPrefix  = "<!-- self-heal:sticky "
)

var gitlabBot = gitlabtest.User{ID: 5, Username: "project_42_bot"}

// TestGitLab_HealedStepEditsItsNote runs a flaky step through the CI/CD
// component twice: each run heals it, and the second edits the note the
// first created.
func TestGitLab_HealedStepEditsItsNote(t *testing.T) {
	api := gitlabtest.New(t, gitlabtest.Config{Token: gitlabToken, User: gitlabBot,
		ProjectID: gitlabProject, MergeRequestIID: gitlabMR})
	p := newGitLabProject(t)
	vars := p.mergeRequestVars(api.URL, gitlabToken)

	first := p.run(t, "component.gitlab-ci.yml", "healed", vars)
	checkHealedJob(t, first)
	calls := api.Calls()
	wantRoutes(t, calls, "GET /api/v4/user", "GET "+notesPath, "POST "+notesPath)
	checkNoteBody(t, calls[2].Body, "healed", "flaky-net", "wait.backoff")

	second := p.run(t, "component.gitlab-ci.yml", "healed", vars)
	checkHealedJob(t, second)
	calls = api.Calls()[3:]
	wantRoutes(t, calls, "GET /api/v4/user", "GET "+notesPath, "PUT "+notesPath+"/1000")
	checkNoteBody(t, calls[2].Body, "healed", "flaky-net")

	notes := api.Notes()
	if len(notes) != 1 || notes[0].Body != calls[2].Body {
		t.Errorf("notes after two runs = %+v, want the one note with the second report", notes)
	}
}

func checkHealedJob(t *testing.T, r gitlabRun) {
	t.Helper()
	if r.exit != 0 || !strings.Contains(r.output, "PASS  healed") {
		t.Fatalf("gitlab-ci-local exit = %d, want 0 and job healed passed\n%s", r.exit, r.output)
	}
	checkSections(t, r.log, "self-heal_attempt_1", "self-heal_attempt_2")
	wantInOrder(t, r.log, "self-heal_attempt_1_started", "connection reset by peer (flaky)",
		"self-heal_attempt_2_started", "applied to pool: blue: 1 added",
		"self-heal_report_started")

	rep := r.report(t)
	if rep.Outcome != report.Healed || len(rep.Attempts) != 2 || rep.ExitCode != 0 {
		t.Errorf("report: outcome %q, %d attempts, exit %d; want healed, 2, 0",
			rep.Outcome, len(rep.Attempts), rep.ExitCode)
	}
	if m := rep.Attempts[0].Match; m == nil || m.ID != "flaky-net" {
		t.Errorf("attempt 1 match = %+v, want flaky-net", m)
	}
	if fixes := rep.AppliedFixes(); len(fixes) != 1 || fixes[0].Fixer != "wait.backoff" {
		t.Errorf("applied fixes = %+v, want wait.backoff", fixes)
	}
	checkOutputs(t, r, map[string]string{"SELF_HEAL_OUTCOME": "healed",
		"SELF_HEAL_ATTEMPTS": "2", "SELF_HEAL_PATTERN": "flaky-net"})
}

// TestGitLab_UnknownFailure runs a step that fails with an error no
// pattern knows through the include template with its defaults: the job
// fails with the step's code after one attempt, and the note says so.
func TestGitLab_UnknownFailure(t *testing.T) {
	api := gitlabtest.New(t, gitlabtest.Config{Token: gitlabToken, User: gitlabBot,
		ProjectID: gitlabProject, MergeRequestIID: gitlabMR})
	p := newGitLabProject(t)

	r := p.run(t, "include.gitlab-ci.yml", "unknown", p.mergeRequestVars(api.URL, gitlabToken))
	if r.exit == 0 || !strings.Contains(r.output, "FAIL  unknown") {
		t.Fatalf("gitlab-ci-local exit = %d, want the job unknown to fail\n%s", r.exit, r.output)
	}
	checkSections(t, r.log, "self-heal_attempt_1")
	if strings.Contains(r.log, "self-heal_attempt_2") {
		t.Errorf("job log has a second attempt for an unknown failure:\n%s", r.log)
	}
	wantInOrder(t, r.log, "self-heal_attempt_1_started", "flux capacitor is out of alignment",
		"no pattern recognised the failure", "self-heal_report_started")

	rep := r.report(t)
	if rep.Outcome != report.Failed || len(rep.Attempts) != 1 || rep.ExitCode != 3 {
		t.Errorf("report: outcome %q, %d attempts, exit %d; want failed, 1, 3",
			rep.Outcome, len(rep.Attempts), rep.ExitCode)
	}
	if m := rep.LastMatch(); m != nil {
		t.Errorf("report match = %+v, want none", m)
	}
	checkOutputs(t, r, map[string]string{"SELF_HEAL_OUTCOME": "failed"})

	calls := api.Calls()
	wantRoutes(t, calls, "GET /api/v4/user", "GET "+notesPath, "POST "+notesPath)
	checkNoteBody(t, calls[2].Body, "flux capacitor")
}

// TestGitLab_DryRunWithoutToken installs the binary from a release (the
// asset and its checksum served by a fake release page) and dry-runs the
// flaky step without a token: nothing is fixed, no API call is made, and
// the job log carries the report with one warning.
func TestGitLab_DryRunWithoutToken(t *testing.T) {
	api := gitlabtest.New(t, gitlabtest.Config{Token: gitlabToken, User: gitlabBot,
		ProjectID: gitlabProject, MergeRequestIID: gitlabMR})
	rel := startGitLabReleases(t, harness.SelfHealBinary(t))
	p := newGitLabProject(t)
	vars := p.mergeRequestVars(api.URL, "")
	delete(vars, "SELF_HEAL_SOURCE")
	vars["SELF_HEAL_RELEASES"] = rel.url + "/releases"

	r := p.run(t, "component.gitlab-ci.yml", "dry-run", vars)
	if r.exit == 0 || !strings.Contains(r.output, "FAIL  dry-run") {
		t.Fatalf("gitlab-ci-local exit = %d, want the dry run to fail with the step\n%s",
			r.exit, r.output)
	}
	wantInOrder(t, r.log, "self-heal: installing "+rel.asset+" of release latest",
		rel.asset+": OK", "self-heal_attempt_1_started", "recognised flaky-net",
		"self-heal_report_started")
	checkSections(t, r.log, "self-heal_attempt_1")
	if n := strings.Count(r.log, "SELF_HEAL_GITLAB_TOKEN is not set"); n != 1 {
		t.Errorf("job log warns %d times about the missing token, want once:\n%s", n, r.log)
	}
	if diff := cmp.Diff(rel.wantRequests(), rel.requests()); diff != "" {
		t.Errorf("release downloads mismatch (-want +got):\n%s", diff)
	}

	rep := r.report(t)
	if rep.Outcome != report.Planned || !rep.DryRun || len(rep.Attempts) != 1 {
		t.Errorf("report: outcome %q, dry run %v, %d attempts; want planned, true, 1",
			rep.Outcome, rep.DryRun, len(rep.Attempts))
	}
	if fixes := rep.AppliedFixes(); len(fixes) != 0 {
		t.Errorf("a dry run applied %+v", fixes)
	}
	if calls := api.Calls(); len(calls) != 0 {
		t.Errorf("API calls without a token = %+v, want none", calls)
	}
}

// gitlabRun is one run of gitlab-ci-local for one job.
type gitlabRun struct {
	exit   int
	output string
	// log is the job's log as gitlab-ci-local keeps it; it turns each
	// section marker into a "<name>_started" and a "<name> took" line.
	log string
	// artifacts is where gitlab-ci-local put the job's artifacts.
	artifacts string
}

// report reads the JSON report the job kept as an artifact.
func (r gitlabRun) report(t *testing.T) report.Run {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(r.artifacts, "self-heal", "report.json"))
	if err != nil {
		t.Fatalf("report artifact: %v\n%s", err, r.output)
	}
	var rep report.Run
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatalf("parse report artifact: %v\n%s", err, body)
	}
	return rep
}

// gitlabProjectDir is a git repository holding this repository's templates
// and the pipelines of testdata/gitlab/project.
type gitlabProjectDir struct {
	dir  string
	gcl  string
	root string
}

func newGitLabProject(t *testing.T) *gitlabProjectDir {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	p := &gitlabProjectDir{dir: t.TempDir(), gcl: gitlabCILocal(t), root: root}
	copyTree(t, filepath.Join(root, "e2e", "testdata", "gitlab", "project"), p.dir)
	copyFile(t, filepath.Join(root, "templates", "self-heal.yml"),
		filepath.Join(p.dir, "templates", "self-heal.yml"))
	copyFile(t, filepath.Join(root, "gitlab", "self-heal.gitlab-ci.yml"),
		filepath.Join(p.dir, "gitlab", "self-heal.gitlab-ci.yml"))

	// gitlab-ci-local takes the project's path from the remote, and uses
	// a component of the project itself when its ref is the HEAD commit.
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"remote", "add", "origin", "https://gitlab.example.com/org/self-heal.git"},
		{"add", "-A"},
		{"-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "commit", "-q", "-m", "init"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = p.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return p
}

// mergeRequestVars are the variables of a merge request pipeline of
// project 42 on the fake GitLab; token may be empty. The binary is built
// from this repository's source.
func (p *gitlabProjectDir) mergeRequestVars(serverURL, token string) map[string]string {
	vars := map[string]string{
		// gitlab-ci-local says GITLAB_CI=false; a runner says true.
		"GITLAB_CI":                          "true",
		"CI_SERVER_URL":                      serverURL,
		"CI_PROJECT_ID":                      gitlabProject,
		"CI_MERGE_REQUEST_IID":               fmt.Sprint(gitlabMR),
		"CI_MERGE_REQUEST_PROJECT_ID":        gitlabProject,
		"CI_MERGE_REQUEST_SOURCE_PROJECT_ID": gitlabProject,
		"SELF_HEAL_SOURCE":                   p.root,
	}
	if token != "" {
		vars["SELF_HEAL_GITLAB_TOKEN"] = token
	}
	return vars
}

// run runs job of the pipeline in file with vars, in the shell executor.
func (p *gitlabProjectDir) run(t *testing.T, file, job string, vars map[string]string) gitlabRun {
	t.Helper()
	args := []string{"--file", file, "--home", filepath.Join(p.dir, ".gcl-home"),
		"--color=false", "--max-job-name-padding", "0", "--shell-executor-no-image",
		"--ignore-predefined-vars", "GITLAB_CI,CI_SERVER_URL,CI_PROJECT_ID"}
	for k, v := range vars {
		args = append(args, "--variable", k+"="+v)
	}
	args = append(args, job)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.gcl, args...)
	cmd.Dir = p.dir
	cmd.Env = gitlabCleanEnv()
	out, err := cmd.CombinedOutput()
	r := gitlabRun{output: string(out),
		artifacts: filepath.Join(p.dir, ".gitlab-ci-local", "artifacts", job)}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.exit = exit.ExitCode()
	case err != nil:
		t.Fatalf("gitlab-ci-local: %v\n%s", err, out)
	}
	log, err := os.ReadFile(filepath.Join(p.dir, ".gitlab-ci-local", "output", job+".log"))
	if err != nil {
		t.Fatalf("job log: %v\n%s", err, out)
	}
	r.log = string(log)
	return r
}

// gitlabCleanEnv is this process's environment without the variables of
// a CI the test itself may run in, so that the job sees only its own.
func gitlabCleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GITHUB_") || strings.HasPrefix(name, "GITLAB_") ||
			strings.HasPrefix(name, "CI_") || strings.HasPrefix(name, "SELF_HEAL_") ||
			name == "CI" || strings.HasPrefix(name, "GCL_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

var gcl struct {
	once sync.Once
	path string
	err  error
}

// gitlabCILocal installs gitlab-ci-local (and rsync) with the project's
// script, once per test binary, and returns its path.
func gitlabCILocal(t *testing.T) string {
	t.Helper()
	gcl.once.Do(func() {
		root, err := harness.RepoRoot()
		if err != nil {
			gcl.err = err
			return
		}
		var stderr bytes.Buffer
		cmd := exec.Command(filepath.Join(root, "scripts", "gitlab-tools.sh"), "gitlab-ci-local")
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			gcl.err = fmt.Errorf("scripts/gitlab-tools.sh: %w\n%s", err, stderr.String())
			return
		}
		gcl.path = strings.TrimSpace(string(out))
	})
	if gcl.err != nil {
		t.Fatal(gcl.err)
	}
	return gcl.path
}

// checkSections checks that each section was opened and closed.
func checkSections(t *testing.T, log string, names ...string) {
	t.Helper()
	for _, name := range names {
		wantInOrder(t, log, name+"_started", name+" took ")
	}
}

// wantInOrder checks that log holds each text, in this order.
func wantInOrder(t *testing.T, log string, texts ...string) {
	t.Helper()
	rest := log
	for _, text := range texts {
		i := strings.Index(rest, text)
		if i < 0 {
			t.Errorf("job log lacks %q after the earlier texts %q:\n%s", text, texts, log)
			return
		}
		rest = rest[i+len(text):]
	}
}

// wantRoutes compares the method and path of each call.
func wantRoutes(t *testing.T, calls []gitlabtest.Call, routes ...string) {
	t.Helper()
	got := make([]string, len(calls))
	for i, c := range calls {
		got[i] = c.Method + " " + c.Path
		if c.PrivateToken != gitlabToken || c.Status >= 300 {
			t.Errorf("call %s: token %q, status %d", got[i], c.PrivateToken, c.Status)
		}
	}
	if diff := cmp.Diff(routes, got); diff != "" {
		t.Fatalf("GitLab API calls mismatch (-want +got):\n%s", diff)
	}
}

// checkNoteBody checks that a note starts with the sticky marker and
// holds each text.
func checkNoteBody(t *testing.T, body string, texts ...string) {
	t.Helper()
	if !strings.HasPrefix(body, stickyPrefix) {
		t.Errorf("note does not start with the sticky marker:\n%s", body)
	}
	for _, text := range texts {
		if !strings.Contains(body, text) {
			t.Errorf("note lacks %q:\n%s", text, body)
		}
	}
}

// checkOutputs checks the dotenv report the job kept for later jobs.
func checkOutputs(t *testing.T, r gitlabRun, want map[string]string) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(r.artifacts, "self-heal", "outputs.env"))
	if err != nil {
		t.Errorf("dotenv artifact: %v", err)
		return
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		if _, ok := want[k]; ok {
			got[k] = v
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dotenv outputs mismatch (-want +got):\n%s\n%s", diff, body)
	}
}

// gitlabReleases is a fake release page serving one release of the
// binary with the asset names and redirects of a GitHub release.
type gitlabReleases struct {
	url, tag, asset string
	mu              sync.Mutex
	got             []string
}

func startGitLabReleases(t *testing.T, bin string) *gitlabReleases {
	t.Helper()
	r := &gitlabReleases{tag: "v0.0.0-e2e",
		asset: fmt.Sprintf("self-heal_%s_%s.tar.gz", runtime.GOOS, runtime.GOARCH)}
	archive := tarGz(t, bin)
	sum := sha256.Sum256(archive)
	sums := fmt.Sprintf("%s  self-heal_windows_amd64.zip\n%s  %s\n",
		strings.Repeat("0", 64), hex.EncodeToString(sum[:]), r.asset)
	serve := map[string][]byte{r.asset: archive, "checksums.txt": []byte(sums)}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /releases/latest/download/{file}", func(w http.ResponseWriter,
		req *http.Request,
	) {
		http.Redirect(w, req, "/releases/download/"+r.tag+"/"+req.PathValue("file"),
			http.StatusFound)
	})
	mux.HandleFunc("GET /releases/download/{tag}/{file}", func(w http.ResponseWriter,
		req *http.Request,
	) {
		body, ok := serve[req.PathValue("file")]
		if !ok || req.PathValue("tag") != r.tag {
			http.NotFound(w, req)
			return
		}
		_, _ = w.Write(body)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.got = append(r.got, req.Method+" "+req.URL.Path)
		r.mu.Unlock()
		mux.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

func (r *gitlabReleases) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// wantRequests: the latest release's asset and checksums, each through
// the redirect to the release's tag.
func (r *gitlabReleases) wantRequests() []string {
	var want []string
	for _, file := range []string{r.asset, "checksums.txt"} {
		want = append(want, "GET /releases/latest/download/"+file,
			"GET /releases/download/"+r.tag+"/"+file)
	}
	return want
}

// tarGz packs the file at path as "self-heal" in a gzipped tar, with a
// README beside it as release archives have.
func tarGz(t *testing.T, path string) []byte {
	t.Helper()
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		mode int64
		body []byte
	}{{"README.md", 0o644, []byte("self-heal\n")}, {"self-heal", 0o755, bin}} {
		hdr := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body))}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(tw.Close(), gz.Close()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// copyTree copies the regular files under src into dst, keeping modes.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		copyFile(t, path, filepath.Join(dst, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	body, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, body, info.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
}

//go:build e2e

package e2e

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
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

	"github.com/self-heal/self-heal/actions/githubtest"
	"github.com/self-heal/self-heal/e2e/harness"
	"github.com/self-heal/self-heal/pkg/report"
)

// actToken is the token the workflows run with (act's -s GITHUB_TOKEN,
// which ${{ github.token }} reads).
const actToken = "ghs_acte2e0123456789abcdefghijklmnopqr"

// actStackKey is the sticky comment key of the healed workflow: the job
// ("workflow / job"), the stack and the environment.
const actStackKey = "deploy / apply:e2e/testdata/act/stack@staging"

// TestAct runs workflows that use this repository's action (`uses: ./`)
// in nektos/act on this host, against a fake GitHub API, and checks the
// job's result, the step's outputs, the job summary, the annotations and
// the comment requests.
func TestAct(t *testing.T) {
	act := installTool(t, "act")
	spec := githubtest.LoadSpec(t)
	repo := actRepo(t)

	// The healed workflow installs the binary as a tagged action does, from
	// a release with its checksum; the others build it from the checkout,
	// as `uses: ./` and a branch do.
	release := startRelease(t, harness.SelfHealBinary(t))

	t.Run("healed, then edited in place on the next run", func(t *testing.T) {
		api := newGitHubAPI(t, spec)
		run := runAct(t, act, repo, "heal.yml", api, release.env()...)
		if got := release.served(); len(got) != 2 {
			t.Errorf("release downloads = %v, want the asset and checksums.txt", got)
		}
		wantActText(t, "job log", strings.Join(run.log, "\n"), "sha256 "+release.sum+" verified")
		assertActHealed(t, run)
		comments := api.Comments(7)
		if len(comments) != 1 || !strings.HasPrefix(comments[0].Body, report.Marker(actStackKey)) {
			t.Fatalf("comments after the first run = %+v, want one marked for %q", comments, actStackKey)
		}
		wantAPICalls(t, api, []apiCall{actListCall, actCreateCall})

		api.ResetCalls()
		assertActHealed(t, runAct(t, act, repo, "heal.yml", api, release.env()...))
		edit := apiCall{"PATCH", fmt.Sprintf("/repos/acme/infra/issues/comments/%d", comments[0].ID),
			"issues/update-comment", 200}
		wantAPICalls(t, api, []apiCall{actListCall, edit})
		if n := len(api.Comments(7)); n != 1 {
			t.Errorf("%d comments after the second run, want the one edited in place", n)
		}
	})

	t.Run("matrix merged by actions/report", func(t *testing.T) {
		testMatrix(t, act, repo, spec, release)
	})

	t.Run("unknown failure", func(t *testing.T) {
		api := newGitHubAPI(t, spec)
		run := runAct(t, act, repo, "unknown.yml", api)
		if run.jobResult != "failure" || run.outcome != "failure" {
			t.Errorf("job %s, step %s; want both failure", run.jobResult, run.outcome)
		}
		wantActOutputs(t, run, map[string]string{"outcome": "failed", "healed": "false",
			"attempts": "1", "pattern": "", "fixes": "", "report": ""})
		wantActText(t, "summary", run.summary, "still fails", "no pattern recognised it",
			"widget quota of this account is exhausted")
		if len(run.annotations("self-heal: ")) != 0 {
			t.Errorf("annotations = %+v, want none for an unrecognised failure", run.annots)
		}
		wantAPICalls(t, api, []apiCall{actListCall, actCreateCall})
		wantActText(t, "comment", api.Comments(7)[0].Body, "no pattern recognised it")
	})

	t.Run("dry run", func(t *testing.T) {
		api := newGitHubAPI(t, spec)
		run := runAct(t, act, repo, "dry-run.yml", api)
		if run.jobResult != "failure" {
			t.Errorf("job %s, want failure: a dry run passes the step's status through", run.jobResult)
		}
		wantActOutputs(t, run, map[string]string{"outcome": "planned", "healed": "false",
			"attempts": "1", "pattern": "flaky-network", "fixes": "", "report": ""})
		wantActText(t, "summary", run.summary, "dry run: nothing changed", "`flaky-network`",
			"**Dry run:**")
		notices := run.annotations("self-heal: ")
		if len(notices) != 1 || notices[0].level != "notice" {
			t.Errorf("annotations = %+v, want one notice", notices)
		}
		wantAPICalls(t, api, []apiCall{actListCall, actCreateCall})
	})
}

// testMatrix runs two legs that write reports and a job that merges them
// with actions/report into one comment.
func testMatrix(t *testing.T, act, repo string, spec *githubtest.Spec, rel *release) {
	api := newGitHubAPI(t, spec)
	run := runAct(t, act, repo, "matrix.yml", api, rel.env()...)
	// act keeps one result for all legs of a matrix job (the last leg to
	// end sets it), so the legs' own outcomes are read from the merged
	// report instead.
	want := map[string][]string{"apply": {"failure", "failure"}, "report": {"success"}}
	if diff := cmp.Diff(want["report"], run.jobResults["report"]); diff != "" ||
		len(run.jobResults["apply"]) != 2 {
		t.Errorf("job results = %v, want two legs of apply and report success\n%s",
			run.jobResults, run.tail())
	}
	wantActOutputs(t, run, map[string]string{"outcome": "failed", "healed": "true",
		"attempts": "3", "pattern": "flaky-network", "fixes": "wait.backoff"})
	wantActText(t, "summary", run.summary, "2 runs: 1 healed, 1 failed",
		"| `e2e/testdata/act/stack` in `flaky` | `../flaky.sh` | healed | 2 | `flaky-network` |",
		"| `e2e/testdata/act/stack` in `broken` | `echo \"Error: the widget quota",
		"widget quota of this account is exhausted")
	wantAPICalls(t, api, []apiCall{actListCall, actCreateCall})
	comments := api.Comments(7)
	marker := report.Marker("deploy / report:merged")
	if len(comments) != 1 || !strings.HasPrefix(comments[0].Body, marker) {
		t.Errorf("comments = %+v, want one merged comment", comments)
	}
}

func assertActHealed(t *testing.T, run *actRun) {
	t.Helper()
	if run.jobResult != "success" || run.outcome != "success" {
		t.Fatalf("job %s, step %s; want both success\n%s", run.jobResult, run.outcome, run.tail())
	}
	wantActOutputs(t, run, map[string]string{"outcome": "healed", "healed": "true",
		"attempts": "2", "pattern": "flaky-network", "fixes": "wait.backoff",
		"report": run.outputs["report"]})
	if !strings.HasSuffix(run.outputs["report"], "/self-heal-report.json") || run.report == nil ||
		run.report.Outcome != report.Healed {
		t.Errorf("report output %q, report %+v; want the healed JSON report",
			run.outputs["report"], run.report)
	}
	wantActText(t, "summary", run.summary, "`../flaky.sh` healed",
		"Connection reset while talking to AWS", "`flaky-network`",
		"running the step again usually works", "`wait.backoff`", "connection reset by peer",
		"**Time to green:**")
	warns := run.annotations("self-heal: ")
	if len(warns) != 1 || warns[0].level != "warning" ||
		warns[0].title != "self-heal: Connection reset while talking to AWS" ||
		!strings.Contains(warns[0].message, "Hint: The network dropped the connection") {
		t.Errorf("annotations = %+v, want one warning with the pattern's title and hint", warns)
	}
	groups := []string{"self-heal attempt 1", "self-heal attempt 2"}
	if diff := cmp.Diff(groups, run.groups); diff != "" {
		t.Errorf("log groups mismatch (-want +got):\n%s", diff)
	}
}

// apiCall is what a test expects of one API call.
type apiCall struct {
	Method, Path, Operation string
	Status                  int
}

var (
	actListCall   = apiCall{"GET", "/repos/acme/infra/issues/7/comments", "issues/list-comments", 200}
	actCreateCall = apiCall{"POST", "/repos/acme/infra/issues/7/comments",
		"issues/create-comment", 201}
)

func wantAPICalls(t *testing.T, api *githubtest.Server, want []apiCall) {
	t.Helper()
	var got []apiCall
	for _, c := range api.Calls() {
		got = append(got, apiCall{c.Method, c.Path, c.Operation, c.Status})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GitHub API calls mismatch (-want +got):\n%s", diff)
	}
}

func wantActOutputs(t *testing.T, run *actRun, want map[string]string) {
	t.Helper()
	if diff := cmp.Diff(want, run.outputs); diff != "" {
		t.Errorf("step outputs mismatch (-want +got):\n%s", diff)
	}
}

func wantActText(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

func newGitHubAPI(t *testing.T, spec *githubtest.Spec) *githubtest.Server {
	return githubtest.NewServer(t, spec,
		githubtest.Config{Owner: "acme", Repo: "infra", Token: actToken})
}

// installTool installs a installTool with scripts/tools.sh and returns its path.
func installTool(t *testing.T, name string) string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, "scripts", "tools.sh"), name)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/tools.sh %s: %v\n%s", name, err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// actRepo copies this repository's files (tracked, and new ones not
// ignored) into a new git repository whose origin is acme/infra, the way
// a pull request's checkout would look. act copies it again for each run.
func actRepo(t *testing.T) string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files := actGit(t, root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	dst := t.TempDir()
	for _, f := range strings.Split(strings.TrimRight(files, "\x00"), "\x00") {
		actCopyFile(t, filepath.Join(root, f), filepath.Join(dst, f))
	}
	actGit(t, dst, "init", "-q", "-b", "main")
	actGit(t, dst, "remote", "add", "origin", "https://github.com/acme/infra.git")
	actGit(t, dst, "add", "-A")
	actGit(t, dst, "-c", "user.name=e2e", "-c", "user.email=e2e@example.com",
		"commit", "-q", "-m", "the pull request's head")
	return dst
}

func actGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

func actCopyFile(t *testing.T, src, dst string) {
	t.Helper()
	info, err := os.Lstat(src)
	if err != nil {
		if os.IsNotExist(err) {
			return // deleted in the working tree
		}
		t.Fatal(err)
	}
	if !info.Mode().IsRegular() {
		return
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, info.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
}

// actRun is what one act run showed.
type actRun struct {
	// jobResult is the result of the job that ended last; jobResults has
	// every job's, in the order they ended (one per matrix leg).
	jobResult  string
	jobResults map[string][]string
	// outcome and outputs are the self-heal step's, as the workflow saw
	// them; report is its JSON report when it wrote one.
	outcome string
	outputs map[string]string
	report  *report.Run
	summary string
	annots  []actAnnotation
	groups  []string
	log     []string
}

// actAnnotation is a workflow command that annotates the run.
type actAnnotation struct {
	level, title, message string
}

// annotations returns those whose title starts with prefix.
func (r *actRun) annotations(prefix string) []actAnnotation {
	var out []actAnnotation
	for _, a := range r.annots {
		if strings.HasPrefix(a.title, prefix) {
			out = append(out, a)
		}
	}
	return out
}

func (r *actRun) tail() string {
	return strings.Join(r.log[max(0, len(r.log)-80):], "\n")
}

// runAct runs one workflow of e2e/testdata/act in act's host mode, with
// no network: actions/checkout is skipped by act for the local repository,
// actions come from the cache only, and the GitHub API is api.
// env are extra variables of the job, as NAME=value.
func runAct(t *testing.T, act, repo, workflow string, api *githubtest.Server, env ...string,
) *actRun {
	t.Helper()
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), actTimeout(t))
	defer cancel()
	args := []string{"pull_request",
		"-W", filepath.Join("e2e", "testdata", "act", workflow),
		"-e", filepath.Join("e2e", "testdata", "act", "event.json"),
		"-P", "ubuntu-latest=-self-hosted", "--action-offline-mode", "--no-cache-server",
		"--action-cache-path", t.TempDir(), "--json",
		"-s", "GITHUB_TOKEN=" + actToken,
		"--env", "GITHUB_API_URL=" + api.URL,
		"--env", "SELF_HEAL_E2E_OUT=" + out,
	}
	for _, e := range env {
		args = append(args, "--env", e)
	}
	cmd := exec.CommandContext(ctx, act, args...)
	// On a timeout act is interrupted, so that it stops its steps, and
	// killed if it has not ended a minute later.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start act: %v", err)
	}
	run := parseActLog(t, stdout)
	if err := cmd.Wait(); err != nil && run.jobResult == "" {
		t.Fatalf("act: %v\n%s\n%s", err, stderr.String(), run.tail())
	}
	readCollected(t, out, run)
	t.Logf("act %s: job %s, self-heal step %s", workflow, run.jobResult, run.outcome)
	return run
}

// actTimeout bounds one act run: 15 minutes, less when the test's own
// deadline is nearer, so that a stuck run fails with its log.
func actTimeout(t *testing.T) time.Duration {
	d := 15 * time.Minute
	if dl, ok := t.Deadline(); ok {
		d = min(d, time.Until(dl)/2)
	}
	return d
}

// actLogEntry is one line of act's --json log.
type actLogEntry struct {
	Msg       string            `json:"msg"`
	JobResult string            `json:"jobResult"`
	Command   string            `json:"command"`
	Arg       string            `json:"arg"`
	Content   string            `json:"content"`
	KVPairs   map[string]string `json:"kvPairs"`
	StepID    []string          `json:"stepID"`
	JobID     string            `json:"jobID"`
}

func parseActLog(t *testing.T, r io.Reader) *actRun {
	t.Helper()
	run := &actRun{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e actLogEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			run.log = append(run.log, sc.Text())
			continue
		}
		run.log = append(run.log, strings.TrimRight(e.Msg, "\n"))
		run.record(e)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read act's log: %v", err)
	}
	return run
}

// record keeps what an entry says about the jobs and the self-heal step
// (id heal; its inner steps are install, then run or merge).
func (r *actRun) record(e actLogEntry) {
	if e.JobResult != "" {
		r.jobResult = e.JobResult
		if r.jobResults == nil {
			r.jobResults = map[string][]string{}
		}
		r.jobResults[e.JobID] = append(r.jobResults[e.JobID], e.JobResult)
	}
	inner := len(e.StepID) == 2 && e.StepID[0] == "heal"
	if !inner || (e.StepID[1] != "run" && e.StepID[1] != "merge") {
		return
	}
	switch e.Command {
	case "summary":
		r.summary += e.Content
	case "group":
		r.groups = append(r.groups, e.Arg)
	case "error", "warning", "notice":
		r.annots = append(r.annots, actAnnotation{level: e.Command, title: e.KVPairs["title"],
			message: e.Arg})
	}
}

// readCollected reads what the workflow's last step saved.
func readCollected(t *testing.T, dir string, run *actRun) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "outputs.json"))
	if err != nil {
		t.Fatalf("the workflow saved no outputs: %v\n%s", err, run.tail())
	}
	if err := json.Unmarshal(b, &run.outputs); err != nil {
		t.Fatalf("outputs %s: %v", b, err)
	}
	outcome, err := os.ReadFile(filepath.Join(dir, "outcome"))
	if err != nil {
		t.Fatal(err)
	}
	run.outcome = string(outcome)
	if b, err := os.ReadFile(filepath.Join(dir, "report.json")); err == nil {
		run.report = &report.Run{}
		if err := json.Unmarshal(b, run.report); err != nil {
			t.Fatalf("report %s: %v", b, err)
		}
	}
}

// release is a fake of GitHub's release downloads for one tag, serving
// the self-heal binary the way GoReleaser packs it.
type release struct {
	url, tag, repository string
	// sum is the asset's sha256, as checksums.txt lists it.
	sum string

	mu   sync.Mutex
	hits []string
}

// startRelease serves the binary at bin as release v0.0.0-e2e of
// acme/self-heal, with a checksums.txt that matches it.
func startRelease(t *testing.T, bin string) *release {
	t.Helper()
	asset := "self-heal_" + runtime.GOOS + "_" + runtime.GOARCH + ".tar.gz"
	tarball := tarGzFile(t, bin, "self-heal")
	r := &release{tag: "v0.0.0-e2e", repository: "acme/self-heal", sum: sha256Hex(tarball)}
	prefix := "/" + r.repository + "/releases/download/" + r.tag + "/"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.hits = append(r.hits, req.Method+" "+req.URL.Path)
		r.mu.Unlock()
		// checksums.txt is made on request, so a test can tamper with sum.
		files := map[string][]byte{
			asset:           tarball,
			"checksums.txt": []byte(r.sum + "  " + asset + "\n"),
		}
		name, ok := strings.CutPrefix(req.URL.Path, prefix)
		body, found := files[name]
		if !ok || !found || req.Method != http.MethodGet {
			http.NotFound(w, req)
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// env points the installer at the release.
func (r *release) env() []string {
	return []string{"SELF_HEAL_VERSION=" + r.tag, "SELF_HEAL_REPOSITORY=" + r.repository,
		"GITHUB_SERVER_URL=" + r.url}
}

// served returns the requests received, and forgets them.
func (r *release) served() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	hits := r.hits
	r.hits = nil
	return hits
}

func tarGzFile(t *testing.T, path, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	hdr := &tar.Header{Name: name, Mode: 0o755, Size: int64(len(b)), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestInstallScript runs the action's installer against a fake release:
// it installs a verified asset, refuses one whose checksum does not match
// (without falling back to a build), and says what is missing when there
// is no asset and no Go to build one.
func TestInstallScript(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "actions", "setup", "install.sh")
	fake := filepath.Join(t.TempDir(), "self-heal")
	err = os.WriteFile(fake, []byte("#!/bin/sh\necho self-heal version e2e\n"), 0o755)
	if err != nil {
		t.Fatal(err)
	}
	good := startRelease(t, fake)
	tampered := startRelease(t, fake)
	tampered.sum = strings.Repeat("0", 64)

	tests := []struct {
		name     string
		rel      *release
		tag      string
		path     string
		wantCode int
		wantOut  string
	}{
		{name: "verified asset", rel: good, tag: good.tag, wantOut: "sha256 " + good.sum + " verified"},
		{name: "tampered asset", rel: tampered, tag: tampered.tag, wantCode: 1,
			wantOut: "does not match checksums.txt"},
		{name: "no asset and no Go", rel: good, tag: "v9.9.9", path: "/usr/bin:/bin", wantCode: 1,
			wantOut: "Go is not installed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			outputs := filepath.Join(dir, "output")
			cmd := exec.Command("bash", script)
			cmd.Env = []string{
				"PATH=" + nonEmptyOr(tt.path, os.Getenv("PATH")), "HOME=" + dir,
				"RUNNER_TEMP=" + dir, "GITHUB_OUTPUT=" + outputs,
				"GITHUB_PATH=" + filepath.Join(dir, "path"),
				"SELF_HEAL_VERSION=" + tt.tag, "SELF_HEAL_REPOSITORY=" + tt.rel.repository,
				"GITHUB_SERVER_URL=" + tt.rel.url,
			}
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != tt.wantCode {
				t.Fatalf("install.sh exit = %d, want %d\n%s", code, tt.wantCode, out)
			}
			wantActText(t, "install.sh output", string(out), tt.wantOut)
			if tt.wantCode != 0 {
				if _, err := os.Stat(filepath.Join(dir, "self-heal-bin", "self-heal")); err == nil {
					t.Errorf("a binary was installed after a failure")
				}
				return
			}
			bin := filepath.Join(dir, "self-heal-bin", "self-heal")
			wantActText(t, "step outputs", readString(t, outputs), "path="+bin+"\n")
			wantActText(t, "install.sh output", string(out), "self-heal version e2e")
		})
	}
}

func nonEmptyOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

package actions_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/actions"
	"github.com/self-heal/self-heal/pkg/ci"
)

// env is a job's environment for a test; getenv reads it.
type env map[string]string

func (e env) getenv(k string) string { return e[k] }

// jobEnv is the environment of a job on a pull request, with the event
// payload written to a temporary file.
func jobEnv(t *testing.T, payload string) env {
	t.Helper()
	dir := t.TempDir()
	e := env{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_REPOSITORY":   "acme/infra",
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_API_URL":      "https://api.github.com",
		"GITHUB_RUN_ID":       "42",
		"GITHUB_RUN_ATTEMPT":  "1",
		"GITHUB_WORKFLOW":     "deploy",
		"GITHUB_JOB":          "apply",
		"GITHUB_SHA":          "aaaaaaa",
		"GITHUB_EVENT_NAME":   "pull_request",
		"GITHUB_REF":          "refs/pull/7/merge",
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary.md"),
		"GITHUB_OUTPUT":       filepath.Join(dir, "output"),
	}
	if payload != "" {
		e["GITHUB_EVENT_PATH"] = filepath.Join(dir, "event.json")
		if err := os.WriteFile(e["GITHUB_EVENT_PATH"], []byte(payload), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

const (
	samePR = `{"pull_request": {"number": 7, "head": {"sha": "bbbbbbb",
		"repo": {"full_name": "acme/infra"}}, "base": {"repo": {"full_name": "acme/infra"}}}}`
	forkPR = `{"pull_request": {"number": 8, "head": {"sha": "ccccccc",
		"repo": {"full_name": "someone/infra"}}, "base": {"repo": {"full_name": "acme/infra"}}}}`
	prComment = `{"issue": {"number": 9, "pull_request": {"url": "https://api.github.com/x"}}}`
	issueOnly = `{"issue": {"number": 10}}`
)

// onBranch makes the job's trigger event on the main branch.
func onBranch(event string) func(env) {
	return func(e env) { e["GITHUB_EVENT_NAME"], e["GITHUB_REF"] = event, "refs/heads/main" }
}

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  env
		want bool
	}{
		{"runner", env{"GITHUB_ACTIONS": "true"}, true},
		{"elsewhere", env{"CI": "true"}, false},
		{"not true", env{"GITHUB_ACTIONS": "false"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := actions.Detect(tt.env.getenv); got != tt.want {
				t.Errorf("Detect() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPlatform_Info(t *testing.T) {
	t.Parallel()
	base := ci.Info{
		Name: "github", Repository: "acme/infra", RunURL: "https://github.com/acme/infra/actions/runs/42",
		Job: "deploy / apply", ChangeRequest: "7", Commit: "bbbbbbb",
	}
	tests := []struct {
		name    string
		payload string
		change  func(env)
		want    func(*ci.Info)
	}{
		{name: "pull request", payload: samePR},
		{
			name: "fork", payload: forkPR,
			want: func(i *ci.Info) { i.ChangeRequest, i.Commit, i.Untrusted = "8", "ccccccc", true },
		},
		{
			name: "pull_request_target", payload: samePR,
			change: func(e env) { e["GITHUB_EVENT_NAME"] = "pull_request_target" },
			want:   func(i *ci.Info) { i.Untrusted = true },
		},
		{
			name: "comment on a pull request", payload: prComment,
			change: onBranch("issue_comment"),
			want:   func(i *ci.Info) { i.ChangeRequest, i.Commit = "9", "aaaaaaa" },
		},
		{
			name: "comment on an issue", payload: issueOnly,
			change: onBranch("issue_comment"),
			want:   func(i *ci.Info) { i.ChangeRequest, i.Commit = "", "aaaaaaa" },
		},
		{
			name: "push", payload: `{"ref": "refs/heads/main"}`,
			change: onBranch("push"),
			want:   func(i *ci.Info) { i.ChangeRequest, i.Commit = "", "aaaaaaa" },
		},
		{
			name: "no payload, number from the ref", payload: "",
			want: func(i *ci.Info) { i.Commit = "aaaaaaa" },
		},
		{
			name: "re-run attempt", payload: samePR,
			change: func(e env) { e["GITHUB_RUN_ATTEMPT"] = "3" },
			want: func(i *ci.Info) {
				i.RunURL = "https://github.com/acme/infra/actions/runs/42/attempts/3"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := jobEnv(t, tt.payload)
			if tt.change != nil {
				tt.change(e)
			}
			want := base
			if tt.want != nil {
				tt.want(&want)
			}
			got := actions.New(actions.Config{Getenv: e.getenv}).Info()
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Info() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlatform_commands(t *testing.T) {
	t.Parallel()
	e := jobEnv(t, samePR)
	var log bytes.Buffer
	p := actions.New(actions.Config{Getenv: e.getenv, Stdout: &log})

	end := p.StartGroup("self-heal attempt 1")
	log.WriteString("step output\n")
	end()
	p.Mask("AKIAIOSFODNN7EXAMPLE")
	p.Mask("line one\n\nline two\n")
	for _, a := range []ci.Annotation{
		{Level: "error", Title: "self-heal: state lock", Message: "held by run 41\nsee the summary"},
		{Level: "warning", Title: "a, b: c", Message: "100% healed"},
		{Level: "notice", Message: "plain"},
	} {
		if err := p.Annotate(a); err != nil {
			t.Fatalf("Annotate(%v) = %v", a, err)
		}
	}
	wantLog := "::group::self-heal attempt 1\nstep output\n::endgroup::\n" +
		"::add-mask::AKIAIOSFODNN7EXAMPLE\n::add-mask::line one\n::add-mask::line two\n" +
		"::error title=self-heal%3A state lock::held by run 41%0Asee the summary\n" +
		"::warning title=a%2C b%3A c::100%25 healed\n" +
		"::notice::plain\n"
	if diff := cmp.Diff(wantLog, log.String()); diff != "" {
		t.Errorf("job log mismatch (-want +got):\n%s", diff)
	}

	if err := p.Summary("### report\n"); err != nil {
		t.Fatalf("Summary() = %v", err)
	}
	for _, kv := range [][2]string{{"outcome", "healed"}, {"fixes", "a,b"}, {"multi", "x\ny"}} {
		if err := p.SetOutput(kv[0], kv[1]); err != nil {
			t.Fatalf("SetOutput(%q) = %v", kv[0], err)
		}
	}
	assertFile(t, e["GITHUB_STEP_SUMMARY"], "### report\n\n")
	d := "_GitHubActionsFileCommandDelimeter_"
	assertFile(t, e["GITHUB_OUTPUT"], "outcome<<"+d+"\nhealed\n"+d+"\n"+
		"fixes<<"+d+"\na,b\n"+d+"\n"+"multi<<"+d+"\nx\ny\n"+d+"\n")
}

func TestPlatform_commandErrors(t *testing.T) {
	t.Parallel()
	p := actions.New(actions.Config{Getenv: env{"GITHUB_ACTIONS": "true"}.getenv})
	if err := p.Summary("x"); err == nil || !strings.Contains(err.Error(), "GITHUB_STEP_SUMMARY") {
		t.Errorf("Summary() without GITHUB_STEP_SUMMARY = %v, want an error naming it", err)
	}
	if err := p.SetOutput("a", "b"); err == nil || !strings.Contains(err.Error(), "GITHUB_OUTPUT") {
		t.Errorf("SetOutput() without GITHUB_OUTPUT = %v, want an error naming it", err)
	}

	e := jobEnv(t, samePR)
	e["GITHUB_OUTPUT"] = filepath.Join(t.TempDir(), "missing", "output")
	p = actions.New(actions.Config{Getenv: e.getenv})
	if err := p.SetOutput("a", "b"); err == nil {
		t.Errorf("SetOutput() into a missing directory = nil, want an error")
	}
	injected := "x\n_GitHubActionsFileCommandDelimeter_\nevil<<EOF"
	p = actions.New(actions.Config{Getenv: jobEnv(t, "").getenv})
	if err := p.SetOutput("a", injected); err == nil {
		t.Errorf("SetOutput() with the delimiter in the value = nil, want an error")
	}
}

func assertFile(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", filepath.Base(path), diff)
	}
}

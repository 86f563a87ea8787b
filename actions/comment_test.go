package actions_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/actions"
	"github.com/self-heal/self-heal/actions/githubtest"
	"github.com/self-heal/self-heal/pkg/ci"
	"github.com/self-heal/self-heal/pkg/report"
)

const token = "ghs_test0123456789abcdefghijklmnopqrstuv"

// call is what a test expects of one API call.
type call struct {
	Method, Path, Operation string
	Status                  int
}

func calls(got []githubtest.Call) []call {
	out := make([]call, len(got))
	for i, c := range got {
		out[i] = call{c.Method, c.Path, c.Operation, c.Status}
	}
	return out
}

// startAPI starts the fake API and returns a platform pointed at it.
func startAPI(t *testing.T, payload, prefix string) (*githubtest.Server, *actions.Platform, env) {
	t.Helper()
	srv := githubtest.NewServer(t, githubtest.LoadSpec(t), githubtest.Config{
		Owner: "acme", Repo: "infra", Token: token, Prefix: prefix,
	})
	e := jobEnv(t, payload)
	e["GITHUB_API_URL"] = srv.URL
	e["SELF_HEAL_GITHUB_TOKEN"] = token
	return srv, actions.New(actions.Config{Getenv: e.getenv, HTTPClient: http.DefaultClient}), e
}

func TestPlatform_Comment_sticky(t *testing.T) {
	t.Parallel()
	srv, p, _ := startAPI(t, samePR, "")
	ctx := context.Background()
	other := srv.AddComment(7, "octocat", "LGTM")

	body := report.Marker("deploy / apply:infra/prod") + "\n### first run\n"
	if err := p.Comment(ctx, "deploy / apply:infra/prod", body); err != nil {
		t.Fatalf("first Comment() = %v", err)
	}
	list := call{"GET", "/repos/acme/infra/issues/7/comments", "issues/list-comments", 200}
	want := []call{list, {"POST", "/repos/acme/infra/issues/7/comments", "issues/create-comment", 201}}
	if diff := cmp.Diff(want, calls(srv.Calls())); diff != "" {
		t.Fatalf("first run calls mismatch (-want +got):\n%s", diff)
	}
	if got := srv.Calls()[0].Query; got != "per_page=100" {
		t.Errorf("list query = %q, want per_page=100", got)
	}
	var sent map[string]any
	if err := json.Unmarshal([]byte(srv.Calls()[1].Body), &sent); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"body": body}, sent); diff != "" {
		t.Errorf("create body mismatch (-want +got):\n%s", diff)
	}

	// A second run (a re-run or a new push) edits the same comment.
	srv.ResetCalls()
	body2 := report.Marker("deploy / apply:infra/prod") + "\n### second run\n"
	if err := p.Comment(ctx, "deploy / apply:infra/prod", body2); err != nil {
		t.Fatalf("second Comment() = %v", err)
	}
	comments := srv.Comments(7)
	edit := fmt.Sprintf("/repos/acme/infra/issues/comments/%d", comments[1].ID)
	want = []call{list, {"PATCH", edit, "issues/update-comment", 200}}
	if diff := cmp.Diff(want, calls(srv.Calls())); diff != "" {
		t.Errorf("second run calls mismatch (-want +got):\n%s", diff)
	}

	// Another stack gets its own comment; the first stays as edited.
	if err := p.Comment(ctx, "deploy / apply:infra/dev", "### dev\n"); err != nil {
		t.Fatalf("Comment(dev) = %v", err)
	}
	comments = srv.Comments(7)
	got := []string{comments[0].Body, comments[1].Body, comments[2].Body}
	wantBodies := []string{"LGTM", body2, report.Marker("deploy / apply:infra/dev") + "\n### dev\n"}
	if diff := cmp.Diff(wantBodies, got); diff != "" {
		t.Errorf("comments mismatch (-want +got):\n%s", diff)
	}
	if comments[0].ID != other {
		t.Errorf("someone else's comment changed id")
	}
}

func TestPlatform_Comment_pages(t *testing.T) {
	t.Parallel()
	srv, p, _ := startAPI(t, samePR, "")
	for i := range 150 {
		if i == 120 {
			srv.AddComment(7, "github-actions[bot]", report.Marker("k")+"\nold report")
			continue
		}
		srv.AddComment(7, "octocat", fmt.Sprintf("comment %d", i))
	}
	if err := p.Comment(context.Background(), "k", "new report"); err != nil {
		t.Fatalf("Comment() = %v", err)
	}
	got := calls(srv.Calls())
	if len(got) != 3 || got[1].Path != got[0].Path || got[2].Method != "PATCH" {
		t.Fatalf("calls = %v, want two list pages then an edit", got)
	}
	if q := srv.Calls()[1].Query; !strings.Contains(q, "page=2") {
		t.Errorf("second list query = %q, want page=2", q)
	}
	if body := srv.Comments(7)[120].Body; body != report.Marker("k")+"\nnew report" {
		t.Errorf("edited comment = %q", body)
	}
}

func TestPlatform_Comment_enterpriseServer(t *testing.T) {
	t.Parallel()
	srv, p, _ := startAPI(t, samePR, "/api/v3")
	if err := p.Comment(context.Background(), "k", "report"); err != nil {
		t.Fatalf("Comment() = %v", err)
	}
	want := []call{
		{"GET", "/api/v3/repos/acme/infra/issues/7/comments", "issues/list-comments", 200},
		{"POST", "/api/v3/repos/acme/infra/issues/7/comments", "issues/create-comment", 201},
	}
	if diff := cmp.Diff(want, calls(srv.Calls())); diff != "" {
		t.Errorf("calls mismatch (-want +got):\n%s", diff)
	}
}

func TestPlatform_Comment_refused(t *testing.T) {
	t.Parallel()
	srv, p, _ := startAPI(t, samePR, "")
	srv.Refuse("issues/create-comment")
	err := p.Comment(context.Background(), "k", "report")
	if err == nil || !strings.Contains(err.Error(), "pull-requests: write") {
		t.Fatalf("Comment() = %v, want an error naming the missing permission", err)
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("the error shows the token: %v", err)
	}
	if n := len(srv.Comments(7)); n != 0 {
		t.Errorf("%d comments after a refusal, want 0", n)
	}
}

func TestPlatform_Comment_notAttempted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		payload string
		change  func(env)
		wantErr string
		is      error
	}{
		{
			name: "no token", payload: samePR, wantErr: "github-token",
			change: func(e env) { delete(e, "SELF_HEAL_GITHUB_TOKEN") },
		},
		{name: "fork", payload: forkPR, wantErr: "fork"},
		{
			name: "push", payload: `{"ref": "refs/heads/main"}`, is: ci.ErrNoChangeRequest,
			change: onBranch("push"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _, e := startAPI(t, tt.payload, "")
			if tt.change != nil {
				tt.change(e)
			}
			p := actions.New(actions.Config{Getenv: e.getenv})
			err := p.Comment(context.Background(), "k", "report")
			switch {
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Errorf("Comment() = %v, want %v", err, tt.is)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Comment() = %v, want an error about %s", err, tt.wantErr)
			}
			if got := srv.Calls(); len(got) != 0 {
				t.Errorf("calls = %v, want none", got)
			}
		})
	}
}

func TestPlatform_Comment_tokenFallback(t *testing.T) {
	t.Parallel()
	srv, _, e := startAPI(t, samePR, "")
	delete(e, "SELF_HEAL_GITHUB_TOKEN")
	e["GITHUB_TOKEN"] = token
	p := actions.New(actions.Config{Getenv: e.getenv})
	if err := p.Comment(context.Background(), "k", "report"); err != nil {
		t.Fatalf("Comment() with GITHUB_TOKEN = %v", err)
	}
	if n := len(srv.Comments(7)); n != 1 {
		t.Errorf("%d comments, want 1", n)
	}
}

package gitlab_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/gitlab"
	"github.com/self-heal/self-heal/gitlab/gitlabtest"
	"github.com/self-heal/self-heal/pkg/ci"
	"github.com/self-heal/self-heal/pkg/report"
)

const (
	token    = "glpat-secret"
	notesAPI = "/api/v4/projects/42/merge_requests/7/notes"
	listAll  = "order_by=created_at&per_page=100&sort=asc"
)

var (
	bot   = gitlabtest.User{ID: 5, Username: "project_42_bot"}
	human = gitlabtest.User{ID: 9, Username: "alice"}
)

// fakeGitLab starts a fake with cfg's gaps filled for project 42, !7.
func fakeGitLab(t *testing.T, cfg gitlabtest.Config) *gitlabtest.Server {
	t.Helper()
	cfg.Token, cfg.User, cfg.ProjectID, cfg.MergeRequestIID = token, bot, "42", 7
	return gitlabtest.New(t, cfg)
}

// platformFor is the adapter of mrJob talking to srv.
func platformFor(srv *gitlabtest.Server, env vars) *gitlab.Platform {
	env = env.with("CI_SERVER_URL", srv.URL)
	return gitlab.New(env.Get, gitlab.WithHTTPClient(&http.Client{}))
}

func call(method, path, query, body string, status int) gitlabtest.Call {
	pt := token
	return gitlabtest.Call{Method: method, Path: path, Query: query, PrivateToken: pt,
		Body: body, Status: status}
}

var (
	getUser   = call("GET", "/api/v4/user", "", "", 200)
	listNotes = call("GET", notesAPI, listAll, "", 200)
)

func TestPlatform_Comment_createsThenEdits(t *testing.T) {
	t.Parallel()
	srv := fakeGitLab(t, gitlabtest.Config{})
	p := platformFor(srv, mrJob)
	ctx := context.Background()
	mark := report.Marker("apply/prod")

	if err := p.Comment(ctx, "apply/prod", "## failed\n"); err != nil {
		t.Fatalf("first Comment() = %v", err)
	}
	if err := p.Comment(ctx, "apply/prod", mark+"\n## healed\n"); err != nil {
		t.Fatalf("second Comment() = %v", err)
	}

	wantCalls := []gitlabtest.Call{
		getUser, listNotes, call("POST", notesAPI, "", mark+"\n## failed\n", 201),
		getUser, listNotes, call("PUT", notesAPI+"/1000", "", mark+"\n## healed\n", 200),
	}
	if diff := cmp.Diff(wantCalls, srv.Calls()); diff != "" {
		t.Errorf("API calls mismatch (-want +got):\n%s", diff)
	}
	wantNotes := []gitlabtest.Note{{ID: 1000, Author: bot, Body: mark + "\n## healed\n"}}
	if diff := cmp.Diff(wantNotes, srv.Notes()); diff != "" {
		t.Errorf("notes mismatch (-want +got):\n%s", diff)
	}
}

func TestPlatform_Comment_findsOwnNote(t *testing.T) {
	t.Parallel()
	mark := report.Marker("apply")
	other := report.Marker("plan")
	seeded := []gitlabtest.Note{
		{ID: 1, Author: human, Body: mark + "\nquoted by a person"},
		{ID: 2, Author: bot, Body: mark + "\nsystem", System: true},
		{ID: 3, Author: bot, Body: other + "\nthe plan job's note"},
		{ID: 4, Author: bot, Body: mark + "\nold report"},
		{ID: 5, Author: bot, Body: mark + "\nlater duplicate"},
	}
	tests := []struct {
		name      string
		markdown  string
		wantCalls []gitlabtest.Call
		wantBody  string
	}{
		{
			name:     "edits the oldest own note on a later page",
			markdown: "new report",
			wantCalls: []gitlabtest.Call{
				getUser,
				call("GET", notesAPI, listAll, "", 200),
				call("GET", notesAPI, "order_by=created_at&page=2&per_page=2&sort=asc", "", 200),
				call("PUT", notesAPI+"/4", "", mark+"\nnew report", 200),
			},
			wantBody: mark + "\nnew report",
		},
		{
			name:     "leaves an unchanged note alone",
			markdown: "old report",
			wantCalls: []gitlabtest.Call{
				getUser,
				call("GET", notesAPI, listAll, "", 200),
				call("GET", notesAPI, "order_by=created_at&page=2&per_page=2&sort=asc", "", 200),
			},
			wantBody: mark + "\nold report",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeGitLab(t, gitlabtest.Config{Notes: seeded, MaxPerPage: 2})
			if err := platformFor(srv, mrJob).Comment(context.Background(), "apply",
				tt.markdown); err != nil {
				t.Fatalf("Comment() = %v", err)
			}
			if diff := cmp.Diff(tt.wantCalls, srv.Calls()); diff != "" {
				t.Errorf("API calls mismatch (-want +got):\n%s", diff)
			}
			want := append([]gitlabtest.Note(nil), seeded...)
			want[3].Body = tt.wantBody
			if diff := cmp.Diff(want, srv.Notes()); diff != "" {
				t.Errorf("notes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlatform_Comment_notWritten(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     vars
		wantErr string
	}{
		{
			name:    "branch pipeline",
			env:     mrJob.with("CI_MERGE_REQUEST_IID", ""),
			wantErr: ci.ErrNoChangeRequest.Error(),
		},
		{
			name:    "no token",
			env:     mrJob.with("SELF_HEAL_GITLAB_TOKEN", ""),
			wantErr: "SELF_HEAL_GITLAB_TOKEN is not set",
		},
		{
			name:    "fork",
			env:     mrJob.with("CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "77"),
			wantErr: "from a fork",
		},
		{
			name:    "bad merge request iid",
			env:     mrJob.with("CI_MERGE_REQUEST_IID", "seven"),
			wantErr: `CI_MERGE_REQUEST_IID "seven"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeGitLab(t, gitlabtest.Config{})
			err := platformFor(srv, tt.env).Comment(context.Background(), "apply", "report")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Comment() = %v, want error containing %q", err, tt.wantErr)
			}
			if calls := srv.Calls(); len(calls) != 0 {
				t.Errorf("API calls = %+v, want none", calls)
			}
		})
	}
}

func TestPlatform_Comment_apiErrors(t *testing.T) {
	t.Parallel()
	mark := report.Marker("apply")
	tests := []struct {
		name      string
		env       vars
		fail      func(gitlabtest.Call) int
		wantErr   string
		wantCalls []gitlabtest.Call
	}{
		{
			name:    "wrong token",
			env:     mrJob.with("SELF_HEAL_GITLAB_TOKEN", "glpat-revoked"),
			wantErr: "401",
			wantCalls: []gitlabtest.Call{{Method: "GET", Path: "/api/v4/user",
				PrivateToken: "glpat-revoked", Status: 401}},
		},
		{
			name: "a failed create is not retried",
			env:  mrJob,
			fail: func(c gitlabtest.Call) int {
				if c.Method == "POST" {
					return http.StatusInternalServerError
				}
				return 0
			},
			wantErr: "create on !7",
			wantCalls: []gitlabtest.Call{getUser, listNotes,
				call("POST", notesAPI, "", mark+"\nreport", 500)},
		},
		{
			name: "forbidden",
			env:  mrJob,
			fail: func(c gitlabtest.Call) int {
				if c.Method == "POST" {
					return http.StatusForbidden
				}
				return 0
			},
			wantErr: "403",
			wantCalls: []gitlabtest.Call{getUser, listNotes,
				call("POST", notesAPI, "", mark+"\nreport", 403)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeGitLab(t, gitlabtest.Config{Fail: tt.fail})
			err := platformFor(srv, tt.env).Comment(context.Background(), "apply", "report")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Comment() = %v, want error containing %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantCalls, srv.Calls()); diff != "" {
				t.Errorf("API calls mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

package gitlabtest_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/gitlab/gitlabtest"
)

// recorder is a testing.TB that keeps the errors the fake reports.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestServer_rejects(t *testing.T) {
	t.Parallel()
	notes := "/api/v4/projects/42/merge_requests/7/notes"
	tests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		body       string
		wantStatus int
		wantError  string // empty: GitLab's answer, not a test failure
	}{
		{
			name: "wrong token", method: "GET", path: "/api/v4/user",
			header:     map[string]string{"Private-Token": "nope"},
			wantStatus: 401,
		},
		{
			name: "no Accept header", method: "GET", path: "/api/v4/user",
			header:     map[string]string{"Accept": ""},
			wantStatus: 406, wantError: "Accept",
		},
		{
			name: "unknown route", method: "DELETE", path: notes + "/1",
			wantStatus: 404, wantError: "unexpected request DELETE",
		},
		{
			name: "other merge request", method: "GET",
			path:       "/api/v4/projects/42/merge_requests/8/notes",
			wantStatus: 404, wantError: "merge request \"8\"",
		},
		{
			name: "form body", method: "POST", path: notes,
			header:     map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			body:       "body=x",
			wantStatus: 400, wantError: "Content-Type",
		},
		{
			name: "extra field", method: "POST", path: notes, body: `{"body":"x","internal":true}`,
			wantStatus: 400, wantError: "want {\"body\": non-empty}",
		},
		{
			name: "unknown query parameter", method: "GET", path: notes + "?sort=asc&x=1",
			wantStatus: 400, wantError: "query parameter x",
		},
		{
			name: "edit a note that does not exist", method: "PUT", path: notes + "/5",
			body: `{"body":"x"}`, wantStatus: 404, wantError: "does not exist",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{TB: t}
			srv := gitlabtest.New(rec, gitlabtest.Config{Token: "tok", ProjectID: "42",
				MergeRequestIID: 7, User: gitlabtest.User{ID: 1, Username: "bot"}})

			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Private-Token", "tok")
			req.Header.Set("Accept", "application/json")
			req.Header.Set("Content-Type", "application/json")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()

			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			var want []string
			if tt.wantError != "" {
				want = []string{tt.wantError}
			}
			got := rec.errors
			if len(got) == 1 && tt.wantError != "" && strings.Contains(got[0], tt.wantError) {
				got = want
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("reported errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

package githubtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recorder collects the errors a Server reports instead of failing the
// test, so that the checks themselves can be tested.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) errors() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}

func TestServer_rejects(t *testing.T) {
	t.Parallel()
	spec := LoadSpec(t)
	const tok = "ghs_checktoken"
	headers := map[string]string{
		"Authorization": "Bearer " + tok, "X-GitHub-Api-Version": APIVersion,
		"Accept": "application/vnd.github.v3+json", "User-Agent": "test",
		"Content-Type": "application/json",
	}
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		drop    string
		wantErr string
	}{
		{
			name: "body without its required field", method: "POST",
			path: "/repos/acme/infra/issues/7/comments", body: `{"text": "x"}`,
			wantErr: "does not match GitHub's API",
		},
		{
			name: "no token", method: "GET", path: "/repos/acme/infra/issues/7/comments",
			drop: "Authorization", wantErr: "header Authorization",
		},
		{
			name: "no API version", method: "GET", path: "/repos/acme/infra/issues/7/comments",
			drop: "X-GitHub-Api-Version", wantErr: "header X-Github-Api-Version",
		},
		{
			name: "a path GitHub does not have", method: "GET", path: "/repos/acme/infra/nothing",
			wantErr: "is no operation of GitHub's API",
		},
		{
			name: "an operation the adapter has no use for", method: "GET",
			path: "/repos/acme/infra/pulls/7", wantErr: "has no reason to use",
		},
		{
			name: "bad query", method: "GET", path: "/repos/acme/infra/issues/7/comments?per_page=x",
			wantErr: "does not match GitHub's API",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{TB: t}
			srv := NewServer(rec, spec, Config{Owner: "acme", Repo: "infra", Token: tok})
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range headers {
				if k != tt.drop {
					req.Header.Set(k, v)
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if got := rec.errors(); !strings.Contains(got, tt.wantErr) {
				t.Errorf("errors reported = %q, want one containing %q", got, tt.wantErr)
			}
		})
	}
}

// TestServer_send checks that a response that does not match the
// description is reported, so the fake cannot drift from the real API.
func TestServer_send(t *testing.T) {
	t.Parallel()
	rec := &recorder{TB: t}
	srv := NewServer(rec, LoadSpec(t), Config{Owner: "acme", Repo: "infra", Token: "x"})
	r := httptest.NewRequest("GET", srv.URL+"/repos/acme/infra/issues/7/comments", nil)
	route, params, err := srv.router.FindRoute(r)
	if err != nil {
		t.Fatal(err)
	}
	in := requestInput(r, nil, route, params)
	if err := validateRequest(context.Background(), in); err != nil {
		t.Fatal(err)
	}

	comment := srv.commentJSON(Comment{ID: 1, Issue: 7, Body: "x", User: "octocat"})
	delete(comment, "user")
	srv.send(httptest.NewRecorder(), &Call{}, in, r, response{status: 200, body: []any{comment}})
	if got := rec.errors(); !strings.Contains(got, `"user"`) {
		t.Errorf("errors reported = %q, want the missing user field named", got)
	}
}

// Package githubtest is a fake of the part of GitHub's REST API that the
// actions adapter calls: listing, creating and editing the comments of a
// pull request. It is for tests only.
//
// The fake keeps comments in memory and checks every call it receives:
// method and path must name an operation the adapter is expected to use,
// the headers must be those go-github sends (token, media type, API
// version), and each request and each response it serves is validated
// against GitHub's official OpenAPI description ([LoadSpec]). Every
// mismatch fails the test that started the server.
package githubtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// APIVersion is the REST API version go-github asks for.
const APIVersion = "2022-11-28"

// Call is one request the server received.
type Call struct {
	Method string
	// Path is the URL path; Query its raw query.
	Path  string
	Query string
	// Operation is the OpenAPI operationId the call matched, if any.
	Operation string
	// Body is the request body as sent.
	Body string
	// Status is the status code the server answered with.
	Status int
}

// Comment is a comment held by the server.
type Comment struct {
	ID    int64
	Issue int
	Body  string
	User  string
}

// Server is a fake GitHub REST API for one repository.
type Server struct {
	// URL is the API root, to be used as GITHUB_API_URL.
	URL string

	t      testing.TB
	token  string
	owner  string
	repo   string
	router routers.Router

	mu       sync.Mutex
	comments []Comment
	calls    []Call
	nextID   int64
	refuse   map[string]bool
}

// Config describes the repository a [Server] serves.
type Config struct {
	// Owner and Repo name the repository; calls for others get 404.
	Owner, Repo string
	// Token is the only token accepted.
	Token string
	// Prefix is the API's path on the host: empty as on api.github.com,
	// "/api/v3" as on Enterprise Server.
	Prefix string
}

// NewServer starts a fake API for the repository c names, and stops it
// when the test ends.
func NewServer(t testing.TB, spec *Spec, c Config) *Server {
	t.Helper()
	s := &Server{t: t, token: c.Token, owner: c.Owner, repo: c.Repo, nextID: 1000,
		refuse: map[string]bool{}}
	hs := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(hs.Close)
	s.URL = hs.URL + c.Prefix

	// The description's server is https://api.github.com; requests here
	// go to the fake's address instead, with the same paths.
	doc := *spec.doc
	doc.Servers = openapi3.Servers{{URL: s.URL}}
	router, err := gorillamux.NewRouter(&doc)
	if err != nil {
		t.Fatalf("route GitHub's OpenAPI description: %v", err)
	}
	s.router = router
	return s
}

// Refuse makes the server answer the operation (an OpenAPI operationId
// such as "issues/create-comment") with 403 Forbidden, as GitHub does for a
// token without the needed permission.
func (s *Server) Refuse(operation string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse[operation] = true
}

// AddComment stores a comment on issue as if user had written it, and
// returns its id.
func (s *Server) AddComment(issue int, user, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.comments = append(s.comments, Comment{ID: s.nextID, Issue: issue, Body: body, User: user})
	return s.nextID
}

// Comments returns the comments on issue, oldest first.
func (s *Server) Comments(issue int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if c.Issue == issue {
			out = append(out, c)
		}
	}
	return out
}

// Calls returns the calls received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// ResetCalls forgets the calls received so far; comments stay.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// response is what a handler answers before it is validated and sent.
type response struct {
	status int
	header http.Header
	body   any
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.t.Errorf("githubtest: read request body: %v", err)
	}
	call := Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: string(body)}
	s.checkHeaders(r, body)

	route, params, err := s.router.FindRoute(r)
	if err != nil {
		s.t.Errorf("githubtest: %s %s is no operation of GitHub's API: %v", r.Method, r.URL, err)
		s.send(w, &call, nil, nil, errorResponse(http.StatusNotFound, "Not Found"))
		return
	}
	call.Operation = route.Operation.OperationID
	in := requestInput(r, body, route, params)
	if err := validateRequest(r.Context(), in); err != nil {
		s.t.Errorf("githubtest: %s %s does not match GitHub's API: %v", r.Method, r.URL, err)
	}
	resp := s.handle(call.Operation, r, params, body)
	s.send(w, &call, in, r, resp)
}

// checkHeaders checks what go-github sends with every call.
func (s *Server) checkHeaders(r *http.Request, body []byte) {
	want := map[string]string{
		"Authorization":        "Bearer " + s.token,
		"X-Github-Api-Version": APIVersion,
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			s.t.Errorf("githubtest: %s %s: header %s = %q, want %q", r.Method, r.URL.Path, k,
				redactToken(got, s.token), redactToken(v, s.token))
		}
	}
	if got := r.Header.Get("Accept"); !strings.Contains(got, "application/vnd.github") {
		s.t.Errorf("githubtest: %s %s: Accept = %q, want GitHub's media type", r.Method, r.URL.Path, got)
	}
	if r.Header.Get("User-Agent") == "" {
		s.t.Errorf("githubtest: %s %s: no User-Agent (GitHub refuses such calls)", r.Method, r.URL.Path)
	}
	if len(body) > 0 && r.Header.Get("Content-Type") != "application/json" {
		s.t.Errorf("githubtest: %s %s: Content-Type = %q, want application/json", r.Method,
			r.URL.Path, r.Header.Get("Content-Type"))
	}
}

func redactToken(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "<token>")
}

// send validates the response against the operation and writes it.
func (s *Server) send(w http.ResponseWriter, call *Call, in *openapi3filter.RequestValidationInput,
	r *http.Request, resp response,
) {
	data, err := json.Marshal(resp.body)
	if err != nil {
		s.t.Errorf("githubtest: encode response: %v", err)
	}
	header := resp.header
	if header == nil {
		header = http.Header{}
	}
	header.Set("Content-Type", "application/json; charset=utf-8")
	if in != nil {
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: resp.status, Header: header,
			Options: validationOptions(),
		}
		out.SetBodyBytes(data)
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			s.t.Errorf("githubtest: the fake's answer to %s %s does not match GitHub's API: %v",
				r.Method, r.URL.Path, err)
		}
	}
	call.Status = resp.status
	s.mu.Lock()
	s.calls = append(s.calls, *call)
	s.mu.Unlock()
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(data)
}

// requestInput prepares a request for validation against its operation.
func requestInput(r *http.Request, body []byte, route *routers.Route, params map[string]string,
) *openapi3filter.RequestValidationInput {
	return &openapi3filter.RequestValidationInput{
		Request: cloneWithBody(r, body), PathParams: params, Route: route,
		Options: validationOptions(),
	}
}

func validateRequest(ctx context.Context, in *openapi3filter.RequestValidationInput) error {
	return openapi3filter.ValidateRequest(ctx, in)
}

func validationOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:                        true,
		IncludeResponseStatus:             true,
		RejectWhenRequestBodyNotSpecified: true,
		AuthenticationFunc:                openapi3filter.NoopAuthenticationFunc,
	}
}

func cloneWithBody(r *http.Request, body []byte) *http.Request {
	c := r.Clone(r.Context())
	c.Body = io.NopCloser(bytes.NewReader(body))
	return c
}

// handle serves one operation.
func (s *Server) handle(op string, r *http.Request, params map[string]string, body []byte,
) response {
	if params["owner"] != s.owner || params["repo"] != s.repo {
		return errorResponse(http.StatusNotFound, "Not Found")
	}
	s.mu.Lock()
	refused := s.refuse[op]
	s.mu.Unlock()
	if refused {
		return errorResponse(http.StatusForbidden, "Resource not accessible by integration")
	}
	switch op {
	case "issues/list-comments":
		return s.list(r, params)
	case "issues/create-comment":
		return s.create(params, body)
	case "issues/update-comment":
		return s.update(params, body)
	}
	s.t.Errorf("githubtest: the adapter called %s (%s %s), which it has no reason to use",
		op, r.Method, r.URL.Path)
	return errorResponse(http.StatusNotFound, "Not Found")
}

func (s *Server) list(r *http.Request, params map[string]string) response {
	issue, _ := strconv.Atoi(params["issue_number"])
	perPage, page := queryInt(r, "per_page", 30), queryInt(r, "page", 1)
	all := s.Comments(issue)
	start := min(len(all), (page-1)*perPage)
	end := min(len(all), start+perPage)
	items := make([]map[string]any, 0, end-start)
	for _, c := range all[start:end] {
		items = append(items, s.commentJSON(c))
	}
	header := http.Header{}
	if end < len(all) {
		next := *r.URL
		q := next.Query()
		q.Set("page", strconv.Itoa(page+1))
		next.RawQuery = q.Encode()
		next.Scheme, next.Host = "http", r.Host
		header.Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", next.String()))
	}
	return response{status: http.StatusOK, header: header, body: items}
}

func (s *Server) create(params map[string]string, body []byte) response {
	text, bad := commentBody(body)
	if bad != nil {
		return *bad
	}
	issue, _ := strconv.Atoi(params["issue_number"])
	id := s.AddComment(issue, "github-actions[bot]", text)
	return response{status: http.StatusCreated, body: s.commentJSON(s.find(id))}
}

func (s *Server) update(params map[string]string, body []byte) response {
	text, bad := commentBody(body)
	if bad != nil {
		return *bad
	}
	id, _ := strconv.ParseInt(params["comment_id"], 10, 64)
	s.mu.Lock()
	i := slices.IndexFunc(s.comments, func(c Comment) bool { return c.ID == id })
	if i >= 0 {
		s.comments[i].Body = text
	}
	s.mu.Unlock()
	if i < 0 {
		// update-comment declares no 404; GitHub answers 404 all the same.
		s.t.Errorf("githubtest: edit of comment %d, which does not exist", id)
		return errorResponse(http.StatusUnprocessableEntity, "Validation Failed")
	}
	return response{status: http.StatusOK, body: s.commentJSON(s.find(id))}
}

func (s *Server) find(id int64) Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.comments {
		if c.ID == id {
			return c
		}
	}
	return Comment{}
}

// commentBody decodes {"body": "..."} and refuses any other field.
func commentBody(b []byte) (string, *response) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var in struct {
		Body *string `json:"body"`
	}
	if err := dec.Decode(&in); err != nil || in.Body == nil {
		r := errorResponse(http.StatusUnprocessableEntity, "Validation Failed")
		return "", &r
	}
	return *in.Body, nil
}

func queryInt(r *http.Request, name string, def int) int {
	if v, err := strconv.Atoi(r.URL.Query().Get(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// commentJSON is an issue comment as GitHub's API returns it.
func (s *Server) commentJSON(c Comment) map[string]any {
	repoURL := s.URL + "/repos/" + s.owner + "/" + s.repo
	web := "https://github.com/" + s.owner + "/" + s.repo
	stamp := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).Format(time.RFC3339)
	return map[string]any{
		"id":                 c.ID,
		"node_id":            "IC_" + strconv.FormatInt(c.ID, 10),
		"url":                repoURL + "/issues/comments/" + strconv.FormatInt(c.ID, 10),
		"html_url":           fmt.Sprintf("%s/pull/%d#issuecomment-%d", web, c.Issue, c.ID),
		"issue_url":          fmt.Sprintf("%s/issues/%d", repoURL, c.Issue),
		"body":               c.Body,
		"user":               userJSON(s.URL, c.User),
		"created_at":         stamp,
		"updated_at":         stamp,
		"author_association": "NONE",
	}
}

func userJSON(api, login string) map[string]any {
	u := api + "/users/" + url.PathEscape(login)
	kind := "User"
	if strings.HasSuffix(login, "[bot]") {
		kind = "Bot"
	}
	return map[string]any{
		"login": login, "id": 41898282, "node_id": "MDM6Qm90NDE4OTgyODI=",
		"avatar_url": "https://avatars.githubusercontent.com/in/15368?v=4", "gravatar_id": "",
		"url": u, "html_url": "https://github.com/" + login,
		"followers_url": u + "/followers", "following_url": u + "/following{/other_user}",
		"gists_url": u + "/gists{/gist_id}", "starred_url": u + "/starred{/owner}{/repo}",
		"subscriptions_url": u + "/subscriptions", "organizations_url": u + "/orgs",
		"repos_url": u + "/repos", "events_url": u + "/events{/privacy}",
		"received_events_url": u + "/received_events", "type": kind, "site_admin": false,
	}
}

// errorResponse is GitHub's error body (basic-error).
func errorResponse(status int, message string) response {
	return response{status: status, body: map[string]any{
		"message":           message,
		"documentation_url": "https://docs.github.com/rest/issues/comments",
		"status":            strconv.Itoa(status),
	}}
}

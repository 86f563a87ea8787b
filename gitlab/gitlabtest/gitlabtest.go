// Package gitlabtest is a fake of the part of GitLab's REST API that the
// gitlab adapter calls: the token's user and the notes of one merge
// request. It runs as an httptest server on 127.0.0.1, so that unit tests
// and jobs started by end-to-end tests can reach it.
//
// Every request is checked the way GitLab would treat it and the way the
// adapter must send it: method and path, the Private-Token, Accept and
// Content-Type headers, the query parameters and a JSON body holding
// exactly the note's body. A request GitLab would reject gets GitLab's
// status and message; a request the adapter should never make also fails
// the test. Every call is recorded for the test to compare.
//
// It does not implement anything else of GitLab, nor keyset pagination.
package gitlabtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// User is a GitLab user as the fake knows it.
type User struct {
	ID       int64
	Username string
}

// Note is a merge request note held by the fake.
type Note struct {
	ID     int64
	Author User
	Body   string
	System bool
}

// Call is one request the fake received.
type Call struct {
	Method string
	// Path is the URL path, starting with /api/v4.
	Path string
	// Query is the raw query string.
	Query string
	// PrivateToken is the Private-Token header.
	PrivateToken string
	// Body is the note's body sent with POST and PUT; empty otherwise.
	Body string
	// Status is the HTTP status the fake answered with.
	Status int
}

// Config describes the GitLab the fake plays.
type Config struct {
	// Token is the access token the fake accepts; it belongs to User.
	Token string
	User  User
	// ProjectID and MergeRequestIID name the only merge request that
	// exists.
	ProjectID       string
	MergeRequestIID int64
	// Notes are on the merge request from the start.
	Notes []Note
	// MaxPerPage caps the page size like GitLab's limit of 100; 0 means
	// 100. A small value makes the client walk several pages.
	MaxPerPage int
	// Fail, when set, is asked first about every request; a non-zero
	// status is returned with a GitLab error message instead of serving.
	Fail func(c Call) int
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is the instance's base URL: the value of CI_SERVER_URL.
	URL string

	t      testing.TB
	cfg    Config
	mu     sync.Mutex
	notes  []Note
	nextID int64
	calls  []Call
}

// New starts a fake GitLab for cfg and stops it when the test ends.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.MaxPerPage == 0 {
		cfg.MaxPerPage = 100
	}
	s := &Server{t: t, cfg: cfg, notes: slices.Clone(cfg.Notes), nextID: 1000}
	for _, n := range cfg.Notes {
		s.nextID = max(s.nextID, n.ID+1)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v4/user", s.currentUser)
	mux.HandleFunc("GET "+notesPath, s.listNotes)
	mux.HandleFunc("POST "+notesPath, s.createNote)
	mux.HandleFunc("PUT "+notesPath+"/{note}", s.updateNote)
	mux.HandleFunc("/", s.unexpected)
	srv := httptest.NewServer(s.check(mux))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

const notesPath = "/api/v4/projects/{project}/merge_requests/{mr}/notes"

// Calls returns every request received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Notes returns the merge request's notes, oldest first.
func (s *Server) Notes() []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.notes)
}

// apiError writes GitLab's error shape: {"message": "..."}.
func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// noteJSON is the subset of GitLab's note representation the fake sends.
// https://docs.gitlab.com/api/notes/#list-all-merge-request-notes
type noteJSON struct {
	ID           int64     `json:"id"`
	Body         string    `json:"body"`
	Author       userJSON  `json:"author"`
	System       bool      `json:"system"`
	CreatedAt    time.Time `json:"created_at"`
	NoteableType string    `json:"noteable_type"`
	NoteableIID  int64     `json:"noteable_iid"`
}

type userJSON struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

func (s *Server) toJSON(n Note) noteJSON {
	return noteJSON{
		ID: n.ID, Body: n.Body, System: n.System,
		Author:       userJSON(n.Author),
		CreatedAt:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n.ID)),
		NoteableType: "MergeRequest", NoteableIID: s.cfg.MergeRequestIID,
	}
}

// reportf fails the test for a request the adapter should not have made.
func (s *Server) reportf(format string, args ...any) {
	s.t.Errorf("fake GitLab: "+format, args...)
}

// itoa formats a page number for the pagination headers.
func itoa(n int) string { return strconv.Itoa(n) }

// String describes the fake for test failures.
func (s *Server) String() string {
	return fmt.Sprintf("fake GitLab at %s (project %s, !%d)", s.URL, s.cfg.ProjectID,
		s.cfg.MergeRequestIID)
}

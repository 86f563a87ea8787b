package gitlabtest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

type callKey struct{}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// check validates what every request must carry, records the call and
// hands valid requests to next.
func (s *Server) check(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			PrivateToken: r.Header.Get("Private-Token")}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			s.mu.Lock()
			c.Status = sw.status
			s.calls = append(s.calls, *c)
			s.mu.Unlock()
		}()
		if !s.validRequest(sw, r, c) {
			return
		}
		if s.cfg.Fail != nil {
			if code := s.cfg.Fail(*c); code != 0 {
				apiError(sw, code, strconv.Itoa(code)+" "+http.StatusText(code))
				return
			}
		}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
	})
}

// validRequest checks headers, token and body, answering the request
// itself when one is wrong.
func (s *Server) validRequest(w http.ResponseWriter, r *http.Request, c *Call) bool {
	if got := r.Header.Get("Accept"); got != "application/json" {
		s.reportf("%s %s: Accept = %q, want application/json", r.Method, r.URL.Path, got)
		apiError(w, http.StatusNotAcceptable, "406 Not Acceptable")
		return false
	}
	if r.Header.Get("Job-Token") != "" {
		s.reportf("%s %s: sent a Job-Token, which cannot write notes", r.Method, r.URL.Path)
	}
	if c.PrivateToken != s.cfg.Token || s.cfg.Token == "" {
		apiError(w, http.StatusUnauthorized, "401 Unauthorized")
		return false
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		return true
	}
	body, ok := s.noteBody(r)
	if !ok {
		apiError(w, http.StatusBadRequest, "400 Bad request - body is missing")
		return false
	}
	c.Body = body
	return true
}

// noteBody reads a JSON body that must hold exactly {"body": "..."}.
func (s *Server) noteBody(r *http.Request) (string, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		s.reportf("%s %s: Content-Type = %q, want application/json", r.Method, r.URL.Path, ct)
		return "", false
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	if err != nil {
		s.reportf("%s %s: read body: %v", r.Method, r.URL.Path, err)
		return "", false
	}
	var in struct {
		Body *string `json:"body"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || in.Body == nil || *in.Body == "" {
		s.reportf("%s %s: body %s, want {\"body\": non-empty} (%v)",
			r.Method, r.URL.Path, raw, err)
		return "", false
	}
	return *in.Body, true
}

// mergeRequest checks that the path names the one merge request.
func (s *Server) mergeRequest(w http.ResponseWriter, r *http.Request) bool {
	if p := r.PathValue("project"); p != s.cfg.ProjectID {
		s.reportf("%s %s: project %q, want %q", r.Method, r.URL.Path, p, s.cfg.ProjectID)
		apiError(w, http.StatusNotFound, "404 Project Not Found")
		return false
	}
	if mr := r.PathValue("mr"); mr != strconv.FormatInt(s.cfg.MergeRequestIID, 10) {
		s.reportf("%s %s: merge request %q, want %d", r.Method, r.URL.Path, mr,
			s.cfg.MergeRequestIID)
		apiError(w, http.StatusNotFound, "404 Not found")
		return false
	}
	return true
}

// currentUser serves GET /user.
// https://docs.gitlab.com/api/users/#retrieve-the-current-user
func (s *Server) currentUser(w http.ResponseWriter, r *http.Request) {
	if r.URL.RawQuery != "" {
		s.reportf("GET /user with query %q", r.URL.RawQuery)
	}
	writeJSON(w, http.StatusOK, userJSON(s.cfg.User))
}

// unexpected answers every route the fake does not serve.
func (s *Server) unexpected(w http.ResponseWriter, r *http.Request) {
	s.reportf("unexpected request %s %s", r.Method, r.URL)
	apiError(w, http.StatusNotFound, "404 Not found")
}

// createNote serves POST .../notes.
// https://docs.gitlab.com/api/notes/#create-new-merge-request-note
func (s *Server) createNote(w http.ResponseWriter, r *http.Request) {
	if !s.mergeRequest(w, r) {
		return
	}
	c := r.Context().Value(callKey{}).(*Call)
	s.mu.Lock()
	n := Note{ID: s.nextID, Author: s.cfg.User, Body: c.Body}
	s.nextID++
	s.notes = append(s.notes, n)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, s.toJSON(n))
}

// updateNote serves PUT .../notes/:note_id.
// https://docs.gitlab.com/api/notes/#modify-existing-merge-request-note
func (s *Server) updateNote(w http.ResponseWriter, r *http.Request) {
	if !s.mergeRequest(w, r) {
		return
	}
	c := r.Context().Value(callKey{}).(*Call)
	id, _ := strconv.ParseInt(r.PathValue("note"), 10, 64)

	s.mu.Lock()
	i := slices.IndexFunc(s.notes, func(n Note) bool { return n.ID == id })
	var n Note
	status := http.StatusOK
	switch {
	case i < 0:
		status = http.StatusNotFound
	case s.notes[i].Author.ID != s.cfg.User.ID || s.notes[i].System:
		status = http.StatusForbidden
	default:
		s.notes[i].Body = c.Body
		n = s.notes[i]
	}
	s.mu.Unlock()

	switch status {
	case http.StatusNotFound:
		s.reportf("PUT note %d, which does not exist", id)
		apiError(w, status, "404 Not found")
	case http.StatusForbidden:
		s.reportf("PUT note %d, which the token's user did not write", id)
		apiError(w, status, "403 Forbidden")
	default:
		writeJSON(w, status, s.toJSON(n))
	}
}

// listNotes serves GET .../notes with offset pagination.
// https://docs.gitlab.com/api/notes/#list-all-merge-request-notes
// https://docs.gitlab.com/api/rest/#offset-based-pagination
func (s *Server) listNotes(w http.ResponseWriter, r *http.Request) {
	if !s.mergeRequest(w, r) {
		return
	}
	q, ok := s.listQuery(r)
	if !ok {
		apiError(w, http.StatusBadRequest, "400 Bad request - invalid query")
		return
	}
	notes := s.sortedNotes(q.Get("sort"))
	page, per := atoiOr(q.Get("page"), 1), min(atoiOr(q.Get("per_page"), 20), s.cfg.MaxPerPage)
	pages := max(1, (len(notes)+per-1)/per)
	from, to := min((page-1)*per, len(notes)), min(page*per, len(notes))

	out := make([]noteJSON, 0, to-from)
	for _, n := range notes[from:to] {
		out = append(out, s.toJSON(n))
	}
	h := w.Header()
	h.Set("X-Page", itoa(page))
	h.Set("X-Per-Page", itoa(per))
	h.Set("X-Total", itoa(len(notes)))
	h.Set("X-Total-Pages", itoa(pages))
	h.Set("X-Next-Page", "")
	if page < pages {
		h.Set("X-Next-Page", itoa(page+1))
		h.Set("Link", s.pageLink(r, q, page+1, per)+`; rel="next"`)
	}
	writeJSON(w, http.StatusOK, out)
}

// listQuery accepts only the parameters GitLab documents for the list,
// with their documented values.
func (s *Server) listQuery(r *http.Request) (url.Values, bool) {
	q := r.URL.Query()
	allowed := map[string][]string{
		"page": nil, "per_page": nil,
		"order_by": {"created_at", "updated_at"},
		"sort":     {"asc", "desc"},
	}
	for k, v := range q {
		values, known := allowed[k]
		if !known || len(v) != 1 || (values != nil && !slices.Contains(values, v[0])) {
			s.reportf("GET %s: query parameter %s=%v", r.URL.Path, k, v)
			return nil, false
		}
	}
	return q, true
}

// sortedNotes returns the notes ordered as asked; GitLab's default is
// newest first. Creation and update order are both the ID order here.
func (s *Server) sortedNotes(sort string) []Note {
	notes := s.Notes()
	slices.SortFunc(notes, func(a, b Note) int { return cmp.Compare(a.ID, b.ID) })
	if sort != "asc" {
		slices.Reverse(notes)
	}
	return notes
}

// pageLink is the Link header's URL of another page of the same list.
func (s *Server) pageLink(r *http.Request, q url.Values, page, per int) string {
	next := url.Values{}
	for k, v := range q {
		next[k] = v
	}
	next.Set("page", itoa(page))
	next.Set("per_page", itoa(per))
	return "<" + s.URL + r.URL.Path + "?" + next.Encode() + ">"
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return n
	}
	return def
}

package gitlab

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/self-heal/self-heal/pkg/ci"
	"github.com/self-heal/self-heal/pkg/report"
)

// notesPerPage is the page size when looking for an earlier note; 100 is
// the most GitLab returns per page.
const notesPerPage = 100

// Why a note is not written. The job log and the report artifact still
// carry the report; the caller shows the error as a warning.
var (
	errNoToken = errors.New(TokenVariable + " is not set; set it to an access token " +
		"with the api scope to keep the report on the merge request")
	errFork = errors.New("the merge request comes from a fork, whose pipelines " +
		"must not hold the token")
)

// Comment keeps one note per key on the pipeline's merge request: the
// first call creates it, later calls (in this job, a retried job or a
// later pipeline) find it again by its hidden [report.Marker] and edit it
// in place. Only notes written by the token's own user are considered.
// Outside a merge request pipeline it returns [ci.ErrNoChangeRequest].
// Without a token, or on a merge request from a fork, it returns an error
// that says so.
func (p *Platform) Comment(ctx context.Context, key, markdown string) error {
	e := p.env
	switch {
	case e.mrIID == "":
		return ci.ErrNoChangeRequest
	case e.fork():
		return errFork
	case e.token == "":
		return errNoToken
	}
	iid, err := strconv.ParseInt(e.mrIID, 10, 64)
	if err != nil {
		return fmt.Errorf("merge request note: CI_MERGE_REQUEST_IID %q: %w", e.mrIID, err)
	}
	c, err := p.client()
	if err != nil {
		return err
	}
	// The shared renderer starts a report with the marker when given the
	// key; a report without it gets it here, so that it can be found again.
	mark := report.Marker(key)
	body := markdown
	if !strings.Contains(body, mark) {
		body = mark + "\n" + body
	}
	n := notes{c: c, project: e.projectID, mr: iid}
	return n.upsert(ctx, mark, body)
}

// client builds the API client for the job's GitLab instance.
func (p *Platform) client() (*gl.Client, error) {
	if p.env.serverURL == "" {
		return nil, errors.New("merge request note: CI_SERVER_URL is not set")
	}
	c, err := gl.NewClient(p.env.token,
		gl.WithBaseURL(strings.TrimRight(p.env.serverURL, "/")+"/api/v4"),
		gl.WithHTTPClient(p.hc),
		// A retried POST after a lost response would post the note twice.
		gl.WithOnlyIdempotentRetries(),
		gl.WithURLWarningLogger(p.log),
	)
	if err != nil {
		return nil, fmt.Errorf("merge request note: gitlab client: %w", err)
	}
	return c, nil
}

// notes writes the notes of one merge request.
type notes struct {
	c       *gl.Client
	project string
	mr      int64
}

// upsert edits the token user's note that holds mark, or creates
// one, so that it reads body. An unchanged note is left alone.
func (n notes) upsert(ctx context.Context, mark, body string) error {
	me, _, err := n.c.Users.CurrentUser(gl.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("merge request note: read the token's user: %w", err)
	}
	old, err := n.find(ctx, me.ID, mark)
	if err != nil {
		return err
	}

	if old == nil {
		_, _, err := n.c.Notes.CreateMergeRequestNote(n.project, n.mr,
			&gl.CreateMergeRequestNoteOptions{Body: &body}, gl.WithContext(ctx))
		if err != nil {
			return fmt.Errorf("merge request note: create on !%d: %w", n.mr, err)
		}
		return nil
	}
	if old.Body == body {
		return nil
	}
	_, _, err = n.c.Notes.UpdateMergeRequestNote(n.project, n.mr, old.ID,
		&gl.UpdateMergeRequestNoteOptions{Body: &body}, gl.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("merge request note: edit note %d on !%d: %w", old.ID, n.mr, err)
	}
	return nil
}

// find returns the oldest note by author that holds mark, or nil.
func (n notes) find(ctx context.Context, author int64, mark string) (*gl.Note, error) {
	opts := &gl.ListMergeRequestNotesOptions{
		ListOptions: gl.ListOptions{PerPage: notesPerPage},
		OrderBy:     gl.Ptr("created_at"),
		Sort:        gl.Ptr("asc"),
	}
	list := func(page gl.PaginationOptionFunc) ([]*gl.Note, *gl.Response, error) {
		return n.c.Notes.ListMergeRequestNotes(n.project, n.mr, opts, page, gl.WithContext(ctx))
	}
	for note, err := range gl.Scan2(list) {
		if err != nil {
			return nil, fmt.Errorf("merge request note: list notes of !%d: %w", n.mr, err)
		}
		if !note.System && note.Author.ID == author && strings.Contains(note.Body, mark) {
			return note, nil
		}
	}
	return nil, nil
}

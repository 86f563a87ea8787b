package actions

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/self-heal/self-heal/pkg/ci"
	"github.com/self-heal/self-heal/pkg/report"
)

// maxCommentPages bounds the search for the earlier comment (100 comments a
// page), so a pull request with a huge thread cannot stall the job.
const maxCommentPages = 30

// Reasons a comment is not attempted. The job summary and annotations
// carry the report instead.
var (
	errNoToken = errors.New("no GitHub token: set the github-token input " +
		"(SELF_HEAL_GITHUB_TOKEN) to post the pull request comment")
	errFork = errors.New("the pull request comes from a fork, whose token is " +
		"read-only: the comment is skipped")
)

// Comment keeps one comment per key on the run's pull request: it looks
// for the comment holding report.Marker(key) and edits it, or creates it.
// It returns [ci.ErrNoChangeRequest] when the run has no pull request.
func (p *Platform) Comment(ctx context.Context, key, markdown string) error {
	switch {
	case p.event.number == 0:
		return ci.ErrNoChangeRequest
	case p.event.fork && p.getenv("GITHUB_EVENT_NAME") == "pull_request":
		return errFork
	}
	client, err := p.client()
	if err != nil {
		return err
	}
	owner, repo, ok := strings.Cut(p.getenv("GITHUB_REPOSITORY"), "/")
	if !ok || owner == "" || repo == "" {
		return fmt.Errorf("comment: GITHUB_REPOSITORY %q is not owner/name",
			p.getenv("GITHUB_REPOSITORY"))
	}

	marker := report.Marker(key)
	body := markdown
	if !strings.Contains(body, marker) {
		body = marker + "\n" + body
	}
	c := &github.IssueComment{Body: github.String(body)}

	id, err := findComment(ctx, client.Issues, owner, repo, p.event.number, marker)
	if err != nil {
		return explain("find the earlier comment", err)
	}
	if id != 0 {
		_, _, err = client.Issues.EditComment(ctx, owner, repo, id, c)
		return explain("edit comment "+strconv.FormatInt(id, 10), err)
	}
	_, _, err = client.Issues.CreateComment(ctx, owner, repo, p.event.number, c)
	return explain("create comment", err)
}

// client returns a go-github client for GITHUB_API_URL with the token.
func (p *Platform) client() (*github.Client, error) {
	token := p.getenv("SELF_HEAL_GITHUB_TOKEN")
	if token == "" {
		token = p.getenv("GITHUB_TOKEN")
	}
	if token == "" {
		return nil, errNoToken
	}
	c := github.NewClient(p.http).WithAuthToken(token)
	if api := p.getenv("GITHUB_API_URL"); api != "" {
		// GITHUB_API_URL is the API root on github.com and on Enterprise
		// Server alike (https://HOST/api/v3), so it is used as it is.
		base, err := url.Parse(strings.TrimSuffix(api, "/") + "/")
		if err != nil {
			return nil, fmt.Errorf("comment: GITHUB_API_URL: %w", err)
		}
		c.BaseURL = base
	}
	return c, nil
}

// findComment returns the id of the newest comment holding marker, or 0.
func findComment(ctx context.Context, issues *github.IssuesService,
	owner, repo string, number int, marker string,
) (int64, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var found int64
	for range maxCommentPages {
		comments, resp, err := issues.ListComments(ctx, owner, repo, number, opts)
		if err != nil {
			return 0, err
		}
		for _, c := range comments {
			if strings.Contains(c.GetBody(), marker) {
				found = c.GetID()
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return found, nil
}

// explain wraps an API error with what the user can do about it.
func explain(op string, err error) error {
	if err == nil {
		return nil
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		switch er.Response.StatusCode {
		case http.StatusUnauthorized:
			return fmt.Errorf("%s: the token was refused: %w", op, err)
		case http.StatusForbidden:
			return fmt.Errorf("%s: the token may not comment (grant pull-requests: write): %w",
				op, err)
		case http.StatusNotFound:
			return fmt.Errorf("%s: the token cannot see the pull request: %w", op, err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

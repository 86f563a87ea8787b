// Package actions is the GitHub Actions adapter: it implements
// [ci.Platform] and its optional capabilities for a job on GitHub Actions,
// on github.com or on GitHub Enterprise Server.
//
// Workflow commands (log groups, annotations, masks), the job summary and
// step outputs go through go-githubactions; the sticky pull request comment
// goes through go-github. The adapter is handed the job's environment as a
// getenv function and an HTTP client; it never reads the process
// environment. It reads these variables:
//
//	GITHUB_ACTIONS             "true" on a runner (see [Detect])
//	GITHUB_REPOSITORY          owner/name, for the API calls and the run link
//	GITHUB_SERVER_URL          the web address, for the run link
//	GITHUB_API_URL             the REST API (Enterprise Server: https://HOST/api/v3)
//	GITHUB_RUN_ID              the run, for the run link
//	GITHUB_RUN_ATTEMPT         the run's attempt, for the run link
//	GITHUB_WORKFLOW            the workflow's name, part of the job's name
//	GITHUB_JOB                 the job's id, part of the job's name
//	GITHUB_SHA                 the commit, unless the pull request names its head
//	GITHUB_REF                 refs/pull/N/merge gives the pull request number
//	GITHUB_EVENT_NAME          the trigger; pull_request_target is untrusted
//	GITHUB_EVENT_PATH          the event payload: pull request number, head, fork
//	GITHUB_STEP_SUMMARY        the file the job summary is appended to
//	GITHUB_OUTPUT              the file step outputs are appended to
//	SELF_HEAL_GITHUB_TOKEN     the token for the comment (the action's github-token input)
//	GITHUB_TOKEN               the token, when SELF_HEAL_GITHUB_TOKEN is not set
//
// Sources: default variables,
// https://docs.github.com/en/actions/reference/variables-reference#default-environment-variables;
// workflow commands and environment files,
// https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions;
// the pull_request payload,
// https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request;
// issue comments, https://docs.github.com/en/rest/issues/comments.
//
// Limits of the platform: GitHub does not tell a step the name of its
// deployment environment, so the environment comes from the action's
// environment input. A pull request from a fork runs with a read-only
// token, so no comment is attempted there; the job summary and the
// annotations still carry the report.
package actions

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/self-heal/self-heal/pkg/ci"
)

// Platform is a job on GitHub Actions. Its methods write workflow commands
// to the job log and files named by the runner; they are not safe for
// concurrent use.
type Platform struct {
	gha    *githubactions.Action
	getenv func(string) string
	http   *http.Client
	info   ci.Info
	// event is what the run's trigger says about its pull request.
	event event
}

// Compile-time proof that Platform offers every capability of pkg/ci.
var (
	_ ci.Platform   = (*Platform)(nil)
	_ ci.Annotator  = (*Platform)(nil)
	_ ci.Summarizer = (*Platform)(nil)
	_ ci.Outputter  = (*Platform)(nil)
	_ ci.Masker     = (*Platform)(nil)
	_ ci.Commenter  = (*Platform)(nil)
)

// Config is what the adapter is handed by main.
type Config struct {
	// Getenv looks a variable of the job up; nil finds nothing.
	Getenv func(string) string
	// Stdout is the job log, where workflow commands go; nil discards them.
	Stdout io.Writer
	// HTTPClient calls the GitHub API; nil uses a client without timeout.
	HTTPClient *http.Client
}

// Detect reports whether getenv describes a job on GitHub Actions.
func Detect(getenv func(string) string) bool {
	return getenv != nil && getenv("GITHUB_ACTIONS") == "true"
}

// New returns the platform of the job that c describes. It reads the
// event payload once; an unreadable payload leaves the pull request
// unknown, so no comment is posted.
func New(c Config) *Platform {
	if c.Getenv == nil {
		c.Getenv = func(string) string { return "" }
	}
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	p := &Platform{
		gha: githubactions.New(
			githubactions.WithGetenv(c.Getenv),
			githubactions.WithWriter(c.Stdout),
			githubactions.WithHTTPClient(c.HTTPClient),
		),
		getenv: c.Getenv,
		http:   c.HTTPClient,
	}
	p.event = readEvent(p.gha, c.Getenv)
	p.info = p.buildInfo()
	return p
}

// Info says where the job runs.
func (p *Platform) Info() ci.Info { return p.info }

// String names the platform.
func (p *Platform) String() string { return "github" }

func (p *Platform) buildInfo() ci.Info {
	env := p.getenv
	info := ci.Info{
		Name:       "github",
		Repository: env("GITHUB_REPOSITORY"),
		RunURL:     runURL(env),
		Job:        jobName(env("GITHUB_WORKFLOW"), env("GITHUB_JOB")),
		Commit:     env("GITHUB_SHA"),
		Untrusted:  env("GITHUB_EVENT_NAME") == "pull_request_target" || p.event.fork,
	}
	if p.event.number > 0 {
		info.ChangeRequest = strconv.Itoa(p.event.number)
	}
	if p.event.headSHA != "" {
		info.Commit = p.event.headSHA
	}
	return info
}

// runURL links the run's page, at its attempt when there were several.
func runURL(env func(string) string) string {
	server, repo, id := env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY"), env("GITHUB_RUN_ID")
	if server == "" || repo == "" || id == "" {
		return ""
	}
	u := strings.TrimSuffix(server, "/") + "/" + repo + "/actions/runs/" + id
	if a := env("GITHUB_RUN_ATTEMPT"); a != "" && a != "1" {
		u += "/attempts/" + a
	}
	return u
}

// jobName names a job the way GitHub's checks list does: "workflow / job".
func jobName(workflow, job string) string {
	if workflow == "" {
		return job
	}
	if job == "" {
		return workflow
	}
	return workflow + " / " + job
}

// event is what the trigger's payload says about the pull request.
type event struct {
	number  int
	headSHA string
	// fork is set when the pull request's head lives in another repository.
	fork bool
}

// readEvent reads the pull request from the event payload, or from
// GITHUB_REF (refs/pull/N/merge) when the payload has none.
func readEvent(gha *githubactions.Action, getenv func(string) string) event {
	var ev event
	if ctx, err := gha.Context(); err == nil && ctx.Event != nil {
		ev = eventFromPayload(ctx.Event)
	}
	if ev.number == 0 {
		ref := getenv("GITHUB_REF")
		if n, ok := strings.CutPrefix(ref, "refs/pull/"); ok {
			n, _, _ = strings.Cut(n, "/")
			ev.number, _ = strconv.Atoi(n)
		}
	}
	return ev
}

// payload holds the fields of pull_request and issue_comment payloads that
// the adapter uses.
type payload struct {
	PullRequest *struct {
		Number int `json:"number"`
		Head   struct {
			SHA  string `json:"sha"`
			Repo *struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"head"`
		Base struct {
			Repo *struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"base"`
	} `json:"pull_request"`
	Issue *struct {
		Number      int             `json:"number"`
		PullRequest json.RawMessage `json:"pull_request"`
	} `json:"issue"`
}

func eventFromPayload(raw map[string]any) event {
	b, err := json.Marshal(raw)
	if err != nil {
		return event{}
	}
	var pl payload
	if err := json.Unmarshal(b, &pl); err != nil {
		return event{}
	}
	switch {
	case pl.PullRequest != nil:
		pr := pl.PullRequest
		ev := event{number: pr.Number, headSHA: pr.Head.SHA}
		if pr.Head.Repo != nil && pr.Base.Repo != nil {
			ev.fork = pr.Head.Repo.FullName != pr.Base.Repo.FullName
		}
		return ev
	case pl.Issue != nil && len(pl.Issue.PullRequest) > 0 && string(pl.Issue.PullRequest) != "null":
		return event{number: pl.Issue.Number}
	}
	return event{}
}

// safely runs a go-githubactions call, which panics when it cannot write,
// and returns the panic as an error.
func safely(what string, fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", what, r)
		}
	}()
	fn()
	return nil
}

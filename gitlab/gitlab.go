// Package gitlab is the GitLab CI adapter: it implements [ci.Platform] and
// its optional capabilities for jobs that run under GitLab CI.
//
// It folds each attempt into a collapsible section of the job log, writes
// the Markdown report into the log, turns step outputs into a dotenv
// report, and keeps one merge request note per key, created once and
// edited in place afterwards through GitLab's REST API.
//
// The adapter never reads the process environment: [New] takes a getenv
// function. The CI/CD variables it reads, all documented at
// https://docs.gitlab.com/ci/variables/predefined_variables/ unless noted:
//
//   - GITLAB_CI: "true" in every GitLab CI job ([Detected]).
//   - CI_SERVER_URL: the instance's base URL, for the REST API.
//   - CI_PROJECT_ID, CI_PROJECT_PATH: the project running the pipeline.
//   - CI_MERGE_REQUEST_IID: the merge request of a merge request pipeline
//     (https://docs.gitlab.com/ci/variables/predefined_variables/#predefined-variables-for-merge-request-pipelines).
//   - CI_MERGE_REQUEST_PROJECT_ID, CI_MERGE_REQUEST_SOURCE_PROJECT_ID: the
//     merge request's target and source projects (same page); when either
//     differs from CI_PROJECT_ID the merge request comes from a fork.
//   - CI_JOB_NAME, CI_JOB_URL, CI_COMMIT_SHA, CI_ENVIRONMENT_NAME: where
//     the run happens, for the report.
//   - SELF_HEAL_GITLAB_TOKEN: a project or personal access token with the
//     api scope, set by the user as a masked CI/CD variable
//     (https://docs.gitlab.com/ci/variables/#mask-a-cicd-variable).
//   - SELF_HEAL_DOTENV: the file the template declares as a dotenv report
//     (https://docs.gitlab.com/ci/yaml/artifacts_reports/#artifactsreportsdotenv).
//
// Limits of the platform: GitLab has no annotations and no job summary,
// so both go to the job log; it cannot mask a value learnt while the job
// runs (https://docs.gitlab.com/ci/variables/#mask-a-cicd-variable), so the
// adapter does not implement [ci.Masker]; and CI_JOB_TOKEN cannot write
// notes (https://docs.gitlab.com/ci/jobs/ci_job_token/), hence a token of
// its own. Without that token, or on a merge request from a fork, no note
// is written and the job log and the JSON report artifact carry the report.
package gitlab

import (
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/self-heal/self-heal/pkg/ci"
)

// The variables the adapter reads besides GitLab's predefined ones.
const (
	// TokenVariable names the CI/CD variable holding the token for notes.
	TokenVariable = "SELF_HEAL_GITLAB_TOKEN"
	// DotenvVariable names the variable holding the dotenv report's path.
	DotenvVariable = "SELF_HEAL_DOTENV"
)

// Platform is a GitLab CI job. Its methods are safe for concurrent use.
type Platform struct {
	env  env
	out  io.Writer
	hc   *http.Client
	log  *slog.Logger
	now  func() time.Time
	mu   sync.Mutex
	seen map[string]int // section names used so far
	// dotenvOpened is set once the dotenv file has been truncated.
	dotenvOpened bool
}

var (
	_ ci.Platform   = (*Platform)(nil)
	_ ci.Annotator  = (*Platform)(nil)
	_ ci.Summarizer = (*Platform)(nil)
	_ ci.Outputter  = (*Platform)(nil)
	_ ci.Commenter  = (*Platform)(nil)
)

// Option configures a [Platform] built by [New].
type Option func(*Platform)

// WithWriter sets where sections, the report and annotations are written:
// the job log, normally stderr. The default discards them.
func WithWriter(w io.Writer) Option { return func(p *Platform) { p.out = w } }

// WithHTTPClient sets the client for GitLab's API; the default is
// [http.DefaultClient].
func WithHTTPClient(c *http.Client) Option { return func(p *Platform) { p.hc = c } }

// WithLogger sets the logger for the adapter's internals; the default
// discards them.
func WithLogger(l *slog.Logger) Option { return func(p *Platform) { p.log = l } }

// WithClock sets the clock that stamps log sections; the default is
// [time.Now].
func WithClock(now func() time.Time) Option { return func(p *Platform) { p.now = now } }

// Detected reports whether getenv describes a GitLab CI job.
func Detected(getenv func(string) string) bool {
	return getenv("GITLAB_CI") == "true"
}

// New returns the platform of the job whose variables getenv returns. It
// reads every variable once, here.
func New(getenv func(string) string, opts ...Option) *Platform {
	p := &Platform{
		env:  readEnv(getenv),
		out:  io.Discard,
		hc:   http.DefaultClient,
		log:  slog.New(slog.DiscardHandler),
		now:  time.Now,
		seen: map[string]int{},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Info says where the job runs. A merge request from a fork is untrusted.
func (p *Platform) Info() ci.Info {
	e := p.env
	return ci.Info{
		Name:          "gitlab",
		Repository:    e.projectPath,
		ChangeRequest: e.mrIID,
		RunURL:        e.jobURL,
		Job:           e.jobName,
		Commit:        e.commit,
		Environment:   e.environment,
		Untrusted:     e.fork(),
	}
}

// String names the platform.
func (p *Platform) String() string { return "gitlab" }

// env holds the CI/CD variables the adapter uses, read once by [New].
type env struct {
	serverURL   string
	projectID   string
	projectPath string
	mrIID       string
	mrProject   string // the merge request's target project
	mrSource    string // the merge request's source project
	jobName     string
	jobURL      string
	commit      string
	environment string
	token       string
	dotenv      string
}

func readEnv(getenv func(string) string) env {
	return env{
		serverURL:   getenv("CI_SERVER_URL"),
		projectID:   getenv("CI_PROJECT_ID"),
		projectPath: getenv("CI_PROJECT_PATH"),
		mrIID:       getenv("CI_MERGE_REQUEST_IID"),
		mrProject:   getenv("CI_MERGE_REQUEST_PROJECT_ID"),
		mrSource:    getenv("CI_MERGE_REQUEST_SOURCE_PROJECT_ID"),
		jobName:     getenv("CI_JOB_NAME"),
		jobURL:      getenv("CI_JOB_URL"),
		commit:      getenv("CI_COMMIT_SHA"),
		environment: getenv("CI_ENVIRONMENT_NAME"),
		token:       getenv(TokenVariable),
		dotenv:      getenv(DotenvVariable),
	}
}

// fork reports whether the pipeline belongs to a merge request whose
// source or target project is not the one running the job. A pipeline
// run in the parent project for a fork's branch, and one run in the fork
// itself, both count.
func (e env) fork() bool {
	differs := func(id string) bool { return id != "" && id != e.projectID }
	return e.mrIID != "" && (differs(e.mrSource) || differs(e.mrProject))
}

// Package ci defines the Platform interface that every CI adapter
// implements, and the local platform used in a terminal.
//
// The core asks a platform where it runs and hands it what to show; it
// never reads CI variables itself. Optional capabilities (annotations,
// job summaries, step outputs, sticky comments, secret masks) are separate
// interfaces that the core detects with a type assertion.
package ci

import (
	"context"
	"errors"
	"io"
)

// ErrNoChangeRequest is returned by a [Commenter] when the run belongs to no
// pull or merge request, so there is nothing to comment on. Callers treat
// it as a normal case, not as a failure to report.
var ErrNoChangeRequest = errors.New("the run belongs to no pull or merge request")

// Info says where a run happens. Empty fields are unknown.
type Info struct {
	// Name is the platform: "github", "gitlab" or "local".
	Name       string
	Repository string
	// ChangeRequest is the pull or merge request number, if any.
	ChangeRequest string
	RunURL        string
	Job           string
	Commit        string
	// Environment is the deployment environment the CI names.
	Environment string
	// Untrusted is set for runs triggered from forks.
	Untrusted bool
}

// Platform is the minimum every CI adapter provides.
type Platform interface {
	Info() Info
	// StartGroup folds the log lines that follow under title until the
	// returned function is called.
	StartGroup(title string) (end func())
}

// Annotation is a message attached to the run (GitHub ::error).
type Annotation struct {
	Level   string // "error", "warning" or "notice"
	Title   string
	Message string
}

// Annotator can attach annotations to the run.
type Annotator interface {
	Annotate(a Annotation) error
}

// Summarizer can publish a Markdown job summary.
type Summarizer interface {
	Summary(markdown string) error
}

// Outputter can set step outputs.
type Outputter interface {
	SetOutput(name, value string) error
}

// Masker can hide secret values in the job log.
type Masker interface {
	Mask(secret string)
}

// Commenter keeps one sticky comment per key on the change request,
// created the first time and edited in place afterwards.
//
// Implementations mark the comment with a hidden marker derived from key
// (report.Marker) and find the earlier comment again by that marker, so
// re-runs and later pushes update one comment instead of adding new ones.
// Comment returns [ErrNoChangeRequest] when the run has no pull or merge
// request; any other error means the comment could not be written (no
// token, a fork's token, a refusal by the API).
type Commenter interface {
	Comment(ctx context.Context, key, markdown string) error
}

// Local is the platform of a plain terminal: groups are a heading line.
type Local struct {
	// W receives group headings; nil discards them.
	W io.Writer
}

var _ Platform = Local{}

// Info reports a local run.
func (Local) Info() Info { return Info{Name: "local"} }

// StartGroup prints nothing: the engine's attempt line is heading enough.
func (l Local) StartGroup(string) func() { return func() {} }

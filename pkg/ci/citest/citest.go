// Package citest holds an in-memory CI platform for tests: it records
// what the core shows on it (groups, annotations, summaries, outputs,
// masks, sticky comments) and can be told to fail.
package citest

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/self-heal/self-heal/pkg/ci"
)

// Platform records everything handed to it. Set the Err fields to make a
// capability fail. It is safe for concurrent use.
type Platform struct {
	// Where is returned by Info.
	Where ci.Info

	// Errors returned by the capabilities; nil succeeds.
	AnnotateErr, SummaryErr, OutputErr, CommentErr error

	mu          sync.Mutex
	groups      []string
	annotations []ci.Annotation
	summaries   []string
	outputs     map[string]string
	masks       []string
	comments    map[string]string
}

var (
	_ ci.Platform   = (*Platform)(nil)
	_ ci.Annotator  = (*Platform)(nil)
	_ ci.Summarizer = (*Platform)(nil)
	_ ci.Outputter  = (*Platform)(nil)
	_ ci.Masker     = (*Platform)(nil)
	_ ci.Commenter  = (*Platform)(nil)
)

// Info returns p.Where.
func (p *Platform) Info() ci.Info { return p.Where }

// StartGroup records the group's title.
func (p *Platform) StartGroup(title string) func() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.groups = append(p.groups, title)
	return func() {}
}

// Annotate records a, or returns AnnotateErr.
func (p *Platform) Annotate(a ci.Annotation) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.AnnotateErr != nil {
		return p.AnnotateErr
	}
	p.annotations = append(p.annotations, a)
	return nil
}

// Summary records markdown, or returns SummaryErr.
func (p *Platform) Summary(markdown string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.SummaryErr != nil {
		return p.SummaryErr
	}
	p.summaries = append(p.summaries, markdown)
	return nil
}

// SetOutput records the output, or returns OutputErr.
func (p *Platform) SetOutput(name, value string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.OutputErr != nil {
		return p.OutputErr
	}
	if p.outputs == nil {
		p.outputs = map[string]string{}
	}
	p.outputs[name] = value
	return nil
}

// Mask records the secret.
func (p *Platform) Mask(secret string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.masks = append(p.masks, secret)
}

// Comment stores markdown as the comment for key, replacing an earlier
// one, or returns CommentErr.
func (p *Platform) Comment(_ context.Context, key, markdown string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.CommentErr != nil {
		return p.CommentErr
	}
	if p.comments == nil {
		p.comments = map[string]string{}
	}
	p.comments[key] = markdown
	return nil
}

// Groups returns the titles of the groups started.
func (p *Platform) Groups() []string {
	return lock(p, func() []string { return slices.Clone(p.groups) })
}

// Annotations returns the annotations recorded.
func (p *Platform) Annotations() []ci.Annotation {
	return lock(p, func() []ci.Annotation { return slices.Clone(p.annotations) })
}

// Summaries returns the job summaries written.
func (p *Platform) Summaries() []string {
	return lock(p, func() []string { return slices.Clone(p.summaries) })
}

// Outputs returns the step outputs set.
func (p *Platform) Outputs() map[string]string {
	return lock(p, func() map[string]string { return maps.Clone(p.outputs) })
}

// Masks returns the secrets masked.
func (p *Platform) Masks() []string {
	return lock(p, func() []string { return slices.Clone(p.masks) })
}

// Comments returns the sticky comments by key.
func (p *Platform) Comments() map[string]string {
	return lock(p, func() map[string]string { return maps.Clone(p.comments) })
}

func lock[T any](p *Platform, fn func() T) T {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fn()
}

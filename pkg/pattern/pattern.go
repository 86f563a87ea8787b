// Package pattern reads pattern files, validates them with positions
// (file:line:col) for every problem, and compiles them into a [Matcher] that
// recognises a failure in a step's normalised output.
//
// A pattern says when it applies (tools, goals, stacks), what text proves
// the failure (match any/all/none), what to capture for the fixers, which
// fixes to run and how to retry. The package does not run fixers and does
// not read logs; it matches text handed to it.
package pattern

import (
	"fmt"
	"io/fs"
	"regexp"
	"time"
)

// Categories lists the category names a pattern may carry.
var Categories = []string{"state", "aws", "kubernetes", "auth", "timing", "recovery"}

// Tools lists the tool names the scope of a pattern may name.
var Tools = []string{
	"terraform", "terragrunt", "tofu", "aws", "kubectl", "helm", "eksctl", "docker",
}

// Pattern is one recognised class of failure and what to do about it.
type Pattern struct {
	ID       string
	Title    string
	Category string
	Hint     string
	Priority int
	When     Scope
	Match    Match
	Capture  []Capture
	Fixes    []Fix
	Retry    Retry
	Examples Examples
	// Disabled turns off a pattern of the same id from an earlier source.
	Disabled bool

	// Pos is where the pattern's entry starts; Pos.File names its source.
	Pos Position
	// Builtin is set for patterns embedded in the binary.
	Builtin bool
	// Replaces names the source of a built-in this pattern overrides.
	Replaces string
	// Hash identifies the definition, so the ledger can tell edits apart.
	Hash string

	order int
}

// Source names where the pattern came from: "builtin:<file>" or a path.
func (p *Pattern) Source() string {
	if p.Builtin {
		return "builtin:" + p.Pos.File
	}
	return p.Pos.File
}

// Scope limits a pattern to some commands. Empty lists mean any.
type Scope struct {
	Tools  []string `json:"tools,omitempty" yaml:"tools,omitempty"`
	Goals  []string `json:"goals,omitempty" yaml:"goals,omitempty"`
	Stacks []string `json:"stacks,omitempty" yaml:"stacks,omitempty"`
	// ToolsPos holds where each of Tools was written, when it was read
	// from a file.
	ToolsPos []Position `json:"-" yaml:"-"`
}

// Match is the evidence a failure must show: at least one of Any (when Any
// is not empty), every one of All, and none of None.
type Match struct {
	Any  []Cond
	All  []Cond
	None []Cond
}

// Cond is one piece of evidence: a literal or a regular expression.
type Cond struct {
	// Literal is matched case-insensitively; a space in it matches any
	// run of white space, line breaks included.
	Literal string
	// Regex is an RE2 expression run on the normalised text.
	Regex string
	Pos   Position

	lit   string   // normalised literal
	words []string // the literal's folded words
	key   int      // index of the word the prefilter searches for
	keyed bool     // the condition cannot hold where its keys are absent
	idx   int32    // position in the matcher's list of conditions
	re    *regexp.Regexp
}

// String shows the condition as written.
func (c Cond) String() string {
	if c.Regex != "" {
		return "regex:" + c.Regex
	}
	return c.Literal
}

// Capture extracts one value for the fixers from the failure text.
type Capture struct {
	Name  string
	Regex string
	Pos   Position
	re    *regexp.Regexp
}

// Fix is one fixer to run, with its parameters.
type Fix struct {
	// Use is the fixer's dotted name after alias resolution.
	Use string
	// As is the name the file used, when it was an alias.
	As   string
	With map[string]string
	Pos  Position
	// WithPos holds where each key of With was written.
	WithPos map[string]Position
	// RetryOnly is set when the fixer only re-runs the step.
	RetryOnly bool
	// Needs lists the fixer's required inputs that have no default and
	// that With does not set: a capture of the pattern must supply them.
	Needs []string
}

// Retry is a pattern's back-off policy.
type Retry struct {
	Attempts int
	Initial  time.Duration
	Max      time.Duration
	Jitter   float64
	Budget   time.Duration
}

// DefaultRetry is the back-off used when a pattern sets none.
var DefaultRetry = Retry{
	Attempts: 3,
	Initial:  5 * time.Second,
	Max:      2 * time.Minute,
	Jitter:   0.2,
	Budget:   20 * time.Minute,
}

// Examples name log files that must and must not match the pattern.
type Examples struct {
	Match   []string
	NoMatch []string
	// Dir is the directory the globs are relative to.
	Dir string
	// FS holds the files for built-in patterns; nil means the disk.
	FS fs.FS
}

// Decision is what the engine should do about a recognised failure.
type Decision int

// The decisions a pattern can lead to.
const (
	// GiveUp: the failure is known but nothing automatic helps; report
	// the hint.
	GiveUp Decision = iota
	// Retry: re-run the step after a back-off, changing nothing.
	RetryStep
	// FixThenRetry: run the fixes, then re-run the step.
	FixThenRetry
)

// String names the decision for logs and reports.
func (d Decision) String() string {
	switch d {
	case GiveUp:
		return "give up"
	case RetryStep:
		return "retry"
	case FixThenRetry:
		return "fix then retry"
	}
	return fmt.Sprintf("decision(%d)", int(d))
}

// Decision says whether the pattern's fixes change anything or only retry.
func (p *Pattern) Decision() Decision {
	if len(p.Fixes) == 0 || p.Retry.Attempts == 0 {
		return GiveUp
	}
	for _, f := range p.Fixes {
		if !f.RetryOnly {
			return FixThenRetry
		}
	}
	return RetryStep
}

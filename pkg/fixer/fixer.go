// Package fixer defines the contract every fixer implements and the registry
// that maps dotted names (and their legacy aliases) to fixers.
//
// A fixer is a small piece of Go that repairs one kind of failure with the
// job's own credentials. It never decides whether it may run: that is the
// policy's job. It only inspects live state ([Fixer.Check]) and, when asked,
// changes it ([Fixer.Apply]).
package fixer

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// Safety is how much harm a fixer can do when it is wrong.
type Safety int

// The safety classes, from least to most harmful.
const (
	// Safe fixers wait, re-initialise or refresh credentials.
	Safe Safety = iota
	// Disruptive fixers change shared state: force-unlock, rollback,
	// finalizer removal.
	Disruptive
	// Destructive fixers delete cloud resources or objects.
	Destructive
)

// String returns the lower-case name used in pattern files and reports.
func (s Safety) String() string {
	switch s {
	case Safe:
		return "safe"
	case Disruptive:
		return "disruptive"
	case Destructive:
		return "destructive"
	}
	return fmt.Sprintf("safety(%d)", int(s))
}

// ParseSafety converts a class name back to a [Safety].
func ParseSafety(s string) (Safety, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "safe":
		return Safe, nil
	case "disruptive":
		return Disruptive, nil
	case "destructive":
		return Destructive, nil
	}
	return 0, fmt.Errorf("unknown safety class %q (want safe, disruptive or destructive)", s)
}

// MarshalText encodes the class by name.
func (s Safety) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Verdict is what a fixer's Check concludes.
type Verdict int

// The verdicts a [Plan] can carry.
const (
	// Act means the evidence is there and Apply would change something.
	Act Verdict = iota
	// Wait means acting now would be wrong but the failure may clear by
	// itself (a live lock holder): back off and re-run without acting.
	Wait
	// Refuse means the fixer must not act on this failure at all.
	Refuse
	// Nothing means live state already looks healthy; there is nothing
	// to change (a second run of an idempotent fix).
	Nothing
)

// String returns the verdict's lower-case name.
func (v Verdict) String() string {
	switch v {
	case Act:
		return "act"
	case Wait:
		return "wait"
	case Refuse:
		return "refuse"
	case Nothing:
		return "nothing"
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// MarshalText encodes the verdict by name.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// Plan is the outcome of [Fixer.Check]: what Apply would do, and why.
type Plan struct {
	Verdict Verdict
	// Action says in words what Apply would change, or why it will not.
	Action string
	// Evidence lists the live facts the verdict rests on, each a short
	// sentence a reviewer can verify.
	Evidence []string
}

// Result is what [Fixer.Apply] did.
type Result struct {
	// Changed lists every change in words a reviewer can audit
	// ("deleted ENI eni-0abc in vpc-0123"). Empty means nothing changed.
	Changed []string
	// Backups lists files written before the change (state backups).
	Backups []string
	// Notes are facts worth showing that are not changes, such as "lock
	// X was already released".
	Notes []string
	// Env holds variables the next attempt of the step must see, such as
	// refreshed credentials.
	Env map[string]string
	// Secrets are values learnt during the fix that must be masked.
	Secrets []string
	// Settled reports that the fix waited until what the failure was
	// waiting for holds, so the re-run needs no back-off of its own.
	Settled bool
}

// Step describes the wrapped command a fixer works for.
type Step struct {
	// Dir is the working directory of the step.
	Dir string
	// Args is the command line, Args[0] being the program.
	Args []string
	// Tool, Goal and Stack classify the command (terraform, apply, a path).
	Tool, Goal, Stack string
	// Env is the step's environment in os.Environ form.
	Env []string
	// ArtifactDir is where backups and reports are written.
	ArtifactDir string
	// Environment is the deployment environment name (production, dev).
	Environment string
}

// Getenv looks a variable up in the step's environment.
func (s Step) Getenv(key string) string {
	prefix := key + "="
	for i := len(s.Env) - 1; i >= 0; i-- {
		if strings.HasPrefix(s.Env[i], prefix) {
			return s.Env[i][len(prefix):]
		}
	}
	return ""
}

// Input describes one value a fixer reads, from a capture or from the
// pattern's `with:` block.
type Input struct {
	Name     string
	Type     InputType
	Required bool
	Default  string
	Doc      string
}

// InputType is the type an input's text must parse as.
type InputType string

// The input types a pattern file can supply.
const (
	String   InputType = "string"
	Duration InputType = "duration"
	Bool     InputType = "bool"
	Int      InputType = "int"
)

// Request is everything a fixer gets for one failure.
type Request struct {
	// Values holds the pattern's captures overlaid with its `with:`
	// parameters, all as text; use the typed getters on [Values].
	Values Values
	// Step is the command being healed.
	Step Step
	// Failure is the normalised failure window the pattern matched.
	Failure string
	// Log receives progress lines; it is never nil when the engine calls.
	Log *slog.Logger
	// DryRun is set when Apply will not be called; Check must not
	// change anything in either case.
	DryRun bool
}

// Fixer repairs one kind of failure.
//
// Implementations must be safe for concurrent use and idempotent: a second
// Apply after a successful one changes nothing and says so.
type Fixer interface {
	// Name is the dotted registry name, such as "terraform.force-unlock".
	Name() string
	// Safety is the fixer's class; the policy decides on it.
	Safety() Safety
	// Describe is one line for `self-heal fixers`.
	Describe() string
	// Inputs lists the values the fixer reads.
	Inputs() []Input
	// Check reads live state and says what Apply would do. It changes
	// nothing.
	Check(ctx context.Context, req Request) (Plan, error)
	// Apply makes the change and reports it.
	Apply(ctx context.Context, req Request) (Result, error)
}

// Retrier is implemented by fixers whose only effect is to have the step
// run again (waits). The engine exempts them from the "changed nothing"
// rule, since changing nothing is their nature.
type Retrier interface {
	RetryOnly() bool
}

// Backupper is implemented by disruptive fixers that can save what they
// are about to change. The policy may require a successful backup before
// Apply in production.
type Backupper interface {
	Backup(ctx context.Context, req Request) (path string, err error)
}

// Watcher is implemented by fixers that keep evidence while the step runs,
// such as a heartbeat beside the terraform state that tells other runs the
// lock holder is alive. The engine calls Watch just before each execution
// of the step, for every registered fixer that implements it, and calls
// the returned stop as soon as that execution ends.
//
// Watch must return quickly and must not fail the step: problems are the
// watcher's to log. stop may be nil; when not, it cleans up what Watch
// started and returns once that is done. ctx ends when the run ends.
type Watcher interface {
	Watch(ctx context.Context, step Step) (stop func())
}

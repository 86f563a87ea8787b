// Package ledger keeps one record of every `self-heal run`: where it ran,
// what failed, which pattern recognised it, which fixes ran and with what
// result, and how long the step took to turn green. It stores records in
// a local directory or under an S3 prefix, one file or object per run,
// reads them back for `stats` and `suggest`, and can send each run's
// numbers as OpenTelemetry metrics.
//
// A record is built from the run's [report.Run] by [FromRun], which
// passes every free text (the command, failure windows, what fixes
// changed) through the caller's redactor. Reading never fails on one bad
// record: it is reported as a [Problem] and skipped.
//
// The package does not compute statistics; see [Stats].
package ledger

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/self-heal/self-heal/pkg/ci"
	"github.com/self-heal/self-heal/pkg/report"
)

// SchemaVersion is the version of the record format this package writes.
// Readers accept records of this version and older ones.
const SchemaVersion = 1

// MaxWindow bounds the failure window a record keeps for an unknown
// failure, in bytes; longer windows keep their head and tail.
const MaxWindow = 16 << 10

// Record is one `self-heal run`.
type Record struct {
	Schema int    `json:"schema"`
	ID     string `json:"id"`
	// Time is when the run started, in UTC.
	Time time.Time `json:"time"`

	Repository    string `json:"repository,omitempty"`
	CI            string `json:"ci,omitempty"`
	Job           string `json:"job,omitempty"`
	RunURL        string `json:"run_url,omitempty"`
	Commit        string `json:"commit,omitempty"`
	ChangeRequest string `json:"change_request,omitempty"`
	Environment   string `json:"environment,omitempty"`

	Stack   string `json:"stack,omitempty"`
	Tool    string `json:"tool,omitempty"`
	Goal    string `json:"goal,omitempty"`
	Command string `json:"command"`
	DryRun  bool   `json:"dry_run,omitempty"`

	Outcome    report.Outcome `json:"outcome"`
	StopReason string         `json:"stop_reason,omitempty"`
	ExitCode   int            `json:"exit_code"`
	DurationMS int64          `json:"duration_ms"`
	// TimeToGreenMS is the time from the first failure to the passing
	// attempt, for healed runs.
	TimeToGreenMS int64 `json:"time_to_green_ms,omitempty"`

	Attempts []Attempt `json:"attempts"`
}

// Attempt is one execution of the step and what followed it.
type Attempt struct {
	Number     int   `json:"n"`
	ExitCode   int   `json:"exit_code"`
	DurationMS int64 `json:"duration_ms"`
	// Fingerprint identifies the failure across attempts and runs.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Pattern is the id of the pattern that recognised the failure;
	// empty for an unknown failure or a passing attempt.
	Pattern string `json:"pattern,omitempty"`
	// PatternHash identifies the pattern's definition, so that edits
	// can be told apart.
	PatternHash string `json:"pattern_hash,omitempty"`
	Fixes       []Fix  `json:"fixes,omitempty"`
	// Window is the redacted, normalised failure window of an unknown
	// failure, at most [MaxWindow] bytes, for `suggest`.
	Window string `json:"window,omitempty"`
}

// Fix outcomes.
const (
	FixApplied = "applied"
	FixRefused = "refused"
	FixFailed  = "failed"
	// FixPlanned: checked but not applied (a wait, nothing to do, or a
	// dry run).
	FixPlanned = "planned"
)

// Fix is one fixer's part in an attempt.
type Fix struct {
	Fixer   string `json:"fixer"`
	Safety  string `json:"safety,omitempty"`
	Outcome string `json:"outcome"`
	// Rule names the policy rule or check behind a refusal.
	Rule string `json:"rule,omitempty"`
	// Reason says why the fix was refused or failed.
	Reason     string   `json:"reason,omitempty"`
	Changed    []string `json:"changed,omitempty"`
	DurationMS int64    `json:"duration_ms,omitempty"`
}

// Unknown reports whether the attempt failed and no pattern recognised it.
func (a *Attempt) Unknown() bool { return a.ExitCode != 0 && a.Pattern == "" }

// Patterns returns the ids of the patterns that recognised a failure of
// the run, in order of first match.
func (r *Record) Patterns() []string {
	var out []string
	for _, a := range r.Attempts {
		if a.Pattern != "" && !containsString(out, a.Pattern) {
			out = append(out, a.Pattern)
		}
	}
	return out
}

// Failed reports whether the step failed at least once.
func (r *Record) Failed() bool {
	return len(r.Attempts) > 0 && r.Attempts[0].ExitCode != 0
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// FromRun builds the record of a run. info says where it ran; redact is
// applied to the command, failure windows, fix reasons and what fixes
// changed (nil leaves them as they are).
func FromRun(run *report.Run, info ci.Info, redact func(string) string) *Record {
	if redact == nil {
		redact = func(s string) string { return s }
	}
	started := run.Started.UTC()
	r := &Record{
		Schema: SchemaVersion, ID: NewID(started), Time: started,
		Repository: info.Repository, CI: info.Name, Job: info.Job, RunURL: info.RunURL,
		Commit: info.Commit, ChangeRequest: info.ChangeRequest, Environment: run.Environment,
		Stack: run.Stack, Tool: run.Tool, Goal: run.Goal,
		Command: redact(strings.Join(run.Command, " ")), DryRun: run.DryRun,
		Outcome: run.Outcome, StopReason: run.StopReason, ExitCode: run.ExitCode,
		DurationMS: ms(run.Duration), TimeToGreenMS: ms(run.TimeToGreen),
	}
	if r.Environment == "" {
		r.Environment = info.Environment
	}
	for _, a := range run.Attempts {
		r.Attempts = append(r.Attempts, attemptOf(a, redact))
	}
	return r
}

func attemptOf(a report.Attempt, redact func(string) string) Attempt {
	out := Attempt{
		Number: a.Number, ExitCode: a.ExitCode, DurationMS: ms(a.Duration),
		Fingerprint: a.Fingerprint,
	}
	if a.Match != nil {
		out.Pattern, out.PatternHash = a.Match.ID, a.Match.Hash
	} else if a.ExitCode != 0 {
		out.Window = BoundWindow(redact(a.Excerpt), MaxWindow)
	}
	for _, f := range a.Fixes {
		out.Fixes = append(out.Fixes, fixOf(f, redact))
	}
	return out
}

func fixOf(f report.Fix, redact func(string) string) Fix {
	out := Fix{Fixer: f.Fixer, Safety: f.Safety, Rule: f.Rule, DurationMS: ms(f.Elapsed)}
	switch {
	case f.Error != "":
		out.Outcome, out.Reason = FixFailed, redact(f.Error)
	case f.Refused != "":
		out.Outcome, out.Reason = FixRefused, redact(f.Refused)
	case f.Applied:
		out.Outcome = FixApplied
	default:
		out.Outcome = FixPlanned
	}
	for _, c := range f.Changed {
		out.Changed = append(out.Changed, redact(c))
	}
	return out
}

func ms(d report.Duration) int64 { return time.Duration(d).Milliseconds() }

// BoundWindow cuts a failure window to at most limit bytes on line
// boundaries, keeping its first quarter and its last lines, with a line
// saying how many were left out.
func BoundWindow(w string, limit int) string {
	if len(w) <= limit {
		return w
	}
	lines := strings.Split(w, "\n")
	headBudget, tailBudget := limit/4, limit-limit/4-64
	var head, tail []string
	used := 0
	for _, l := range lines {
		if used+len(l)+1 > headBudget {
			break
		}
		head = append(head, l)
		used += len(l) + 1
	}
	used = 0
	for i := len(lines) - 1; i >= len(head); i-- {
		if used+len(lines[i])+1 > tailBudget {
			break
		}
		tail = append([]string{lines[i]}, tail...)
		used += len(lines[i]) + 1
	}
	omitted := len(lines) - len(head) - len(tail)
	marker := "[... " + strconv.Itoa(omitted) + " lines omitted ...]"
	return strings.Join(append(append(head, marker), tail...), "\n")
}

// OmittedMarker reports whether a window line is the mark [BoundWindow]
// leaves where it cut lines out.
func OmittedMarker(line string) bool {
	return strings.HasPrefix(line, "[... ") && strings.HasSuffix(line, " lines omitted ...]")
}

// NewID returns a record id that sorts by time and is unique across
// concurrent jobs: the UTC time to the millisecond and 8 random bytes.
func NewID(t time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b[:])
}

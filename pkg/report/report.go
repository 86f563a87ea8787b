// Package report holds the model of one self-heal run and renders it for
// people (terminal, Markdown) and for programs (JSON).
//
// The model is filled in by the heal engine; renderers never compute facts
// of their own, so every output says the same thing. Renderers do not
// redact: callers pass text through pkg/redact before it leaves the job.
package report

import "time"

// Outcome is how a run ended.
type Outcome string

// The outcomes a run can have.
const (
	// Succeeded: the step passed on its first attempt.
	Succeeded Outcome = "succeeded"
	// Healed: the step failed, self-heal acted, and a later attempt passed.
	Healed Outcome = "healed"
	// Failed: the step still fails (unknown failure, fixes did not help,
	// budget spent).
	Failed Outcome = "failed"
	// Refused: a fix was needed but the policy or the fixer's own live
	// check refused it.
	Refused Outcome = "refused"
	// Planned: a dry run that matched and checked but changed nothing.
	Planned Outcome = "planned"
	// Cancelled: a signal stopped the run.
	Cancelled Outcome = "cancelled"
)

// Run is the whole record of one `self-heal run` or `explain`.
type Run struct {
	Command     []string  `json:"command"`
	Dir         string    `json:"dir,omitempty"`
	Tool        string    `json:"tool,omitempty"`
	Goal        string    `json:"goal,omitempty"`
	Stack       string    `json:"stack,omitempty"`
	Environment string    `json:"environment,omitempty"`
	DryRun      bool      `json:"dry_run,omitempty"`
	Started     time.Time `json:"started"`
	Duration    Duration  `json:"duration"`
	Outcome     Outcome   `json:"outcome"`
	// StopReason says why the loop stopped when it did not end green:
	// attempts exhausted, deadline, cancelled, not retryable, refused.
	StopReason string    `json:"stop_reason,omitempty"`
	ExitCode   int       `json:"exit_code"`
	Attempts   []Attempt `json:"attempts"`
	// TimeToGreen is the time from the first failure to the passing
	// attempt; zero unless the run healed.
	TimeToGreen Duration `json:"time_to_green,omitempty"`
	// Warnings are problems of self-heal itself that did not stop the
	// run (a report that could not be written, an overridden built-in).
	Warnings []string `json:"warnings,omitempty"`
	// Secrets are values learnt during the run (refreshed credentials)
	// that every renderer's caller must mask. They are never encoded.
	Secrets []string `json:"-"`
}

// Attempt is one execution of the step and what followed it.
type Attempt struct {
	Number   int       `json:"number"`
	Started  time.Time `json:"started"`
	Duration Duration  `json:"duration"`
	ExitCode int       `json:"exit_code"`
	// Signal names the signal that ended the step, if any.
	Signal string `json:"signal,omitempty"`
	// Fingerprint identifies the failure across attempts and runs.
	Fingerprint string `json:"fingerprint,omitempty"`
	Match       *Match `json:"match,omitempty"`
	Fixes       []Fix  `json:"fixes,omitempty"`
	// Wait is the back-off slept before the next attempt.
	Wait Duration `json:"wait,omitempty"`
	// Excerpt is the normalised failure window, for the collapsed part of
	// a comment and for suggest.
	Excerpt string `json:"excerpt,omitempty"`
}

// Match describes the pattern that recognised a failure.
type Match struct {
	ID       string            `json:"id"`
	Title    string            `json:"title"`
	Category string            `json:"category"`
	Hint     string            `json:"hint,omitempty"`
	Source   string            `json:"source"`
	Hash     string            `json:"hash,omitempty"`
	Captures map[string]string `json:"captures"`
	// Lines are the window's line numbers (1-based) where the match held.
	Lines []int `json:"lines"`
	// AlsoMatched lists other patterns whose match also held.
	AlsoMatched []string `json:"also_matched"`
}

// Fix is one fixer's part in an attempt: its plan, the policy's decision
// and, when applied, what changed.
type Fix struct {
	Fixer    string   `json:"fixer"`
	Safety   string   `json:"safety"`
	Verdict  string   `json:"verdict"`
	Action   string   `json:"action"`
	Evidence []string `json:"evidence,omitempty"`
	// Refused says why the fix did not run (policy or live check); empty
	// when it ran or would run.
	Refused string `json:"refused,omitempty"`
	// Rule names the policy rule behind a refusal, with its source.
	Rule    string   `json:"rule,omitempty"`
	Applied bool     `json:"applied"`
	Changed []string `json:"changed,omitempty"`
	Notes   []string `json:"notes,omitempty"`
	Backups []string `json:"backups,omitempty"`
	Error   string   `json:"error,omitempty"`
	Elapsed Duration `json:"duration,omitempty"`
}

// Duration is a time.Duration that encodes as a Go duration string in JSON
// and as whole milliseconds nowhere: reports are read by people too.
type Duration time.Duration

// MarshalText encodes the duration as "1.5s".
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).Round(time.Millisecond).String()), nil
}

// UnmarshalText parses what MarshalText wrote.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// String formats the duration like time.Duration, to the millisecond.
func (d Duration) String() string { return time.Duration(d).Round(time.Millisecond).String() }

// LastMatch returns the match of the latest attempt that had one.
func (r *Run) LastMatch() *Match {
	for i := len(r.Attempts) - 1; i >= 0; i-- {
		if m := r.Attempts[i].Match; m != nil {
			return m
		}
	}
	return nil
}

// AppliedFixes returns every fix that ran, in order.
func (r *Run) AppliedFixes() []Fix {
	var out []Fix
	for _, a := range r.Attempts {
		for _, f := range a.Fixes {
			if f.Applied {
				out = append(out, f)
			}
		}
	}
	return out
}

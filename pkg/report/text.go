package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON encodes the run as indented JSON.
func WriteJSON(w io.Writer, r *Run) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the short summary shown at the end of a run: outcome,
// attempts, the pattern, and every fix with what it changed.
func WriteText(w io.Writer, r *Run) error {
	var b strings.Builder
	fmt.Fprintf(&b, "self-heal: %s after %d attempt%s in %s", r.Outcome, len(r.Attempts),
		plural(len(r.Attempts)), r.Duration)
	if r.StopReason != "" {
		fmt.Fprintf(&b, " (%s)", r.StopReason)
	}
	b.WriteString("\n")
	if m := r.LastMatch(); m != nil {
		fmt.Fprintf(&b, "  pattern:  %s (%s) from %s\n", m.ID, m.Title, m.Source)
		if m.Hint != "" {
			fmt.Fprintf(&b, "  hint:     %s\n", m.Hint)
		}
	}
	for _, a := range r.Attempts {
		for _, f := range a.Fixes {
			writeFixText(&b, a.Number, f)
		}
	}
	if r.Outcome == Healed {
		fmt.Fprintf(&b, "  healed:   green %s after the first failure\n", r.TimeToGreen)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "  warning:  %s\n", warn)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeFixText(b *strings.Builder, attempt int, f Fix) {
	state := f.Verdict
	switch {
	case f.Error != "":
		state = "failed: " + f.Error
	case f.Refused != "":
		state = "refused: " + f.Refused
	case f.Applied:
		state = "applied"
	}
	fmt.Fprintf(b, "  fix:      %s [%s] after attempt %d: %s\n", f.Fixer, f.Safety, attempt, state)
	if f.Action != "" && f.Refused != f.Action {
		fmt.Fprintf(b, "            plan: %s\n", f.Action)
	}
	for _, e := range f.Evidence {
		fmt.Fprintf(b, "            evidence: %s\n", e)
	}
	for _, c := range f.Changed {
		fmt.Fprintf(b, "            changed: %s\n", c)
	}
	for _, n := range f.Notes {
		fmt.Fprintf(b, "            note: %s\n", n)
	}
	for _, bk := range f.Backups {
		fmt.Fprintf(b, "            backup: %s\n", bk)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

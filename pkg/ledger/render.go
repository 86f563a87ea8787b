package ledger

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes the summary as indented JSON.
func WriteJSON(w io.Writer, s Summary) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("write stats: %w", err)
	}
	return nil
}

// WriteText writes the summary as plain tables for a terminal.
func WriteText(w io.Writer, s Summary) error {
	var b strings.Builder
	b.WriteString(headline(s) + "\n")
	if never := neverGreen(s.Patterns); len(never) > 0 {
		b.WriteString("\nPatterns that matched but never led to green (they may hide real failures):\n")
		for _, r := range never {
			fmt.Fprintf(&b, "  %s: %d runs%s\n", r.Name, r.Runs, refusalNote(r.Refusals))
		}
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nWEEK OF\tFAILED RUNS\tHEALED AUTOMATICALLY\tSTILL NEEDED A PERSON\tHOURS SAVED")
	for _, wk := range s.Weeks {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", day(wk.Start), wk.Failed, wk.Healed, wk.NeedPerson,
			num(wk.HoursSaved))
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%s\n", s.Totals.Failed, s.Totals.Healed, s.NeedPerson,
		num(s.HoursSaved))
	writeRowsText(tw, "PATTERN", s.Patterns)
	writeRowsText(tw, "FIXER", s.Fixers)
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeRowsText(tw io.Writer, title string, rows []Row) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(tw, "\n%s\tRUNS\tHEALS\tSUCCESS\tMEDIAN TO HEAL\tP90 TO HEAL\tREFUSALS\n", title)
	for _, r := range rows {
		name := r.Name
		if r.NeverGreen {
			name += " (!)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\n", name, r.Runs, r.Heals, percent(r.SuccessRate),
			duration(r.MedianTimeToHeal, r.Heals), duration(r.P90TimeToHeal, r.Heals),
			refusalList(r.Refusals, "-"))
	}
}

// WriteMarkdown writes the summary as GitHub- and GitLab-flavoured
// Markdown with Mermaid charts, for a job summary or an issue.
func WriteMarkdown(w io.Writer, s Summary) error {
	var b strings.Builder
	b.WriteString("## self-heal stats\n\n" + headline(s) + "\n")
	if never := neverGreen(s.Patterns); len(never) > 0 {
		b.WriteString("\n> [!WARNING]\n> Patterns that matched but never led to a green run " +
			"(they may be hiding real failures):\n")
		for _, r := range never {
			fmt.Fprintf(&b, "> - `%s`: %d runs%s\n", r.Name, r.Runs, refusalNote(r.Refusals))
		}
	}
	b.WriteString("\n### Week by week\n\n")
	b.WriteString("| Week of | Failed runs | Healed automatically | Still needed a person | Hours saved |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: |\n")
	for _, wk := range s.Weeks {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %s |\n", day(wk.Start), wk.Failed, wk.Healed,
			wk.NeedPerson, num(wk.HoursSaved))
	}
	fmt.Fprintf(&b, "| **Total** | **%d** | **%d** | **%d** | **%s** |\n", s.Totals.Failed,
		s.Totals.Healed, s.NeedPerson, num(s.HoursSaved))
	if len(s.Weeks) > 0 {
		b.WriteString("\n" + weekChart(s.Weeks))
	}
	writeRowsMarkdown(&b, "Patterns", "Pattern", s.Patterns)
	if len(s.Patterns) > 0 {
		b.WriteString("\n" + rateChart(s.Patterns))
	}
	writeRowsMarkdown(&b, "Fixers", "Fixer", s.Fixers)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeRowsMarkdown(b *strings.Builder, title, col string, rows []Row) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### %s\n\n", title)
	fmt.Fprintf(b, "| %s | Runs | Heals | Success rate | Median time to heal | p90 time to heal | Refusals |\n",
		col)
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for _, r := range rows {
		name := "`" + r.Name + "`"
		if r.NeverGreen {
			name += " :warning:"
		}
		fmt.Fprintf(b, "| %s | %d | %d | %s | %s | %s | %s |\n", name, r.Runs, r.Heals,
			percent(r.SuccessRate), duration(r.MedianTimeToHeal, r.Heals),
			duration(r.P90TimeToHeal, r.Heals), refusalList(r.Refusals, ""))
	}
}

// weekChart is a Mermaid bar chart of failed and healed runs per week.
func weekChart(weeks []Week) string {
	labels, failed, healed := make([]string, len(weeks)), make([]string, len(weeks)),
		make([]string, len(weeks))
	for i, wk := range weeks {
		labels[i] = strconv.Quote(day(wk.Start))
		failed[i] = strconv.Itoa(wk.Failed)
		healed[i] = strconv.Itoa(wk.Healed)
	}
	return "```mermaid\nxychart-beta\n" +
		"    title \"Failed runs and heals per week\"\n" +
		"    x-axis [" + strings.Join(labels, ", ") + "]\n" +
		"    y-axis \"Runs\"\n" +
		"    bar [" + strings.Join(failed, ", ") + "]\n" +
		"    bar [" + strings.Join(healed, ", ") + "]\n```\n"
}

// rateChart is a Mermaid bar chart of each pattern's success rate.
func rateChart(rows []Row) string {
	labels, rates := make([]string, len(rows)), make([]string, len(rows))
	for i, r := range rows {
		labels[i] = strconv.Quote(r.Name)
		rates[i] = num(r.SuccessRate * 100)
	}
	return "```mermaid\nxychart-beta\n" +
		"    title \"Success rate per pattern (%)\"\n" +
		"    x-axis [" + strings.Join(labels, ", ") + "]\n" +
		"    y-axis \"Success rate (%)\" 0 --> 100\n" +
		"    bar [" + strings.Join(rates, ", ") + "]\n```\n"
}

func headline(s Summary) string {
	h := fmt.Sprintf("%s, %d failed, %d healed automatically, %d needed a person, "+
		"%s hours saved (at %s minutes per intervention). %s a failure no pattern knows.",
		plural(s.Totals.Runs, "run"), s.Totals.Failed, s.Totals.Healed, s.NeedPerson,
		num(s.HoursSaved), num(s.MinutesPerIntervention), plural(s.Totals.Unknown, "run")+" had")
	if s.Totals.DryRuns > 0 {
		h += " " + plural(s.Totals.DryRuns, "dry run") + " not counted."
	}
	return h
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func neverGreen(rows []Row) []Row {
	var out []Row
	for _, r := range rows {
		if r.NeverGreen {
			out = append(out, r)
		}
	}
	return out
}

func refusalNote(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	return ", refused: " + refusalList(m, "")
}

// refusalList formats refusals as "rule ×n" by rule name.
func refusalList(m map[string]int, none string) string {
	if len(m) == 0 {
		return none
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

func percent(rate float64) string { return num(rate*100) + "%" }

// num formats a number with at most one decimal.
func num(f float64) string { return strconv.FormatFloat(roundTo(f, 1), 'f', -1, 64) }

func roundTo(f float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	if f < 0 {
		return -float64(int64(-f*p+0.5)) / p
	}
	return float64(int64(f*p+0.5)) / p
}

// duration shows seconds as a Go duration, or "-" when nothing healed.
func duration(sec float64, heals int) string {
	if heals == 0 {
		return "-"
	}
	return (time.Duration(sec * float64(time.Second))).Round(time.Second).String()
}

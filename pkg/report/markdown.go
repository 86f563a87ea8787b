package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
)

// Size limits of the places a Markdown report is shown, in bytes. Counting
// bytes keeps a report within a limit counted in characters, whatever the
// characters are.
const (
	// MaxComment is the longest body GitHub accepts for a pull request
	// comment (65,536 characters).
	MaxComment = 65536
	// MaxSummary is the most GitHub shows of one step's job summary (1 MiB).
	MaxSummary = 1 << 20
)

// MarkdownOptions say where a Markdown report is shown. The zero value
// renders a report without marker or links, within [MaxComment].
type MarkdownOptions struct {
	// Key, when set, starts the report with [Marker](Key) so that a sticky
	// comment can be found again.
	Key string
	// Job and RunURL name the CI job and link to its run.
	Job    string
	RunURL string
	// Limit bounds the report's length in bytes; 0 means [MaxComment].
	// Only failure excerpts are shortened to fit, never the facts.
	Limit int
}

// Marker returns the hidden HTML comment that identifies the sticky comment
// for key (for example a job and a stack). It has a fixed length and holds
// a hash of key, so no key can break out of the comment.
func Marker(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "<!-- self-heal:sticky " + hex.EncodeToString(sum[:8]) + " -->"
}

// Markdown renders the run for a pull request comment or a job summary:
// the failure, the pattern and its hint, every fix with its plan, evidence
// and changes, the attempts, the time to green, and a collapsed excerpt of
// each distinct failure. Excerpts are cut from the top to stay within the
// limit.
func Markdown(r *Run, o MarkdownOptions) string {
	d := &doc{}
	d.marker(o.Key)
	d.textf("### self-heal: %s\n\n", headline(r))
	d.text(contextLine(o, r.Environment))
	writeRun(d, r, "####")
	return d.render(limitOf(o))
}

// MarkdownMerged renders several runs (the legs of a matrix) as one report:
// a table with a row per run, then each run that did not pass on its first
// attempt in detail. Runs are shown in the order given.
func MarkdownMerged(runs []*Run, o MarkdownOptions) string {
	d := &doc{}
	d.marker(o.Key)
	d.textf("### self-heal: %s\n\n", mergedHeadline(runs))
	d.text(contextLine(o, ""))
	d.text("| Run | Command | Outcome | Attempts | Pattern | Fixes applied |\n")
	d.text("| --- | --- | --- | --- | --- | --- |\n")
	for _, r := range runs {
		d.text(tableRow(r))
	}
	for _, r := range runs {
		if r.Outcome == Succeeded {
			continue
		}
		d.textf("\n#### %s: %s\n\n", runLabel(r), outcomeWords(r.Outcome))
		writeRun(d, r, "#####")
	}
	return d.render(limitOf(o))
}

func limitOf(o MarkdownOptions) int {
	if o.Limit > 0 {
		return o.Limit
	}
	return MaxComment
}

// headline says what ran and how it ended, in a few words.
func headline(r *Run) string {
	return code(commandLine(r.Command)) + " " + outcomeWords(r.Outcome)
}

func outcomeWords(o Outcome) string {
	switch o {
	case Succeeded:
		return "passed"
	case Healed:
		return "healed"
	case Failed:
		return "still fails"
	case Refused:
		return "stopped: a fix was refused"
	case Planned:
		return "dry run: nothing changed"
	case Cancelled:
		return "cancelled"
	}
	return string(o)
}

func mergedHeadline(runs []*Run) string {
	counts := map[Outcome]int{}
	for _, r := range runs {
		counts[r.Outcome]++
	}
	var parts []string
	for _, o := range []Outcome{Healed, Failed, Refused, Planned, Cancelled, Succeeded} {
		if counts[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
		}
	}
	return fmt.Sprintf("%d run%s: %s", len(runs), plural(len(runs)), strings.Join(parts, ", "))
}

// contextLine names the job, links the run and names the environment.
func contextLine(o MarkdownOptions, environment string) string {
	var parts []string
	if o.Job != "" {
		parts = append(parts, "Job "+code(o.Job))
	}
	if o.RunURL != "" {
		parts = append(parts, "[run log]("+o.RunURL+")")
	}
	if environment != "" {
		parts = append(parts, "environment "+code(environment))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, " · ") + "\n\n"
}

func tableRow(r *Run) string {
	pattern := "none"
	if m := r.LastMatch(); m != nil {
		pattern = code(m.ID)
	}
	var fixes []string
	for _, name := range appliedNames(r) {
		fixes = append(fixes, code(name))
	}
	cells := []string{
		runLabel(r), code(shorten(commandLine(r.Command), 80)),
		string(r.Outcome), fmt.Sprint(len(r.Attempts)), pattern,
		nonEmpty(strings.Join(fixes, ", "), "none"),
	}
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	return "| " + strings.Join(cells, " | ") + " |\n"
}

// runLabel names a run among others: its stack, and its environment when
// it has one (matrix legs often share a stack).
func runLabel(r *Run) string {
	label := code(nonEmpty(r.Stack, "(no stack)"))
	if r.Environment != "" {
		label += " in " + code(r.Environment)
	}
	return label
}

// appliedNames lists the fixers that ran, each once, in order.
func appliedNames(r *Run) []string {
	var names []string
	for _, f := range r.AppliedFixes() {
		if !slices.Contains(names, f.Fixer) {
			names = append(names, f.Fixer)
		}
	}
	return names
}

// writeRun writes the facts of one run, its attempts and its excerpts,
// under headings of the given level.
func writeRun(d *doc, r *Run, heading string) {
	writeFacts(d, r)
	d.textf("\n%s Attempts\n\n", heading)
	for _, a := range r.Attempts {
		writeAttempt(d, a)
	}
	if len(r.Warnings) > 0 {
		d.text("\n**Warnings**\n\n")
		for _, w := range r.Warnings {
			d.textf("- %s\n", escape(w))
		}
	}
	writeExcerpts(d, r)
}

func writeFacts(d *doc, r *Run) {
	d.textf("- **Outcome:** %s after %d attempt%s in %s", r.Outcome, len(r.Attempts),
		plural(len(r.Attempts)), r.Duration)
	if r.StopReason != "" {
		d.textf(" (%s)", escape(r.StopReason))
	}
	d.text("\n")
	if r.Outcome == Healed {
		d.textf("- **Time to green:** %s from the first failure\n", r.TimeToGreen)
	}
	if m := r.LastMatch(); m != nil {
		d.textf("- **Failure:** %s\n", escape(m.Title))
		d.textf("- **Pattern:** %s (%s) from %s\n", code(m.ID), escape(m.Category), code(m.Source))
		if m.Hint != "" {
			d.textf("- **Hint:** %s\n", oneParagraph(m.Hint))
		}
	} else if r.Outcome != Succeeded {
		d.text("- **Failure:** no pattern recognised it. `self-heal suggest` turns saved logs " +
			"into pattern stubs for `.self-heal/patterns/`.\n")
	}
	if r.DryRun {
		d.text("- **Dry run:** fixers only checked live state; nothing was changed.\n")
	}
	if r.Stack != "" {
		d.textf("- **Stack:** %s\n", code(r.Stack))
	}
}

func writeAttempt(d *doc, a Attempt) {
	d.textf("%d. %s\n", a.Number, attemptLine(a))
	if m := a.Match; m != nil {
		for _, k := range slices.Sorted(maps.Keys(m.Captures)) {
			d.textf("   - captured %s = %s\n", code(k), code(m.Captures[k]))
		}
	}
	for _, f := range a.Fixes {
		writeFix(d, f)
	}
	if a.Wait > 0 {
		d.textf("   - waited %s before the next attempt\n", a.Wait)
	}
}

func attemptLine(a Attempt) string {
	status := fmt.Sprintf("exit %d", a.ExitCode)
	if a.Signal != "" {
		status = "killed by " + a.Signal
	}
	if a.ExitCode == 0 && a.Signal == "" {
		return fmt.Sprintf("**passed** in %s", a.Duration)
	}
	line := fmt.Sprintf("**failed** (%s) after %s", status, a.Duration)
	if a.Match != nil {
		return line + ": recognised " + code(a.Match.ID)
	}
	return line + ": not recognised"
}

func writeFix(d *doc, f Fix) {
	d.textf("   - %s (%s) %s", code(f.Fixer), escape(f.Safety), fixState(f))
	if f.Action != "" {
		d.textf(": %s", escape(f.Action))
	}
	d.text("\n")
	if f.Refused != "" && f.Refused != f.Action {
		d.textf("     - refused: %s\n", escape(f.Refused))
	}
	if f.Rule != "" {
		d.textf("     - rule: %s\n", escape(f.Rule))
	}
	if f.Error != "" {
		d.textf("     - error: %s\n", escape(f.Error))
	}
	for _, e := range f.Evidence {
		d.textf("     - evidence: %s\n", escape(e))
	}
	for _, c := range f.Changed {
		d.textf("     - changed: %s\n", escape(c))
	}
	if f.Applied && len(f.Changed) == 0 && f.Error == "" {
		d.text("     - changed: nothing\n")
	}
	for _, b := range f.Backups {
		d.textf("     - backup: %s\n", code(b))
	}
}

func fixState(f Fix) string {
	switch {
	case f.Error != "":
		return "**failed**"
	case f.Refused != "":
		return "**refused**"
	case f.Applied:
		return "**applied**"
	}
	switch f.Verdict {
	case "act":
		return "**would apply**"
	case "wait":
		return "**waiting**"
	case "nothing":
		return "**nothing to do**"
	}
	return "**" + nonEmpty(f.Verdict, "planned") + "**"
}

// writeExcerpts adds one collapsed excerpt per distinct failure.
func writeExcerpts(d *doc, r *Run) {
	seen := map[string]bool{}
	for _, a := range r.Attempts {
		if a.ExitCode == 0 || a.Excerpt == "" || seen[a.Fingerprint+"\x00"+a.Excerpt] {
			continue
		}
		seen[a.Fingerprint+"\x00"+a.Excerpt] = true
		d.excerpt(a.Number, a.Excerpt)
	}
}

// commandLine shows a command line as a shell would read it. A script
// run by a shell (`bash -c "terraform apply"`, as CI templates run steps)
// is shown as the script.
func commandLine(args []string) string {
	if len(args) == 3 && args[1] == "-c" && shells[path.Base(args[0])] {
		return shorten(strings.Join(strings.Fields(args[2]), " "), 300)
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = shellQuote(a)
	}
	return shorten(strings.Join(out, " "), 300)
}

var shells = map[string]bool{"sh": true, "bash": true, "zsh": true, "dash": true}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`&|;<>()*?[]{}!#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// code renders s as inline code on one line, with a fence longer than any
// run of backticks in s.
func code(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

func longestRun(s string, c byte) int {
	longest, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			longest = max(longest, n)
		} else {
			n = 0
		}
	}
	return longest
}

// escape makes plain text safe in Markdown: HTML is shown, not interpreted,
// and line breaks do not end the list item.
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escape(s string) string {
	return htmlEscaper.Replace(strings.Join(strings.Fields(s), " "))
}

// oneParagraph keeps a pattern author's Markdown (a hint) on one line.
func oneParagraph(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func nonEmpty(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// doc is a Markdown document under construction: text that is always
// kept, and failure excerpts that may be cut to fit a size limit.
type doc struct {
	parts []part
}

// part is either text or an excerpt.
type part struct {
	text    string
	attempt int
	lines   []string
}

func (d *doc) text(s string) {
	if s != "" {
		d.parts = append(d.parts, part{text: s})
	}
}

func (d *doc) textf(format string, args ...any) { d.text(fmt.Sprintf(format, args...)) }

func (d *doc) marker(key string) {
	if key != "" {
		d.text(Marker(key) + "\n")
	}
}

func (d *doc) excerpt(attempt int, s string) {
	d.parts = append(d.parts, part{attempt: attempt, lines: strings.Split(s, "\n")})
}

// render lays the document out within limit bytes. Only excerpts shrink
// (their first lines go first); if the facts alone are longer than the
// limit, the document is cut and says so.
func (d *doc) render(limit int) string {
	out := d.build(nil)
	if len(out) <= limit {
		return out
	}
	sizes := d.excerptSizes()
	allowance := sum(sizes) - (len(out) - limit)
	for range 8 {
		if allowance <= 0 {
			break
		}
		out = d.build(share(sizes, allowance))
		if len(out) <= limit {
			return out
		}
		allowance -= len(out) - limit
	}
	out = d.build(make([]int, len(sizes)))
	if len(out) <= limit {
		return out
	}
	return cut(out, limit)
}

// build renders every part; budgets, when set, give each excerpt's size
// in bytes.
func (d *doc) build(budgets []int) string {
	var b strings.Builder
	n := 0
	for _, p := range d.parts {
		if p.lines == nil {
			b.WriteString(p.text)
			continue
		}
		keep := -1
		if budgets != nil {
			keep = budgets[n]
		}
		n++
		writeExcerpt(&b, p, keep)
	}
	return b.String()
}

func (d *doc) excerptSizes() []int {
	var sizes []int
	for _, p := range d.parts {
		if p.lines != nil {
			sizes = append(sizes, len(strings.Join(p.lines, "\n")))
		}
	}
	return sizes
}

// writeExcerpt writes a collapsed excerpt keeping at most keep bytes of
// its end; keep < 0 keeps all of it.
func writeExcerpt(b *strings.Builder, p part, keep int) {
	if keep == 0 {
		fmt.Fprintf(b, "\n_Output of attempt %d left out to fit the size limit; "+
			"the job log has it._\n", p.attempt)
		return
	}
	lines, cutLine := tail(p.lines, keep)
	label := fmt.Sprintf("last %d line%s", len(lines), plural(len(lines)))
	if len(lines) < len(p.lines) || cutLine {
		label = fmt.Sprintf("last %d of %d lines, cut to fit the size limit", len(lines), len(p.lines))
	}
	body := strings.Join(lines, "\n")
	fence := strings.Repeat("`", max(3, longestRun(body, '`')+1))
	fmt.Fprintf(b, "\n<details>\n<summary>Output of attempt %d (%s)</summary>\n\n", p.attempt, label)
	fmt.Fprintf(b, "%stext\n%s\n%s\n\n</details>\n", fence, body, fence)
}

// tail keeps the last lines that fit in keep bytes (all when keep < 0).
// When not even the last line fits, it keeps the end of that line and
// reports cut=true.
func tail(lines []string, keep int) (kept []string, cut bool) {
	if keep < 0 {
		return lines, false
	}
	size, i := 0, len(lines)
	for i > 0 && size+len(lines[i-1])+1 <= keep+1 {
		size += len(lines[i-1]) + 1
		i--
	}
	if i < len(lines) {
		return lines[i:], false
	}
	last := lines[len(lines)-1]
	start := len(last) - keep
	for start < len(last) && !isRuneStart(last[start]) {
		start++
	}
	return []string{last[start:]}, true
}

// minExcerpt is the smallest excerpt worth showing, in bytes.
const minExcerpt = 80

// share divides allowance bytes between excerpts of the given sizes:
// small excerpts keep all they have, the rest share equally. A share too
// small to show anything useful is dropped.
func share(sizes []int, allowance int) []int {
	out := make([]int, len(sizes))
	order := make([]int, len(sizes))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return sizes[a] - sizes[b] })
	left := allowance
	for k, i := range order {
		out[i] = min(sizes[i], left/(len(order)-k))
		left -= out[i]
		if out[i] < min(sizes[i], minExcerpt) {
			out[i] = 0
		}
	}
	return out
}

func sum(xs []int) int {
	total := 0
	for _, x := range xs {
		total += x
	}
	return total
}

// cut shortens a document whose facts alone exceed limit, and says so.
func cut(s string, limit int) string {
	const note = "\n\n_Report cut to fit the size limit; the JSON report has every fact._\n"
	n := max(0, limit-len(note))
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + note
}

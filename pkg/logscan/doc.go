// Package logscan captures the part of a step's output that explains a
// failure, while the output streams by.
//
// The step's stdout and stderr reach the job log through other writers; a
// copy of every byte also goes to a [Scanner] through one [Scanner.Stream]
// per stream. The Scanner never holds the whole log. It keeps a failure
// window: the last [Options.Tail] lines, and every error block (a line
// that [Options.Hot] marks, with [Options.Before] lines of context before
// it and [Options.After] lines after it). Lines longer than
// [Options.MaxLine] are cut, error blocks beyond [Options.MaxKept] bytes
// are dropped oldest first, and text that a carriage return overwrote is
// discarded as it arrives, so memory stays bounded by the options whatever
// the output: gigabytes of lines, one endless line, binary bytes.
//
// The per-byte work for a line that is not kept is a search for the next
// newline and the Hot test. Raw bytes of kept lines are stored as they
// came; [Normalize] runs only when [Scanner.Window] is called.
//
// Normalised text is what patterns match against: escape sequences,
// control bytes, carriage-return rewrites, Terraform's diagnostic gutters,
// CI timestamps and workflow-command prefixes are removed, JSON-escaped
// messages are expanded into lines, whitespace runs become single spaces
// and lines are trimmed. [Window.Text] joins the lines with "\n", so a
// message that a terminal or Terraform wrapped over several lines reads as
// one sentence to a matcher that lets any whitespace match any whitespace
// run.
//
// The package does not match patterns and does not copy output to the
// job log.
package logscan

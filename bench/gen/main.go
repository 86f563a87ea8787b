// Command gen writes the inputs of the performance comparisons in
// bench/run.sh: a large terraform debug log with failures in it, a log
// that is one long line, and sets of generated patterns shaped like the
// catalogue's, as a pattern file for self-heal and as an ERE file for
// grep -E -f and rg -f.
//
//	gen log SIZE FILE            a debug log of SIZE bytes (suffixes K, M, G)
//	gen line SIZE FILE           one line of SIZE bytes
//	gen patterns N YAML ERE      N generated patterns; ERE adds the catalogue's
//
// It runs from the repository's root, where it reads the template log and
// the catalogue.
package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// templateLog is a real terraform debug log the generated log repeats.
const templateLog = "pkg/logscan/testdata/terraform-debug.bench"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 3 {
		return fmt.Errorf("usage: gen log|line SIZE FILE, or gen patterns N YAML ERE")
	}
	switch args[0] {
	case "log":
		size, err := parseSize(args[1])
		if err != nil {
			return err
		}
		return writeFile(args[2], func(w io.Writer) error { return writeLog(w, size) })
	case "line":
		size, err := parseSize(args[1])
		if err != nil {
			return err
		}
		return writeFile(args[2], func(w io.Writer) error { return writeLine(w, size) })
	case "patterns":
		if len(args) != 4 {
			return fmt.Errorf("usage: gen patterns N YAML ERE")
		}
		n, err := strconv.Atoi(args[1])
		if err != nil {
			return fmt.Errorf("pattern count %q: %w", args[1], err)
		}
		return writePatterns(n, args[2], args[3])
	}
	return fmt.Errorf("unknown kind %q", args[0])
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	return n * mult, nil
}

func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := write(w); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	return f.Close()
}

// writeLog repeats the template log with fresh timestamps and request ids
// until size bytes are written. Every 16 MiB a real failure from the
// catalogue's examples is inserted, and the log ends with a state lock
// failure, so that the window has error blocks far from the end and a
// failure at the end.
func writeLog(w io.Writer, size int64) error {
	tmpl, err := os.ReadFile(templateLog)
	if err != nil {
		return fmt.Errorf("read template: %w", err)
	}
	lines := strings.SplitAfter(string(tmpl), "\n")
	failures, err := filepath.Glob("patterns/testdata/*/*--01.log")
	if err != nil || len(failures) == 0 {
		return fmt.Errorf("no example failures under patterns/testdata")
	}
	final, err := os.ReadFile("patterns/testdata/state-lock/state-lock--01.log")
	if err != nil {
		return fmt.Errorf("read final failure: %w", err)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	var written, nextFailure int64 = 0, 16 << 20
	for second, fi := 0, 0; written < size-int64(len(final)); second++ {
		for _, l := range lines {
			if strings.HasPrefix(l, "20") && len(l) > 24 {
				l = fmt.Sprintf("2026-12-03T%02d:%02d:%02d.%03dZ", second/3600%24, second/60%60,
					second%60, rng.IntN(1000)) + l[24:]
			}
			l = strings.ReplaceAll(l, "841024e4", fmt.Sprintf("%08x", rng.Uint32()))
			n, err := io.WriteString(w, l)
			if err != nil {
				return fmt.Errorf("write log: %w", err)
			}
			written += int64(n)
			if written >= nextFailure && written < size-(16<<20) {
				data, err := os.ReadFile(failures[fi%len(failures)])
				if err != nil {
					return fmt.Errorf("read failure: %w", err)
				}
				fi++
				n, _ := w.Write(data)
				written += int64(n)
				nextFailure += 16 << 20
			}
			if written >= size-int64(len(final)) {
				break
			}
		}
	}
	_, err = w.Write(final)
	return err
}

// writeLine writes one line of size bytes of log-like words.
func writeLine(w io.Writer, size int64) error {
	words := strings.Fields("tf_backend.operation=Configure req_id=841024e4 " +
		"s3.bucket=tfstate-bucket progress: 41% [=====>    ] downloading layer sha256:0f3a " +
		"HTTP/1.1 200 OK x-amz-request-id content-length:1024")
	var written int64
	for i := 0; written < size-1; i++ {
		s := words[i%len(words)] + " "
		if int64(len(s)) > size-1-written {
			s = s[:size-1-written]
		}
		n, err := io.WriteString(w, s)
		if err != nil {
			return fmt.Errorf("write line: %w", err)
		}
		written += int64(n)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// writePatterns writes n generated patterns as YAML, and the ERE lines of
// the catalogue's and the generated patterns' conditions.
func writePatterns(n int, yamlName, ereName string) error {
	gen := generate(n)
	var y strings.Builder
	y.WriteString("version: 1\npatterns:\n")
	var conds []cond
	for _, p := range gen {
		y.WriteString(p.yaml())
		conds = append(conds, p.conds()...)
	}
	if err := os.WriteFile(yamlName, []byte(y.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", yamlName, err)
	}

	cat, err := catalogueConds()
	if err != nil {
		return err
	}
	conds = append(cat, conds...)
	var e strings.Builder
	skipped := 0
	for _, c := range conds {
		line, ok := c.ere()
		if !ok {
			skipped++
			continue
		}
		e.WriteString(line + "\n")
	}
	if skipped > 0 {
		fmt.Fprintf(os.Stderr, "gen: %d conditions have no single-line ERE form\n", skipped)
	}
	if err := os.WriteFile(ereName, []byte(e.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", ereName, err)
	}
	return nil
}

// cond is one condition: a literal or an RE2 expression.
type cond struct {
	literal, regex string
}

func (c cond) ere() (string, bool) {
	if c.regex == "" {
		return quoteERE(c.literal), true
	}
	return toERE(c.regex)
}

func (c cond) yaml() string {
	if c.regex != "" {
		return "{regex: '" + strings.ReplaceAll(c.regex, "'", "''") + "'}"
	}
	return "'" + strings.ReplaceAll(c.literal, "'", "''") + "'"
}

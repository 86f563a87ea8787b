package cmd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// statusHandler prints log records as self-heal's own status lines, the
// way a CI log reads best: "self-heal: wait.until: poll 2 after 10s: ...".
// The fixer's name leads; other attributes follow as key=value.
type statusHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Level
	attrs []slog.Attr
}

func newStatusHandler(w io.Writer, level slog.Level) *statusHandler {
	return &statusHandler{mu: &sync.Mutex{}, w: w, level: level}
}

func (h *statusHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *statusHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("self-heal: ")
	var rest []slog.Attr
	collect := func(a slog.Attr) bool {
		if a.Key == "fixer" {
			b.WriteString(a.Value.String() + ": ")
		} else if a.Key != "pattern" {
			rest = append(rest, a)
		}
		return true
	}
	for _, a := range h.attrs {
		collect(a)
	}
	r.Attrs(collect)
	if r.Level >= slog.LevelWarn {
		b.WriteString(strings.ToLower(r.Level.String()) + ": ")
	}
	b.WriteString(r.Message)
	for _, a := range rest {
		fmt.Fprintf(&b, " %s=%s", a.Key, quoteIfSpaced(a.Value.String()))
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *statusHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

// WithGroup keeps the handler flat: status lines have no nesting.
func (h *statusHandler) WithGroup(string) slog.Handler { return h }

func quoteIfSpaced(s string) string {
	if strings.ContainsAny(s, " \t\"") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

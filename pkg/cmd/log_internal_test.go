package cmd

import (
	"bytes"
	"log/slog"
	"testing"
)

func TestStatusHandler(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(newStatusHandler(&buf, slog.LevelInfo)).With("fixer", "wait.until", "pattern", "p")
	log.Info("aws.role-assumable: poll 2 after 10s: role app is 4s old")
	log.Debug("hidden below the level")
	log.Warn("gave up", "after", "5m0s", "reason", "role too old")
	want := "self-heal: wait.until: aws.role-assumable: poll 2 after 10s: role app is 4s old\n" +
		"self-heal: wait.until: warn: gave up after=5m0s reason=\"role too old\"\n"
	if got := buf.String(); got != want {
		t.Errorf("status lines:\n%s\nwant:\n%s", got, want)
	}
}

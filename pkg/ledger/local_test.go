package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/ci"
	"github.com/self-heal/self-heal/pkg/ledger"
	"github.com/self-heal/self-heal/pkg/report"
)

func record(t time.Time, outcome report.Outcome) *ledger.Record {
	return &ledger.Record{
		Schema: ledger.SchemaVersion, ID: ledger.NewID(t), Time: t.UTC(),
		Command: "terraform apply", Outcome: outcome,
		Attempts: []ledger.Attempt{{Number: 1}},
	}
}

// walkAll reads every record of s, sorted by id.
func walkAll(t *testing.T, s ledger.Store, since time.Time) ([]*ledger.Record, []ledger.Problem) {
	t.Helper()
	var out []*ledger.Record
	problems, err := s.Walk(context.Background(), since, func(r *ledger.Record) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, problems
}

func TestLocal_PutWalk(t *testing.T) {
	t.Parallel()
	store := ledger.NewLocal(filepath.Join(t.TempDir(), "ledger"))
	base := time.Date(2026, 1, 5, 23, 30, 0, 0, time.UTC)
	var want []*ledger.Record
	for i := range 3 {
		r := record(base.Add(time.Duration(i)*time.Hour), report.Healed)
		if err := store.Put(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		want = append(want, r)
	}

	got, problems := walkAll(t, store, time.Time{})
	if len(problems) > 0 {
		t.Errorf("Walk problems: %v", problems)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Walk mismatch (-want +got):\n%s", diff)
	}

	// One file per run, under the day it started.
	files, _ := filepath.Glob(filepath.Join(store.Dir, "date=*", "*.json"))
	days, _ := filepath.Glob(filepath.Join(store.Dir, "date=*"))
	if len(files) != 3 || len(days) != 2 {
		t.Errorf("files = %d in %d day folders, want 3 in 2", len(files), len(days))
	}

	// since skips whole days and earlier runs of its own day.
	got, _ = walkAll(t, store, base.Add(90*time.Minute))
	if len(got) != 1 || got[0].ID != want[2].ID {
		t.Errorf("Walk(since) = %d records, want only the last", len(got))
	}
}

func TestLocal_Walk_missing(t *testing.T) {
	t.Parallel()
	got, problems := walkAll(t, ledger.NewLocal(filepath.Join(t.TempDir(), "none")), time.Time{})
	if len(got) != 0 || len(problems) != 0 {
		t.Errorf("Walk(missing dir) = %d records, %v; want an empty ledger", len(got), problems)
	}
}

func TestLocal_Walk_badRecords(t *testing.T) {
	t.Parallel()
	store := ledger.NewLocal(t.TempDir())
	good := record(time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC), report.Succeeded)
	if err := store.Put(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(store.Dir, "date=2026-02-01")
	bad := map[string]string{
		"garbage.json":   "{not json",
		"empty.json":     "",
		"noschema.json":  `{"id":"x","time":"2026-02-01T00:00:00Z"}`,
		"future.json":    `{"schema":99,"id":"y","time":"2026-02-01T00:00:00Z"}`,
		".tmp-123":       "half a rec",
		"notes.txt":      "not a record",
		".tmp-456.json":  "being written",
		"truncated.json": `{"schema":1,"id":"z","time":"2026-02-01T00:00:00Z","attempts":[`,
	}
	for name, body := range bad {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	got, problems := walkAll(t, store, time.Time{})
	if len(got) != 1 || got[0].ID != good.ID {
		t.Errorf("Walk = %d records, want the one good record", len(got))
	}
	var names []string
	for _, p := range problems {
		names = append(names, filepath.Base(p.Name))
	}
	sort.Strings(names)
	want := []string{"empty.json", "future.json", "garbage.json", "noschema.json", "truncated.json"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("problems mismatch (-want +got):\n%s", diff)
	}
	for _, p := range problems {
		if filepath.Base(p.Name) == "future.json" && !errors.Is(p, ledger.ErrSchema) {
			t.Errorf("future.json: %v, want ErrSchema", p)
		}
	}
}

func TestLocal_Put_concurrent(t *testing.T) {
	t.Parallel()
	store := ledger.NewLocal(t.TempDir())
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC) // every run in the same millisecond
	const jobs = 64
	var wg sync.WaitGroup
	errs := make(chan error, jobs)
	for range jobs {
		wg.Go(func() { errs <- store.Put(context.Background(), record(at, report.Healed)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, problems := walkAll(t, store, time.Time{})
	if len(got) != jobs || len(problems) != 0 {
		t.Errorf("Walk = %d records, %d problems; want %d records", len(got), len(problems), jobs)
	}
	left, _ := filepath.Glob(filepath.Join(store.Dir, "*", ".tmp-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestLocal_Walk_stops(t *testing.T) {
	t.Parallel()
	store := ledger.NewLocal(t.TempDir())
	for i := range 3 {
		if err := store.Put(context.Background(), record(time.Date(2026, 1, 1, i, 0, 0, 0, time.UTC),
			report.Failed)); err != nil {
			t.Fatal(err)
		}
	}
	stop := errors.New("enough")
	n := 0
	_, err := store.Walk(context.Background(), time.Time{}, func(*ledger.Record) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Walk = %v after %d records, want the callback's error after 1", err, n)
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, want, wantErr string
	}{
		{"", "/src/repo/.self-heal/ledger", ""},
		{"runs", "/src/repo/runs", ""},
		{"/abs/runs", "/abs/runs", ""},
		{"file:///abs/runs", "/abs/runs", ""},
		{"gs://bucket/x", "", "unknown scheme"},
		{"s3:///prefix", "", "no bucket"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			s, err := ledger.Open(context.Background(), tt.url, "/src/repo", nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Open(%q) = %v, want error with %q", tt.url, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.String() != tt.want {
				t.Errorf("Open(%q) = %s, want %s", tt.url, s, tt.want)
			}
		})
	}
}

func TestFromRun(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 4, 2, 10, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	run := &report.Run{
		Command: []string{"terraform", "apply", "-var", "token=s3cr3t"},
		Tool:    "terraform", Goal: "apply", Stack: "net", Started: start,
		Duration: report.Duration(90 * time.Second), Outcome: report.Healed, ExitCode: 0,
		TimeToGreen: report.Duration(75 * time.Second),
		Attempts: []report.Attempt{
			{Number: 1, ExitCode: 1, Duration: report.Duration(2 * time.Second), Fingerprint: "f1",
				Excerpt: "Error: nobody knows this\nauth s3cr3t rejected"},
			{Number: 2, ExitCode: 1, Duration: report.Duration(3 * time.Second), Fingerprint: "f2",
				Excerpt: "Error acquiring the state lock",
				Match:   &report.Match{ID: "state-lock", Hash: "abc"},
				Fixes: []report.Fix{
					{Fixer: "terraform.force-unlock", Safety: "disruptive", Applied: true,
						Changed: []string{"unlocked with s3cr3t"}, Elapsed: report.Duration(time.Second)},
					{Fixer: "aws.x", Safety: "destructive", Refused: "no", Rule: "production-destructive"},
					{Fixer: "aws.y", Safety: "safe", Error: "boom"},
					{Fixer: "wait.until", Safety: "safe"},
				}},
			{Number: 3, ExitCode: 0, Duration: report.Duration(time.Second)},
		},
	}
	info := ci.Info{Name: "github", Repository: "acme/infra", Job: "apply", RunURL: "https://x/1",
		Commit: "abc123", ChangeRequest: "7", Environment: "production"}
	redact := func(s string) string { return strings.ReplaceAll(s, "s3cr3t", "***") }

	got := ledger.FromRun(run, info, redact)
	if !strings.HasPrefix(got.ID, "20260402T080000.000Z-") || len(got.ID) != 37 {
		t.Errorf("ID = %q, want the UTC time and 16 hex digits", got.ID)
	}
	got.ID = ""
	want := &ledger.Record{
		Schema: 1, Time: start.UTC(), Repository: "acme/infra", CI: "github", Job: "apply",
		RunURL: "https://x/1", Commit: "abc123", ChangeRequest: "7", Environment: "production",
		Stack: "net", Tool: "terraform", Goal: "apply", Command: "terraform apply -var token=***",
		Outcome: report.Healed, DurationMS: 90000, TimeToGreenMS: 75000,
		Attempts: []ledger.Attempt{
			{Number: 1, ExitCode: 1, DurationMS: 2000, Fingerprint: "f1",
				Window: "Error: nobody knows this\nauth *** rejected"},
			{Number: 2, ExitCode: 1, DurationMS: 3000, Fingerprint: "f2", Pattern: "state-lock",
				PatternHash: "abc", Fixes: []ledger.Fix{
					{Fixer: "terraform.force-unlock", Safety: "disruptive", Outcome: ledger.FixApplied,
						Changed: []string{"unlocked with ***"}, DurationMS: 1000},
					{Fixer: "aws.x", Safety: "destructive", Outcome: ledger.FixRefused,
						Rule: "production-destructive", Reason: "no"},
					{Fixer: "aws.y", Safety: "safe", Outcome: ledger.FixFailed, Reason: "boom"},
					{Fixer: "wait.until", Safety: "safe", Outcome: ledger.FixPlanned},
				}},
			{Number: 3, DurationMS: 1000},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FromRun mismatch (-want +got):\n%s", diff)
	}
}

func TestBoundWindow(t *testing.T) {
	t.Parallel()
	var lines []string
	for i := range 2000 {
		lines = append(lines, fmt.Sprintf("line %04d of a long failure window", i))
	}
	w := strings.Join(lines, "\n")
	got := ledger.BoundWindow(w, 4096)
	if len(got) > 4096 {
		t.Errorf("len(BoundWindow) = %d, want at most 4096", len(got))
	}
	out := strings.Split(got, "\n")
	if out[0] != lines[0] || out[len(out)-1] != lines[len(lines)-1] {
		t.Errorf("BoundWindow lost the first or last line: %q ... %q", out[0], out[len(out)-1])
	}
	marks := 0
	for _, l := range out {
		if ledger.OmittedMarker(l) {
			marks++
		}
	}
	if marks != 1 || len(out)-1+omitted(out) != len(lines) {
		t.Errorf("BoundWindow: %d marks, %d kept + %d omitted, want 1 mark and %d lines",
			marks, len(out)-1, omitted(out), len(lines))
	}
	if short := "a\nb"; ledger.BoundWindow(short, 4096) != short {
		t.Errorf("BoundWindow changed a short window")
	}
}

func omitted(lines []string) int {
	for _, l := range lines {
		var n int
		if _, err := fmt.Sscanf(l, "[... %d lines omitted ...]", &n); err == nil {
			return n
		}
	}
	return 0
}

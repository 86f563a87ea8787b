package ledger_test

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/ledger"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixture reads testdata/stats.jsonl: nine runs over two weeks, whose
// numbers are worked out by hand in TestStats_Summary.
func fixture(t *testing.T) []*ledger.Record {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "stats.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []*ledger.Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		r, err := ledger.Decode(sc.Bytes())
		if err != nil {
			t.Fatalf("fixture: %v", err)
		}
		out = append(out, r)
	}
	return out
}

func summarize(recs []*ledger.Record, f ledger.Filter, minutes float64) ledger.Summary {
	s := ledger.NewStats(minutes)
	for _, r := range recs {
		if f.Match(r) {
			s.Add(r)
		}
	}
	return s.Summary()
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestStats_Summary(t *testing.T) {
	t.Parallel()
	// Worked out by hand from the fixture:
	//   run 1 passed first time; runs 2, 3, 8 healed state-lock with
	//   force-unlock (60s, 120s, 300s to green); run 4 had force-unlock
	//   refused (untrusted-trigger); run 5 failed unknown; run 6 healed
	//   aws-throttling with wait.backoff (30s); runs 7 and 9 failed on
	//   iam-propagation after wait.backoff.
	//   state-lock: 4 runs, 3 heals, median rank ceil(0.5*3)=2 -> 120s,
	//   p90 rank ceil(0.9*3)=3 -> 300s.
	//   Week of 01-05: runs 2-5 failed, 2 healed. Week of 01-12: runs 6-9
	//   (run 9 is Sunday 23:59:59) failed, 2 healed. 45 minutes each.
	want := ledger.Summary{
		Totals:                 ledger.Totals{Runs: 9, Failed: 8, Healed: 4, Unknown: 1},
		NeedPerson:             4,
		HoursSaved:             3,
		MinutesPerIntervention: 45,
		Patterns: []ledger.Row{
			{Name: "iam-propagation", Runs: 2, NeverGreen: true},
			{Name: "state-lock", Runs: 4, Heals: 3, SuccessRate: 0.75, MedianTimeToHeal: 120,
				P90TimeToHeal: 300, Refusals: map[string]int{"untrusted-trigger": 1}},
			{Name: "aws-throttling", Runs: 1, Heals: 1, SuccessRate: 1, MedianTimeToHeal: 30,
				P90TimeToHeal: 30},
		},
		Fixers: []ledger.Row{
			{Name: "terraform.force-unlock", Runs: 4, Heals: 3, SuccessRate: 0.75, MedianTimeToHeal: 120,
				P90TimeToHeal: 300, Refusals: map[string]int{"untrusted-trigger": 1}},
			{Name: "wait.backoff", Runs: 3, Heals: 1, SuccessRate: 0.333, MedianTimeToHeal: 30,
				P90TimeToHeal: 30},
		},
		Weeks: []ledger.Week{
			{Start: day("2026-01-05"), Failed: 4, Healed: 2, NeedPerson: 2, HoursSaved: 1.5},
			{Start: day("2026-01-12"), Failed: 4, Healed: 2, NeedPerson: 2, HoursSaved: 1.5},
		},
	}
	got := summarize(fixture(t), ledger.Filter{}, 45)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Summary() mismatch (-want +got):\n%s", diff)
	}
}

func TestFilter_Match(t *testing.T) {
	t.Parallel()
	recs := fixture(t)
	tests := []struct {
		name   string
		filter ledger.Filter
		want   ledger.Totals
	}{
		{"all", ledger.Filter{}, ledger.Totals{Runs: 9, Failed: 8, Healed: 4, Unknown: 1, DryRuns: 1}},
		{"since", ledger.Filter{Since: day("2026-01-12")}, ledger.Totals{Runs: 4, Failed: 4, Healed: 2}},
		{"dry run of a pattern", ledger.Filter{Pattern: "state-lock"},
			ledger.Totals{Runs: 4, Failed: 4, Healed: 3, DryRuns: 1}},
		{"repo", ledger.Filter{Repo: "other/*"}, ledger.Totals{Runs: 1, Failed: 1, Healed: 1}},
		{"stack", ledger.Filter{Stack: "network"},
			ledger.Totals{Runs: 8, Failed: 7, Healed: 3, Unknown: 1, DryRuns: 1}},
		{"nothing", ledger.Filter{Pattern: "nope"}, ledger.Totals{}},
	}
	dry := *recs[1]
	dry.DryRun = true
	recs = append(recs, &dry)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := summarize(recs, tt.filter, 0).Totals
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("totals mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWeekStart(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"2026-01-05T00:00:00Z", "2026-01-05"}, // Monday
		{"2026-01-11T23:59:59Z", "2026-01-05"}, // Sunday
		{"2026-01-12T00:00:00Z", "2026-01-12"},
		{"2026-01-01T10:00:00+05:00", "2025-12-29"}, // 05:00 UTC on a Thursday
	}
	for _, tt := range tests {
		in, err := time.Parse(time.RFC3339, tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := ledger.WeekStart(in); !got.Equal(day(tt.want)) {
			t.Errorf("WeekStart(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestWrite_golden(t *testing.T) {
	t.Parallel()
	sum := summarize(fixture(t), ledger.Filter{}, 45)
	tests := []struct {
		file  string
		write func(*bytes.Buffer) error
	}{
		{"stats.golden.md", func(b *bytes.Buffer) error { return ledger.WriteMarkdown(b, sum) }},
		{"stats.golden.txt", func(b *bytes.Buffer) error { return ledger.WriteText(b, sum) }},
		{"stats.golden.json", func(b *bytes.Buffer) error { return ledger.WriteJSON(b, sum) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := tt.write(&buf); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

func TestWriteMarkdown_empty(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := ledger.WriteMarkdown(&buf, ledger.NewStats(0).Summary()); err != nil {
		t.Fatal(err)
	}
	want := "## self-heal stats\n\n0 runs, 0 failed, 0 healed automatically, 0 needed a person, " +
		"0 hours saved (at 30 minutes per intervention). 0 runs had a failure no pattern knows.\n\n" +
		"### Week by week\n\n" +
		"| Week of | Failed runs | Healed automatically | Still needed a person | Hours saved |\n" +
		"| --- | ---: | ---: | ---: | ---: |\n" +
		"| **Total** | **0** | **0** | **0** | **0** |\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("WriteMarkdown(empty) mismatch (-want +got):\n%s", diff)
	}
}

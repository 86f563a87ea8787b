package report_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/report"
)

var update = flag.Bool("update", false, "rewrite the golden files with the actual output")

// readRun loads a report written by the JSON renderer.
func readRun(t *testing.T, name string) *report.Run {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var r report.Run
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return &r
}

// golden compares got with testdata/<name>.golden.md, or rewrites it
// under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.md")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("Markdown(%s) differs from %s (-want +got):\n%s", name, path, diff)
	}
}

var cases = []string{"healed", "failed", "refused", "unknown", "dry-run"}

func TestMarkdown(t *testing.T) {
	t.Parallel()
	for _, name := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := report.Markdown(readRun(t, name), report.MarkdownOptions{
				Key:    "deploy / apply:" + name,
				Job:    "deploy / apply",
				RunURL: "https://github.com/acme/infra/actions/runs/42",
			})
			golden(t, name, got)
		})
	}
}

func TestMarkdownMerged(t *testing.T) {
	t.Parallel()
	var runs []*report.Run
	for _, name := range cases {
		runs = append(runs, readRun(t, name))
	}
	succeeded := readRun(t, "healed")
	succeeded.Stack, succeeded.Outcome = "infra/shared", report.Succeeded
	succeeded.Attempts = succeeded.Attempts[1:]
	succeeded.Attempts[0].Number = 1
	runs = append(runs, succeeded)

	got := report.MarkdownMerged(runs, report.MarkdownOptions{Key: "matrix", Job: "deploy / report"})
	golden(t, "merged", got)
}

// facts are strings every rendering of the healed case must keep.
var facts = []string{
	"Terraform state lock held by another run",
	"`state-lock`",
	"`terraform force-unlock <ID>`",
	"`terraform.force-unlock`",
	"force-unlocked lock 3f2a0c8e-5b1d-4c7e-9a6f-2d8b1e0f4c93 (apply by runner@fv-az123)",
	"holder runner@fv-az123 is not this job and no longer reachable",
	"**Time to green:** 1m12.5s",
	"healed after 2 attempts",
	".self-heal/artifacts/state-prod-20260302T100005Z.tfstate",
}

func TestMarkdown_limit(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 300) + "\n"
	tests := []struct {
		name    string
		excerpt string
		// limit is the size limit; 0 means room for the facts and 100
		// bytes more.
		limit int
		want  []string
	}{
		{
			name:    "fits",
			excerpt: "one\ntwo",
			limit:   report.MaxComment,
			want:    []string{"(last 2 lines)", "one\ntwo\n"},
		},
		{
			name:    "excerpt cut from the top",
			excerpt: "first line\n" + strings.Repeat(huge, 1000) + "the error at the end",
			limit:   report.MaxComment,
			want:    []string{"of 1002 lines, cut to fit the size limit", "the error at the end\n"},
		},
		{
			name:    "one long line keeps its end",
			excerpt: strings.Repeat("y", 200000) + "END",
			limit:   report.MaxComment,
			want:    []string{"last 1 of 1 lines, cut to fit", "yyyEND\n"},
		},
		{
			name:    "no room for the excerpt",
			excerpt: strings.Repeat(huge, 10),
			want:    []string{"Output of attempt 1 left out to fit the size limit"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := readRun(t, "healed")
			limit := tt.limit
			if limit == 0 {
				r.Attempts[0].Excerpt = ""
				limit = len(report.Markdown(r, report.MarkdownOptions{Key: "k"})) + 100
			}
			r.Attempts[0].Excerpt = tt.excerpt
			got := report.Markdown(r, report.MarkdownOptions{Key: "k", Limit: limit})
			if len(got) > limit {
				t.Errorf("len(Markdown) = %d, want at most %d", len(got), limit)
			}
			for _, s := range append(tt.want, facts...) {
				if !strings.Contains(got, s) {
					t.Errorf("Markdown lacks %q", s)
				}
			}
		})
	}
}

// TestMarkdown_factsOverLimit checks the last resort: facts longer than the
// limit are cut with a note, and the result still fits.
func TestMarkdown_factsOverLimit(t *testing.T) {
	t.Parallel()
	r := readRun(t, "healed")
	for i := range 5000 {
		r.Attempts[0].Fixes[0].Changed = append(r.Attempts[0].Fixes[0].Changed,
			fmt.Sprintf("deleted object number %d of a very large bucket", i))
	}
	got := report.Markdown(r, report.MarkdownOptions{})
	if len(got) > report.MaxComment {
		t.Errorf("len(Markdown) = %d, want at most %d", len(got), report.MaxComment)
	}
	if !strings.HasSuffix(got, "the JSON report has every fact._\n") {
		t.Errorf("Markdown does not end with the cut note: %q", got[len(got)-100:])
	}
}

func TestMarkdown_excerptFence(t *testing.T) {
	t.Parallel()
	got := report.Markdown(readRun(t, "unknown"), report.MarkdownOptions{})
	// The excerpt holds a ``` block, so the fence around it must be longer.
	if !strings.Contains(got, "\n````text\n") {
		t.Errorf("Markdown does not fence the excerpt with four backticks:\n%s", got)
	}
}

func TestMarker(t *testing.T) {
	t.Parallel()
	a, b := report.Marker("deploy / apply:infra/prod"), report.Marker("deploy / apply:infra/dev")
	if a == b {
		t.Errorf("Marker gives the same marker for two keys: %s", a)
	}
	if a != report.Marker("deploy / apply:infra/prod") {
		t.Errorf("Marker is not stable")
	}
	if evil := report.Marker("x --> <script>"); strings.Count(evil, "-->") != 1 {
		t.Errorf("Marker(%q) = %s, want a single closing -->", "x --> <script>", evil)
	}
}

func ExampleMarker() {
	fmt.Println(report.Marker("deploy / apply:infra/prod"))
	// Output: <!-- self-heal:sticky a254d97deb5277e3 -->
}

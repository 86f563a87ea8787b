package patterns_test

import (
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/fixers"
	"github.com/self-heal/self-heal/patterns"
	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/logscan"
	"github.com/self-heal/self-heal/pkg/pattern"
)

// The ids reports, the ledger and users' overrides refer to.
var wantIDs = map[string][]string{
	"state": {"state-lock", "s3-digest-mismatch", "inconsistent-final-plan",
		"backend-init-required", "backend-config-changed", "provider-lockfile"},
	"aws": {"vpc-dependency-violation", "sg-dependency-violation", "subnet-dependency",
		"s3-bucket-not-empty", "s3-operation-aborted", "rds-subnet-group-exists",
		"secretsmanager-scheduled-for-deletion", "log-group-already-exists",
		"iam-delete-conflict"},
	"kubernetes": {"k8s-namespace-terminating", "k8s-finalizer-stuck",
		"helm-another-operation-in-progress", "helm-no-deployed-releases", "helm-timed-out",
		"helm-invalid-ownership-metadata", "k8s-webhook-no-endpoints", "k8s-field-immutable"},
	"auth": {"aws-expired-token", "k8s-unauthorized", "ecr-auth-expired"},
	"timing": {"eventual-consistency-not-found", "iam-propagation", "acm-validation-timeout",
		"aws-throttling", "network-transient", "registry-unreachable"},
	"recovery": {"eks-nodegroups-attached", "eks-lb-blocking-vpc"},
}

// Near misses whose text is word for word a real failure: they match by
// text, and only a fixer's live check tells them apart.
var sameText = map[string]string{
	"nearmiss--05.log": "log-group-already-exists",
	"nearmiss--07.log": "iam-propagation",
	"nearmiss--14.log": "k8s-unauthorized",
}

func load(t *testing.T) *pattern.Set {
	t.Helper()
	files, err := pattern.ReadFS(patterns.FS, ".")
	if err != nil {
		t.Fatalf("read built-ins: %v", err)
	}
	// The real registry, so that fixer names and with: inputs are checked.
	reg := &fixer.Registry{}
	if err := fixers.Register(reg); err != nil {
		t.Fatalf("register fixers: %v", err)
	}
	set, err := pattern.Compile([]pattern.Layer{{Name: "builtin", Files: files}}, reg)
	if err != nil {
		t.Fatalf("compile built-ins: %v", err)
	}
	return set
}

// text builds the failure window of raw log text, as a step's output
// gets one, and prepares it for matching.
func text(t *testing.T, raw string) *pattern.Text {
	t.Helper()
	w, err := logscan.Scan(strings.NewReader(raw), logscan.Options{})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	lines := make([]string, len(w.Lines))
	for i, l := range w.Lines {
		lines[i] = l.Text
	}
	return pattern.NewText(lines)
}

func winner(t *testing.T, set *pattern.Set, raw string) (string, map[string]string) {
	t.Helper()
	r := set.Matcher().Match(text(t, raw), pattern.Query{})
	if r == nil {
		return "", nil
	}
	return r.Pattern.ID, r.Captures
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(patterns.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCatalogueIDs(t *testing.T) {
	t.Parallel()
	set := load(t)
	got := map[string][]string{}
	for _, p := range set.Patterns {
		got[p.Category] = append(got[p.Category], p.ID)
		if p.Hint == "" || p.Title == "" {
			t.Errorf("%s: built-ins need a title and a hint", p.ID)
		}
		if len(p.Examples.Match) == 0 {
			t.Errorf("%s: no example logs", p.ID)
		}
	}
	want := map[string][]string{}
	for c, ids := range wantIDs {
		want[c] = append([]string(nil), ids...)
		sort.Strings(want[c])
		sort.Strings(got[c])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pattern ids by category (-want +got):\n%s", diff)
	}
}

// TestExamples checks every pattern's examples: each match example is won
// by the pattern, and no no_match example matches it at all.
func TestExamples(t *testing.T) {
	t.Parallel()
	set := load(t)
	for _, p := range set.Patterns {
		for _, g := range p.Examples.Match {
			for _, name := range glob(t, p, g) {
				if got, _ := winner(t, set, readFile(t, name)); got != p.ID {
					t.Errorf("%s: %s is recognised as %q", p.ID, name, got)
				}
			}
		}
		for _, g := range p.Examples.NoMatch {
			for _, name := range glob(t, p, g) {
				for _, q := range set.Matcher().MatchAll(text(t, readFile(t, name)), pattern.Query{}) {
					if q.ID == p.ID {
						t.Errorf("%s: no_match example %s matches", p.ID, name)
					}
				}
			}
		}
	}
}

func glob(t *testing.T, p *pattern.Pattern, g string) []string {
	t.Helper()
	names, err := fs.Glob(patterns.FS, path.Join(p.Examples.Dir, g))
	if err != nil || len(names) == 0 {
		t.Errorf("%s: example glob %q names no file (%v)", p.ID, g, err)
	}
	return names
}

// TestTestdata checks that every real failure log is recognised as the
// class its directory names, and that near misses match nothing.
func TestTestdata(t *testing.T) {
	t.Parallel()
	set := load(t)
	dirs, err := fs.ReadDir(patterns.FS, "testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		logs, err := fs.Glob(patterns.FS, path.Join("testdata", d.Name(), "*.log"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range logs {
			want := d.Name()
			if want == "nearmiss" {
				want = sameText[path.Base(name)]
			}
			if got, _ := winner(t, set, readFile(t, name)); got != want {
				t.Errorf("%s: recognised as %q, want %q", name, got, want)
			}
		}
	}
}

// TestLint checks that lint finds no error in the catalogue. Its warnings
// (examples that a broader pattern also matches) are intended overlaps
// that priorities settle; they are logged.
func TestLint(t *testing.T) {
	t.Parallel()
	set := load(t)
	scan := func(r io.Reader) ([]string, error) {
		w, err := logscan.Scan(r, logscan.Options{})
		lines := make([]string, len(w.Lines))
		for i, l := range w.Lines {
			lines[i] = l.Text
		}
		return lines, err
	}
	for _, f := range set.Lint(scan) {
		if f.Warning {
			t.Log(f)
			continue
		}
		t.Error(f)
	}
}

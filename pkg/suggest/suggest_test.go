package suggest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/pattern"
	"github.com/self-heal/self-heal/pkg/suggest"
)

func lines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }

var widgets = []suggest.Failure{
	{Name: "a.log", Tool: "terraform", Lines: lines(`
aws_widget.main: Creating...
Error: creating Widget (wd-0a1b2c3d4e): WidgetQuotaExceeded: account 123456789012 has 50 widgets
  with aws_widget.main,
  on main.tf line 12, in resource "aws_widget" "main":`)},
	{Name: "b.log", Tool: "terraform", Lines: lines(`
aws_widget.edge: Creating...
Error: creating Widget (wd-99ffee0012): WidgetQuotaExceeded: account 210987654321 has 75 widgets
  with aws_widget.edge,
  on edge.tf line 3, in resource "aws_widget" "edge":`)},
	{Name: "c.log", Tool: "helm", Lines: lines(`
Error: UPGRADE FAILED: "payments" has no deployed releases`)},
	{Name: "d.log", Lines: lines(`
everything is fine`)},
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	sugs := suggest.Suggest(widgets, suggest.Options{IDPrefix: "new"})
	type summary struct {
		ID, Category string
		Tools        []string
		Failures     []int
		All          []string
		Captures     []string
		Apart        bool
	}
	var got []summary
	for _, s := range sugs {
		sum := summary{ID: s.Pattern.ID, Category: s.Pattern.Category, Tools: s.Pattern.When.Tools,
			Failures: s.Failures, Apart: s.Apart}
		for _, c := range s.Pattern.Match.All {
			sum.All = append(sum.All, c.String())
		}
		for _, c := range s.Pattern.Capture {
			sum.Captures = append(sum.Captures, c.Name+"="+c.Regex)
		}
		got = append(got, sum)
	}
	want := []summary{{
		ID: "new-1", Category: "aws", Tools: []string{"terraform"}, Failures: []int{0, 1}, Apart: true,
		All: []string{
			`regex:(?i)Error:\s+creating\s+Widget\s+\(\S+\):\s+WidgetQuotaExceeded:\s+account\s+\S+\s+has\s+\S+\s+widgets`,
		},
		Captures: []string{
			`id=(?i)Widget\s+\((\S+)\):`,
			`num=(?i)WidgetQuotaExceeded:\s+account\s+(\S+)\s+has`,
			`num_2=(?i)has\s+(\S+)\s+widgets`,
		},
	}, {
		ID: "new-2", Category: "kubernetes", Tools: []string{"helm"}, Failures: []int{2}, Apart: true,
		All:      []string{`regex:(?i)Error:\s+UPGRADE\s+FAILED:\s+"[^"\n]*"\s+has\s+no\s+deployed\s+releases`},
		Captures: []string{`name=(?i)UPGRADE\s+FAILED:\s+"([^"\n]*)"\s+has`},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Suggest mismatch (-want +got):\n%s", diff)
	}

	// The stub recognises a third failure of the same kind and takes
	// its values.
	data, err := pattern.Marshal([]*pattern.Pattern{sugs[0].Pattern, sugs[1].Pattern})
	if err != nil {
		t.Fatal(err)
	}
	f, err := pattern.Parse("stubs.yaml", data)
	if err != nil {
		t.Fatalf("Parse(stubs) = %v\n%s", err, data)
	}
	set, err := pattern.Compile([]pattern.Layer{{Name: "stubs", Files: []*pattern.File{f}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	third := pattern.NewText(lines("Error: creating Widget (wd-77aa00bb11): " +
		"WidgetQuotaExceeded: account 555555555555 has 9 widgets"))
	m := set.Matcher().Match(third, pattern.Query{Tool: "terraform"})
	if m == nil || m.Pattern.ID != "new-1" || m.Captures["id"] != "wd-77aa00bb11" ||
		m.Captures["num_2"] != "9" {
		t.Errorf("Match(third widget failure) = %+v, want new-1 with its id and count", m)
	}
}

func TestSuggest_nothing(t *testing.T) {
	t.Parallel()
	if got := suggest.Suggest(nil, suggest.Options{}); len(got) != 0 {
		t.Errorf("Suggest(nil) = %d suggestions, want none", len(got))
	}
	calm := []suggest.Failure{{Name: "x", Lines: []string{"all good", "done"}}}
	if got := suggest.Suggest(calm, suggest.Options{}); len(got) != 0 {
		t.Errorf("Suggest(no failure wording) = %d suggestions, want none", len(got))
	}
}

func ExampleSuggest() {
	sugs := suggest.Suggest(widgets, suggest.Options{})
	for _, s := range sugs {
		fmt.Printf("%s (%d failures): %s\n", s.Pattern.ID, len(s.Failures), strings.Join(s.Wording, " | "))
	}
	// Output:
	// suggested-1 (2 failures): Error: creating Widget (<id>): WidgetQuotaExceeded: account <num> has <num> widgets
	// suggested-2 (1 failures): Error: UPGRADE FAILED: <name> has no deployed releases
}

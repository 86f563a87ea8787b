package pattern_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/pattern"
)

func compileText(t *testing.T, text string) *pattern.Matcher {
	t.Helper()
	f := mustParse(t, "m.yaml", text)
	set, err := pattern.Compile([]pattern.Layer{{Files: []*pattern.File{f}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return set.Matcher()
}

const lockPatterns = `version: 1
patterns:
  - id: state-lock
    title: lock
    category: state
    when: {tools: [terraform], stacks: ["*", "!sandbox/*"]}
    match:
      any: ["error acquiring the state lock"]
      all: [{regex: 'ID:\s+\S+'}]
      none: ["Error releasing the state lock"]
    capture:
      lock_id: 'ID:\s+(\S+)'
  - id: generic
    title: generic
    category: timing
    priority: -1
    match:
      any: ["state lock"]
  - id: wrapped
    title: wrapped
    category: aws
    match:
      any: ["The vpc has dependencies and cannot be deleted"]
`

func TestMatcher_Match(t *testing.T) {
	t.Parallel()
	m := compileText(t, lockPatterns)
	tests := []struct {
		name     string
		lines    []string
		query    pattern.Query
		wantID   string
		wantCapt map[string]string
		wantAlso []string
	}{
		{
			name:     "literal is case-insensitive and regex captures",
			lines:    []string{"Error: Error acquiring the state lock", "", "Lock Info:", "ID: 1234-abcd"},
			wantID:   "state-lock",
			wantCapt: map[string]string{"lock_id": "1234-abcd"},
			wantAlso: []string{"generic"},
		},
		{
			name:   "none vetoes",
			lines:  []string{"Error acquiring the state lock", "ID: 1", "Error releasing the state lock"},
			wantID: "generic",
		},
		{
			name:   "scope excludes another tool",
			lines:  []string{"Error acquiring the state lock", "ID: 1"},
			query:  pattern.Query{Tool: "helm"},
			wantID: "generic",
		},
		{
			name:   "stack exclusion",
			lines:  []string{"Error acquiring the state lock", "ID: 1"},
			query:  pattern.Query{Tool: "terraform", Stack: "sandbox/a"},
			wantID: "generic",
		},
		{
			name:   "message wrapped over lines matches as one sentence",
			lines:  []string{"Error: DependencyViolation: The vpc 'vpc-1' has dependencies", "and cannot be deleted."},
			wantID: "",
		},
		{
			name:   "wrapped literal",
			lines:  []string{"DependencyViolation: The vpc has", "dependencies and cannot be deleted."},
			wantID: "wrapped",
		},
		{
			name:   "nothing",
			lines:  []string{"all good"},
			wantID: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := m.Match(pattern.NewText(tt.lines), tt.query)
			got := ""
			if res != nil {
				got = res.Pattern.ID
			}
			if got != tt.wantID {
				t.Fatalf("Match() = %q, want %q", got, tt.wantID)
			}
			if res == nil {
				return
			}
			if tt.wantCapt != nil {
				if diff := cmp.Diff(tt.wantCapt, res.Captures); diff != "" {
					t.Errorf("Captures (-want +got):\n%s", diff)
				}
			}
			var also []string
			for _, a := range res.Also {
				also = append(also, a.ID)
			}
			if diff := cmp.Diff(tt.wantAlso, also); diff != "" {
				t.Errorf("Also (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMatcher_lines(t *testing.T) {
	t.Parallel()
	m := compileText(t, lockPatterns)
	res := m.Match(pattern.NewText([]string{"x", "Error acquiring the state lock", "y", "ID: 9"}), pattern.Query{})
	if diff := cmp.Diff([]int{1, 3}, res.Lines); diff != "" {
		t.Errorf("Lines (-want +got):\n%s", diff)
	}
}

func TestRequiredLiterals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		want []string
	}{
		{`ID:\s+(\S+)`, []string{"id:"}},
		{`api error (DependencyViolation|x)`, []string{"api error dependencyviolation", "api error x"}},
		{`(?i)expired`, []string{"expired"}},
		{`(?i)token`, []string{"token", "to\u212aen"}},
		{`(?m)^ID:[ \t]+\S+`, []string{"id:"}},
		{`(?:EC2 )?subnet[^\n]*timeout`, []string{"timeout"}},
		{`(?i)deleting (?:EC2 )?subnet`, []string{
			"deleting ec2 subnet", "deleting ec2 \u017fubnet", "deleting subnet", "deleting \u017fubnet",
		}},
		{`(UPGRADE|INSTALLATION) FAILED: (?:[^\n]*: )?context`, []string{"installation failed: ", "upgrade failed: "}},
		{`[a-z]+`, nil},
		{`.*`, nil},
		{`a|.*`, nil},
		{`(`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, pattern.RequiredLiterals(tt.expr)); diff != "" {
				t.Errorf("RequiredLiterals(%q) (-want +got):\n%s", tt.expr, diff)
			}
		})
	}
}

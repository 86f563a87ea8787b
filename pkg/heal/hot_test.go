package heal_test

import (
	"strings"
	"testing"

	"github.com/self-heal/self-heal/pkg/heal"
	"github.com/self-heal/self-heal/pkg/logscan"
	"github.com/self-heal/self-heal/pkg/pattern"
)

// TestHotLines checks that a line holding a pattern's literal stays in
// the failure window when the step prints much more after it, although no
// error word marks it.
func TestHotLines(t *testing.T) {
	t.Parallel()
	f, err := pattern.Parse("p.yaml", []byte(`version: 1
patterns:
  - id: table-busy
    title: table busy
    category: aws
    match:
      any: ["ResourceInUse: The table is currently being modified"]
`))
	if err != nil {
		t.Fatal(err)
	}
	set, err := pattern.Compile([]pattern.Layer{{Files: []*pattern.File{f}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := "aws_dynamodb_table.t: ResourceInUse: The table is currently being modified\n" +
		strings.Repeat("aws_instance.web: Still creating... [10s elapsed]\n", 10000)

	tests := []struct {
		name string
		hot  func([]byte) bool
		want string
	}{
		{"default hot words", nil, ""},
		{"with the patterns' literals", heal.HotLines(set.Matcher()), "table-busy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := logscan.Scan(strings.NewReader(log), logscan.Options{Hot: tt.hot})
			if err != nil {
				t.Fatal(err)
			}
			lines := make([]string, len(w.Lines))
			for i, l := range w.Lines {
				lines[i] = l.Text
			}
			got := ""
			if m := set.Matcher().Match(pattern.NewText(lines), pattern.Query{}); m != nil {
				got = m.Pattern.ID
			}
			if got != tt.want {
				t.Errorf("Match() = %q, want %q", got, tt.want)
			}
		})
	}
}

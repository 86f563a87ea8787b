package pattern_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/pattern"
)

// stubFixer is a registered fixer for loading tests; it is never run.
// With need set, it has a required input of that name.
type stubFixer struct{ name, need string }

func (s stubFixer) Name() string         { return s.name }
func (s stubFixer) Safety() fixer.Safety { return fixer.Disruptive }
func (s stubFixer) Describe() string     { return "test fixer" }
func (s stubFixer) Inputs() []fixer.Input {
	in := []fixer.Input{{Name: "max_age", Type: fixer.Duration}}
	if s.need != "" {
		in = append(in, fixer.Input{Name: s.need, Type: fixer.String, Required: true})
	}
	return in
}
func (s stubFixer) Check(context.Context, fixer.Request) (fixer.Plan, error) {
	return fixer.Plan{}, nil
}
func (s stubFixer) Apply(context.Context, fixer.Request) (fixer.Result, error) {
	return fixer.Result{}, nil
}

func testRegistry(t *testing.T) *fixer.Registry {
	t.Helper()
	reg := &fixer.Registry{}
	reg.MustRegister(stubFixer{name: "test.unlock"}, "_test_unlock")
	reg.MustRegister(stubFixer{name: "test.release", need: "lock_id"})
	return reg
}

func load(t *testing.T, name string) (*pattern.Set, error) {
	t.Helper()
	f, err := pattern.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		return nil, err
	}
	return pattern.Compile([]pattern.Layer{{Name: "test", Files: []*pattern.File{f}}}, testRegistry(t))
}

func TestParse_errorsCarryPositions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string
	}{
		{"invalid-unknown-key.yaml", []string{
			`testdata/invalid-unknown-key.yaml:6:5: patterns[0]: unknown key "matches" (did you mean "match"?)`,
		}},
		{"invalid-bad-regex.yaml", []string{
			`testdata/invalid-bad-regex.yaml:9:18: a.match.any[1]: invalid regular expression: ` +
				"missing closing ) in `ID:(\\S+`",
		}},
		{"invalid-many.yaml", []string{
			`patterns[0].retry.attempts: expected a whole number, got "many"`,
			`patterns[0].retry.jitter: expected a fraction from 0 to 1, got 2`,
			`testdata/invalid-many.yaml:3:9: patterns[0].id: id "Bad_Id" must be lower-case letters, digits and dashes`,
			`testdata/invalid-many.yaml:5:15: patterns[0].category: unknown category "stat" (did you mean "state"?)`,
			`testdata/invalid-many.yaml:9:5: patterns[1]: missing required key "id"`,
		}},
		{"invalid-stack-glob.yaml", []string{
			`testdata/invalid-stack-glob.yaml:7:26: patterns[0].when.stacks[1]: invalid glob "![sandbox": ` +
				`syntax error in pattern`,
		}},
		{"invalid-with.yaml", []string{
			`testdata/invalid-with.yaml:10:31: a.fixes.test.unlock.with.max_aeg: fixer test.unlock has no ` +
				`input "max_aeg" (did you mean "max_age"?)`,
			`testdata/invalid-with.yaml:10:16: a.fixes.test.unlock.with.max_age: input max_age: ` +
				`want duration, got "soon"`,
		}},
		{"invalid-unknown-fixer.yaml", []string{
			`testdata/invalid-unknown-fixer.yaml:9:14: a.fixes: unknown fixer "test.unlok" ` +
				`(did you mean "test.unlock"?)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tt.file)
			if err == nil {
				t.Fatalf("load(%s) = nil error, want %d problems", tt.file, len(tt.want))
			}
			got := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("load(%s) error =\n%s\nwant it to contain\n%s", tt.file, got, w)
				}
			}
			var pe *pattern.Error
			if !errors.As(err, &pe) || pe.Pos.Line == 0 {
				t.Errorf("load(%s): error has no position: %v", tt.file, err)
			}
		})
	}
}

func TestParse_valid(t *testing.T) {
	t.Parallel()
	set, err := load(t, "valid-basic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := set.Lookup("state-lock")
	if p == nil {
		t.Fatal("pattern state-lock not loaded")
	}
	want := pattern.Retry{Attempts: 2, Initial: time.Second, Max: 4 * time.Second, Jitter: 0.1, Budget: time.Minute}
	if diff := cmp.Diff(want, p.Retry); diff != "" {
		t.Errorf("Retry (-want +got):\n%s", diff)
	}
	if got := p.Decision(); got != pattern.FixThenRetry {
		t.Errorf("Decision() = %v, want fix then retry", got)
	}
	if p.Hash == "" || p.Pos.Line != 3 {
		t.Errorf("Hash = %q, Pos = %v; want a hash and line 3", p.Hash, p.Pos)
	}
}

func TestParse_legacyConverts(t *testing.T) {
	t.Parallel()
	f, err := pattern.ReadFile(filepath.Join("testdata", "legacy-converge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0], "converge format is deprecated") ||
		!strings.Contains(f.Warnings[0], "use: _test_unlock") {
		t.Fatalf("Warnings = %q, want one deprecation showing the converted entry", f.Warnings)
	}
	set, err := pattern.Compile([]pattern.Layer{{Files: []*pattern.File{f}}}, testRegistry(t))
	if err != nil {
		t.Fatal(err)
	}
	p := set.Patterns[0]
	if p.Fixes[0].Use != "test.unlock" || p.Fixes[0].As != "_test_unlock" {
		t.Errorf("fix = %+v, want the alias resolved to test.unlock", p.Fixes[0])
	}
	if p.Retry.Attempts != 5 || p.Retry.Initial != 2*time.Second {
		t.Errorf("Retry = %+v, want 5 attempts from 2s", p.Retry)
	}
	if got := p.Match.Any[1].Regex; got != "Lock Info:.*ID:" {
		t.Errorf("second error = %q, want it kept as a regex", got)
	}
}

func TestCompile_overrideAndDisable(t *testing.T) {
	t.Parallel()
	builtin := mustParse(t, "builtin.yaml", `version: 1
patterns:
  - {id: a, title: A, category: state, match: {any: [alpha]}}
  - {id: b, title: B, category: state, match: {any: [beta]}}
`)
	for _, p := range builtin.Patterns {
		p.Builtin = true
	}
	repo := mustParse(t, "repo.yaml", `version: 1
patterns:
  - {id: a, title: A2, category: state, match: {any: [gamma]}}
  - {id: b, disabled: true}
`)
	set, err := pattern.Compile([]pattern.Layer{{Files: []*pattern.File{builtin}}, {Files: []*pattern.File{repo}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Patterns) != 1 || set.Patterns[0].Title != "A2" || set.Patterns[0].Replaces == "" {
		t.Fatalf("patterns = %+v, want only the replaced a", set.Patterns)
	}
	if len(set.Warnings) != 2 || !strings.Contains(set.Warnings[0], "replaces the one from builtin:builtin.yaml") ||
		!strings.Contains(set.Warnings[1], "disables the one from builtin:builtin.yaml") {
		t.Errorf("Warnings = %q", set.Warnings)
	}
}

func TestCompile_duplicateInOneLayer(t *testing.T) {
	t.Parallel()
	f := mustParse(t, "dup.yaml", `version: 1
patterns:
  - {id: a, title: A, category: state, match: {any: [x]}}
  - {id: a, title: A, category: state, match: {any: [y]}}
`)
	_, err := pattern.Compile([]pattern.Layer{{Files: []*pattern.File{f}}}, nil)
	want := `dup.yaml:4:5: pattern id "a" is already defined at dup.yaml:3:5`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Compile error = %v, want a duplicate id with both positions", err)
	}
}

func mustParse(t *testing.T, name, text string) *pattern.File {
	t.Helper()
	f, err := pattern.Parse(name, []byte(text))
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return f
}

func TestParse_yamlSyntaxError(t *testing.T) {
	t.Parallel()
	_, err := pattern.Parse("broken.yaml", []byte("version: 1\npatterns:\n  - id: [unclosed\n"))
	var pe *pattern.Error
	if !errors.As(err, &pe) || pe.Pos.File != "broken.yaml" || pe.Pos.Line == 0 {
		t.Fatalf("Parse error = %v, want a positioned *pattern.Error", err)
	}
}

package cmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/self-heal/self-heal/fixers"
	"github.com/self-heal/self-heal/patterns"
	"github.com/self-heal/self-heal/pkg/ci"
	"github.com/self-heal/self-heal/pkg/cmd"
	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/ledger"
)

// cli runs the command line in dir with environ and returns the exit
// code, stdout and stderr.
func cli(t *testing.T, dir string, environ []string, args ...string) (int, string, string) {
	t.Helper()
	reg := &fixer.Registry{}
	if err := fixers.Register(reg); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	env := &cmd.Env{
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Environ: append([]string{"PATH=" + os.Getenv("PATH")}, environ...), Dir: dir,
		Builtins: patterns.FS, Registry: reg, Platform: ci.Local{}, Version: "test",
	}
	code := cmd.Main(context.Background(), args, env)
	return code, stdout.String(), stderr.String()
}

// unknownStep fails with wording no pattern knows, printing the token.
const unknownStep = `echo "Error: frobnicating gizmo gz-0a1b2c3d4e failed: GizmoJammed (token $DEPLOY_TOKEN)"; exit 3`

func records(t *testing.T, dir string) []*ledger.Record {
	t.Helper()
	var out []*ledger.Record
	problems, err := ledger.NewLocal(dir).Walk(context.Background(), time.Time{},
		func(r *ledger.Record) error {
			out = append(out, r)
			return nil
		})
	if err != nil || len(problems) > 0 {
		t.Fatalf("read ledger: %v %v", problems, err)
	}
	return out
}

func TestRun_ledger(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	environ := []string{"DEPLOY_TOKEN=" + secret}

	// Two runs of an unknown failure, recorded in the default ledger.
	for range 2 {
		code, _, stderr := cli(t, dir, environ, "run", "--", "sh", "-c", unknownStep)
		if code != 3 || strings.Contains(stderr, "warning") {
			t.Fatalf("run = %d, want the step's 3 and no warning\n%s", code, stderr)
		}
	}
	recs := records(t, filepath.Join(dir, ".self-heal", "ledger"))
	if len(recs) != 2 {
		t.Fatalf("ledger holds %d records, want 2", len(recs))
	}
	r := recs[0]
	if r.Outcome != "failed" || r.ExitCode != 3 || !r.Attempts[0].Unknown() ||
		!strings.Contains(r.Attempts[0].Window, "GizmoJammed") || r.CI != "local" {
		t.Errorf("record = %+v, want a failed run with its unknown failure window", r)
	}
	raw, _ := json.Marshal(recs)
	if strings.Contains(string(raw), secret) {
		t.Errorf("the ledger holds the secret: %s", raw)
	}

	code, out, _ := cli(t, dir, environ, "stats", "--format", "json")
	var sum ledger.Summary
	if err := json.Unmarshal([]byte(out), &sum); code != 0 || err != nil {
		t.Fatalf("stats = %d, %v\n%s", code, err, out)
	}
	if sum.Totals != (ledger.Totals{Runs: 2, Failed: 2, Unknown: 2}) {
		t.Errorf("stats totals = %+v, want 2 failed runs with unknown failures", sum.Totals)
	}

	code, _, stderr := cli(t, dir, environ, "stats", "--ledger", "typo", "--format", "json")
	if code != 0 || !strings.Contains(stderr, filepath.Join(dir, "typo")+" does not exist") {
		t.Errorf("stats of a missing ledger = %d, want 0 and a warning naming it\n%s", code, stderr)
	}

	code, out, stderr = cli(t, dir, environ, "suggest")
	if code != 0 || !strings.Contains(out, "id: suggested-1") || !strings.Contains(out, "GizmoJammed") ||
		strings.Contains(out, secret) {
		t.Errorf("suggest = %d, want one stub on the failure's wording without the secret\n%s%s",
			code, out, stderr)
	}
}

func TestRun_ledgerChoice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		environ []string
		args    []string
		want    string // the directory that gets the record, "" for none
	}{
		{name: "flag", args: []string{"--ledger", "runs"}, want: "runs"},
		{name: "variable", environ: []string{"SELF_HEAL_LEDGER=from-env"}, want: "from-env"},
		{name: "flag beats variable", environ: []string{"SELF_HEAL_LEDGER=from-env"},
			args: []string{"--ledger", "runs"}, want: "runs"},
		{name: "off", args: []string{"--ledger", "off"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := append(append([]string{"run"}, tt.args...), "--", "true")
			if code, _, stderr := cli(t, dir, tt.environ, args...); code != 0 {
				t.Fatalf("run = %d\n%s", code, stderr)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*", "date=*", "*.json"))
			files2, _ := filepath.Glob(filepath.Join(dir, ".self-heal", "ledger", "date=*", "*.json"))
			files = append(files, files2...)
			switch {
			case tt.want == "" && len(files) != 0:
				t.Errorf("records written: %v, want none", files)
			case tt.want != "" && (len(files) != 1 || !strings.HasPrefix(files[0], filepath.Join(dir, tt.want))):
				t.Errorf("records written: %v, want one under %s", files, tt.want)
			}
		})
	}
}

func TestRun_ledgerFailureWarns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(blocker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	environ := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_TIMEOUT=500"}
	code, _, stderr := cli(t, dir, environ, "run", "--ledger", blocker, "--", "sh", "-c", "exit 5")
	if code != 5 {
		t.Errorf("run = %d, want the step's own 5 despite the ledger", code)
	}
	for _, want := range []string{"warning: ledger:", "warning: metrics:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// TestUsageErrors: bad arguments of the reporting commands exit 2 and name
// what was wrong.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"stats", "--format", "yaml"}, "--format"},
		{[]string{"stats", "--since", "last tuesday"}, "--since"},
		{[]string{"stats", "--minutes-per-intervention", "0"}, "must be positive"},
		{[]string{"stats", "--minutes-per-intervention", "NaN"}, "must be positive"},
		{[]string{"stats", "--minutes-per-intervention", "+Inf"}, "must be positive"},
		{[]string{"stats", "--ledger", "gs://x"}, "unknown scheme"},
		{[]string{"fixers", "terraform.unlock"}, `did you mean "terraform.force-unlock"?`},
		{[]string{"fixers", "a", "b"}, "accepts at most 1 arg"},
	}
	for _, tt := range tests {
		code, _, stderr := cli(t, t.TempDir(), nil, tt.args...)
		if code != cmd.ExitError || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v = %d %q, want exit 2 naming %s", tt.args, code, stderr, tt.want)
		}
	}
}

// TestSuggest_logs changes to its directory: the pattern commands open
// files relative to the process's directory.
func TestSuggest_logs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for i, id := range []string{"gz-0a1b2c3d4e", "gz-99ffee0011", "gz-77aa00bb22"} {
		log := "Error: frobnicating gizmo " + id + " failed: GizmoJammed\n"
		if err := os.WriteFile(filepath.Join(dir, "f"+string(rune('1'+i))+".log"), []byte(log), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, _, stderr := cli(t, dir, nil, "suggest", "--out", "new", "f1.log", "f2.log", "f3.log")
	if code != 0 {
		t.Fatalf("suggest = %d\n%s", code, stderr)
	}
	stubs := filepath.Join(dir, "new", "suggested.yaml")
	examples, _ := filepath.Glob(filepath.Join(dir, "new", "testdata", "suggested-1", "*.log"))
	if len(examples) != 3 {
		t.Errorf("examples saved: %v, want the 3 logs", examples)
	}

	// The stub file passes lint and its examples pass.
	for _, sub := range []string{"lint", "test"} {
		code, out, stderr := cli(t, dir, nil, "patterns", sub, stubs)
		if code != 0 {
			t.Errorf("patterns %s = %d\n%s%s", sub, code, out, stderr)
		}
	}
}

//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/self-heal/self-heal/e2e/harness"
	"github.com/self-heal/self-heal/pkg/ledger"
	"github.com/self-heal/self-heal/pkg/report"
)

// gizmoPatterns knows one flaky failure, healed by waiting and re-running.
const gizmoPatterns = `version: 1
patterns:
  - id: gizmo-flaky
    title: The gizmo service flakes now and then
    category: timing
    hint: Re-run the step; the gizmo service recovers.
    match: {any: ["GizmoFlaky"]}
    fixes: [{use: wait.backoff}]
    retry: {attempts: 2, initial: 0s, max: 0s}
`

// The three steps: one that fails once with the known flake, one that
// always does, and one that fails with wording no pattern knows.
const (
	flakesOnce = `if [ -f once ]; then echo gizmo ok; else touch once; ` +
		`echo "Error: calling gizmo: GizmoFlaky: try again" >&2; exit 4; fi`
	alwaysFlaky = `echo "Error: calling gizmo: GizmoFlaky: try again" >&2; exit 4`
	unknownFail = `echo "Error: stripping sprocket sp-0a1b2c3d4e: SprocketStripped: ` +
		`thread worn in /srv/sprockets/17 (secret $AWS_SECRET_ACCESS_KEY)" >&2; exit 6`
)

// selfHeal runs the binary in dir with env and returns its exit code and
// output.
func selfHeal(t *testing.T, bin, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		t.Fatalf("run self-heal %v: %v\n%s", args, err, stderr.String())
	}
	return 0, stdout.String(), stderr.String()
}

// TestLedger_runsStatsSuggest records a healed, a refused and an unknown
// run in a local ledger and in one on S3 (moto), then reads each with
// stats and suggest.
func TestLedger_runsStatsSuggest(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	endpoint := harness.StartMoto(t)
	if err := harness.NewAWS(endpoint).CreateBucket(context.Background(), "fleet-ledger"); err != nil {
		t.Fatal(err)
	}
	for _, url := range []string{"", "s3://fleet-ledger/self-heal"} {
		name := "local"
		if url != "" {
			name = "s3"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			env := harness.TerraformEnv(t, endpoint)
			if url != "" {
				env = append(env, "SELF_HEAL_LEDGER="+url)
			}
			recordThreeRuns(t, bin, dir, env)
			checkStats(t, bin, dir, env)
			checkSuggest(t, bin, dir, env)
			if url == "" {
				recs, _ := filepath.Glob(filepath.Join(dir, ".self-heal", "ledger", "date=*", "*.json"))
				if len(recs) != 3 {
					t.Errorf("local ledger holds %d files, want one per run", len(recs))
				}
			}
		})
	}
}

func recordThreeRuns(t *testing.T, bin, dir string, env []string) {
	t.Helper()
	pats := filepath.Join(dir, "gizmo.yaml")
	if err := os.WriteFile(pats, []byte(gizmoPatterns), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := []struct {
		name string
		args []string
		exit int
	}{
		{"healed", []string{"--patterns", pats, "--", "sh", "-c", flakesOnce}, 0},
		{"refused", []string{"--patterns", pats, "--allow", "destructive", "--", "sh", "-c", alwaysFlaky}, 4},
		{"unknown", []string{"--patterns", pats, "--", "sh", "-c", unknownFail}, 6},
	}
	for _, r := range runs {
		code, _, stderr := selfHeal(t, bin, dir, env, append([]string{"run"}, r.args...)...)
		if code != r.exit || strings.Contains(stderr, "warning: ledger") {
			t.Fatalf("%s run = exit %d, want %d and no ledger warning\n%s", r.name, code, r.exit, stderr)
		}
	}
}

func checkStats(t *testing.T, bin, dir string, env []string) {
	t.Helper()
	code, out, stderr := selfHeal(t, bin, dir, env, "stats", "--format", "json")
	var sum ledger.Summary
	if err := json.Unmarshal([]byte(out), &sum); code != 0 || err != nil {
		t.Fatalf("stats = %d, %v\n%s%s", code, err, out, stderr)
	}
	if want := (ledger.Totals{Runs: 3, Failed: 3, Healed: 1, Unknown: 1}); sum.Totals != want {
		t.Errorf("stats totals = %+v, want %+v", sum.Totals, want)
	}
	if len(sum.Patterns) != 1 || sum.Patterns[0].Name != "gizmo-flaky" || sum.Patterns[0].Runs != 2 ||
		sum.Patterns[0].Heals != 1 || sum.Patterns[0].Refusals["allow"] != 1 {
		t.Errorf("stats patterns = %+v, want gizmo-flaky: 2 runs, 1 heal, 1 refusal by --allow",
			sum.Patterns)
	}
	if len(sum.Fixers) != 1 || sum.Fixers[0].Name != "wait.backoff" || sum.Fixers[0].Heals != 1 {
		t.Errorf("stats fixers = %+v, want wait.backoff with 1 heal", sum.Fixers)
	}

	code, out, _ = selfHeal(t, bin, dir, env, "stats", "--format", "markdown", "--pattern", "gizmo-flaky")
	for _, want := range []string{"2 runs, 2 failed, 1 healed automatically", "```mermaid", "`gizmo-flaky`"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("stats --format markdown = %d, lacks %q:\n%s", code, want, out)
		}
	}
}

func checkSuggest(t *testing.T, bin, dir string, env []string) {
	t.Helper()
	code, out, stderr := selfHeal(t, bin, dir, env, "suggest")
	if code != 0 || strings.Count(out, "- id: suggested-") != 1 || !strings.Contains(out, "SprocketStripped") {
		t.Fatalf("suggest = %d, want one stub on the unknown failure:\n%s%s", code, out, stderr)
	}
	if strings.Contains(out, "e2e-fake-secret-access-key") || strings.Contains(out, "GizmoFlaky") {
		t.Errorf("suggest printed a secret or a known failure:\n%s", out)
	}

	// Saved with its example, the stub passes lint and its example test,
	// and recognises the failure the next time.
	code, _, stderr = selfHeal(t, bin, dir, env, "suggest", "--out", "new")
	if code != 0 {
		t.Fatalf("suggest --out = %d\n%s", code, stderr)
	}
	stubs := filepath.Join("new", "suggested.yaml")
	for _, sub := range []string{"lint", "test"} {
		if code, out, stderr := selfHeal(t, bin, dir, env, "patterns", sub, stubs); code != 0 {
			t.Errorf("patterns %s %s = %d\n%s%s", sub, stubs, code, out, stderr)
		}
	}
	code, _, stderr = selfHeal(t, bin, dir, env, "run", "--ledger", "off", "--patterns", stubs,
		"--", "sh", "-c", strings.ReplaceAll(unknownFail, "sp-0a1b2c3d4e", "sp-99aa88bb77"))
	if code != 6 || !strings.Contains(stderr, "recognised suggested-1") {
		t.Errorf("run with the stub = %d, want the step's 6, recognised by suggested-1:\n%s", code, stderr)
	}
}

// TestLedger_S3Store writes records under an S3 prefix on moto and reads
// them back, skipping a bad object and whole days before since.
func TestLedger_S3Store(t *testing.T) {
	endpoint := harness.StartMoto(t)
	a := harness.NewAWS(endpoint)
	ctx := context.Background()
	if err := a.CreateBucket(ctx, "ledger"); err != nil {
		t.Fatal(err)
	}
	store, err := ledger.Open(ctx, "s3://ledger/fleet/prod", "", harness.TerraformEnv(t, endpoint))
	if err != nil {
		t.Fatal(err)
	}

	days := []time.Time{
		time.Date(2026, 2, 1, 23, 59, 0, 0, time.UTC),
		time.Date(2026, 2, 2, 0, 1, 0, 0, time.UTC),
		time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC),
	}
	var ids []string
	for _, d := range days {
		r := &ledger.Record{Schema: ledger.SchemaVersion, ID: ledger.NewID(d), Time: d,
			Command: "terraform apply", Outcome: report.Healed, Attempts: []ledger.Attempt{{Number: 1}}}
		if err := store.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	_, err = a.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("ledger"),
		Key: aws.String("fleet/prod/date=2026-02-02/broken.json"), Body: strings.NewReader("{oops")})
	if err != nil {
		t.Fatal(err)
	}

	keys := objectKeys(t, a, "ledger", "fleet/prod/")
	wantKeys := []string{
		"fleet/prod/date=2026-02-01/" + ids[0] + ".json",
		"fleet/prod/date=2026-02-02/" + ids[1] + ".json",
		"fleet/prod/date=2026-02-02/" + ids[2] + ".json",
		"fleet/prod/date=2026-02-02/broken.json",
	}
	if strings.Join(keys, "\n") != strings.Join(wantKeys, "\n") {
		t.Errorf("objects = %v, want one per run under date= prefixes: %v", keys, wantKeys)
	}

	got, problems := walkIDs(t, store, time.Time{})
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("Walk = %v, want %v", got, ids)
	}
	if len(problems) != 1 || !strings.HasSuffix(problems[0].Name, "broken.json") {
		t.Errorf("Walk problems = %v, want the broken object", problems)
	}
	got, _ = walkIDs(t, store, days[1])
	if strings.Join(got, ",") != strings.Join(ids[1:], ",") {
		t.Errorf("Walk(since) = %v, want %v", got, ids[1:])
	}
}

func objectKeys(t *testing.T, a *harness.AWS, bucket, prefix string) []string {
	t.Helper()
	out, err := a.S3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	sort.Strings(keys)
	return keys
}

func walkIDs(t *testing.T, s ledger.Store, since time.Time) ([]string, []ledger.Problem) {
	t.Helper()
	var ids []string
	problems, err := s.Walk(context.Background(), since, func(r *ledger.Record) error {
		ids = append(ids, r.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(ids)
	return ids, problems
}

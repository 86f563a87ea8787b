package ledger_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/self-heal/self-heal/pkg/ledger"
	"github.com/self-heal/self-heal/pkg/report"
)

// benchRecords is the ledger size the stats command must read in under
// two seconds on one core.
const benchRecords = 100_000

// synthetic returns the i-th record of a year of runs over 40 stacks:
// 70% pass first time, 20% heal with one of six patterns, 10% fail, half
// of them unknown with a failure window of about 1 KiB.
func synthetic(rng *rand.Rand, i int) *ledger.Record {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	t := start.Add(time.Duration(i) * 365 * 24 * time.Hour / benchRecords)
	r := &ledger.Record{
		Schema: ledger.SchemaVersion, ID: fmt.Sprintf("%s-%016x", t.Format("20060102T150405.000Z"), i),
		Time: t, Repository: fmt.Sprintf("acme/repo-%d", i%7), CI: "github", Job: "apply",
		RunURL: fmt.Sprintf("https://ci.example/acme/runs/%d", i), Commit: fmt.Sprintf("%040x", i),
		Stack: fmt.Sprintf("stack-%d", i%40), Tool: "terraform", Goal: "apply",
		Command: "terraform apply -auto-approve -input=false", DurationMS: 60_000,
		Attempts: []ledger.Attempt{{Number: 1, DurationMS: 60_000}},
	}
	patterns := []string{"state-lock", "aws-throttling", "iam-propagation", "network-transient",
		"helm-timed-out", "vpc-dependency-violation"}
	fixers := []string{"terraform.force-unlock", "wait.backoff", "wait.backoff", "wait.backoff",
		"helm.recover-release", "aws.delete-vpc-dependencies"}
	switch n := rng.IntN(10); {
	case n < 7:
		r.Outcome = report.Succeeded
	case n < 9:
		k := rng.IntN(len(patterns))
		r.Outcome, r.TimeToGreenMS = report.Healed, int64(rng.IntN(600_000))
		r.Attempts = []ledger.Attempt{
			{Number: 1, ExitCode: 1, DurationMS: 30_000, Fingerprint: fmt.Sprintf("%016x", k),
				Pattern: patterns[k], PatternHash: "3f2a9c", Fixes: []ledger.Fix{{
					Fixer: fixers[k], Safety: "safe", Outcome: ledger.FixApplied,
					Changed: []string{"removed the lock of run 1234"}, DurationMS: 900}}},
			{Number: 2, DurationMS: 60_000},
		}
	default:
		r.Outcome, r.ExitCode, r.StopReason = report.Failed, 1, "no pattern recognised the failure"
		r.Attempts = []ledger.Attempt{{Number: 1, ExitCode: 1, DurationMS: 20_000,
			Fingerprint: fmt.Sprintf("%016x", i%97),
			Window:      strings.Repeat("Error: something went wrong in module.x.aws_thing.y\n", 20)}}
	}
	return r
}

// BenchmarkStats_local reads a local ledger of 100,000 runs and computes
// the stats, as `self-heal stats` does. It reports the CPU time of one
// pass besides the wall time, which other load on the machine inflates.
// Run it on one core:
//
//	go test -run '^$' -bench Stats_local -cpu 1 -benchtime 3x ./pkg/ledger
func BenchmarkStats_local(b *testing.B) {
	dir := b.TempDir()
	writeSynthetic(b, dir)
	store := ledger.NewLocal(dir)
	ctx := context.Background()

	cpu := cpuTime()
	b.ResetTimer()
	for range b.N {
		s := ledger.NewStats(0)
		n := 0
		problems, err := store.Walk(ctx, time.Time{}, func(r *ledger.Record) error {
			n++
			s.Add(r)
			return nil
		})
		if err != nil || len(problems) > 0 || n != benchRecords {
			b.Fatalf("Walk read %d records, %v, %v", n, problems, err)
		}
		if sum := s.Summary(); sum.Totals.Runs != benchRecords {
			b.Fatalf("Summary counted %d runs", sum.Totals.Runs)
		}
	}
	b.StopTimer()
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(benchRecords)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// writeSynthetic lays out the records as the local store does, without
// its temporary files, to keep the setup short.
func writeSynthetic(b *testing.B, dir string) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range benchRecords {
		r := synthetic(rng, i)
		data, err := ledger.Encode(r)
		if err != nil {
			b.Fatal(err)
		}
		day := filepath.Join(dir, "date="+r.Time.Format(time.DateOnly))
		if err := os.MkdirAll(day, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(day, r.ID+".json"), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

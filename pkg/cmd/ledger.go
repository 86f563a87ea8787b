package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/self-heal/self-heal/pkg/ledger"
	"github.com/self-heal/self-heal/pkg/redact"
	"github.com/self-heal/self-heal/pkg/report"
)

// LedgerEnv names the variable that chooses the ledger when --ledger is
// not given.
const LedgerEnv = "SELF_HEAL_LEDGER"

// ledgerOff is the --ledger value that records nothing.
const ledgerOff = "off"

// ledgerTimeout bounds writing one record and exporting its metrics.
const ledgerTimeout = 30 * time.Second

// ledgerFlags choose where runs are recorded.
type ledgerFlags struct {
	url string
}

func (f *ledgerFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.url, "ledger", "", "where runs are recorded: a directory or s3://bucket/prefix; "+
		`"off" records nothing (default: $`+LedgerEnv+", else "+ledger.DefaultDir+")")
}

// ledgerURL is the ledger the flag, else SELF_HEAL_LEDGER, else the
// default directory names.
func ledgerURL(env *Env, flag string) string {
	if flag != "" {
		return flag
	}
	return env.Getenv(LedgerEnv)
}

// openLedger opens the store a --ledger value names, relative to the
// working directory.
func openLedger(ctx context.Context, env *Env, flag string) (ledger.Store, error) {
	return ledger.Open(ctx, ledgerURL(env, flag), env.Dir, env.Environ)
}

// recordRun appends the run to the ledger and, when the OTEL_* variables
// configure an exporter, sends its metrics. The command, failure windows
// and fix texts pass through the redactor. Failures here are warnings;
// they never change the exit code.
func recordRun(ctx context.Context, env *Env, f *ledgerFlags, run *report.Run, red *redact.Redactor) {
	if ledgerURL(env, f.url) == ledgerOff {
		return
	}
	var mask func(string) string
	if red != nil {
		mask = red.String
	}
	rec := ledger.FromRun(run, env.Platform.Info(), mask)
	ctx, cancel := context.WithTimeout(ctx, ledgerTimeout)
	defer cancel()

	if err := putRecord(ctx, env, f.url, rec); err != nil {
		fmt.Fprintf(env.Stderr, "self-heal: warning: ledger: %v\n", err)
	}
	cfg, ok, err := ledger.MetricsFromEnv(env.Environ)
	if err == nil && ok {
		err = ledger.ExportMetrics(ctx, cfg, rec)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "self-heal: warning: metrics: %v\n", err)
	}
}

func putRecord(ctx context.Context, env *Env, flag string, rec *ledger.Record) error {
	store, err := openLedger(ctx, env, flag)
	if err != nil {
		return err
	}
	return store.Put(ctx, rec)
}

// warnProblems prints the records a walk skipped, at most ten of them.
func warnProblems(env *Env, problems []ledger.Problem) {
	const shown = 10
	for i, p := range problems {
		if i == shown {
			fmt.Fprintf(env.Stderr, "self-heal: warning: ledger: %d more bad records skipped\n",
				len(problems)-shown)
			return
		}
		fmt.Fprintf(env.Stderr, "self-heal: warning: ledger: skipped bad record %v\n", p)
	}
}

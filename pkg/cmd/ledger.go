package cmd

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/self-heal/self-heal/pkg/redact"
	"github.com/self-heal/self-heal/pkg/report"
)

// ledgerFlags choose where runs are recorded.
type ledgerFlags struct{}

func (f *ledgerFlags) register(*pflag.FlagSet) {}

// recordRun appends the run to the ledger. Failures here are warnings;
// they never change the exit code.
func recordRun(context.Context, *Env, *ledgerFlags, *report.Run, *redact.Redactor) {}

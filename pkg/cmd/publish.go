package cmd

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/self-heal/self-heal/pkg/redact"
	"github.com/self-heal/self-heal/pkg/report"
)

// publishFlags control what a run shows on its CI platform.
type publishFlags struct{}

func (f *publishFlags) register(*pflag.FlagSet) {}

// publishRun shows the run's report on the CI platform: summary,
// annotations, outputs and the sticky comment. Failures here are warnings;
// they never change the exit code.
func publishRun(context.Context, *Env, *publishFlags, *report.Run, *redact.Redactor) {}

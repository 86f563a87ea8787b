package cmd

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/policy"
)

// effectivePolicy combines the CI platform, the repository configuration
// and the flags (which win) into the policy of one run.
func effectivePolicy(env *Env, cfg *policy.Config, environment string, allow []string) (*policy.Policy, error) {
	info := env.Platform.Info()
	pol := &policy.Policy{Environment: environment, Untrusted: info.Untrusted}
	if pol.Environment == "" {
		pol.Environment = info.Environment
	}
	for _, a := range allow {
		s, err := fixer.ParseSafety(a)
		if err != nil {
			return nil, &usageError{msg: "--allow: " + err.Error(),
				example: "self-heal run --allow safe,disruptive -- terraform apply"}
		}
		pol.Allow = append(pol.Allow, s)
	}
	if len(pol.Allow) > 0 {
		pol.AllowSource = "--allow " + strings.Join(allow, ",")
	}
	cfg.Apply(pol)
	return pol, nil
}

func newPolicyCmd(env *Env) *cobra.Command {
	c := &cobra.Command{
		Use:   "policy",
		Short: "Show what self-heal may do where",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	var environment string
	var allow []string
	explain := &cobra.Command{
		Use:   "explain",
		Short: "Print the effective policy for the current environment",
		Long: "Combines the defaults, " + policy.ConfigPath + " and the flags, and prints which safety\n" +
			"classes run in this environment, the explicit allows, what is disabled and the budgets.",
		Example: "self-heal policy explain --environment production",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := policy.ReadConfig(display(env.Dir, filepath.Join(env.Dir, policy.ConfigPath)))
			if err != nil {
				return err
			}
			pol, err := effectivePolicy(env, cfg, environment, allow)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(env.Stdout, policy.Explain(pol, cfg))
			return err
		},
	}
	explain.Flags().StringVar(&environment, "environment", "", "deployment environment (default: the CI's)")
	explain.Flags().StringSliceVar(&allow, "allow", nil, "safety classes allowed, as for run")
	c.AddCommand(explain)
	return c
}

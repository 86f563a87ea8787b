package policy

import (
	"fmt"
	"strings"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Explain describes the effective policy in plain lines: the environment,
// whether it is production, what each safety class may do and why, and
// the explicit allows, disabled items and budgets of the configuration.
func Explain(p *Policy, c *Config) string {
	var b strings.Builder
	env := p.Environment
	if env == "" {
		env = "(none)"
	}
	fmt.Fprintf(&b, "environment: %s\n", env)
	globs := p.ProductionGlobs
	if len(globs) == 0 {
		globs = DefaultProduction
	}
	fmt.Fprintf(&b, "production:  %t (production environments: %s)\n", p.Production(), strings.Join(globs, ", "))
	if p.Untrusted {
		fmt.Fprintf(&b, "trigger:     untrusted (fork); trusted by configuration: %t\n", p.TrustForks)
	}
	for _, s := range []fixer.Safety{fixer.Safe, fixer.Disruptive, fixer.Destructive} {
		d := p.Decide(Subject{Fixer: "any " + s.String() + " fixer", Safety: s})
		fmt.Fprintf(&b, "%-12s %s\n", s.String()+":", describe(d))
	}
	for _, r := range p.Explicit {
		fmt.Fprintf(&b, "allow:       destructive for %s (%s)\n", r.describe(), r.Pos)
	}
	for _, f := range p.DisabledFixers {
		fmt.Fprintf(&b, "disabled:    fixer %s\n", f)
	}
	if c != nil {
		for _, id := range c.DisabledPatterns {
			fmt.Fprintf(&b, "disabled:    pattern %s\n", id)
		}
		if c.Budgets.HasAttempts || c.Budgets.Time > 0 || c.Budgets.FixTime > 0 {
			fmt.Fprintf(&b, "budgets:     attempts %d, time %s, per fix %s\n",
				c.Budgets.Attempts, c.Budgets.Time, c.Budgets.FixTime)
		}
	}
	return b.String()
}

func describe(d Decision) string {
	switch {
	case !d.Allowed:
		return "refused (" + d.Reason + ")"
	case d.NeedsBackup:
		return "runs after its backup succeeds (" + d.Rule + ")"
	}
	return "runs (" + d.Rule + ")"
}

func (r AllowRule) describe() string {
	var parts []string
	if r.Pattern != "" {
		parts = append(parts, "pattern "+r.Pattern)
	}
	if r.Stack != "" {
		parts = append(parts, "stack "+r.Stack)
	}
	if r.Fixer != "" {
		parts = append(parts, "fixer "+r.Fixer)
	}
	return strings.Join(parts, ", ")
}

// Package policy decides which fixes may run where. It knows environments,
// safety classes, explicit allows and triggers; it knows nothing about what
// a fixer does. Every decision names the rule behind it so the report can
// say what to change to allow a refused fix.
package policy

import (
	"fmt"
	"path"
	"strings"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Policy is the effective policy of one run. The zero value treats every
// environment as non-production and allows everything.
type Policy struct {
	// Environment is the deployment environment's name.
	Environment string
	// ProductionGlobs are the environment names treated as production;
	// empty means DefaultProduction.
	ProductionGlobs []string
	// Allow, when not empty, lists the safety classes allowed in this
	// environment and replaces the defaults.
	Allow []fixer.Safety
	// AllowSource says where Allow was set (a flag or a config line).
	AllowSource string
	// Explicit lists the rules allowing destructive fixes in production.
	Explicit []AllowRule
	// Untrusted is set for runs triggered by forks; no fixer with side
	// effects runs unless TrustForks is set.
	Untrusted   bool
	TrustForks  bool
	TrustSource string
	// DisabledFixers and DisabledPatterns are turned off entirely.
	DisabledFixers []string
}

// DefaultProduction matches the environment names treated as production
// when nothing is configured.
var DefaultProduction = []string{"prod*", "production*", "prd*"}

// Decision is the policy's verdict on one fix.
type Decision struct {
	Allowed bool
	// NeedsBackup requires the fixer's backup to succeed before Apply.
	NeedsBackup bool
	// Rule names the rule that decided, for the report.
	Rule string
	// Reason says why a fix is refused and what would allow it.
	Reason string
}

// Subject is what a decision is about.
type Subject struct {
	Fixer     string
	Safety    fixer.Safety
	Pattern   string
	Stack     string
	RetryOnly bool
}

// Production reports whether the environment counts as production.
func (p *Policy) Production() bool {
	globs := p.ProductionGlobs
	if len(globs) == 0 {
		globs = DefaultProduction
	}
	env := strings.ToLower(p.Environment)
	for _, g := range globs {
		if ok, _ := path.Match(strings.ToLower(g), env); ok {
			return true
		}
	}
	return false
}

// Decide applies the rules in order: disabled fixers, untrusted triggers,
// configured classes, then the production defaults.
func (p *Policy) Decide(s Subject) Decision {
	for _, f := range p.DisabledFixers {
		if f == s.Fixer {
			return refuse("disabled-fixer", fmt.Sprintf(
				"fixer %s is disabled in %s (disable.fixers); remove it there to allow it", s.Fixer, ConfigPath))
		}
	}
	if p.Untrusted && !p.TrustForks && !s.RetryOnly {
		return refuse("untrusted-trigger",
			"the run was triggered from a fork or pull_request_target; fixers with side effects "+
				"run only with trust_forks: true in "+ConfigPath)
	}
	if len(p.Allow) > 0 {
		for _, a := range p.Allow {
			if a == s.Safety {
				return Decision{Allowed: true, Rule: "allow " + p.AllowSource}
			}
		}
		return refuse("allow", fmt.Sprintf(
			"%s fixes are not in the allowed classes set by %s; add %s there to allow it",
			s.Safety, p.AllowSource, s.Safety))
	}
	if !p.Production() {
		return Decision{Allowed: true, Rule: "non-production"}
	}
	switch s.Safety {
	case fixer.Safe:
		return Decision{Allowed: true, Rule: "production: safe"}
	case fixer.Disruptive:
		return Decision{Allowed: true, NeedsBackup: true, Rule: "production: disruptive after backup"}
	}
	if r, ok := p.explicitAllow(s); ok {
		return Decision{Allowed: true, Rule: fmt.Sprintf("production: explicit allow at %s", r.Pos)}
	}
	pattern := s.Pattern
	if pattern == "" {
		pattern = "<pattern id>"
	}
	return refuse("production-destructive", fmt.Sprintf(
		"%s is destructive and %q is production; to allow it add to %s: "+
			"allow: [{pattern: %s}] (or a stack or fixer entry)",
		s.Fixer, p.Environment, ConfigPath, pattern))
}

// explicitAllow finds the first allow rule whose set fields all match.
func (p *Policy) explicitAllow(s Subject) (AllowRule, bool) {
	for _, r := range p.Explicit {
		if r.Pattern != "" && r.Pattern != s.Pattern {
			continue
		}
		if r.Fixer != "" && r.Fixer != s.Fixer {
			continue
		}
		if r.Stack != "" {
			if ok, _ := path.Match(r.Stack, s.Stack); !ok {
				continue
			}
		}
		return r, true
	}
	return AllowRule{}, false
}

func refuse(rule, reason string) Decision {
	return Decision{Rule: rule, Reason: reason}
}

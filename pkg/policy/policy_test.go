package policy_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/policy"
)

func TestPolicy_Decide(t *testing.T) {
	t.Parallel()
	cfg, err := policy.ParseConfig("config.yaml", []byte(`version: 1
production: ["prod*", "live"]
environments:
  staging: {allow: [safe]}
allow:
  - pattern: s3-bucket-not-empty
  - stack: "sandbox/*"
    fixer: aws.empty-bucket
disable:
  fixers: [kube.recreate-object]
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		env         string
		untrusted   bool
		subject     policy.Subject
		wantAllowed bool
		wantBackup  bool
		wantReason  string
	}{
		{"dev runs destructive", "dev", false, sub("aws.x", fixer.Destructive, "p", ""), true, false, ""},
		{"production runs safe", "production", false, sub("wait.backoff", fixer.Safe, "p", ""), true, false, ""},
		{"configured production name", "live", false, sub("a", fixer.Disruptive, "p", ""), true, true, ""},
		{"production disruptive after backup", "prod-eu", false, sub("terraform.force-unlock", fixer.Disruptive,
			"state-lock", ""), true, true, ""},
		{"production refuses destructive", "prod", false, sub("aws.delete-vpc-dependencies", fixer.Destructive,
			"vpc-dependency-violation", "net"), false, false, "allow: [{pattern: vpc-dependency-violation}]"},
		{"explicit pattern allow", "prod", false, sub("aws.empty-bucket", fixer.Destructive,
			"s3-bucket-not-empty", "x"), true, false, ""},
		{"explicit stack and fixer allow", "prod", false, sub("aws.empty-bucket", fixer.Destructive,
			"other", "sandbox/a"), true, false, ""},
		{"stack allow needs the fixer too", "prod", false, sub("aws.other", fixer.Destructive,
			"other", "sandbox/a"), false, false, "is destructive"},
		{"environment rule", "staging", false, sub("a", fixer.Disruptive, "p", ""), false, false,
			"config.yaml:4:3 environments.staging.allow"},
		{"disabled fixer", "dev", false, sub("kube.recreate-object", fixer.Destructive, "p", ""), false, false,
			"disable.fixers"},
		{"fork runs no side effects", "dev", true, sub("a", fixer.Safe, "p", ""), false, false, "trust_forks"},
		{"fork may still retry", "dev", true, policy.Subject{Fixer: "wait.backoff", RetryOnly: true}, true, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &policy.Policy{Environment: tt.env, Untrusted: tt.untrusted}
			cfg.Apply(p)
			d := p.Decide(tt.subject)
			if d.Allowed != tt.wantAllowed || d.NeedsBackup != tt.wantBackup {
				t.Fatalf("Decide(%+v) = %+v, want allowed %v backup %v", tt.subject, d, tt.wantAllowed, tt.wantBackup)
			}
			if !strings.Contains(d.Reason, tt.wantReason) {
				t.Errorf("Reason = %q, want it to contain %q", d.Reason, tt.wantReason)
			}
			if !d.Allowed && d.Rule == "" {
				t.Error("a refusal names no rule")
			}
		})
	}
}

func sub(f string, s fixer.Safety, pattern, stack string) policy.Subject {
	return policy.Subject{Fixer: f, Safety: s, Pattern: pattern, Stack: stack}
}

func TestPolicy_defaultsWithoutConfig(t *testing.T) {
	t.Parallel()
	got := map[string]string{}
	for _, env := range []string{"", "staging", "production"} {
		for _, s := range []fixer.Safety{fixer.Safe, fixer.Disruptive, fixer.Destructive} {
			p := &policy.Policy{Environment: env}
			d := p.Decide(policy.Subject{Fixer: "f", Safety: s})
			v := "refused"
			switch {
			case d.Allowed && d.NeedsBackup:
				v = "after backup"
			case d.Allowed:
				v = "runs"
			}
			got[env+"/"+s.String()] = v
		}
	}
	want := map[string]string{
		"/safe": "runs", "/disruptive": "runs", "/destructive": "runs",
		"staging/safe": "runs", "staging/disruptive": "runs", "staging/destructive": "runs",
		"production/safe": "runs", "production/disruptive": "after backup", "production/destructive": "refused",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("default policy (-want +got):\n%s", diff)
	}
}

func TestParseConfig_errors(t *testing.T) {
	t.Parallel()
	_, err := policy.ParseConfig("c.yaml", []byte(`version: 1
environments:
  prod: {allow: [safe, reckless]}
  "stag[": {allow: [safe]}
allow:
  - {}
  - {stack: "sandbox/[", fixer: aws.empty-bucket}
budgets: {attempts: -1, tme: 5m}
trust_forks: maybe
production: ["prod*", "[live"]
`))
	if err == nil {
		t.Fatal("ParseConfig = nil error")
	}
	for _, want := range []string{
		`c.yaml:3:24: environments.prod.allow: unknown safety class "reckless"`,
		`c.yaml:6:5: allow[0]: an allow needs at least one of pattern, stack or fixer`,
		`c.yaml:8:25: budgets: unknown key "tme" (did you mean "time"?)`,
		`c.yaml:8:21: budgets.attempts: must not be negative`,
		`c.yaml:9:14: trust_forks: expected true or false, got "maybe"`,
		`c.yaml:4:3: environments.stag[: invalid glob "stag[": syntax error in pattern`,
		`c.yaml:7:13: allow[1].stack: invalid glob "sandbox/[": syntax error in pattern`,
		`c.yaml:10:23: production[1]: invalid glob "[live": syntax error in pattern`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	p := &policy.Policy{Environment: "production"}
	got := policy.Explain(p, &policy.Config{})
	for _, want := range []string{
		"environment: production",
		"production:  true",
		"safe:        runs (production: safe)",
		"disruptive:  runs after its backup succeeds",
		"destructive: refused",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Explain lacks %q:\n%s", want, got)
		}
	}
}

//go:build e2e

package e2e

import (
	"testing"
	"time"

	"github.com/self-heal/self-heal/e2e/harness"
)

// terraformApply runs a plain apply in dir.
func terraformApply(t *testing.T, dir string, env []string) (string, int) {
	t.Helper()
	return harness.Terraform(t, dir, env, "apply", "-auto-approve", "-input=false", "-no-color")
}

var applyStep = []string{"terraform", "apply", "-auto-approve", "-input=false", "-no-color"}

// TestTiming_BackOffAndRetry heals applies that fail once with the real
// wording of throttling, eventual consistency and IAM propagation: the
// built-in pattern backs off and the re-run creates the resource.
func TestTiming_BackOffAndRetry(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	tests := []struct{ failure, pattern, fixer string }{
		{"throttling", "aws-throttling", "wait.backoff"},
		{"not-found", "eventual-consistency-not-found", "wait.backoff"},
		// The flaky provider names no role, so wait.until has nothing to
		// poll and the pattern's back-off bounds the wait.
		{"iam-propagation", "iam-propagation", "wait.until"},
	}
	for _, tt := range tests {
		t.Run(tt.failure, func(t *testing.T) {
			dir, env := providerStack(t, harness.Flaky("r", tt.failure, 1))
			h := healIn(t, bin, dir, env, applyStep...)
			requireHealedBy(t, h, tt.pattern, tt.fixer)
			if h.report.Attempts[0].Wait <= 0 {
				t.Errorf("no back-off after the first attempt: %+v", h.report.Attempts[0])
			}
			if localState(t, dir).Resource("selfheal_flaky", "r") == nil {
				t.Errorf("state holds no selfheal_flaky.r after the healed apply")
			}
		})
	}
}

// TestTiming_RetryAfterIsHonoured heals a throttled apply whose error asks
// for a wait: the re-run comes no sooner than asked.
func TestTiming_RetryAfterIsHonoured(t *testing.T) {
	bin := harness.SelfHealBinary(t)
	const asked = 25 * time.Second
	dir, env := providerStack(t, harness.Flaky("r", "retry-after", 1, "  retry_after = 25\n"))
	h := healIn(t, bin, dir, env, applyStep...)
	requireHealedBy(t, h, "aws-throttling", "wait.backoff")

	a := h.report.Attempts
	if got := a[0].Match.Captures["retry_after"]; got != "25" {
		t.Errorf("retry_after capture = %q, want 25", got)
	}
	gap := a[1].Started.Sub(a[0].Started.Add(time.Duration(a[0].Duration)))
	if gap < asked {
		t.Errorf("re-run came %s after the failure, want at least the %s asked for", gap, asked)
	}
	f := h.fixes("aws-throttling", "wait.backoff")[0]
	contains(t, "wait.backoff action", f.Action, "waiting first the 25s the error asks for")
}

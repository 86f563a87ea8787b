//go:build e2e

package e2e

import (
	"fmt"
	"testing"
)

// TestProvider_FailsThenSucceeds checks the test provider itself under
// real terraform: each failure kind fails the given number of applies with
// its real wording, and the next apply succeeds.
func TestProvider_FailsThenSucceeds(t *testing.T) {
	tests := []struct{ failure, want string }{
		{"throttling", "ThrottlingException: Rate exceeded"},
		{"retry-after", `RetryAfterSeconds: "3"`},
		{"not-found", "api error InvalidInstanceID.NotFound: The instance ID 'i-0"},
		{"iam-propagation", "The role defined for the function cannot be assumed by Lambda."},
		{"inconsistent", "Provider produced inconsistent result after apply"},
	}
	for _, tt := range tests {
		t.Run(tt.failure, func(t *testing.T) {
			dir, env := providerStack(t, fmt.Sprintf(`resource "selfheal_flaky" "r" {
  name        = "r"
  failure     = %q
  failures    = 2
  retry_after = 3
  value       = "v"
}
`, tt.failure))
			for i := 1; i <= 3; i++ {
				out, code := terraformApply(t, dir, env)
				switch {
				case i <= 2 && code == 0:
					t.Fatalf("apply %d passed, want failure %d of 2:\n%s", i, i, out)
				case i <= 2:
					contains(t, fmt.Sprintf("apply %d", i), out, tt.want)
				case code != 0:
					t.Fatalf("apply 3 failed, want success:\n%s", out)
				}
			}
			if r := localState(t, dir).Resource("selfheal_flaky", "r"); r == nil {
				t.Errorf("state holds no selfheal_flaky.r after the successful apply")
			}
		})
	}
}

package heal

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/pattern"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want Command
	}{
		{[]string{"terraform", "apply", "-auto-approve"}, Command{Tool: "terraform", Goal: "apply"}},
		{[]string{"/usr/bin/terraform", "-chdir=infra", "plan"}, Command{Tool: "terraform", Goal: "plan"}},
		{[]string{"terragrunt", "run-all", "destroy"}, Command{Tool: "terragrunt", Goal: "destroy"}},
		{[]string{"terragrunt", "run", "--all", "apply"}, Command{Tool: "terragrunt", Goal: "apply"}},
		{[]string{"helm", "upgrade", "--install", "x", "./c"}, Command{Tool: "helm", Goal: "upgrade"}},
		{[]string{"kubectl", "-n", "a", "apply", "-f", "x"}, Command{Tool: "kubectl", Goal: "a"}},
		{[]string{"aws", "ec2", "delete-vpc"}, Command{Tool: "aws", Goal: "delete-vpc"}},
		{[]string{"bash", "-c", "terraform destroy -auto-approve"}, Command{Tool: "terraform", Goal: "destroy"}},
		{[]string{"env", "TF_LOG=debug", "tofu", "apply"}, Command{Tool: "tofu", Goal: "apply"}},
		{[]string{"make", "deploy"}, Command{Tool: "make"}},
	}
	for _, tt := range tests {
		got := Classify(tt.args, "/nonexistent/stack")
		got.Stack = ""
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Classify(%q) (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	r := pattern.Retry{Initial: time.Second, Max: 5 * time.Second, Jitter: 0.5}
	mid := func() float64 { return 0.5 }
	wants := map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second}
	for n, want := range wants {
		if got := Backoff(r, n, mid); got != want {
			t.Errorf("Backoff(n=%d) = %v, want %v", n, got, want)
		}
	}
	low := func() float64 { return 0 }
	if got := Backoff(r, 1, low); got != 500*time.Millisecond {
		t.Errorf("Backoff with lowest jitter = %v, want 500ms", got)
	}
}

package selfheal

import (
	"strings"
	"testing"
)

func TestFailure_Message(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind Kind
		want []string
	}{
		{Throttling, []string{"creating Application Auto Scaling Policy (r): operation error",
			"StatusCode: 400", "ThrottlingException: Rate exceeded"}},
		{RetryAfter, []string{"TooManyRequestsException: Rate exceeded", `RetryAfterSeconds: "7"`}},
		{NotFound, []string{"api error InvalidInstanceID.NotFound: The instance ID '" +
			InstanceID("r") + "' does not exist"}},
		{IAMPropagation, []string{"InvalidParameterValueException: The role defined for the " +
			"function cannot be assumed by Lambda."}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			got := Failure{Kind: tt.kind, Name: "r", Call: 1, RetryAfter: 7}.Message()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Message() = %q, want it to contain %q", got, w)
				}
			}
		})
	}
	if got := (Failure{Kind: Inconsistent}).Message(); got != "" {
		t.Errorf("Inconsistent Message() = %q, want none", got)
	}
}

func TestCounter_Next(t *testing.T) {
	t.Parallel()
	c := Counter{Dir: t.TempDir()}
	for want := 1; want <= 3; want++ {
		got, err := c.Next("a/b")
		if err != nil || got != want {
			t.Fatalf("Next() = %d, %v, want %d", got, err, want)
		}
	}
	if got, _ := c.Next("other"); got != 1 {
		t.Errorf("Next(other) = %d, want its own count from 1", got)
	}
	if _, err := (Counter{}).Next("x"); err == nil {
		t.Errorf("Next() without a directory: error = nil")
	}
}

func TestParseKind(t *testing.T) {
	t.Parallel()
	for _, k := range Kinds {
		if got, err := ParseKind(string(k)); err != nil || got != k {
			t.Errorf("ParseKind(%q) = %q, %v", k, got, err)
		}
	}
	if _, err := ParseKind("flood"); err == nil {
		t.Errorf("ParseKind(flood): error = nil")
	}
}

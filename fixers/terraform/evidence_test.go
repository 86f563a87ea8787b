package terraform

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// now is the fixed clock of the evidence tests.
var now = time.Date(2024, 1, 2, 18, 0, 0, 0, time.UTC)

func fakeHost(pids []int, procErr error) Host {
	return Host{
		Hostname:      func() (string, error) { return "runner-7", nil },
		ToolProcesses: func() ([]int, error) { return pids, procErr },
		Now:           func() time.Time { return now },
	}
}

func TestForceUnlock_Check(t *testing.T) {
	t.Parallel()
	const id = "f9763602-b03f-e35c-da30-4083cdbb99ae"
	young := "2024-01-02 17:55:00.123456789 +0000 UTC" // 5m before now
	old := "2024-01-02T09:00:00Z"                      // 9h before now
	lock := func(who, created string, extra ...string) fixer.Values {
		v := fixer.Values{"lock_id": id, "lock_who": who, "lock_created": created,
			"lock_operation": "OperationTypeApply", "lock_path": "bucket/prod.tfstate"}
		for i := 0; i+1 < len(extra); i += 2 {
			v[extra[i]] = extra[i+1]
		}
		return v
	}
	const act = "force-unlock lock " + id + " held by %s for OperationTypeApply since %s" +
		" on bucket/prod.tfstate, after saving the state to the artifact directory"
	const waitAction = "holder may still be running; waiting for it to release the lock"

	tests := []struct {
		name    string
		values  fixer.Values
		env     []string
		pids    []int
		procErr error
		want    fixer.Plan
	}{{
		name:   "no lock id",
		values: fixer.Values{"lock_who": "ci@runner-7"},
		want: fixer.Plan{Verdict: fixer.Refuse,
			Action: "the error names no lock ID, so there is no lock to release"},
	}, {
		name:   "workspace from the environment",
		values: lock("ci@runner-7", young),
		env:    []string{"TF_WORKSPACE=staging"},
		want: fixer.Plan{Verdict: fixer.Refuse, Action: `the step selects workspace "staging" ` +
			"through TF_WORKSPACE, which terraform-exec does not pass on; " +
			"release the lock by hand"},
	}, {
		name:   "taken here and no terraform running",
		values: lock("ci@runner-7", young),
		want: fixer.Plan{Verdict: fixer.Act, Action: fmt.Sprintf(act, "ci@runner-7", young),
			Evidence: []string{"lock " + id + " was taken on this host (ci@runner-7) and " +
				"no terraform or tofu process is running here"}},
	}, {
		name:   "taken here, terraform running, young",
		values: lock("ci@runner-7", young),
		pids:   []int{41, 97},
		want: fixer.Plan{Verdict: fixer.Wait, Action: waitAction, Evidence: []string{
			"lock " + id + " was taken on this host (ci@runner-7) and terraform or tofu " +
				"is still running here (pid 41, 97)",
			"lock " + id + " was created 5m0s ago, within max_age 6h0m0s"}},
	}, {
		name:   "taken here, terraform running, old",
		values: lock("ci@runner-7", old),
		pids:   []int{41},
		want: fixer.Plan{Verdict: fixer.Act, Action: fmt.Sprintf(act, "ci@runner-7", old),
			Evidence: []string{
				"lock " + id + " was taken on this host (ci@runner-7) and terraform or tofu " +
					"is still running here (pid 41)",
				"lock " + id + " was created 9h0m0s ago, longer than max_age 6h0m0s"}},
	}, {
		name:   "other host, old",
		values: lock("ci@runner-12", old),
		want: fixer.Plan{Verdict: fixer.Act, Action: fmt.Sprintf(act, "ci@runner-12", old),
			Evidence: []string{
				"lock " + id + " was taken by ci@runner-12, not on this host (runner-7)",
				"lock " + id + " was created 9h0m0s ago, longer than max_age 6h0m0s"}},
	}, {
		name:   "host name is only a suffix of the holder's",
		values: lock("ci@xrunner-7", young),
		want: fixer.Plan{Verdict: fixer.Wait, Action: waitAction, Evidence: []string{
			"lock " + id + " was taken by ci@xrunner-7, not on this host (runner-7)",
			"lock " + id + " was created 5m0s ago, within max_age 6h0m0s"}},
	}, {
		name:   "other host, younger than a shorter max_age",
		values: lock("ci@runner-12", young, "max_age", "10m"),
		want: fixer.Plan{Verdict: fixer.Wait, Action: waitAction, Evidence: []string{
			"lock " + id + " was taken by ci@runner-12, not on this host (runner-7)",
			"lock " + id + " was created 5m0s ago, within max_age 10m0s"}},
	}, {
		name:   "other host, older than a shorter max_age",
		values: lock("ci@runner-12", young, "max_age", "1m", "backup", "false"),
		want: fixer.Plan{Verdict: fixer.Act,
			Action: "force-unlock lock " + id + " held by ci@runner-12 for OperationTypeApply " +
				"since " + young + " on bucket/prod.tfstate",
			Evidence: []string{
				"lock " + id + " was taken by ci@runner-12, not on this host (runner-7)",
				"lock " + id + " was created 5m0s ago, longer than max_age 1m0s"}},
	}, {
		name:   "no holder and an unreadable time",
		values: lock("", "last tuesday"),
		want: fixer.Plan{Verdict: fixer.Wait, Action: waitAction, Evidence: []string{
			"the lock does not say who holds it",
			`the lock's creation time "last tuesday" cannot be read`}},
	}, {
		name:    "processes cannot be listed",
		values:  lock("ci@runner-7", young),
		procErr: errors.New("no /proc"),
		want: fixer.Plan{Verdict: fixer.Wait, Action: waitAction, Evidence: []string{
			"lock " + id + " was taken on this host (ci@runner-7) but its processes " +
				"cannot be listed (no /proc)",
			"lock " + id + " was created 5m0s ago, within max_age 6h0m0s"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := NewForceUnlock(fakeHost(tt.pids, tt.procErr))
			req := fixer.Request{Values: tt.values, Step: fixer.Step{Env: tt.env}}
			got, err := f.Check(context.Background(), req)
			if err != nil {
				t.Fatalf("Check() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestForceUnlock_CheckBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values fixer.Values
	}{
		{"max_age", fixer.Values{"lock_id": "x", "max_age": "six hours"}},
		{"backup", fixer.Values{"lock_id": "x", "backup": "perhaps"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := NewForceUnlock(fakeHost(nil, nil))
			_, err := f.Check(context.Background(), fixer.Request{Values: tt.values})
			if err == nil {
				t.Errorf("Check(%v) error = nil, want an input error", tt.values)
			}
		})
	}
}

func TestParseCreated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2024-01-02 15:04:05.123456789 +0000 UTC",
			time.Date(2024, 1, 2, 15, 4, 5, 123456789, time.UTC)},
		{"2024-01-02 15:04:05 +0000 UTC", time.Date(2024, 1, 2, 15, 4, 5, 0, time.UTC)},
		{"  2021-09-27 00:10:27.424064363 +0000 UTC  ",
			time.Date(2021, 9, 27, 0, 10, 27, 424064363, time.UTC)},
		{"2024-01-02 17:04:05.5 +0200 CEST", time.Date(2024, 1, 2, 15, 4, 5, 5e8, time.UTC)},
		{"2024-01-02 15:04:05.1 +0000 UTC m=+0.012",
			time.Date(2024, 1, 2, 15, 4, 5, 1e8, time.UTC)},
		{"2026-12-03T16:26:05.354677959Z", time.Date(2026, 12, 3, 16, 26, 5, 354677959, time.UTC)},
		{"2024-01-02T16:04:05+01:00", time.Date(2024, 1, 2, 15, 4, 5, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseCreated(tt.in)
			if err != nil {
				t.Fatalf("parseCreated(%q) error = %v", tt.in, err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("parseCreated(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}

	for _, bad := range []string{"", "yesterday", "2024-01-02"} {
		if _, err := parseCreated(bad); err == nil {
			t.Errorf("parseCreated(%q) error = nil, want an error", bad)
		}
	}
}

func TestAlreadyReleased(t *testing.T) {
	t.Parallel()
	// The messages are terraform 1.11's, from force-unlock against the s3
	// backend; the first two follow terraform-exec's "exit status 1".
	tests := []struct {
		name string
		msg  string
		want bool
	}{
		{"lock file gone", "exit status 1\nFailed to unlock state: unable to retrieve file " +
			"from S3 bucket 'tfstate' with key 'stack/terraform.tfstate.tflock': operation " +
			"error S3: GetObject, https response error StatusCode: 404, RequestID: x, " +
			"HostID: y, NoSuchKey: ", true},
		{"dynamodb item gone", "exit status 1\nFailed to unlock state: failed to retrieve " +
			`lock info for lock ID "a00485bd": unexpected end of JSON input`, true},
		{"replaced by another lock", "Failed to unlock state: lock ID '0000' does not match " +
			"the existing lock ID 'bfa41d5b'", true},
		{"access denied", "Failed to unlock state: unable to retrieve file from S3 bucket " +
			"'tfstate': StatusCode: 403, AccessDenied", false},
		{"no terraform", `exec: "terraform": executable file not found in $PATH`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := alreadyReleased(errors.New(tt.msg)); got != tt.want {
				t.Errorf("alreadyReleased(%q) = %v, want %v", tt.msg, got, tt.want)
			}
		})
	}
	const want = "; the state is now held by lock bfa41d5b"
	if got := replacedBy(errors.New(tests[2].msg)); got != want {
		t.Errorf("replacedBy() = %q, want %q", got, want)
	}
}

package gitlab_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/gitlab"
	"github.com/self-heal/self-heal/pkg/ci"
)

// vars is a job's environment; its Get is the getenv the adapter takes.
type vars map[string]string

func (v vars) Get(k string) string { return v[k] }

// with returns a copy of v with kv (key, value, key, value...) set.
func (v vars) with(kv ...string) vars {
	out := vars{}
	for k, val := range v {
		out[k] = val
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// mrJob is a merge request pipeline's job in project 42.
var mrJob = vars{
	"GITLAB_CI":                          "true",
	"CI_SERVER_URL":                      "https://gitlab.example.com",
	"CI_PROJECT_ID":                      "42",
	"CI_PROJECT_PATH":                    "infra/live",
	"CI_MERGE_REQUEST_IID":               "7",
	"CI_MERGE_REQUEST_PROJECT_ID":        "42",
	"CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "42",
	"CI_JOB_NAME":                        "apply",
	"CI_JOB_URL":                         "https://gitlab.example.com/infra/live/-/jobs/99",
	"CI_COMMIT_SHA":                      "0123456789abcdef",
	"CI_ENVIRONMENT_NAME":                "production",
	"SELF_HEAL_GITLAB_TOKEN":             "glpat-secret",
}

func TestDetected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  vars
		want bool
	}{
		{name: "gitlab job", env: vars{"GITLAB_CI": "true"}, want: true},
		{name: "gitlab-ci-local default", env: vars{"GITLAB_CI": "false"}, want: false},
		{name: "no variable", env: vars{}, want: false},
		{name: "github job", env: vars{"GITHUB_ACTIONS": "true"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := gitlab.Detected(tt.env.Get); got != tt.want {
				t.Errorf("Detected(%v) = %v, want %v", tt.env, got, tt.want)
			}
		})
	}
}

func TestPlatform_Info(t *testing.T) {
	t.Parallel()
	full := ci.Info{
		Name: "gitlab", Repository: "infra/live", ChangeRequest: "7",
		RunURL: "https://gitlab.example.com/infra/live/-/jobs/99", Job: "apply",
		Commit: "0123456789abcdef", Environment: "production",
	}
	untrusted := full
	untrusted.Untrusted = true
	branch := full
	branch.ChangeRequest = ""

	tests := []struct {
		name string
		env  vars
		want ci.Info
	}{
		{name: "merge request pipeline", env: mrJob, want: full},
		{
			name: "branch pipeline",
			env: mrJob.with("CI_MERGE_REQUEST_IID", "", "CI_MERGE_REQUEST_PROJECT_ID", "",
				"CI_MERGE_REQUEST_SOURCE_PROJECT_ID", ""),
			want: branch,
		},
		{
			name: "fork run in the parent project",
			env:  mrJob.with("CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "77"),
			want: untrusted,
		},
		{
			name: "fork run in the fork",
			env: mrJob.with("CI_PROJECT_ID", "77", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "77",
				"CI_MERGE_REQUEST_PROJECT_ID", "42"),
			want: untrusted,
		},
		{name: "nothing set", env: vars{}, want: ci.Info{Name: "gitlab"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := gitlab.New(tt.env.Get).Info()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Info() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

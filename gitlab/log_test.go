package gitlab_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/gitlab"
	"github.com/self-heal/self-heal/pkg/ci"
)

// ticker is a clock that starts at a fixed time and moves a second on
// every reading.
func ticker() func() time.Time {
	t := time.Unix(1700000000, 0)
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

func TestPlatform_StartGroup(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	p := gitlab.New(vars{}.Get, gitlab.WithWriter(&log), gitlab.WithClock(ticker()))

	end := p.StartGroup("self-heal attempt 1")
	log.WriteString("step output\n")
	end()
	p.StartGroup("self-heal attempt 1")()
	p.StartGroup("Plan: \"prod\"/eu\nwest")()

	want := strings.Join([]string{
		"\x1b[0Ksection_start:1700000001:self-heal_attempt_1\r\x1b[0Kself-heal attempt 1",
		"step output",
		"\x1b[0Ksection_end:1700000002:self-heal_attempt_1\r\x1b[0K",
		"\x1b[0Ksection_start:1700000003:self-heal_attempt_1_2\r\x1b[0Kself-heal attempt 1",
		"\x1b[0Ksection_end:1700000004:self-heal_attempt_1_2\r\x1b[0K",
		"\x1b[0Ksection_start:1700000005:plan___prod__eu_west\r\x1b[0KPlan: \"prod\"/eu west",
		"\x1b[0Ksection_end:1700000006:plan___prod__eu_west\r\x1b[0K",
		"",
	}, "\n")
	if diff := cmp.Diff(want, log.String()); diff != "" {
		t.Errorf("job log mismatch (-want +got):\n%s", diff)
	}
}

func TestPlatform_Summary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		markdown string
		want     string
	}{
		{
			name:     "report in a collapsed section",
			markdown: "## self-heal: healed\n\nAttempts: 2\n",
			want: "\x1b[0Ksection_start:1700000001:self-heal_report[collapsed=true]\r\x1b[0K" +
				"self-heal report\n" +
				"## self-heal: healed\n\nAttempts: 2\n" +
				"\x1b[0Ksection_end:1700000002:self-heal_report\r\x1b[0K\n",
		},
		{name: "empty report", markdown: " \n", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			p := gitlab.New(vars{}.Get, gitlab.WithWriter(&log), gitlab.WithClock(ticker()))
			if err := p.Summary(tt.markdown); err != nil {
				t.Fatalf("Summary() = %v", err)
			}
			if diff := cmp.Diff(tt.want, log.String()); diff != "" {
				t.Errorf("job log mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlatform_Annotate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a    ci.Annotation
		want string
	}{
		{
			name: "error with title",
			a: ci.Annotation{Level: "error", Title: "State lock",
				Message: "Unlock it.\n"},
			want: "\x1b[31;1mERROR: State lock\x1b[0m: Unlock it.\n",
		},
		{
			name: "warning",
			a:    ci.Annotation{Level: "warning", Message: "no pattern"},
			want: "\x1b[33;1mWARNING\x1b[0m: no pattern\n",
		},
		{
			name: "no level is a notice",
			a:    ci.Annotation{Title: "dry run"},
			want: "\x1b[36;1mNOTICE: dry run\x1b[0m\n",
		},
		{
			name: "unknown level uncoloured",
			a:    ci.Annotation{Level: "debug", Message: "x"},
			want: "DEBUG: x\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			p := gitlab.New(vars{}.Get, gitlab.WithWriter(&log))
			if err := p.Annotate(tt.a); err != nil {
				t.Fatalf("Annotate() = %v", err)
			}
			if diff := cmp.Diff(tt.want, log.String()); diff != "" {
				t.Errorf("job log mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

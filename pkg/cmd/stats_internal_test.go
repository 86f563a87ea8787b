package cmd

import (
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: ""},
		{in: "2026-01-31", want: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)},
		{in: "2026-01-31T08:00:00+01:00", want: time.Date(2026, 1, 31, 7, 0, 0, 0, time.UTC)},
		{in: "30d", want: now.AddDate(0, 0, -30)},
		{in: "2w", want: now.AddDate(0, 0, -14)},
		{in: "12h", want: now.Add(-12 * time.Hour)},
		{in: "200000d"}, // too far back for a Duration: no limit rather than a date in the future
		{in: "9999999999999w"},
		{in: "-3d", wantErr: true},
		{in: "soon", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseSince(tt.in, now)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

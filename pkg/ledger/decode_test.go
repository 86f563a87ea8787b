package ledger_test

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/ledger"
)

// TestDecode_matchesEncodingJSON decodes records with the package's
// decoder and with encoding/json and compares the results.
func TestDecode_matchesEncodingJSON(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 9))
	for i := range 2000 {
		r := synthetic(rng, i*37)
		r.Attempts[0].Window += "\ttab \"quoted\" back\\slash é \u2028 \U0001F600 <&>"
		data, err := ledger.Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ledger.Decode(data)
		if err != nil {
			t.Fatalf("Decode(%s): %v", data, err)
		}
		var want ledger.Record
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Fatalf("Decode mismatch (-encoding/json +Decode):\n%s", diff)
		}
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     *ledger.Record
		wantErr  string
	}{
		{name: "unknown keys and nulls", in: `{"schema":1,"time":"2026-01-02T03:04:05Z","extra":{"a":[1,` +
			`2.5e3,true,null,"x"]},"stack":null,"attempts":[{"n":1,"fixes":null,"new":false}],` +
			`"dry_run":true}`,
			want: &ledger.Record{Schema: 1, Time: mustTime("2026-01-02T03:04:05Z"), DryRun: true,
				Attempts: []ledger.Attempt{{Number: 1}}}},
		{name: "escapes", in: `{"schema":1,"time":"2026-01-02T03:04:05.5+02:00",` +
			`"command":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\ud800x"}`,
			want: &ledger.Record{Schema: 1, Time: mustTime("2026-01-02T03:04:05.5+02:00"),
				Command: "a\"b\\c/d\b\f\n\r\té\U0001F600\uFFFDx"}},
		{name: "empty", in: ``, wantErr: "want {"},
		{name: "not an object", in: `[1]`, wantErr: "want {"},
		{name: "trailing data", in: `{"schema":1,"time":"2026-01-02T03:04:05Z"} {}`, wantErr: "after"},
		{name: "unterminated", in: `{"schema":1,"command":"abc`, wantErr: "unterminated"},
		{name: "bad escape", in: `{"command":"\x"}`, wantErr: "bad escape"},
		{name: "control", in: "{\"command\":\"a\nb\"}", wantErr: "control character"},
		{name: "float int", in: `{"schema":1.5}`, wantErr: "integer"},
		{name: "string int", in: `{"schema":"1"}`, wantErr: "number"},
		{name: "bad time", in: `{"schema":1,"time":"yesterday"}`, wantErr: "time"},
		{name: "missing comma", in: `{"schema":1 "id":"x"}`, wantErr: "want , or }"},
		{name: "no schema", in: `{"time":"2026-01-02T03:04:05Z"}`, wantErr: "no schema"},
		{name: "no time", in: `{"schema":1}`, wantErr: "no time"},
		{name: "newer schema", in: `{"schema":2,"time":"2026-01-02T03:04:05Z"}`, wantErr: "newer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ledger.Decode([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Decode(%s) = %v, want error with %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzDecode checks that the decoder never panics and agrees with
// encoding/json on what it accepts.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"schema":1,"time":"2026-01-02T03:04:05Z","attempts":[{"n":1,"fixes":[{"fixer":"x"}]}]}`))
	f.Add([]byte(`{"schema":1,"time":"2026-01-02T03:04:05Z","command":"\u00e9\ud83d"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ledger.Decode(data)
		if err != nil {
			return
		}
		var want ledger.Record
		if json.Unmarshal(data, &want) != nil {
			return // the decoder is laxer on invalid UTF-8
		}
		if got.Schema != want.Schema || !got.Time.Equal(want.Time) || len(got.Attempts) != len(want.Attempts) {
			t.Errorf("Decode(%q) = %+v, encoding/json = %+v", data, got, want)
		}
	})
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

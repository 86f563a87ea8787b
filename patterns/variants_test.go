package patterns_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// wording is one case of testdata/wordings.txt.
type wording struct {
	name string
	want string
	// captures lists values that must be found; others may be too.
	captures map[string]string
	text     string
}

// parseWordings reads cases: a "=== name: want k=v ..." header, then the
// text up to the next header. Lines starting with "#" before the first
// header are comments.
func parseWordings(t *testing.T, data string) []wording {
	t.Helper()
	var out []wording
	var body []string
	flush := func() {
		if len(out) > 0 {
			out[len(out)-1].text = strings.TrimSpace(strings.Join(body, "\n"))
		}
		body = nil
	}
	for _, line := range strings.Split(data, "\n") {
		head, ok := strings.CutPrefix(line, "=== ")
		if !ok {
			if len(out) > 0 {
				body = append(body, line)
			}
			continue
		}
		flush()
		name, rest, ok := strings.Cut(head, ": ")
		fields := strings.Fields(rest)
		if !ok || len(fields) == 0 {
			t.Fatalf("bad case header %q", line)
		}
		w := wording{name: name, want: strings.TrimPrefix(fields[0], "-")}
		for _, kv := range fields[1:] {
			k, v, _ := strings.Cut(kv, "=")
			if w.captures == nil {
				w.captures = map[string]string{}
			}
			w.captures[k] = v
		}
		out = append(out, w)
	}
	flush()
	return out
}

// TestWordings tries other wordings of each class than the example logs
// show, and look-alikes that must not be recognised.
func TestWordings(t *testing.T) {
	t.Parallel()
	set := load(t)
	cases := parseWordings(t, readFile(t, "testdata/wordings.txt"))
	if len(cases) < 50 {
		t.Fatalf("read %d cases from wordings.txt, expected more", len(cases))
	}
	for _, c := range cases {
		got, caps := winner(t, set, c.text)
		if got != c.want {
			t.Errorf("%s: recognised as %q, want %q", c.name, got, c.want)
			continue
		}
		found := map[string]string{}
		for k := range c.captures {
			if v, ok := caps[k]; ok {
				found[k] = v
			}
		}
		if diff := cmp.Diff(c.captures, found, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: captures (-want +got):\n%s", c.name, diff)
		}
	}
}

package logscan

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultHot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want bool
	}{
		{"Error: Error acquiring the state lock", true},
		{"│ Error: creating EC2 Subnet: operation error", true},
		{"2024-05-01T12:00:00Z [ERROR] vertex failed", true},
		{"Error: UPGRADE FAILED: another operation is in progress", true},
		{"api error AccessDenied: User is not authorized", true},
		{"ExpiredToken: The provided token has expired.", true},
		{"dial tcp 10.0.0.1:443: i/o TIMEOUT", true},
		{"Unable to locate credentials", true},
		{"DependencyViolation: resource sg-1 has a dependent object", true},
		{"Throttling: Rate exceeded", true},
		{"namespace \"apps\" is Terminating", true},
		{"no basic auth credentials", true},
		{"x509: certificate signed by unknown authority", true},
		{"", false},
		{"err", false},
		{"terraform_data.item[3]: Creation complete after 0s [id=4a1f]", false},
		{"2024-05-01T12:00:00Z [DEBUG] provider: plugin process exited: pid=42", false},
		{"Apply complete! Resources: 40 added, 0 changed, 0 destroyed.", false},
		{"Initializing provider plugins...", false},
	}
	for _, tt := range tests {
		if got := DefaultHot([]byte(tt.line)); got != tt.want {
			t.Errorf("DefaultHot(%q) = %t, want %t", tt.line, got, tt.want)
		}
	}
}

// TestDefaultHot_everyWordEverywhere checks the filters against a plain
// search: every phrase in either case, at every offset and alignment,
// and every phrase with one byte changed.
func TestDefaultHot_everyWordEverywhere(t *testing.T) {
	t.Parallel()
	for _, w := range hotWords {
		for _, word := range []string{w.word, strings.ToUpper(w.word)} {
			for pre := range 10 {
				for post := range 10 {
					line := strings.Repeat("z", pre) + word + strings.Repeat(".", post)
					if !DefaultHot([]byte(line)) {
						t.Fatalf("DefaultHot(%q) = false, want true", line)
					}
				}
			}
		}
		for i := range len(w.word) {
			b := []byte(w.word)
			b[i] = '#'
			line := "zz" + string(b) + "zz"
			want := plainHot(line)
			if got := DefaultHot([]byte(line)); got != want {
				t.Errorf("DefaultHot(%q) = %t, want %t", line, got, want)
			}
		}
	}
}

func plainHot(line string) bool {
	lower := bytes.ToLower([]byte(line))
	for _, w := range hotWords {
		if bytes.Contains(lower, []byte(w.word)) {
			return true
		}
	}
	return false
}

func FuzzDefaultHot(f *testing.F) {
	f.Add([]byte("Error: timeout while waiting"))
	f.Add([]byte("nothing to see here"))
	f.Fuzz(func(t *testing.T, line []byte) {
		// Folding maps control bytes onto the phrases' spaces and digits,
		// and bytes.ToLower maps some non-ASCII letters onto ASCII ones;
		// compare only lines where neither can matter.
		for _, c := range line {
			if c < 0x20 || c >= 0x80 {
				return
			}
		}
		if got, want := DefaultHot(line), plainHot(string(line)); got != want {
			t.Errorf("DefaultHot(%q) = %t, want %t", line, got, want)
		}
	})
}

func BenchmarkDefaultHot(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "terraform-debug.bench"))
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for _, l := range lines {
			DefaultHot(l)
		}
	}
}

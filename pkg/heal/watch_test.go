package heal_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/report"
)

// watchingFixer is a fileFixer that also keeps a "watching" file in the
// step's directory while each execution of the step runs.
type watchingFixer struct {
	*fileFixer
	mu     sync.Mutex
	events []string
	panics bool
}

func (w *watchingFixer) Watch(_ context.Context, step fixer.Step) func() {
	if w.panics {
		panic("broken watcher")
	}
	w.record("watch " + step.Goal)
	path := filepath.Join(step.Dir, "watching")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		w.record("watch failed: " + err.Error())
	}
	return func() {
		w.record("stop")
		_ = os.Remove(path)
	}
}

func (w *watchingFixer) record(e string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, e)
}

// watchedStep fails until the marker exists, and says whether the watcher
// was active while it ran.
const watchedStep = `if [ -f watching ]; then echo "watched"; else echo "unwatched"; fi
if [ -f marker ]; then exit 0; fi
echo "Error: marker missing: marker" >&2; exit 3`

func TestEngine_Run_watchersSpanEachAttempt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := &watchingFixer{fileFixer: &fileFixer{name: "test.fix", verdict: fixer.Act}}
	run := h.run(h.engine(w, healPatterns, nil), watchedStep)

	if run.Outcome != report.Healed {
		t.Fatalf("outcome = %q, want healed\n%s", run.Outcome, h.status.String())
	}
	want := []string{"watch ", "stop", "watch ", "stop"}
	if diff := cmp.Diff(want, w.events); diff != "" {
		t.Errorf("watch events (-want +got):\n%s", diff)
	}
	if got := lines(h.out.String(), "watched"); got != 2 {
		t.Errorf("step saw the watcher in %d attempts, want 2:\n%s", got, h.out.String())
	}
	if _, err := os.Stat(filepath.Join(h.dir, "watching")); !os.IsNotExist(err) {
		t.Errorf("watcher's file after the run: %v, want it removed by stop", err)
	}
}

func TestEngine_Run_panickingWatcherIsSkipped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := &watchingFixer{fileFixer: &fileFixer{name: "test.fix", verdict: fixer.Act}, panics: true}
	run := h.run(h.engine(w, healPatterns, nil), watchedStep)

	if run.Outcome != report.Healed {
		t.Fatalf("outcome = %q, want healed despite the watcher\n%s", run.Outcome, h.status.String())
	}
	if got := lines(h.out.String(), "unwatched"); got != 2 {
		t.Errorf("step ran unwatched %d times, want 2:\n%s", got, h.out.String())
	}
}

// lines counts the lines of out that are exactly want.
func lines(out, want string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if l == want {
			n++
		}
	}
	return n
}

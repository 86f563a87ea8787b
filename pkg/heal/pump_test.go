package heal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingWriter hashes what the scanner gets.
type countingWriter struct {
	mu sync.Mutex
	h  io.Writer
	n  int
}

func (c *countingWriter) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += len(b)
	return c.h.Write(b)
}

// pumpThrough pumps data from a child's pipe to out, and returns what
// the scanner got and the tail writer.
func pumpThrough(t *testing.T, data []byte, out io.Writer) ([]byte, *tailWriter) {
	t.Helper()
	ps, err := openPipes()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ps.closeReaders)
	go func() {
		// The child prints in pieces of every size.
		rng := rand.New(rand.NewPCG(3, 4))
		for p := data; len(p) > 0; {
			k := min(1+rng.IntN(256<<10), len(p))
			_, _ = ps[0].w.Write(p[:k])
			p = p[k:]
		}
		_ = ps[0].w.Close()
	}()
	var scanned bytes.Buffer
	tail := &tailWriter{w: out}
	pump(&ps[0], tail, &countingWriter{h: &scanned})
	_ = ps[1].w.Close()
	return scanned.Bytes(), tail
}

func testOutput(size int) []byte {
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.IntN(96)) + ' '
		if rng.IntN(80) == 0 {
			data[i] = '\n'
		}
	}
	return data
}

// TestPump_pipe checks the pass-through into a pipe, which takes the
// bytes by tee(2) where there is one: the reader and the scanner both get
// every byte, unchanged and in order.
func TestPump_pipe(t *testing.T) {
	t.Parallel()
	data := testOutput(24 << 20)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "linux" && newTee(&pipe{r: r}, w, new(atomic.Int64)) == nil {
		t.Fatal("no tee into a pipe on Linux")
	}
	got := make(chan [32]byte)
	go func() {
		h := sha256.New()
		_, _ = io.Copy(h, r)
		var sum [32]byte
		copy(sum[:], h.Sum(nil))
		got <- sum
	}()
	scanned, tail := pumpThrough(t, data, w)
	_ = w.Close()

	want := sha256.Sum256(data)
	if sum := <-got; sum != want {
		t.Error("the reader of the pipe got other bytes than the step printed")
	}
	if !bytes.Equal(scanned, data) {
		t.Errorf("the scanner got %d bytes, not the %d the step printed", len(scanned), len(data))
	}
	if n := tail.written.Load(); n != int64(len(data)) {
		t.Errorf("written = %d, want %d", n, len(data))
	}
	if tail.midLine() != (data[len(data)-1] != '\n') {
		t.Errorf("midLine() = %v after a last byte %q", tail.midLine(), data[len(data)-1])
	}
}

// TestPump_closedOutput checks that a pass-through whose reader goes
// away keeps draining the step, and that the scanner still gets every
// byte.
func TestPump_closedOutput(t *testing.T) {
	t.Parallel()
	data := testOutput(8 << 20)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// The reader takes a little and leaves.
	buf := make([]byte, 100<<10)
	go func() {
		_, _ = io.ReadFull(r, buf)
		_ = r.Close()
	}()
	scanned, _ := pumpThrough(t, data, w)
	if !bytes.Equal(scanned, data) {
		t.Errorf("the scanner got %d bytes, not the %d the step printed", len(scanned), len(data))
	}
	if !bytes.Equal(buf, data[:len(buf)]) {
		t.Error("the reader got other bytes than the step printed")
	}
}

// TestPump_writer checks the pass-through into a writer that is no
// pipe.
func TestPump_writer(t *testing.T) {
	t.Parallel()
	data := testOutput(4 << 20)
	var out bytes.Buffer
	scanned, _ := pumpThrough(t, data, &out)
	if !bytes.Equal(out.Bytes(), data) || !bytes.Equal(scanned, data) {
		t.Errorf("got %d bytes out and %d scanned, want %d", out.Len(), len(scanned), len(data))
	}
}

// TestExecute_backgroundChildWithTee checks that a background process the
// step leaves behind, holding its pipes open, does not hold the run when
// the output is a pipe and takes the bytes by tee(2).
func TestExecute_backgroundChildWithTee(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		got <- b
	}()
	var scanned bytes.Buffer
	scan := &countingWriter{h: &scanned}
	step := Step{Args: []string{"sh", "-c", "sleep 30 & echo started; exit 3"}, Stdout: w, Stderr: w}

	start := time.Now()
	res, _, err := execute(context.Background(), step, os.Environ(),
		func(int) io.Writer { return scan }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("execute took %s: it waited for the step's background child", elapsed)
	}
	_ = w.Close()
	if res.code != 3 {
		t.Errorf("exit code %d, want 3", res.code)
	}
	if b := <-got; string(b) != "started\n" {
		t.Errorf("the reader got %q, want %q", b, "started\n")
	}
	if scanned.String() != "started\n" {
		t.Errorf("the scanner got %q, want %q", scanned.String(), "started\n")
	}
}

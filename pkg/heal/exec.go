package heal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/self-heal/self-heal/pkg/logscan"
	"github.com/self-heal/self-heal/pkg/pattern"
)

// Step is the command being healed.
type Step struct {
	Args []string
	Dir  string
	// Env is the environment of the first attempt in os.Environ form;
	// fixes may add to it for later attempts.
	Env []string
	// Stdin is handed to the child; nil means no input.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// HotLines returns the scanner's hot-line test for a matcher: a line is
// the start of an error block when it holds one of [logscan.HotWords] or
// a word that some pattern's evidence needs ([pattern.Matcher.Hot]), so
// the evidence of a failure stays in the window however early it was
// printed. Both are searched for in one pass over the line.
func HotLines(m *pattern.Matcher) func(raw []byte) bool {
	return m.HotFilter(logscan.HotWords())
}

// HotScan returns the scanner's options for a matcher: the hot-line test
// of [HotLines], and the same test over many lines at once
// ([logscan.Options.HotFind]), which spares the scanner a call per line.
func HotScan(m *pattern.Matcher) logscan.Options {
	hot, find := m.HotFilters(logscan.HotWords())
	return logscan.Options{Hot: hot, HotFind: find}
}

// exitResult is how one execution of the step ended.
type exitResult struct {
	code   int
	signal string
	// midLine is set when the step's output did not end with a newline,
	// so that self-heal's next status line starts on a line of its own.
	midLine bool
}

// Draining after the step exits: output already in the pipes is copied
// through; a background process the step left behind holding the pipes
// open is not waited for once the pipes stay idle, nor for longer than
// drainMax.
const (
	drainIdle = 250 * time.Millisecond
	drainMax  = 30 * time.Second
)

// execute runs the step once in its own process group. Output goes to
// the step's writers unchanged and, as a copy, to scan. Signals received
// on sigs are forwarded to the group; a second signal kills it. The
// returned flag reports whether a signal arrived.
func execute(ctx context.Context, s Step, env []string, scan func(stream int) io.Writer,
	sigs <-chan os.Signal,
) (exitResult, bool, error) {
	cmd := exec.Command(s.Args[0], s.Args[1:]...)
	cmd.Dir = s.Dir
	cmd.Env = env
	cmd.Stdin = s.Stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	outs, err := openPipes()
	if err != nil {
		return exitResult{}, false, err
	}
	defer outs.closeReaders()
	cmd.Stdout, cmd.Stderr = outs[0].w, outs[1].w
	err = cmd.Start()
	outs.closeWriters()
	if err != nil {
		return exitResult{code: startFailureCode(err)}, false, fmt.Errorf("start %s: %w", s.Args[0], err)
	}

	// Copy both streams while the step runs.
	var wg sync.WaitGroup
	var tails [2]tailWriter
	for i, w := range []io.Writer{s.Stdout, s.Stderr} {
		tails[i].w = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			pump(&outs[i], &tails[i], scan(i))
		}()
	}
	exited := make(chan struct{})
	var werr error
	go func() { werr = cmd.Wait(); close(exited) }()

	signalled := forwardSignals(ctx, cmd.Process.Pid, sigs, exited)
	<-exited
	outs.drain(&wg, &tails)
	res := exitOf(cmd, werr)
	res.midLine = tails[0].midLine() || tails[1].midLine()
	return res, <-signalled, nil
}

// pipe is one output pipe of the child; read counts the bytes taken from
// it so that draining can tell an idle pipe from a busy one.
type pipe struct {
	r, w *os.File
	read atomic.Int64
}

// Read reads from the pipe and counts what it got.
func (p *pipe) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.read.Add(int64(n))
	return n, err
}

type pipes [2]pipe

// pipeSize is the capacity asked for the child's output pipes: a child
// that prints fast fills a default 64 KiB pipe in microseconds, and each
// full pipe costs a context switch.
const pipeSize = 1 << 20

func openPipes() (*pipes, error) {
	var ps pipes
	for i := range ps {
		r, w, err := os.Pipe()
		if err != nil {
			ps.closeReaders()
			ps.closeWriters()
			return nil, fmt.Errorf("output pipe: %w", err)
		}
		growPipe(w, pipeSize)
		ps[i].r, ps[i].w = r, w
	}
	return &ps, nil
}

func (ps *pipes) closeWriters() {
	for i := range ps {
		if ps[i].w != nil {
			_ = ps[i].w.Close()
		}
	}
}

func (ps *pipes) closeReaders() {
	for i := range ps {
		if ps[i].r != nil {
			_ = ps[i].r.Close()
		}
	}
}

// drain waits for the pumps after the step exited. When the pipes stay
// idle for drainIdle, or drainMax has passed, a read deadline ends the
// pumps: whatever still holds the pipes open is a background process the
// step left behind.
func (ps *pipes) drain(wg *sync.WaitGroup, tails *[2]tailWriter) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	deadline := time.After(drainMax)
	progress := func() int64 {
		n := ps[0].read.Load() + ps[1].read.Load()
		for i := range tails {
			// A pass-through write in progress (a slow job log) is
			// progress too: the pipe's remaining bytes follow it.
			n += tails[i].written.Load() + tails[i].writing.Load()<<62
		}
		return n
	}
	last := progress()
	tick := time.NewTicker(drainIdle)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			now := progress()
			if now != last || now>>62 != 0 {
				last = now
				continue
			}
		case <-deadline:
		}
		for i := range ps {
			_ = ps[i].r.SetReadDeadline(time.Now())
		}
		<-done
		return
	}
}

// tailWriter passes writes through, remembers the last byte written and
// counts what it wrote and whether a write is under way.
type tailWriter struct {
	w       io.Writer
	last    byte
	any     bool
	written atomic.Int64
	writing atomic.Int64
}

func (t *tailWriter) Write(b []byte) (int, error) {
	if len(b) > 0 {
		t.last, t.any = b[len(b)-1], true
	}
	t.writing.Store(1)
	n, err := t.w.Write(b)
	t.writing.Store(0)
	t.written.Add(int64(n))
	return n, err
}

// passed records bytes that reached the output without Write.
func (t *tailWriter) passed(b []byte) {
	if len(b) > 0 {
		t.last, t.any = b[len(b)-1], true
	}
	t.written.Add(int64(len(b)))
}

func (t *tailWriter) midLine() bool { return t.any && t.last != '\n' }

// The pump's blocks: each read of the child's pipe fills at most one, and
// at most pumpBlocks are in flight between the pass-through and the
// scanner.
const (
	pumpBlock  = 1 << 20
	pumpBlocks = 4
)

// pump copies the child's pipe r to w block by block as the blocks
// arrive. When w is a pipe, a block reaches it by tee(2) before this
// process reads it, so the pass-through costs no copy, and pump scans the
// block itself. Otherwise it writes the block and hands it to the scanner
// on another goroutine, so that the pass-through waits for the scanner
// only when it falls pumpBlocks behind. A failing w (a closed job log)
// does not stop the draining, so the child never blocks on a full pipe.
// pump returns when r ends and the scanner has seen every block.
func pump(r *pipe, w *tailWriter, scan io.Writer) {
	full := make(chan []byte, pumpBlocks)
	free := make(chan []byte, pumpBlocks)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		for b := range full {
			_, _ = scan.Write(b)
			free <- b[:cap(b)]
		}
	}()

	tee := newTee(r, w.w, &w.writing)
	wok := true
	made := 0
	for {
		var buf []byte
		select {
		case buf = <-free:
		default:
			if made < pumpBlocks {
				buf = make([]byte, pumpBlock)
				made++
			} else {
				buf = <-free
			}
		}
		n, teed, err := read(r, buf, &tee)
		switch {
		case n == 0:
			free <- buf
		case teed:
			// The output has the bytes already: scanning them here
			// delays only the next tee, while the child's pipe fills.
			w.passed(buf[:n])
			_, _ = scan.Write(buf[:n])
			free <- buf
		default:
			if wok {
				if _, werr := w.Write(buf[:n]); werr != nil {
					wok = false
				}
			}
			full <- buf[:n]
		}
		if err != nil {
			break
		}
	}
	close(full)
	<-scanned
}

// read fills buf from the child's pipe. With a tee it first duplicates
// the bytes onto the output and reports teed; a tee that fails (the
// output closed) is dropped, and the bytes it left in the pipe are read
// and written as without one.
func read(r *pipe, buf []byte, tee **pipeTee) (n int, teed bool, err error) {
	if *tee != nil {
		n, err = (*tee).dup(len(buf))
		switch {
		case n > 0:
			// The bytes teed are in the pipe, and no one else reads it.
			n, err = io.ReadFull(r, buf[:n])
			return n, true, err
		case errors.Is(err, io.EOF) || errors.Is(err, os.ErrDeadlineExceeded):
			return 0, false, err
		}
		*tee = nil
	}
	n, err = r.Read(buf)
	return n, false, err
}

// forwardSignals relays signals to the child's process group until done
// closes, and reports on the returned channel whether any arrived. The
// first signal is forwarded as is; a second one kills the group. A
// cancelled context terminates the group as a signal would.
func forwardSignals(ctx context.Context, pid int, sigs <-chan os.Signal, done <-chan struct{}) <-chan bool {
	got := make(chan bool, 1)
	go func() {
		count := 0
		for {
			select {
			case <-done:
				got <- count > 0
				return
			case sig := <-sigs:
				count++
				sendGroup(pid, sig, count)
			case <-ctx.Done():
				count++
				sendGroup(pid, syscall.SIGTERM, count)
				ctx = context.Background()
			}
		}
	}()
	return got
}

func sendGroup(pid int, sig os.Signal, count int) {
	s, ok := sig.(syscall.Signal)
	if !ok || count > 1 {
		s = syscall.SIGKILL
	}
	_ = syscall.Kill(-pid, s)
}

func exitOf(cmd *exec.Cmd, werr error) exitResult {
	st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		if werr != nil {
			return exitResult{code: 1}
		}
		return exitResult{}
	}
	if st.Signaled() {
		return exitResult{code: 128 + int(st.Signal()), signal: st.Signal().String()}
	}
	return exitResult{code: st.ExitStatus()}
}

// startFailureCode follows the shell: 127 for a missing program, 126 for
// one that cannot be executed.
func startFailureCode(err error) int {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		return 127
	}
	return 126
}

// sleep waits for d or until ctx ends or a signal arrives.
func sleep(ctx context.Context, d time.Duration, sigs <-chan os.Signal) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case sig := <-sigs:
		return fmt.Errorf("%w: %s", errSignalled, sig)
	}
}

var errSignalled = errors.New("signalled")

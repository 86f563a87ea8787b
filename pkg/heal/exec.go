package heal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
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

// exitResult is how one execution of the step ended.
type exitResult struct {
	code   int
	signal string
}

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
	outs, err := pipes(cmd)
	if err != nil {
		return exitResult{}, false, err
	}
	if err := cmd.Start(); err != nil {
		return exitResult{code: startFailureCode(err)}, false, fmt.Errorf("start %s: %w", s.Args[0], err)
	}

	// Copy both streams until the child closes them.
	var wg sync.WaitGroup
	for i, w := range []io.Writer{s.Stdout, s.Stderr} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pump(outs[i], w, scan(i))
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	signalled := forwardSignals(ctx, cmd.Process.Pid, sigs, done)
	<-done
	werr := cmd.Wait()
	return exitOf(cmd, werr), <-signalled, nil
}

// pipeSize is the capacity asked for the child's output pipes: a child
// that prints fast fills a default 64 KiB pipe in microseconds, and each
// full pipe costs a context switch.
const pipeSize = 1 << 20

func pipes(cmd *exec.Cmd) ([2]io.ReadCloser, error) {
	var out [2]io.ReadCloser
	var err error
	if out[0], err = cmd.StdoutPipe(); err != nil {
		return out, fmt.Errorf("stdout pipe: %w", err)
	}
	if out[1], err = cmd.StderrPipe(); err != nil {
		return out, fmt.Errorf("stderr pipe: %w", err)
	}
	for _, r := range out {
		if f, ok := r.(*os.File); ok {
			growPipe(f, pipeSize)
		}
	}
	return out, nil
}

// The pump's blocks: each read of the child's pipe fills at most one, and
// at most pumpBlocks are in flight between the pass-through and the
// scanner.
const (
	pumpBlock  = 1 << 20
	pumpBlocks = 4
)

// pump copies r to w block by block as the blocks arrive, and hands each
// block to the scanner on another goroutine, so that the pass-through
// waits for the scanner only when it falls pumpBlocks behind. A failing w
// (a closed job log) does not stop the draining, so the child never
// blocks on a full pipe. pump returns when r ends and the scanner has
// seen every block.
func pump(r io.Reader, w, scan io.Writer) {
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
		n, err := r.Read(buf)
		if n > 0 {
			if wok {
				if _, werr := w.Write(buf[:n]); werr != nil {
					wok = false
				}
			}
			full <- buf[:n]
		} else {
			free <- buf
		}
		if err != nil {
			break
		}
	}
	close(full)
	<-scanned
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

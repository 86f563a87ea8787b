package harness

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Process is a command running in the background in its own process
// group, with its combined output kept.
type Process struct {
	cmd  *exec.Cmd
	out  lockedBuffer
	done chan struct{}
	err  error
}

// Start starts cmd in a new process group, collecting its stdout and
// stderr. When the test ends, a process still running is killed with its
// whole group, and its output is logged if the test failed.
func Start(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{cmd: cmd, done: make(chan struct{})}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Args, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = p.killGroup()
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", strings.Join(cmd.Args, " "), p.Output())
		}
	})
	return p
}

// PID returns the process ID, which is also its process group ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Output returns what the process has written so far.
func (p *Process) Output() string { return p.out.String() }

func (p *Process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// WaitForOutput waits until the output holds text. It fails the test when
// the process exits first or timeout passes.
func (p *Process) WaitForOutput(t testing.TB, text string, timeout time.Duration) {
	t.Helper()
	Eventually(t, timeout, "output "+text, func() (bool, error) {
		if strings.Contains(p.Output(), text) {
			return true, nil
		}
		if p.exited() {
			return false, errors.New("process exited first: " + exitText(p.err))
		}
		return false, nil
	})
}

// Kill sends SIGKILL to the whole process group, so that children such as
// a provisioner's shell die too, and waits for the process to exit.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	if err := p.killGroup(); err != nil {
		t.Fatalf("kill process group %d: %v", p.PID(), err)
	}
}

func (p *Process) killGroup() error {
	err := syscall.Kill(-p.PID(), syscall.SIGKILL)
	<-p.done
	if errors.Is(err, syscall.ESRCH) {
		return nil // the whole group had already exited
	}
	return err
}

// Wait waits up to timeout for the process to exit and returns its Wait
// error: nil for exit status 0. It fails the test on timeout.
func (p *Process) Wait(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		t.Fatalf("%s still running after %s", strings.Join(p.cmd.Args, " "), timeout)
		return nil
	}
}

// ExitCode returns the exit code of a process that has exited, or -1.
func (p *Process) ExitCode() int {
	if !p.exited() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// lockedBuffer is a bytes.Buffer safe for one writer and many readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

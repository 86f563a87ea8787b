package heal

import (
	"errors"
	"io"
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// fSetPipeSize is F_SETPIPE_SZ (F_LINUX_SPECIFIC_BASE + 7), which the
// syscall package does not name.
const fSetPipeSize = 1024 + 7

// growPipe asks the kernel for a larger pipe buffer. Failure is harmless:
// the pipe keeps its size (an unprivileged process may not exceed
// /proc/sys/fs/pipe-max-size).
func growPipe(f *os.File, size int) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSize, uintptr(size))
	})
}

// pipeTee duplicates the bytes waiting in the child's pipe onto an output
// that is a pipe too, with tee(2): the kernel shares the pipe's pages, so
// the pass-through copies nothing through this process. The bytes stay
// in the child's pipe for the scanner to read.
type pipeTee struct {
	in, out syscall.RawConn
	// waiting is 1 while the output pipe is full and the tee waits for
	// room, which draining counts as progress, as a write in progress.
	waiting *atomic.Int64
}

// newTee returns a tee from the child's pipe to w, or nil when w is not a
// pipe (a file, a terminal, a wrapped writer), which then gets the bytes
// by write(2). It grows w's pipe as the child's pipes are grown.
func newTee(p *pipe, w io.Writer, waiting *atomic.Int64) *pipeTee {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	info, err := f.Stat()
	if err != nil || info.Mode()&os.ModeNamedPipe == 0 {
		return nil
	}
	in, err := p.r.SyscallConn()
	if err != nil {
		return nil
	}
	out, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	// A tee takes at most what the output pipe has room for; a reader
	// behind a 64 KiB pipe would get the step's output in 64 KiB pieces,
	// each costing this process and the reader a wake-up.
	growPipe(f, pipeSize)
	return &pipeTee{in: in, out: out, waiting: waiting}
}

// dup duplicates up to n bytes of the child's pipe onto the output,
// waiting for the child to print them, and returns how many. It returns
// io.EOF when the child's pipe has ended, and the error of a read
// deadline or of tee(2) (a closed output) otherwise.
func (t *pipeTee) dup(n int) (int, error) {
	var got int
	var terr error
	err := t.in.Read(func(in uintptr) bool {
		cerr := t.out.Control(func(out uintptr) {
			got, terr = t.once(int(in), int(out), n)
		})
		if cerr != nil {
			terr = cerr
		}
		return !errors.Is(terr, unix.EAGAIN)
	})
	switch {
	case err != nil:
		return 0, err
	case terr != nil:
		return 0, terr
	case got == 0:
		return 0, io.EOF
	}
	return got, nil
}

// once runs tee(2) without blocking on the child's pipe. When the output
// is full it waits for room; when the child's pipe is empty it returns
// EAGAIN, so that the runtime's poller waits for the child.
func (t *pipeTee) once(in, out, n int) (int, error) {
	for {
		m, err := unix.Tee(in, out, n, unix.SPLICE_F_NONBLOCK)
		switch {
		case err == nil:
			return int(m), nil
		case errors.Is(err, unix.EINTR):
			continue
		case !errors.Is(err, unix.EAGAIN):
			return 0, err
		}
		// EAGAIN: an empty input or a full output. TIOCINQ is FIONREAD,
		// the number of bytes in the child's pipe.
		if avail, err := unix.IoctlGetInt(in, unix.TIOCINQ); err != nil || avail == 0 {
			return 0, unix.EAGAIN
		}
		t.waiting.Store(1)
		_, err = unix.Poll([]unix.PollFd{{Fd: int32(out), Events: unix.POLLOUT}}, -1)
		t.waiting.Store(0)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return 0, err
		}
	}
}

package heal

import (
	"os"
	"syscall"
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

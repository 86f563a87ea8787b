package ledger

import (
	"fmt"
	"syscall"
)

// dayReader reads the record files of one day folder. On Linux it opens
// each file relative to the folder and reads it with plain system calls:
// os.ReadFile also registers the file with the runtime's poller and asks
// for its size, which doubles the system calls of reading many small
// files.
type dayReader struct {
	dir string
	fd  int
	buf []byte
}

func openDay(dir string) (*dayReader, error) {
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return &dayReader{dir: dir, fd: fd, buf: make([]byte, 0, 64<<10)}, nil
}

// read returns the content of the named file; it is valid until the
// next call.
func (d *dayReader) read(name string) ([]byte, error) {
	fd, err := syscall.Openat(d.fd, name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	defer func() { _ = syscall.Close(fd) }()
	buf := d.buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if n == 0 {
			d.buf = buf
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

func (d *dayReader) close() { _ = syscall.Close(d.fd) }

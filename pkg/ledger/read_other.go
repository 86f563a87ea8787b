//go:build !linux

package ledger

import (
	"os"
	"path/filepath"
)

// dayReader reads the record files of one day folder.
type dayReader struct{ dir string }

func openDay(dir string) (*dayReader, error) { return &dayReader{dir: dir}, nil }

// read returns the content of the named file.
func (d *dayReader) read(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(d.dir, name))
}

func (d *dayReader) close() {}

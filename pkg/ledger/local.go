package ledger

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Local is a ledger in a directory of the machine: one JSON file per
// run under date=YYYY-MM-DD/. Each file is written under a temporary
// name and renamed into place, so concurrent jobs on one machine never
// see or write half a record.
type Local struct {
	Dir string
}

var _ Store = (*Local)(nil)

// NewLocal returns the local ledger in dir; the directory is created on
// the first Put.
func NewLocal(dir string) *Local { return &Local{Dir: dir} }

// String names the directory.
func (l *Local) String() string { return l.Dir }

// Put writes the record's file.
func (l *Local) Put(_ context.Context, r *Record) error {
	data, err := Encode(r)
	if err != nil {
		return err
	}
	path := filepath.Join(l.Dir, filepath.FromSlash(objectName(r)))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write ledger record: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write ledger record: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write ledger record %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write ledger record: %w", err)
	}
	return nil
}

// Walk reads every record file of the days from since on. A missing
// directory is an empty ledger.
func (l *Local) Walk(ctx context.Context, since time.Time, fn func(*Record) error) ([]Problem, error) {
	days, err := os.ReadDir(l.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	var problems []Problem
	for _, d := range days {
		day, ok := dayOf(d.Name())
		if !d.IsDir() || !ok || !wantDay(day, since) {
			continue
		}
		p, err := l.walkDay(ctx, filepath.Join(l.Dir, d.Name()), since, fn)
		problems = append(problems, p...)
		if err != nil {
			return problems, err
		}
	}
	return problems, nil
}

func (l *Local) walkDay(ctx context.Context, dir string, since time.Time, fn func(*Record) error,
) ([]Problem, error) {
	names, err := readNames(dir)
	if err != nil {
		return []Problem{{Name: dir, Err: err}}, nil
	}
	day, err := openDay(dir)
	if err != nil {
		return []Problem{{Name: dir, Err: err}}, nil
	}
	defer day.close()
	var problems []Problem
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return problems, err
		}
		r, err := decodeFile(day, name)
		if err != nil {
			problems = append(problems, Problem{Name: filepath.Join(dir, name), Err: err})
			continue
		}
		if r.Time.Before(since) {
			continue
		}
		if err := fn(r); err != nil {
			return problems, err
		}
	}
	return problems, nil
}

func decodeFile(day *dayReader, name string) (*Record, error) {
	data, err := day.read(name)
	if err != nil {
		return nil, err
	}
	return Decode(data)
}

// readNames lists the record files of a day folder, in name order,
// leaving out files being written.
func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	out := names[:0]
	for _, n := range names {
		if strings.HasSuffix(n, ".json") && !strings.HasPrefix(n, ".") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Store keeps records, one file or object per run, grouped by the day
// the run started (`date=YYYY-MM-DD/`).
type Store interface {
	// Put writes one record. Concurrent Puts of different records are
	// safe, also from several processes.
	Put(ctx context.Context, r *Record) error
	// Walk calls fn with every record of runs that started on or after
	// since (the zero time: all), in no particular order. A record that
	// cannot be read or decoded is skipped and returned as a [Problem];
	// an error from fn or from listing the store ends the walk.
	Walk(ctx context.Context, since time.Time, fn func(*Record) error) ([]Problem, error)
	// String names the store for messages.
	String() string
}

// Problem is a record that could not be read.
type Problem struct {
	// Name is the record's file or object.
	Name string
	Err  error
}

// Error formats the problem as "name: error".
func (p Problem) Error() string { return p.Name + ": " + p.Err.Error() }

// Unwrap returns the cause.
func (p Problem) Unwrap() error { return p.Err }

// ErrSchema is the cause of a [Problem] with a record of a newer schema
// than this binary reads.
var ErrSchema = errors.New("record schema is newer than this self-heal reads")

// DefaultDir is where the local ledger lives, relative to the working
// directory, unless --ledger or SELF_HEAL_LEDGER says otherwise.
const DefaultDir = ".self-heal/ledger"

// Open returns the store a URL names: "s3://bucket/prefix" for S3, a
// path or "file://path" for a local directory (relative paths are taken
// from dir). environ is the job's environment, in os.Environ form; the S3
// store takes its credentials, region and endpoint from it.
func Open(ctx context.Context, url, dir string, environ []string) (Store, error) {
	if err := CheckURL(url); err != nil {
		return nil, fmt.Errorf("open ledger %q: %w", url, err)
	}
	if strings.HasPrefix(url, "s3://") {
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(url, "s3://"), "/")
		return NewS3(ctx, bucket, prefix, environ)
	}
	path := strings.TrimPrefix(url, "file://")
	if path == "" {
		path = DefaultDir
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	return NewLocal(path), nil
}

// CheckURL reports whether url has a form Open accepts, without opening
// anything: a directory, file://PATH, or s3://bucket[/prefix].
func CheckURL(url string) error {
	switch {
	case strings.HasPrefix(url, "s3://"):
		if bucket, _, _ := strings.Cut(strings.TrimPrefix(url, "s3://"), "/"); bucket == "" {
			return errors.New("no bucket named")
		}
	case strings.Contains(url, "://") && !strings.HasPrefix(url, "file://"):
		return errors.New("unknown scheme; use a directory or s3://bucket/prefix")
	}
	return nil
}

// Encode writes a record as one line of JSON.
func Encode(r *Record) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode record %s: %w", r.ID, err)
	}
	return append(b, '\n'), nil
}

// Decode reads a record and checks its schema version.
func Decode(data []byte) (*Record, error) {
	r, err := decodeRecord(data)
	if err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	if r.Schema < 1 {
		return nil, errors.New("decode record: no schema version")
	}
	if r.Schema > SchemaVersion {
		return nil, fmt.Errorf("schema %d: %w", r.Schema, ErrSchema)
	}
	if r.Time.IsZero() {
		return nil, errors.New("decode record: no time")
	}
	return r, nil
}

// objectName is where a record goes below the store's root.
func objectName(r *Record) string {
	return datePrefix(r.Time) + r.ID + ".json"
}

func datePrefix(t time.Time) string {
	return "date=" + t.UTC().Format(time.DateOnly) + "/"
}

// dayOf parses a "date=YYYY-MM-DD" folder name.
func dayOf(name string) (time.Time, bool) {
	d, ok := strings.CutPrefix(strings.TrimSuffix(name, "/"), "date=")
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, d)
	return t, err == nil
}

// wantDay reports whether a day's folder may hold runs from since on.
func wantDay(day, since time.Time) bool {
	return since.IsZero() || !day.Add(24*time.Hour).Before(since.UTC())
}

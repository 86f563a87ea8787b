package terraform

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// lockInfo is what the step's error said about the lock it met.
type lockInfo struct {
	ID, Who, Created, Operation, Path string
}

func lockFrom(v fixer.Values) lockInfo {
	get := func(k string) string { return strings.TrimSpace(v.String(k, "")) }
	return lockInfo{
		ID:        get("lock_id"),
		Who:       get("lock_who"),
		Created:   get("lock_created"),
		Operation: get("lock_operation"),
		Path:      get("lock_path"),
	}
}

// describe names the lock for a reviewer: its ID, holder, operation and
// creation time, leaving out what the error did not say.
func (l lockInfo) describe() string {
	s := "lock " + l.ID
	if l.Who != "" {
		s += " held by " + l.Who
	}
	if l.Operation != "" {
		s += " for " + l.Operation
	}
	if l.Created != "" {
		s += " since " + l.Created
	}
	if l.Path != "" {
		s += " on " + l.Path
	}
	return s
}

// createdLayouts are the forms of a lock's creation time: Go's default
// time format, which terraform prints in "Lock Info", and RFC 3339, which
// backends store. Fractional seconds are accepted by both.
var createdLayouts = []string{
	"2006-01-02 15:04:05 -0700 MST",
	"2006-01-02 15:04:05 -0700",
	time.RFC3339,
}

// parseCreated parses a lock's creation time.
func parseCreated(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	// A time printed with its monotonic reading carries " m=+1.23".
	if i := strings.Index(s, " m="); i >= 0 {
		s = s[:i]
	}
	for _, layout := range createdLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unknown lock creation time %q", s)
}

// beatFact is what the holder's heartbeat says: a verdict it supports
// when ok, and the fact either way ("" when there is nothing to say).
type beatFact struct {
	verdict fixer.Verdict
	fact    string
	ok      bool
}

// judge decides from the lock, the host and the holder's heartbeat whether
// the holder is gone. It acts when the lock was taken on this host and no
// terraform or tofu runs here; otherwise it follows the heartbeat (stale:
// act, fresh: wait, whatever the lock's age); without one, it acts when
// the lock is older than maxAge, and otherwise waits.
func (h Host) judge(l lockInfo, maxAge time.Duration, beat beatFact) fixer.Plan {
	var evidence []string

	gone, fact := h.holderGoneHere(l)
	evidence = append(evidence, fact)
	if gone {
		return fixer.Plan{Verdict: fixer.Act, Evidence: evidence}
	}

	if beat.fact != "" {
		evidence = append(evidence, beat.fact)
	}
	switch {
	case beat.ok && beat.verdict == fixer.Act:
		return fixer.Plan{Verdict: fixer.Act, Evidence: evidence}
	case beat.ok:
		return fixer.Plan{
			Verdict:  fixer.Wait,
			Action:   "the holder's self-heal run is alive; waiting for it to release the lock",
			Evidence: evidence,
		}
	}

	old, fact := h.olderThan(l, maxAge)
	evidence = append(evidence, fact)
	if old {
		return fixer.Plan{Verdict: fixer.Act, Evidence: evidence}
	}

	return fixer.Plan{
		Verdict:  fixer.Wait,
		Action:   "holder may still be running; waiting for it to release the lock",
		Evidence: evidence,
	}
}

// holderGoneHere reports whether the lock was taken on this host and no
// terraform or tofu process is alive here, with the fact that says so.
// When the processes cannot be listed (no /proc), the holder may be alive.
func (h Host) holderGoneHere(l lockInfo) (bool, string) {
	host, err := h.Hostname()
	if err != nil {
		return false, fmt.Sprintf("this host's name is unknown (%v)", err)
	}
	if l.Who == "" {
		return false, "the lock does not say who holds it"
	}
	if !strings.HasSuffix(l.Who, "@"+host) {
		return false, fmt.Sprintf("lock %s was taken by %s, not on this host (%s)",
			l.ID, l.Who, host)
	}

	pids, err := h.ToolProcesses()
	if err != nil {
		return false, fmt.Sprintf("lock %s was taken on this host (%s) but its processes "+
			"cannot be listed (%v)", l.ID, l.Who, err)
	}
	if len(pids) > 0 {
		return false, fmt.Sprintf("lock %s was taken on this host (%s) and terraform or tofu "+
			"is still running here (pid %s)", l.ID, l.Who, joinInts(pids))
	}
	return true, fmt.Sprintf("lock %s was taken on this host (%s) and no terraform or tofu "+
		"process is running here", l.ID, l.Who)
}

// olderThan reports whether the lock is older than maxAge, with the fact
// that says so.
func (h Host) olderThan(l lockInfo, maxAge time.Duration) (bool, string) {
	if l.Created == "" {
		return false, "the lock's creation time is unknown"
	}
	created, err := parseCreated(l.Created)
	if err != nil {
		return false, fmt.Sprintf("the lock's creation time %q cannot be read", l.Created)
	}
	age := h.Now().Sub(created).Round(time.Second)
	if age > maxAge {
		return true, fmt.Sprintf("lock %s was created %s ago, longer than max_age %s",
			l.ID, age, maxAge)
	}
	return false, fmt.Sprintf("lock %s was created %s ago, within max_age %s", l.ID, age, maxAge)
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// releasedSigns are the ways terraform's backends say that a lock given to
// force-unlock no longer exists.
var releasedSigns = []*regexp.Regexp{
	// s3 with use_lockfile: the lock object is gone.
	regexp.MustCompile(`(?s)unable to retrieve file from S3 bucket.*(NoSuchKey|StatusCode: 404)`),
	// s3 with dynamodb_table: the lock item is gone, so its info is empty.
	regexp.MustCompile(`failed to retrieve lock info for lock ID.*unexpected end of JSON input`),
	// any backend: another lock has replaced it.
	regexp.MustCompile(`does not match the existing lock ID`),
}

// alreadyReleased reports whether a force-unlock error means the lock was
// gone before the call.
func alreadyReleased(err error) bool {
	msg := err.Error()
	for _, re := range releasedSigns {
		if re.MatchString(msg) {
			return true
		}
	}
	return false
}

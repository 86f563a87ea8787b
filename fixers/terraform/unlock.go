package terraform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Defaults of the force-unlock inputs.
const (
	defaultMaxAge = 6 * time.Hour
	defaultBackup = true
)

// ForceUnlock is the terraform.force-unlock fixer. It releases a state
// lock only on evidence that its holder is gone, and saves the state to a
// file first. Create it with [NewForceUnlock]; it is safe for concurrent
// use.
type ForceUnlock struct {
	host Host

	mu sync.Mutex
	// backups maps a lock ID to the backup already taken under that lock.
	// While the lock is held nobody writes the state, so one backup per
	// lock is enough even when the policy asks for it before Apply.
	backups map[string]string
}

var (
	_ fixer.Fixer     = (*ForceUnlock)(nil)
	_ fixer.Backupper = (*ForceUnlock)(nil)
	_ fixer.Watcher   = (*ForceUnlock)(nil)
)

// NewForceUnlock returns the fixer working on host; a zero field of host
// is replaced by the one of [RealHost].
func NewForceUnlock(host Host) *ForceUnlock {
	def := RealHost()
	if host.Hostname == nil {
		host.Hostname = def.Hostname
	}
	if host.ToolProcesses == nil {
		host.ToolProcesses = def.ToolProcesses
	}
	if host.Now == nil {
		host.Now = def.Now
	}
	if host.User == nil {
		host.User = def.User
	}
	return &ForceUnlock{host: host, backups: map[string]string{}}
}

// Name returns "terraform.force-unlock".
func (*ForceUnlock) Name() string { return "terraform.force-unlock" }

// Safety returns [fixer.Disruptive]: releasing a live holder's lock lets
// two runs write the same state.
func (*ForceUnlock) Safety() fixer.Safety { return fixer.Disruptive }

// Describe says what the fixer does in one line.
func (*ForceUnlock) Describe() string {
	return "force-unlock a terraform state lock whose holder is gone, after backing up the state"
}

// Inputs lists the state-lock captures and the `with:` parameters.
func (*ForceUnlock) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "lock_id", Type: fixer.String, Required: true, Doc: "ID of the lock"},
		{Name: "lock_who", Type: fixer.String, Doc: "holder, as user@host"},
		{Name: "lock_created", Type: fixer.String, Doc: "when the lock was taken"},
		{Name: "lock_operation", Type: fixer.String, Doc: "operation that took the lock"},
		{Name: "lock_path", Type: fixer.String, Doc: "state the lock protects"},
		{Name: "max_age", Type: fixer.Duration, Default: defaultMaxAge.String(),
			Doc: "a lock older than this is taken as abandoned"},
		{Name: "backup", Type: fixer.Bool, Default: fmt.Sprint(defaultBackup),
			Doc: "pull the state into the artifact directory before unlocking"},
	}
}

// Check decides from the lock, this host and the holder's self-heal
// heartbeat whether the holder is gone. It refuses without a lock ID; it
// has nothing to do when an s3 backend no longer holds that lock; it acts
// when the lock was taken on this host and no terraform or tofu runs
// here, when the holder's heartbeat is stale, or, without a heartbeat,
// when the lock is older than max_age; otherwise it waits. It changes
// nothing.
func (f *ForceUnlock) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	lock := lockFrom(req.Values)
	if lock.ID == "" {
		return fixer.Plan{
			Verdict: fixer.Refuse,
			Action:  "the error names no lock ID, so there is no lock to release",
		}, nil
	}
	if problem := workspaceProblem(req.Step); problem != "" {
		return fixer.Plan{Verdict: fixer.Refuse, Action: problem}, nil
	}
	maxAge, err := req.Values.Duration("max_age", defaultMaxAge)
	if err != nil {
		return fixer.Plan{}, err
	}
	backup, err := req.Values.Bool("backup", defaultBackup)
	if err != nil {
		return fixer.Plan{}, err
	}

	if held, ok := readHeldLock(ctx, req.Step, lock); ok && held.id != lock.ID {
		return releasedPlan(lock, held), nil
	}

	var beat beatFact
	beat.verdict, beat.fact, beat.ok = f.heartbeatEvidence(ctx, req.Step, lock)
	plan := f.host.judge(lock, maxAge, beat)
	if plan.Verdict == fixer.Act {
		plan.Action = "force-unlock " + lock.describe()
		if backup {
			plan.Action += ", after saving the state to the artifact directory"
		}
	}
	return plan, nil
}

// Backup pulls the current state with `terraform state pull` into a file
// in the step's artifact directory, named after the lock and the time, and
// returns its path. Without an artifact directory it uses a new temporary
// one.
func (f *ForceUnlock) Backup(ctx context.Context, req fixer.Request) (string, error) {
	lock := lockFrom(req.Values)
	tf, err := newTerraform(req.Step)
	if err != nil {
		return "", err
	}
	state, err := tf.StatePull(ctx)
	if err != nil {
		return "", fmt.Errorf("pull state in %s: %w", req.Step.Dir, err)
	}

	dir, err := artifactDir(req.Step)
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("tfstate-%s-%s.tfstate", fileSafe(lock.ID),
		f.host.Now().UTC().Format("20060102T150405Z"))
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(state), 0o600); err != nil {
		return "", fmt.Errorf("write state backup: %w", err)
	}

	f.mu.Lock()
	f.backups[lock.ID] = path
	f.mu.Unlock()
	return path, nil
}

// Apply backs the state up (unless backup is false) and force-unlocks the
// lock. A backup that [ForceUnlock.Backup] already took under this lock is
// reused and not reported again. A lock that is already gone is reported
// in the log, with nothing changed. A failed backup stops the unlock.
func (f *ForceUnlock) Apply(ctx context.Context, req fixer.Request) (fixer.Result, error) {
	lock := lockFrom(req.Values)
	if lock.ID == "" {
		return fixer.Result{}, errors.New("force-unlock: input lock_id is required")
	}
	backup, err := req.Values.Bool("backup", defaultBackup)
	if err != nil {
		return fixer.Result{}, err
	}

	var res fixer.Result
	if backup {
		path, fresh, err := f.backupOnce(ctx, req, lock.ID)
		if err != nil {
			return fixer.Result{}, fmt.Errorf("back up state before force-unlock: %w", err)
		}
		if fresh {
			res.Backups = []string{path}
		}
	}

	tf, err := newTerraform(req.Step)
	if err != nil {
		return res, err
	}
	err = tf.ForceUnlock(ctx, lock.ID)
	switch {
	case err != nil && alreadyReleased(err):
		res.Notes = append(res.Notes, fmt.Sprintf("lock %s was already released%s", lock.ID, replacedBy(err)))
		return res, nil
	case err != nil:
		return res, fmt.Errorf("force-unlock %s: %w", lock.ID, err)
	}
	res.Changed = []string{"force-unlocked " + lock.describe()}
	return res, nil
}

// backupOnce returns the backup taken under this lock, taking it first if
// there is none yet; fresh says it was taken now.
func (f *ForceUnlock) backupOnce(ctx context.Context, req fixer.Request, id string,
) (path string, fresh bool, err error) {
	f.mu.Lock()
	path, ok := f.backups[id]
	f.mu.Unlock()
	if ok {
		if _, err := os.Stat(path); err == nil {
			return path, false, nil
		}
	}
	path, err = f.Backup(ctx, req)
	return path, err == nil, err
}

func artifactDir(step fixer.Step) (string, error) {
	if step.ArtifactDir == "" {
		dir, err := os.MkdirTemp("", "self-heal-backup-")
		if err != nil {
			return "", fmt.Errorf("create backup directory: %w", err)
		}
		return dir, nil
	}
	if err := os.MkdirAll(step.ArtifactDir, 0o755); err != nil {
		return "", fmt.Errorf("create artifact directory: %w", err)
	}
	return step.ArtifactDir, nil
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileSafe makes a lock ID usable in a file name.
func fileSafe(id string) string {
	return unsafeFileChars.ReplaceAllString(id, "_")
}

var existingLockID = regexp.MustCompile(`existing lock ID '([^']+)'`)

// replacedBy names the lock that took the place of a released one, if the
// error says so.
func replacedBy(err error) string {
	if m := existingLockID.FindStringSubmatch(err.Error()); m != nil {
		return "; the state is now held by lock " + m[1]
	}
	return ""
}

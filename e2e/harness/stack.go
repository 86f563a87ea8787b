package harness

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// stackTF is the test stack: one terraform_data whose creation sleeps for
// var.sleep seconds, in an s3 backend configured at init.
//
//go:embed stack/main.tf
var stackTF []byte

// Backend says where a stack keeps its state and lock.
type Backend struct {
	// Endpoint is the moto URL for both S3 and DynamoDB.
	Endpoint string
	Bucket   string
	Key      string
	// LockTable is the DynamoDB lock table; empty means use_lockfile.
	LockTable string
}

// HCL returns the backend configuration file given to terraform init.
func (b Backend) HCL() string {
	lock := "use_lockfile = true"
	if b.LockTable != "" {
		lock = fmt.Sprintf("dynamodb_table = %q", b.LockTable)
	}
	return fmt.Sprintf("bucket = %q\nkey = %q\n", b.Bucket, b.Key) +
		fmt.Sprintf("endpoints = { s3 = %q, dynamodb = %q }\n", b.Endpoint, b.Endpoint) +
		lock + "\n"
}

// Vars are values of the stack's variables, passed as TF_VAR_ variables.
type Vars map[string]string

// Stack is an initialised copy of the test stack in a temporary directory.
type Stack struct {
	Dir     string
	Env     []string
	Backend Backend
	AWS     *AWS
}

// NewStack writes the stack and its backend configuration into a new
// temporary directory and runs terraform init there with env. The bucket
// (and lock table) must exist.
func NewStack(t testing.TB, a *AWS, env []string, b Backend) *Stack {
	t.Helper()
	s := &Stack{Dir: t.TempDir(), Env: env, Backend: b, AWS: a}
	files := map[string][]byte{"main.tf": stackTF, "backend.hcl": []byte(b.HCL())}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(s.Dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s.Run(t, nil, "terraform", "init", "-input=false", "-no-color", "-backend-config=backend.hcl")
	return s
}

// Command returns args as a command in the stack's directory with its
// environment and vars.
func (s *Stack) Command(ctx context.Context, vars Vars, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = s.Dir
	cmd.Env = append([]string(nil), s.Env...)
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, "TF_VAR_"+k+"="+vars[k])
	}
	return cmd
}

// Run runs args in the stack to completion and fails the test, showing the
// output, when it fails.
func (s *Stack) Run(t testing.TB, vars Vars, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := s.Command(ctx, vars, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	return string(out)
}

// ApplyArgs is the step every test heals.
var ApplyArgs = []string{"terraform", "apply", "-auto-approve", "-input=false"}

// Apply runs terraform apply with vars to completion.
func (s *Stack) Apply(t testing.TB, vars Vars) {
	t.Helper()
	s.Run(t, vars, append(ApplyArgs, "-no-color")...)
}

// Lock returns the stack's state lock as its backend stores it, or nil.
func (s *Stack) Lock(ctx context.Context) (*LockInfo, error) {
	b := s.Backend
	if b.LockTable != "" {
		return s.AWS.LockItem(ctx, b.LockTable, b.Bucket, b.Key)
	}
	return s.AWS.LockObject(ctx, b.Bucket, b.Key)
}

// State returns the stack's stored state, or nil when there is none.
func (s *Stack) State(ctx context.Context) (*State, error) {
	return s.AWS.State(ctx, s.Backend.Bucket, s.Backend.Key)
}

// StartApply starts terraform apply with vars in the background and waits
// until it holds the lock and is creating the resource, that is, sleeping
// in the provisioner. It returns the running apply and its lock.
func (s *Stack) StartApply(t testing.TB, vars Vars) (*Process, *LockInfo) {
	t.Helper()
	p := Start(t, s.Command(context.Background(), vars, append(ApplyArgs, "-no-color")...))
	p.WaitForOutput(t, "terraform_data.slow (local-exec): Executing", time.Minute)

	var lock *LockInfo
	Eventually(t, 30*time.Second, "the state lock", func() (bool, error) {
		var err error
		lock, err = s.Lock(context.Background())
		return lock != nil, err
	})
	return p, lock
}

// LeaveStaleLock makes the failure that force-unlock heals: an apply that
// is killed, with its whole process group, while it holds the lock. It
// checks that the lock is left behind and returns it.
func (s *Stack) LeaveStaleLock(t testing.TB, vars Vars) *LockInfo {
	t.Helper()
	p, lock := s.StartApply(t, vars)
	p.Kill(t)

	left, err := s.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if left == nil || left.ID != lock.ID {
		t.Fatalf("after the kill the lock is %+v, want %s left behind", left, lock.ID)
	}
	return left
}

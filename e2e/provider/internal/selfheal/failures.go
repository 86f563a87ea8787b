package selfheal

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Kind is a way a resource fails on demand.
type Kind string

// The failure kinds. Each but [Inconsistent] is an error with the wording
// the AWS provider prints for the same failure.
const (
	// Throttling is an API rate limit: ThrottlingException.
	Throttling Kind = "throttling"
	// RetryAfter is a rate limit whose error names the wait the service
	// asks for (Lambda's TooManyRequestsException with RetryAfterSeconds).
	RetryAfter Kind = "retry-after"
	// NotFound is an object created moments ago that EC2 does not see yet.
	NotFound Kind = "not-found"
	// IAMPropagation is a role created moments ago that Lambda cannot
	// assume yet.
	IAMPropagation Kind = "iam-propagation"
	// Inconsistent returns a value other than the planned one after apply,
	// which terraform reports as an inconsistent result.
	Inconsistent Kind = "inconsistent"
)

// Kinds lists every failure kind.
var Kinds = []Kind{Throttling, RetryAfter, NotFound, IAMPropagation, Inconsistent}

// ParseKind checks a failure kind's name; the empty name means none.
func ParseKind(s string) (Kind, error) {
	if s == "" {
		return "", nil
	}
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown failure %q", s)
}

// Failure says how one call of a resource fails: its kind and its number
// among the calls for the same resource name.
type Failure struct {
	Kind Kind
	Name string
	// Call is the 1-based number of the call.
	Call int
	// RetryAfter is the wait, in seconds, a [RetryAfter] failure asks for.
	RetryAfter int64
}

// Message returns the error summary the failure prints, or "" for a kind
// that is not an error ([Inconsistent]).
func (f Failure) Message() string {
	req := requestID(f.Name, f.Call)
	switch f.Kind {
	case Throttling:
		return fmt.Sprintf("creating Application Auto Scaling Policy (%s): operation error "+
			"Application Auto Scaling: PutScalingPolicy, https response error StatusCode: 400, "+
			"RequestID: %s, ThrottlingException: Rate exceeded", f.Name, req)
	case RetryAfter:
		return fmt.Sprintf("creating Lambda Function (%s): TooManyRequestsException: Rate exceeded "+
			"{ RespMetadata: { StatusCode: 429, RequestID: %q }, Message_: \"Rate exceeded\", "+
			"Reason: \"CallerRateLimitExceeded\", RetryAfterSeconds: \"%d\", Type: \"User\" }",
			f.Name, req, f.RetryAfter)
	case NotFound:
		id := InstanceID(f.Name)
		return fmt.Sprintf("reading EC2 Instance (%s): operation error EC2: DescribeInstances, "+
			"https response error StatusCode: 400, RequestID: %s, api error "+
			"InvalidInstanceID.NotFound: The instance ID '%s' does not exist", id, req, id)
	case IAMPropagation:
		return fmt.Sprintf("creating Lambda Function (%s): operation error Lambda: CreateFunction, "+
			"https response error StatusCode: 400, RequestID: %s, InvalidParameterValueException: "+
			"The role defined for the function cannot be assumed by Lambda.", f.Name, req)
	}
	return ""
}

// InstanceID is the EC2 instance ID a [NotFound] failure of name names.
func InstanceID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "i-0" + hex.EncodeToString(sum[:])[:16]
}

// requestID makes a request ID of the UUID form, stable for a name and call.
func requestID(name string, call int) string {
	sum := sha256.Sum256([]byte(name + "\x00" + strconv.Itoa(call)))
	h := hex.EncodeToString(sum[:16])
	return strings.Join([]string{h[:8], h[8:12], h[12:16], h[16:20], h[20:32]}, "-")
}

// Counter counts the calls made for each resource name in files under Dir,
// so that the count survives the provider process, which terraform starts
// anew for every command.
type Counter struct {
	Dir string
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Next records one more call for name and returns its number, 1 for the
// first. It fails without a directory.
func (c Counter) Next(name string) (int, error) {
	if c.Dir == "" {
		return 0, errors.New("no state directory: set state_dir or SELFHEAL_STATE_DIR")
	}
	path := filepath.Join(c.Dir, unsafeName.ReplaceAllString(name, "_")+".calls")
	n := 0
	if b, err := os.ReadFile(path); err == nil {
		n, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	} else if !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("read call count: %w", err)
	}
	n++
	if err := os.WriteFile(path, []byte(strconv.Itoa(n)+"\n"), 0o644); err != nil {
		return 0, fmt.Errorf("write call count: %w", err)
	}
	return n, nil
}

package terraform

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// Replan is the terraform.replan fixer for a provider's inconsistent plan
// or result: it has the apply run once more, which plans again from the
// state the failed apply left. When the same resource then fails the same
// way, it stops and says that the provider has a bug. Create it with
// [NewReplan]; it is safe for concurrent use.
type Replan struct {
	mu   sync.Mutex
	seen map[string]bool
}

var (
	_ fixer.Fixer   = (*Replan)(nil)
	_ fixer.Retrier = (*Replan)(nil)
)

// NewReplan returns the fixer with no failure seen yet.
func NewReplan() *Replan { return &Replan{seen: map[string]bool{}} }

// Name returns "terraform.replan".
func (*Replan) Name() string { return "terraform.replan" }

// Safety returns [fixer.Safe]: it only has the step run again.
func (*Replan) Safety() fixer.Safety { return fixer.Safe }

// Describe says what the fixer does in one line.
func (*Replan) Describe() string {
	return "re-plan and re-apply once after an inconsistent plan or result; a recurrence is a " +
		"provider bug"
}

// RetryOnly returns true: the re-run of the step is the re-plan.
func (*Replan) RetryOnly() bool { return true }

// Inputs lists the captures the fixer reads.
func (*Replan) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "resource", Type: fixer.String, Doc: "the resource the provider got wrong"},
		{Name: "attribute", Type: fixer.String, Doc: "the value that came out inconsistent"},
		{Name: "provider", Type: fixer.String, Doc: "the provider's source address"},
	}
}

// key identifies a failure: the stack, resource and attribute.
func replanKey(req fixer.Request) string {
	v := req.Values
	return strings.Join([]string{stepDir(req.Step), v.String("resource", ""),
		v.String("attribute", "")}, "\x00")
}

// Check acts the first time a resource fails this way and refuses, naming
// the provider bug, when it fails the same way again. It refuses a step
// that applies a saved plan, which a re-run cannot re-plan.
func (f *Replan) Check(_ context.Context, req fixer.Request) (fixer.Plan, error) {
	res := req.Values.String("resource", "a resource")
	if plan := savedPlan(req.Step); plan != "" {
		return fixer.Plan{Verdict: fixer.Refuse, Action: fmt.Sprintf("the step applies the saved "+
				"plan %s, which a re-run cannot re-plan; plan again with the same options and apply", plan)},
			nil
	}
	f.mu.Lock()
	again := f.seen[replanKey(req)]
	f.mu.Unlock()
	if again {
		return fixer.Plan{Verdict: fixer.Refuse, Action: fmt.Sprintf("%s failed the same way after "+
			"a re-plan and re-apply: this is a bug in %s that recurs; report it to the provider "+
			"and upgrade, pin or work around it", res, providerName(req.Values)),
			Evidence: []string{res + " was re-planned and re-applied once already in this run"}}, nil
	}
	return fixer.Plan{Verdict: fixer.Act,
		Action:   fmt.Sprintf("re-plan and re-apply once; %s is re-created or updated from state", res),
		Evidence: []string{"first inconsistent result for " + res + " in this run"}}, nil
}

func providerName(v fixer.Values) string {
	if p := v.String("provider", ""); p != "" {
		return "the provider " + p
	}
	return "the provider"
}

// Apply records the failure, so that a recurrence is refused, and changes
// nothing, as its notes say: the engine's re-run is the re-plan and
// re-apply.
func (f *Replan) Apply(_ context.Context, req fixer.Request) (fixer.Result, error) {
	f.mu.Lock()
	f.seen[replanKey(req)] = true
	f.mu.Unlock()
	return fixer.Result{Notes: []string{"changed nothing: the re-run of the step re-plans " +
		"and re-applies"}}, nil
}

// savedPlan returns the plan file an apply step applies, or "".
func savedPlan(step fixer.Step) string {
	if step.Goal != "apply" || len(step.Args) < 2 {
		return ""
	}
	var words []string
	for _, a := range step.Args[1:] {
		if !strings.HasPrefix(a, "-") && !strings.Contains(a, "=") {
			words = append(words, a)
		}
	}
	if len(words) >= 2 && words[0] == "apply" {
		return words[1]
	}
	return ""
}

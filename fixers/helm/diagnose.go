package helm

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// DiagnoseTimeout is the helm.diagnose-timeout fixer. When helm gave up
// waiting for a release's resources, it finds which of them are not ready
// and why, from their status, their pods and their events, puts that in
// the report, and lets the engine retry the step once: a slow rollout
// passes on the retry, a broken one fails again with the reason on record.
// It changes nothing.
type DiagnoseTimeout struct{}

var (
	_ fixer.Fixer   = DiagnoseTimeout{}
	_ fixer.Retrier = DiagnoseTimeout{}
)

// Name returns "helm.diagnose-timeout".
func (DiagnoseTimeout) Name() string { return "helm.diagnose-timeout" }

// Safety returns [fixer.Safe]: it only reads.
func (DiagnoseTimeout) Safety() fixer.Safety { return fixer.Safe }

// Describe says what the fixer does in one line.
func (DiagnoseTimeout) Describe() string {
	return "say which of a release's resources are not ready and why, then retry once"
}

// RetryOnly returns true: the diagnosis changes nothing.
func (DiagnoseTimeout) RetryOnly() bool { return true }

// Inputs lists the release.
func (DiagnoseTimeout) Inputs() []fixer.Input {
	return []fixer.Input{
		releaseInput, namespaceInput,
	}
}

// Check diagnoses the release's resources; its evidence is the diagnosis.
// When every resource is ready it has nothing to diagnose, and the
// pattern's back-off and re-run still apply.
func (d DiagnoseTimeout) Check(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	t, err := newTarget(req)
	if err != nil {
		return fixer.Plan{Verdict: fixer.Act, Action: "retry the step once (no release to " +
			"diagnose: " + err.Error() + ")"}, nil
	}
	found, err := d.diagnose(ctx, t, req.Failure)
	if err != nil {
		return fixer.Plan{}, err
	}
	if len(found) == 0 {
		return fixer.Plan{Verdict: fixer.Nothing, Action: fmt.Sprintf("nothing to diagnose: "+
			"every resource of %s is ready now; the step is re-run after the back-off", t),
			Evidence: []string{"no resource of " + t.String() + " is unready"}}, nil
	}
	names := make([]string, len(found))
	for i, f := range found {
		names[i] = f.name
	}
	return fixer.Plan{Verdict: fixer.Act, Evidence: found.lines(), Action: fmt.Sprintf(
		"retry the step once; not ready in %s: %s", t, strings.Join(names, ", "))}, nil
}

// Apply changes nothing, as its notes say: the engine retries the step.
func (DiagnoseTimeout) Apply(context.Context, fixer.Request) (fixer.Result, error) {
	return fixer.Result{Notes: []string{"changed nothing: the diagnosis is in the plan, and " +
		"the step is retried"}}, nil
}

// finding is one resource that is not ready, with the reasons found.
type finding struct {
	name    string
	reasons []string
	// readyNow is set for a resource helm named that is ready by now.
	readyNow bool
}

type findings []finding

func (fs findings) lines() []string {
	var out []string
	for _, f := range fs {
		if f.readyNow {
			out = append(out, f.name+": helm reported it not ready; it is ready now")
			continue
		}
		out = append(out, f.name+" is not ready: "+strings.Join(f.reasons, "; "))
	}
	return out
}

// helmNotReady matches Helm 4's "resource Kind/namespace/name not ready".
var helmNotReady = regexp.MustCompile(`resource (\w+)/([\w.-]*)/([\w.-]+) not ready`)

// diagnose reads every resource of the release's last revision, and the
// resources the failure names, and explains the ones that are not ready.
func (d DiagnoseTimeout) diagnose(ctx context.Context, t *target, failure string,
) (findings, error) {
	infos, err := d.resources(t)
	if err != nil {
		return nil, err
	}
	kc, err := t.cfg.KubernetesClientSet()
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	named := map[string]bool{}
	for _, m := range helmNotReady.FindAllStringSubmatch(failure, -1) {
		named[m[1]+"/"+m[3]] = true
	}
	var out findings
	for _, info := range infos {
		f, ok, err := d.examine(ctx, kc, info)
		if err != nil {
			return nil, err
		}
		if !ok && named[info.Mapping.GroupVersionKind.Kind+"/"+info.Name] {
			f.readyNow, ok = true, true
		}
		if ok {
			out = append(out, f)
		}
	}
	return out, nil
}

// resources returns the objects of the release's last revision.
func (DiagnoseTimeout) resources(t *target) ([]*resource.Info, error) {
	rels, err := t.history()
	if err != nil || len(rels) == 0 {
		return nil, err
	}
	last := rels[len(rels)-1]
	list, err := t.cfg.KubeClient.Build(strings.NewReader(last.Manifest), false)
	if err != nil {
		return nil, fmt.Errorf("read the manifest of revision %d: %w", last.Version, err)
	}
	return list, nil
}

// examine reads one object and explains why it is not ready. ok is false
// when it is ready.
func (d DiagnoseTimeout) examine(ctx context.Context, kc kubernetes.Interface,
	info *resource.Info,
) (finding, bool, error) {
	f := finding{name: infoName(info)}
	if err := info.Get(); err != nil {
		f.reasons = append(f.reasons, "it cannot be read: "+err.Error())
		return f, true, nil
	}
	u, ok := info.Object.(*unstructured.Unstructured)
	if !ok {
		obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(info.Object)
		if err != nil {
			return f, false, fmt.Errorf("read %s: %w", f.name, err)
		}
		u = &unstructured.Unstructured{Object: obj}
	}
	res, err := status.Compute(u)
	if err != nil || res.Status == status.CurrentStatus {
		return f, false, nil
	}
	f.reasons = append(f.reasons, fmt.Sprintf("status %s: %s", res.Status, res.Message))
	f.reasons = append(f.reasons, controllerHints(u)...)
	f.reasons = append(f.reasons, podReasons(ctx, kc, u)...)
	f.reasons = append(f.reasons, warningEvents(ctx, kc, u)...)
	return f, true, nil
}

// controllerHints explains a workload whose controller has not acted.
func controllerHints(u *unstructured.Unstructured) []string {
	switch u.GetKind() {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
	default:
		return nil
	}
	observed, found, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	if !found || observed < u.GetGeneration() {
		return []string{fmt.Sprintf("its controller has not observed generation %d yet "+
			"(is kube-controller-manager running?)", u.GetGeneration())}
	}
	return nil
}

// podReasons explains the pods a workload selects, or the pod itself.
func podReasons(ctx context.Context, kc kubernetes.Interface, u *unstructured.Unstructured,
) []string {
	var pods []corev1.Pod
	if u.GetKind() == "Pod" {
		var p corev1.Pod
		if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &p) == nil {
			pods = append(pods, p)
		}
	} else if sel, ok, _ := unstructured.NestedStringMap(u.Object, "spec", "selector",
		"matchLabels"); ok && len(sel) > 0 {
		list, err := kc.CoreV1().Pods(u.GetNamespace()).List(ctx, metav1.ListOptions{
			LabelSelector: labels.SelectorFromSet(sel).String(),
		})
		if err == nil {
			pods = list.Items
		}
		if err == nil && len(pods) == 0 && u.GetKind() != "Job" {
			return []string{"no pod of it exists"}
		}
	}
	var out []string
	for i := range pods {
		out = append(out, podReason(&pods[i])...)
	}
	return out
}

// podReason says why one pod is not ready.
func podReason(p *corev1.Pod) []string {
	var out []string
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status != corev1.ConditionTrue {
			out = append(out, fmt.Sprintf("pod %s is not scheduled: %s %s", p.Name, c.Reason,
				c.Message))
		}
	}
	if p.Spec.NodeName == "" && len(out) == 0 && p.Status.Phase == corev1.PodPending {
		out = append(out, "pod "+p.Name+" is Pending and no scheduler has placed it")
	}
	for _, cs := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			out = append(out, fmt.Sprintf("pod %s container %s is waiting: %s %s", p.Name,
				cs.Name, w.Reason, w.Message))
		}
		if t := cs.LastTerminationState.Terminated; t != nil && cs.RestartCount > 0 {
			out = append(out, fmt.Sprintf("pod %s container %s restarted %d times, "+
				"last exit %d (%s)", p.Name, cs.Name, cs.RestartCount, t.ExitCode, t.Reason))
		}
	}
	return out
}

// warningEvents returns the latest warning events about the object.
func warningEvents(ctx context.Context, kc kubernetes.Interface, u *unstructured.Unstructured,
) []string {
	list, err := kc.CoreV1().Events(u.GetNamespace()).List(ctx, metav1.ListOptions{
		FieldSelector: fields.Set{
			"involvedObject.name": u.GetName(), "involvedObject.kind": u.GetKind(),
			"type": corev1.EventTypeWarning,
		}.String(),
	})
	if err != nil || len(list.Items) == 0 {
		return nil
	}
	items := list.Items
	sort.Slice(items, func(i, j int) bool {
		return items[i].LastTimestamp.After(items[j].LastTimestamp.Time)
	})
	var out []string
	for _, e := range items[:min(3, len(items))] {
		out = append(out, fmt.Sprintf("event %s: %s", e.Reason, e.Message))
	}
	return out
}

package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"

	"github.com/self-heal/self-heal/fixers/kube/kubeconfig"
)

// leftover is one object still present in a terminating namespace.
type leftover struct {
	ref Ref
	obj *unstructured.Unstructured
}

func (l leftover) String() string {
	s := l.ref.String()
	if f := l.obj.GetFinalizers(); len(f) > 0 {
		s += " (finalizers: " + strings.Join(f, ", ") + ")"
	}
	if l.obj.GetDeletionTimestamp() != nil {
		s += " (being deleted)"
	}
	return s
}

// survey is what a terminating namespace still holds and what may block
// it.
type survey struct {
	left []leftover
	// unavailable lists APIServices that are not available; the
	// namespace controller cannot list their resources.
	unavailable []string
	// unlisted are groups whose resources could not be listed.
	unlisted []string
	// conditions are the namespace's own status conditions that are true.
	conditions []string
}

// evidence renders the survey as lines for a plan.
func (s survey) evidence() []string {
	var ev []string
	for _, u := range s.unavailable {
		ev = append(ev, "APIService "+u+" is unavailable")
	}
	for _, g := range s.unlisted {
		ev = append(ev, "could not list the resources of "+g)
	}
	ev = append(ev, s.conditions...)
	if len(s.left) == 0 {
		return append(ev, "no objects are left in the namespace")
	}
	for _, l := range s.left {
		ev = append(ev, "left in the namespace: "+l.String())
	}
	return ev
}

// surveyNamespace lists every object left in ns, the unavailable
// APIServices and the namespace's conditions.
func surveyNamespace(ctx context.Context, c *kubeconfig.Clients, ns *corev1.Namespace,
) (survey, error) {
	var s survey
	for _, cond := range ns.Status.Conditions {
		if cond.Status == corev1.ConditionTrue {
			s.conditions = append(s.conditions, fmt.Sprintf("namespace condition %s: %s",
				cond.Type, cond.Message))
		}
	}
	un, err := unavailableAPIServices(ctx, c)
	if err != nil {
		return s, err
	}
	s.unavailable = un

	lists, unlisted, err := discoverNamespaced(c)
	if err != nil {
		return s, err
	}
	s.unlisted = unlisted
	s.left, err = listLeft(ctx, c, lists, ns.Name)
	return s, err
}

// discoverNamespaced returns the preferred version of every namespaced
// resource, and the group versions whose discovery failed (an unavailable
// APIService), which are skipped.
func discoverNamespaced(c *kubeconfig.Clients) ([]*metav1.APIResourceList, []string, error) {
	lists, err := discovery.ServerPreferredNamespacedResources(c.Discovery)
	var failed *discovery.ErrGroupDiscoveryFailed
	if errors.As(err, &failed) {
		var unlisted []string
		for gv := range failed.Groups {
			unlisted = append(unlisted, gv.String())
		}
		sort.Strings(unlisted)
		return lists, unlisted, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("discover namespaced resources: %w", err)
	}
	return lists, nil, nil
}

// preferredNamespaced is [discoverNamespaced] without the failed groups.
func preferredNamespaced(c *kubeconfig.Clients) ([]*metav1.APIResourceList, error) {
	lists, _, err := discoverNamespaced(c)
	return lists, err
}

// listLeft lists the objects of every listable, deletable resource in ns,
// each object once even when two groups serve it (events).
func listLeft(ctx context.Context, c *kubeconfig.Clients, lists []*metav1.APIResourceList,
	ns string,
) ([]leftover, error) {
	seen := map[types.UID]bool{}
	var out []leftover
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerbs(r.Verbs, "list", "delete") {
				continue
			}
			ref := Ref{Resource: gv.WithResource(r.Name), Kind: r.Kind, Namespace: ns}
			items, err := c.Dynamic.Resource(ref.Resource).Namespace(ns).List(ctx,
				metav1.ListOptions{})
			if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("list %s in %s: %w", r.Name, ns, err)
			}
			for i := range items.Items {
				obj := &items.Items[i]
				if seen[obj.GetUID()] {
					continue
				}
				seen[obj.GetUID()] = true
				r := ref
				r.Name = obj.GetName()
				out = append(out, leftover{ref: r, obj: obj})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ref.String() < out[j].ref.String() })
	return out, nil
}

func hasVerbs(verbs metav1.Verbs, want ...string) bool {
	for _, w := range want {
		found := false
		for _, v := range verbs {
			if v == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

var apiServiceResource = schema.GroupVersionResource{
	Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices",
}

// unavailableAPIServices names the APIServices whose Available condition
// is not true.
func unavailableAPIServices(ctx context.Context, c *kubeconfig.Clients) ([]string, error) {
	list, err := c.Dynamic.Resource(apiServiceResource).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list APIServices: %w", err)
	}
	var out []string
	for _, item := range list.Items {
		conds, _, _ := unstructured.NestedSlice(item.Object, "status", "conditions")
		for _, raw := range conds {
			cond, _ := raw.(map[string]any)
			if cond["type"] == "Available" && cond["status"] != "True" {
				out = append(out, fmt.Sprintf("%s (%v: %v)", item.GetName(), cond["reason"],
					cond["message"]))
			}
		}
	}
	return out, nil
}

// controllerManager reports whether the cluster's kube-controller-manager,
// which runs the namespace controller and the garbage collector, holds its
// leader lease, with a sentence saying why.
func controllerManager(ctx context.Context, c *kubeconfig.Clients, now time.Time,
) (bool, string, error) {
	lease, err := c.Kube.CoordinationV1().Leases("kube-system").Get(ctx,
		"kube-controller-manager", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, "kube-system holds no kube-controller-manager lease: " +
			"no namespace controller is running", nil
	}
	if apierrors.IsForbidden(err) {
		return true, "the kube-controller-manager lease cannot be read; " +
			"assuming the namespace controller runs", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("get the kube-controller-manager lease: %w", err)
	}
	return leaseFresh(lease, now)
}

// leaseFresh reports whether a lease was renewed within twice its
// duration.
func leaseFresh(lease *coordinationv1.Lease, now time.Time) (bool, string, error) {
	dur := 15 * time.Second
	if lease.Spec.LeaseDurationSeconds != nil {
		dur = time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second
	}
	if lease.Spec.RenewTime == nil {
		return false, "the kube-controller-manager lease was never renewed: " +
			"no namespace controller is running", nil
	}
	since := age(now, lease.Spec.RenewTime.Time)
	if since > 2*dur {
		return false, fmt.Sprintf("the kube-controller-manager lease was last renewed %s ago: "+
			"no namespace controller is running", since), nil
	}
	return true, fmt.Sprintf("kube-controller-manager renewed its lease %s ago", since), nil
}

package kube

import (
	"context"
	"fmt"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/self-heal/self-heal/fixers/kube/kubeconfig"
	"github.com/self-heal/self-heal/pkg/fixer"
)

// ServiceEndpoints is the "service-endpoints" condition of wait.until: a
// Service, or the Service an admission webhook calls, has at least one
// ready endpoint. A webhook that answered and denied the request is never
// waited for: its answer is policy, not an outage.
type ServiceEndpoints struct{}

// Name returns "service-endpoints".
func (ServiceEndpoints) Name() string { return "service-endpoints" }

// Describe says what holds once the wait is over.
func (ServiceEndpoints) Describe() string { return "the service has a ready endpoint" }

// Inputs lists the service, its namespace and the webhook.
func (ServiceEndpoints) Inputs() []fixer.Input {
	return []fixer.Input{
		{Name: "service", Type: fixer.String,
			Doc: "the Service to wait for (a capture); found from the webhook when unset"},
		{Name: "namespace", Type: fixer.String,
			Doc: "the Service's namespace (a capture); the step's when unset"},
		{Name: "webhook", Type: fixer.String,
			Doc: "the admission webhook whose Service to wait for (a capture)"},
	}
}

// deniedMarkers are what the API server prints when a webhook answered
// and refused.
var deniedMarkers = []string{"denied the request", "admission webhook denied"}

// Poll counts the ready endpoints of the Service once.
func (s ServiceEndpoints) Poll(ctx context.Context, req fixer.Request) (fixer.Plan, error) {
	for _, m := range deniedMarkers {
		if strings.Contains(req.Failure, m) {
			return refusal("the webhook answered and " + m + ": that is policy, and waiting " +
				"does not change it"), nil
		}
	}
	a, c, err := access(req.Step)
	if err != nil {
		return fixer.Plan{}, err
	}
	ns, svc, plan, err := s.service(ctx, a, c, req.Values)
	if err != nil || plan.Verdict == fixer.Refuse {
		return plan, err
	}
	return readyEndpoints(ctx, c, ns, svc)
}

// service finds the Service to watch: the one named, or the one the
// webhook calls.
func (ServiceEndpoints) service(ctx context.Context, a *kubeconfig.Access, c *kubeconfig.Clients,
	v fixer.Values,
) (string, string, fixer.Plan, error) {
	svc, ns, hook := v.String("service", ""), v.String("namespace", ""), v.String("webhook", "")
	if hook != "" {
		ref, found, err := webhookService(ctx, c, hook)
		if err != nil {
			return "", "", fixer.Plan{}, err
		}
		if found && ref == nil {
			return "", "", refusal("webhook " + hook + " calls a URL, not a Service: there " +
				"are no endpoints to wait for"), nil
		}
		if found {
			return ref.Namespace, ref.Name, fixer.Plan{}, nil
		}
	}
	if svc == "" {
		return "", "", refusal("the failure names no Service and no known webhook"), nil
	}
	if ns == "" {
		ns = a.Namespace()
	}
	return ns, svc, fixer.Plan{}, nil
}

// webhookService finds the Service of the named webhook among the
// validating and mutating webhook configurations. ref is nil when the
// webhook calls a URL.
func webhookService(ctx context.Context, c *kubeconfig.Clients, name string,
) (*admissionregistrationv1.ServiceReference, bool, error) {
	adm := c.Kube.AdmissionregistrationV1()
	vals, err := adm.ValidatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, false, fmt.Errorf("list validating webhook configurations: %w", err)
	}
	for _, cfg := range vals.Items {
		for _, w := range cfg.Webhooks {
			if w.Name == name {
				return w.ClientConfig.Service, true, nil
			}
		}
	}
	muts, err := adm.MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, false, fmt.Errorf("list mutating webhook configurations: %w", err)
	}
	for _, cfg := range muts.Items {
		for _, w := range cfg.Webhooks {
			if w.Name == name {
				return w.ClientConfig.Service, true, nil
			}
		}
	}
	return nil, false, nil
}

// readyEndpoints reads the Service's EndpointSlices.
func readyEndpoints(ctx context.Context, c *kubeconfig.Clients, ns, svc string,
) (fixer.Plan, error) {
	_, err := c.Kube.CoreV1().Services(ns).Get(ctx, svc, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fixer.Plan{Verdict: fixer.Wait,
			Action: fmt.Sprintf("service %s/%s does not exist yet", ns, svc)}, nil
	}
	if err != nil {
		return fixer.Plan{}, fmt.Errorf("get service %s/%s: %w", ns, svc, err)
	}
	slices, err := c.Kube.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=" + svc,
	})
	if err != nil {
		return fixer.Plan{}, fmt.Errorf("list endpoint slices of %s/%s: %w", ns, svc, err)
	}
	ready, notReady := 0, 0
	for _, sl := range slices.Items {
		for _, ep := range sl.Endpoints {
			if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
				ready++
			} else {
				notReady++
			}
		}
	}
	if ready > 0 {
		return fixer.Plan{Verdict: fixer.Nothing, Action: fmt.Sprintf(
			"service %s/%s has %d ready endpoints", ns, svc, ready)}, nil
	}
	return fixer.Plan{Verdict: fixer.Wait, Action: fmt.Sprintf(
		"service %s/%s has no ready endpoints (%d not ready)", ns, svc, notReady)}, nil
}

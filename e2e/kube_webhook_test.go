//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/self-heal/self-heal/e2e/cluster"
	"github.com/self-heal/self-heal/pkg/report"
)

// guardPort is the port of the guard webhook's Service and server.
const guardPort = 8443

// createSettings is the step: create a ConfigMap the webhook validates.
var createSettings = []string{"kubectl", "-n", "guarded", "create", "configmap", "settings",
	"--from-literal=currency=EUR"}

// guard is the webhook's backend: it serves admission reviews on the
// Service's ClusterIP, which lies on this machine's loopback.
type guard struct {
	deny string

	mu      sync.Mutex
	reviews []string
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var review admissionv1.AdmissionReview
	if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.reviews = append(g.reviews, review.Request.Name)
	g.mu.Unlock()
	review.Response = &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: g.deny == ""}
	if g.deny != "" {
		review.Response.Result = &metav1.Status{Message: g.deny}
	}
	review.Request = nil
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(review)
}

func (g *guard) seen() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.reviews...)
}

// guardSetup creates the guard Service (no endpoints yet), the webhook
// configuration that sends it every ConfigMap created in namespace
// guarded, and that namespace. It returns the Service's ClusterIP.
func guardSetup(t *testing.T, c *cluster.Cluster) string {
	t.Helper()
	kubectl(t, c, "create", "namespace", "hooks")
	kubectl(t, c, "create", "namespace", "guarded")
	svc, err := c.Kube.CoreV1().Services("hooks").Create(ctx(t), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "guard"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: guardPort}},
			Selector: map[string]string{"app": "guard"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	_, err = c.Kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx(t),
		&admissionregistrationv1.ValidatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "guard"},
			Webhooks: []admissionregistrationv1.ValidatingWebhook{{
				Name: "guard.example.com", AdmissionReviewVersions: []string{"v1"},
				SideEffects: &none, FailurePolicy: &fail, TimeoutSeconds: ptr.To[int32](5),
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
					"kubernetes.io/metadata.name": "guarded"}},
				Rules: []admissionregistrationv1.RuleWithOperations{{
					Operations: []admissionregistrationv1.OperationType{
						admissionregistrationv1.Create},
					Rule: admissionregistrationv1.Rule{APIGroups: []string{""},
						APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
				}},
				ClientConfig: admissionregistrationv1.WebhookClientConfig{CABundle: c.CA,
					Service: &admissionregistrationv1.ServiceReference{Namespace: "hooks",
						Name: "guard", Path: ptr.To("/validate"), Port: ptr.To[int32](guardPort)}},
			}},
		}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return svc.Spec.ClusterIP
}

// serveGuard starts the webhook's server on the ClusterIP, as a pod behind
// the Service would be reached, and marks the Service's endpoint ready, as
// the endpoint slice controller would once the pod is ready.
func serveGuard(t *testing.T, c *cluster.Cluster, clusterIP string, g *guard) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(clusterIP, "8443"))
	if err != nil {
		t.Fatalf("listen on the guard's ClusterIP: %v", err)
	}
	cert := c.IssueCert(t, "guard.hooks.svc")
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 5 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})

	_, err = c.Kube.DiscoveryV1().EndpointSlices("hooks").Create(ctx(t), &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "guard-1",
			Labels: map[string]string{discoveryv1.LabelServiceName: "guard"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.7"},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To[int32](guardPort)}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// TestKubeWebhook_UnreadyWebhookIsWaitedFor creates a ConfigMap while the
// admission webhook that validates it has no ready endpoint: self-heal
// must wait until its Service has one, with progress lines, and re-run the
// step, which the webhook then admits.
func TestKubeWebhook_UnreadyWebhookIsWaitedFor(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	ip := guardSetup(t, c)
	g := &guard{}

	// -v shows the fixer's progress lines.
	p, wait := step{env: c.Env(""), args: createSettings, flags: []string{"-v"}}.start(t)
	p.WaitForOutput(t, "recognised k8s-webhook-no-endpoints", 2*time.Minute)
	p.WaitForOutput(t, "service-endpoints: poll 1", time.Minute)
	serveGuard(t, c, ip, g)
	r := wait()

	if r.exit != 0 || r.report.Outcome != report.Healed {
		t.Fatalf("self-heal exit %d, outcome %s; want 0, healed\n%s", r.exit, r.report.Outcome,
			r.output)
	}
	if !strings.Contains(r.output, `failed calling webhook "guard.example.com"`) {
		t.Errorf("the step's output lacks the webhook failure")
	}
	f := r.only(t, "k8s-webhook-no-endpoints", "wait.until")
	if !strings.Contains(f.Action, "service hooks/guard has no ready endpoints") {
		t.Errorf("wait.until plan %q, want the guard Service without endpoints", f.Action)
	}
	if strings.Count(r.output, "service-endpoints: poll") < 2 {
		t.Errorf("output has fewer than two progress lines\n%s", r.output)
	}
	_, err := c.Kube.CoreV1().ConfigMaps("guarded").Get(ctx(t), "settings", getOpts)
	if err != nil {
		t.Errorf("guarded/settings: %v; want it created", err)
	}
	if seen := g.seen(); len(seen) != 1 || seen[0] != "settings" {
		t.Errorf("the webhook reviewed %q, want settings once", seen)
	}
}

// TestKubeWebhook_DenialIsNotRetried creates a ConfigMap that a healthy
// webhook denies: that is policy, so self-heal must not retry it.
func TestKubeWebhook_DenialIsNotRetried(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, cluster.Options{})
	ip := guardSetup(t, c)
	g := &guard{deny: "configmaps in guarded need an owner label"}
	serveGuard(t, c, ip, g)

	r := step{env: c.Env(""), args: createSettings}.run(t)

	if r.exit == 0 || len(r.report.Attempts) != 1 {
		t.Fatalf("self-heal exit %d after %d attempts; want one failed attempt\n%s", r.exit,
			len(r.report.Attempts), r.output)
	}
	if !strings.Contains(r.output,
		"denied the request: configmaps in guarded need an owner label") {
		t.Errorf("the step's output lacks the denial\n%s", r.output)
	}
	if m := r.report.Attempts[0].Match; m != nil {
		t.Errorf("the denial was recognised as %s; a denial must match no pattern", m.ID)
	}
	if seen := g.seen(); len(seen) != 1 {
		t.Errorf("the webhook reviewed %q, want one request", seen)
	}
}

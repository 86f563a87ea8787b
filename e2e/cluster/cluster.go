// Package cluster runs a real Kubernetes control plane for the end-to-end
// tests: etcd and kube-apiserver, built from the Go module proxy (see
// [BuildTools]) and started on free ports of 127.0.0.1, with a generated
// serving certificate, a static token file, RBAC, and, when asked, an
// EKS-style token webhook backed by moto's STS.
//
// No controller-manager, scheduler or kubelet runs. That is what makes the
// failures the tests heal real rather than staged: a deleted namespace
// stays Terminating, a finalizer blocks a deletion for good, a Deployment
// never becomes ready. Both processes are stopped by their PIDs when the
// test ends. The package has no build tag so that it is always compiled
// and vetted.
package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// clusters numbers the clusters of this test binary, so that each gets a
// Service range of its own.
var clusters atomic.Int32

// AdminToken is the static bearer token of the cluster's administrator
// (group system:masters).
const AdminToken = "e2e-admin-token"

// Options configure a test cluster.
type Options struct {
	// EKS, when set, authenticates EKS tokens through the webhook.
	EKS *EKS
}

// Cluster is one running test control plane.
type Cluster struct {
	// Dir holds the certificates, logs and kubeconfigs.
	Dir string
	// Server is the API server's URL and CA the PEM of its authority.
	Server string
	CA     []byte
	// Kubeconfig is the administrator's kubeconfig.
	Kubeconfig string
	// Name is the name of the cluster entry in kubeconfigs: an EKS ARN
	// when the cluster authenticates EKS tokens.
	Name string
	// Config, Kube and Dynamic reach the cluster as administrator.
	Config  *rest.Config
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	// Tools are the binaries the cluster runs, and helm.
	Tools Tools
	// ServiceCIDR is the cluster's Service range, a /24 in 127.100.0.0/16:
	// a test can serve a Service's ClusterIP on this machine's loopback,
	// where the API server dials a webhook's Service. Each cluster of a test
	// binary has its own, so clusters of parallel tests never share one.
	ServiceCIDR string

	ca   *authority
	auth *authenticator
}

// Start builds the tools if needed, starts etcd and kube-apiserver, waits
// for /readyz and returns the cluster. Everything stops when the test
// ends.
func Start(t testing.TB, o Options) *Cluster {
	t.Helper()
	c := &Cluster{Dir: t.TempDir(), Tools: BuildTools(t), Name: "e2e",
		ServiceCIDR: fmt.Sprintf("127.100.%d.0/24", clusters.Add(1)%256)}
	var err error
	if c.ca, err = newAuthority(); err != nil {
		t.Fatal(err)
	}
	c.CA = c.ca.certPEM

	etcdURL := c.startEtcd(t)
	args, err := c.apiserverArgs(t, etcdURL, o)
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	c.Server = "https://127.0.0.1:" + strconv.Itoa(port)
	args = append(args, "--secure-port="+strconv.Itoa(port))
	p := startProcess(t, filepath.Join(c.Dir, "kube-apiserver.log"), c.Tools.KubeAPIServer, args...)
	if err := c.waitReady(p, 60*time.Second); err != nil {
		t.Fatalf("kube-apiserver: %v\n%s", err, tail(p.log, 40))
	}
	c.connect(t)
	return c
}

// startEtcd starts etcd on two free ports and returns its client URL once
// it answers.
func (c *Cluster) startEtcd(t testing.TB) string {
	t.Helper()
	client := "http://127.0.0.1:" + strconv.Itoa(freePort(t))
	peer := "http://127.0.0.1:" + strconv.Itoa(freePort(t))
	p := startProcess(t, filepath.Join(c.Dir, "etcd.log"), c.Tools.Etcd,
		"--name=e2e", "--data-dir="+filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
		"--initial-cluster=e2e="+peer, "--unsafe-no-fsync", "--log-level=warn")
	err := poll(30*time.Second, p, func() bool {
		resp, err := http.Get(client + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		t.Fatalf("etcd: %v\n%s", err, tail(p.log, 40))
	}
	return client
}

// apiserverArgs writes the certificates, token file and webhook
// configuration and returns the API server's flags.
func (c *Cluster) apiserverArgs(t testing.TB, etcdURL string, o Options) ([]string, error) {
	cert, key, err := c.ca.issue("kube-apiserver", []string{"localhost"},
		[]net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		return nil, err
	}
	sa, err := serviceAccountKey()
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"ca.crt": c.ca.certPEM, "apiserver.crt": cert, "apiserver.key": key, "sa.key": sa,
		"tokens.csv": []byte(AdminToken + `,admin,admin,"system:masters"` + "\n"),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(c.Dir, name), body, 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", name, err)
		}
	}
	d := func(name string) string { return filepath.Join(c.Dir, name) }
	args := []string{
		"--etcd-servers=" + etcdURL, "--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1", "--cert-dir=" + d("certs"),
		"--tls-cert-file=" + d("apiserver.crt"), "--tls-private-key-file=" + d("apiserver.key"),
		"--client-ca-file=" + d("ca.crt"), "--token-auth-file=" + d("tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + d("sa.key"),
		"--service-account-signing-key-file=" + d("sa.key"),
		"--service-cluster-ip-range=" + c.ServiceCIDR,
		"--endpoint-reconciler-type=none",
		"--disable-admission-plugins=ServiceAccount",
		"--enable-priority-and-fairness=false", "--profiling=false",
	}
	if o.EKS != nil {
		hook, err := c.startWebhook(t, *o.EKS)
		if err != nil {
			return nil, err
		}
		args = append(args, "--authentication-token-webhook-config-file="+hook,
			"--authentication-token-webhook-version=v1",
			"--authentication-token-webhook-cache-ttl=0s")
		c.Name = "arn:aws:eks:us-east-1:123456789012:cluster/" + o.EKS.ClusterID
	}
	return args, nil
}

// startWebhook serves the EKS token webhook and writes the kubeconfig the
// API server reaches it with.
func (c *Cluster) startWebhook(t testing.TB, eks EKS) (string, error) {
	c.auth = &authenticator{eks: eks, client: &http.Client{Timeout: 10 * time.Second}}
	hookURL, stop, err := serveWebhook(c.auth)
	if err != nil {
		return "", err
	}
	t.Cleanup(stop)
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["webhook"] = &clientcmdapi.Cluster{Server: hookURL}
	cfg.AuthInfos["apiserver"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["webhook"] = &clientcmdapi.Context{Cluster: "webhook", AuthInfo: "apiserver"}
	cfg.CurrentContext = "webhook"
	path := filepath.Join(c.Dir, "token-webhook.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return "", fmt.Errorf("write the webhook's kubeconfig: %w", err)
	}
	return path, nil
}

// Decisions returns what the EKS token webhook answered so far.
func (c *Cluster) Decisions() []Decision {
	if c.auth == nil {
		return nil
	}
	return c.auth.Decisions()
}

// waitReady polls /readyz until it answers ok.
func (c *Cluster) waitReady(p *process, timeout time.Duration) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.ca.certPEM)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}}
	return poll(timeout, p, func() bool {
		req, _ := http.NewRequest(http.MethodGet, c.Server+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+AdminToken)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// connect writes the administrator's kubeconfig and makes the clients.
func (c *Cluster) connect(t testing.TB) {
	t.Helper()
	c.Kubeconfig = c.WriteKubeconfig(t, "admin", clientcmdapi.AuthInfo{Token: AdminToken})
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		t.Fatalf("load the admin kubeconfig: %v", err)
	}
	c.Config = cfg
	if c.Kube, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if c.Dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
}

// WriteKubeconfig writes a kubeconfig for user into the cluster's
// directory, named name, and returns its path. Its one context is name.
func (c *Cluster) WriteKubeconfig(t testing.TB, name string, user clientcmdapi.AuthInfo) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[c.Name] = &clientcmdapi.Cluster{Server: c.Server, CertificateAuthorityData: c.CA}
	cfg.AuthInfos[name] = &user
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: c.Name, AuthInfo: name}
	cfg.CurrentContext = name
	path := filepath.Join(c.Dir, name+".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatalf("write kubeconfig %s: %v", name, err)
	}
	return path
}

// IssueCert signs a serving certificate for dns names with the cluster's
// authority, for servers the API server calls (admission webhooks).
func (c *Cluster) IssueCert(t testing.TB, dns ...string) tls.Certificate {
	t.Helper()
	certPEM, keyPEM, err := c.ca.issue(dns[0], dns, nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// Env returns the environment of a step against the cluster: this
// process's environment without KUBECONFIG, HELM_* and AWS_* variables,
// plus kubeconfig (the admin's when empty) and helm on PATH.
func (c *Cluster) Env(kubeconfig string) []string {
	if kubeconfig == "" {
		kubeconfig = c.Kubeconfig
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "KUBECONFIG" || k == "PATH" || strings.HasPrefix(k, "HELM_") ||
			strings.HasPrefix(k, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	helmDir := filepath.Join(c.Dir, "helm")
	return append(env,
		"KUBECONFIG="+kubeconfig,
		"PATH="+filepath.Dir(c.Tools.Helm)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HELM_CACHE_HOME="+filepath.Join(helmDir, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(helmDir, "config"),
		"HELM_DATA_HOME="+filepath.Join(helmDir, "data"),
	)
}

// process is etcd or kube-apiserver, with its log file.
type process struct {
	cmd    *exec.Cmd
	log    string
	exited chan error
}

// startProcess starts a server in its own process group, logging to log,
// and stops it by PID when the test ends: SIGTERM, then SIGKILL after ten
// seconds.
func startProcess(t testing.TB, log, bin string, args ...string) *process {
	t.Helper()
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	p := &process{cmd: cmd, log: log, exited: make(chan error, 1)}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
		if t.Failed() {
			t.Logf("last lines of %s:\n%s", filepath.Base(log), tail(log, 30))
		}
	})
	return p
}

// poll calls ok every 100ms until it returns true, the process exits or
// timeout passes.
func poll(timeout time.Duration, p *process, ok func() bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		if ok() {
			return nil
		}
		select {
		case err := <-p.exited:
			p.exited <- err
			return fmt.Errorf("exited: %v", err)
		case <-ctx.Done():
			return errors.New("not ready after " + timeout.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	body, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(body), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

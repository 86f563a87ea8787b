package harness

import (
	"archive/zip"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// NetworkMirror serves the test provider to terraform over the provider
// network mirror protocol, on HTTPS at a loopback address chosen when it
// is made. Until [NetworkMirror.Start] nothing listens there, so terraform
// meets a refused connection: a mirror that cannot be reached.
type NetworkMirror struct {
	// URL is the mirror's base URL, for a network_mirror block.
	URL string
	// CertFile holds the server's self-signed certificate in PEM; point
	// SSL_CERT_FILE at it so that terraform trusts the mirror.
	CertFile string
	// H1 and ZH are the package's checksums in terraform's two schemes:
	// of its contents, and of the zip archive.
	H1, ZH string

	addr    string
	cert    tls.Certificate
	archive []byte

	mu       sync.Mutex
	srv      *httptest.Server
	stopped  bool
	started  time.Time
	requests map[string]int
}

// The package's file name in the mirror.
var mirrorArchive = fmt.Sprintf("terraform-provider-selfheal_%s_%s_%s.zip", ProviderVersion,
	runtime.GOOS, runtime.GOARCH)

// NewNetworkMirror packs the test provider that [ProviderMirror] builds
// into a zip archive and prepares a mirror for it, not yet listening. The
// mirror is stopped when the test ends.
func NewNetworkMirror(t testing.TB) *NetworkMirror {
	t.Helper()
	bin := filepath.Join(ProviderPackageDir(ProviderMirror(t)),
		"terraform-provider-selfheal_v"+ProviderVersion)
	body, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	archive, err := zipExecutable(filepath.Base(bin), body)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cert, pemBytes, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	m := &NetworkMirror{
		URL:      "https://" + addr + "/providers/",
		CertFile: filepath.Join(t.TempDir(), "mirror.pem"),
		H1:       hashV1(map[string][]byte{filepath.Base(bin): body}),
		ZH:       fmt.Sprintf("zh:%x", sha256.Sum256(archive)),
		addr:     addr,
		cert:     cert,
		archive:  archive,
		requests: map[string]int{},
	}
	if err := os.WriteFile(m.CertFile, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.stop)
	return m
}

// Start makes the mirror reachable. It returns an error, rather than
// failing the test, so that it can be called from any goroutine.
func (m *NetworkMirror) Start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.stopped:
		return errors.New("the mirror was stopped: its test has ended")
	case m.srv != nil:
		return nil
	}
	l, err := net.Listen("tcp", m.addr)
	if err != nil {
		return fmt.Errorf("listen on the mirror's address: %w", err)
	}
	srv := httptest.NewUnstartedServer(m.handler())
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{m.cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	m.srv, m.started = srv, time.Now()
	return nil
}

// Started returns when [NetworkMirror.Start] made the mirror reachable;
// the zero time if it has not.
func (m *NetworkMirror) Started() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.started
}

// Requests returns how many requests for the file named name (index.json,
// the version's document or the archive) the mirror served.
func (m *NetworkMirror) Requests(name string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests[name]
}

// Archive returns the file name of the package the mirror serves.
func (m *NetworkMirror) Archive() string { return mirrorArchive }

// Env returns env with a CLI configuration that installs the test provider
// from the mirror only, and with SSL_CERT_FILE set so that terraform
// trusts the mirror's certificate. Later entries win, so it overrides the
// configuration of [TerraformEnv].
func (m *NetworkMirror) Env(t testing.TB, env []string) []string {
	t.Helper()
	dir := t.TempDir()
	rc := filepath.Join(dir, "terraform.rc")
	body := fmt.Sprintf(`disable_checkpoint = true
provider_installation {
  network_mirror {
    url     = %q
    include = ["%s/%s"]
  }
  direct {
    exclude = ["%s/%s"]
  }
}
`, m.URL, providerHost, ProviderSource, providerHost, ProviderSource)
	if err := os.WriteFile(rc, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return append(append([]string(nil), env...),
		"TF_CLI_CONFIG_FILE="+rc, "SSL_CERT_FILE="+m.CertFile)
}

func (m *NetworkMirror) stop() {
	m.mu.Lock()
	srv := m.srv
	m.stopped = true
	m.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// handler serves the mirror protocol for the test provider: the list of
// its versions, the version's archives with their checksums, and the
// archive itself.
func (m *NetworkMirror) handler() http.Handler {
	base := "/providers/" + providerHost + "/" + ProviderSource + "/"
	platform := runtime.GOOS + "_" + runtime.GOARCH
	files := map[string]any{
		"index.json": map[string]any{"versions": map[string]any{ProviderVersion: map[string]any{}}},
		ProviderVersion + ".json": map[string]any{"archives": map[string]any{
			platform: map[string]any{"url": mirrorArchive, "hashes": []string{m.H1, m.ZH}},
		}},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, base)
		if !ok || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		m.mu.Lock()
		m.requests[name]++
		m.mu.Unlock()
		if name == mirrorArchive {
			w.Header().Set("Content-Type", "application/zip")
			_, _ = w.Write(m.archive)
			return
		}
		doc, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	})
}

// zipExecutable returns a zip archive holding one executable file.
func zipExecutable(name string, body []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(body); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// hashV1 returns terraform's "h1:" checksum of a package's files: the
// SHA-256 of a listing that gives each file's SHA-256 and name, sorted by
// name.
func hashV1(files map[string][]byte) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	sum := sha256.New()
	for _, n := range names {
		fmt.Fprintf(sum, "%x  %s\n", sha256.Sum256(files[n]), n)
	}
	return "h1:" + base64.StdEncoding.EncodeToString(sum.Sum(nil))
}

// freeAddr returns a loopback address that nothing listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// selfSigned returns a certificate for 127.0.0.1, valid for a day, and
// its PEM encoding.
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "self-heal e2e provider mirror"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

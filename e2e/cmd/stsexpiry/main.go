// Command stsexpiry sits between AWS clients and moto_server in end-to-end
// tests and enforces what moto does not: that temporary credentials expire.
//
// It forwards every request to -upstream. From the STS answers passing
// through (AssumeRole, AssumeRoleWithWebIdentity, GetSessionToken, ...) it
// learns when each temporary access key expires. A later request signed
// with such a key after its expiry gets the error AWS answers with, in the
// service's protocol: S3's XML ("The provided token has expired."), the
// JSON protocols' ExpiredTokenException, or the query protocol's
// ExpiredToken ("The security token included in the request is
// expired"). Keys it has not seen pass unchecked.
//
// It listens on 127.0.0.1 (-listen, default a free port) and prints
// "listening on http://ADDR" once it accepts connections.
package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
)

// stsIssuers are the STS actions whose answers carry temporary credentials.
var stsIssuers = map[string]bool{
	"AssumeRole": true, "AssumeRoleWithWebIdentity": true, "AssumeRoleWithSAML": true,
	"GetSessionToken": true, "GetFederationToken": true,
}

// issuerKey marks, in a request's context, an STS call that issues
// credentials.
type issuerKey struct{}

var credential = regexp.MustCompile(`Credential=([A-Z0-9]+)/\d{8}/[^/]+/([^/]+)/`)

type proxy struct {
	up *httputil.ReverseProxy

	mu      sync.Mutex
	expires map[string]time.Time
}

func main() {
	upstream := flag.String("upstream", "", "moto_server URL")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	u, err := url.Parse(*upstream)
	if err != nil || u.Host == "" {
		fatalf("stsexpiry: -upstream must be a URL, got %q", *upstream)
	}
	p := &proxy{expires: map[string]time.Time{}}
	p.up = httputil.NewSingleHostReverseProxy(u)
	p.up.ModifyResponse = p.learn

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	fatal(http.Serve(ln, p))
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	if key, service := signer(r); key != "" {
		p.mu.Lock()
		exp, known := p.expires[key]
		p.mu.Unlock()
		if known && time.Now().After(exp) {
			logf("stsexpiry: %s %s signed with %s, expired at %s", r.Method, r.URL.Path,
				key, exp.Format(time.RFC3339))
			expired(w, r, service)
			return
		}
	}
	if form, err := url.ParseQuery(string(body)); err == nil && stsIssuers[form.Get("Action")] {
		r = r.WithContext(context.WithValue(r.Context(), issuerKey{}, true))
	}
	p.up.ServeHTTP(w, r)
}

// signer returns the access key and the service of a SigV4 request.
func signer(r *http.Request) (key, service string) {
	m := credential.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
			m = credential.FindStringSubmatch("Credential=" + c)
		}
	}
	if m == nil {
		return "", ""
	}
	return m[1], m[2]
}

// learn records the expiry of the credentials in an STS answer.
func (p *proxy) learn(resp *http.Response) error {
	if resp.Request.Context().Value(issuerKey{}) == nil || resp.StatusCode != http.StatusOK {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var creds struct {
		AccessKeyID string    `xml:"AccessKeyId"`
		Expiration  time.Time `xml:"Expiration"`
	}
	if err := findCredentials(body, &creds); err != nil || creds.AccessKeyID == "" {
		return nil //nolint:nilerr // an answer without credentials teaches nothing
	}
	p.mu.Lock()
	p.expires[creds.AccessKeyID] = creds.Expiration
	p.mu.Unlock()
	logf("stsexpiry: %s expires at %s", creds.AccessKeyID,
		creds.Expiration.Format(time.RFC3339))
	return nil
}

// findCredentials decodes the first <Credentials> element of an answer.
func findCredentials(body []byte, v any) error {
	dec := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "Credentials" {
			return dec.DecodeElement(v, &se)
		}
	}
}

// expired answers like AWS does to a request signed with expired
// credentials, in the protocol of the service.
func expired(w http.ResponseWriter, r *http.Request, service string) {
	const query = "The security token included in the request is expired"
	id := fmt.Sprintf("%016X", time.Now().UnixNano())
	switch {
	case service == "s3":
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Error><Code>ExpiredToken`+
			`</Code><Message>The provided token has expired.</Message><RequestId>%s</RequestId>`+
			`<HostId>%s</HostId></Error>`, id, id)
	case r.Header.Get("X-Amz-Target") != "" ||
		strings.Contains(r.Header.Get("Content-Type"), "json"):
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Errortype", "ExpiredTokenException")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"com.amazon.coral.service#ExpiredTokenException",`+
			`"message":%q}`, query)
	default:
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code>`+
			`<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`, query, id)
	}
}

// logf writes one line with the time to stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

// fatal prints err and exits.
func fatal(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// fatalf prints a message and exits.
func fatalf(format string, args ...any) { fatal(fmt.Errorf(format, args...)) }

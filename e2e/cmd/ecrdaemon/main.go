// Command ecrdaemon stands in for a Docker daemon in end-to-end tests: it
// serves the few Docker Engine API calls that `docker pull` makes, for
// images of ECR registries, and checks the pull's login the way ECR does,
// against moto's state.
//
// The real docker CLI reads the login from its config.json and sends it
// with the pull; this program accepts it only when it is a token that ECR
// (moto, reached through the AWS_* environment) issues for the registry's
// account, and when the repository exists there. Otherwise it answers with
// the errors the Docker daemon relays from ECR: "no basic auth
// credentials" without a login, and "Your authorization token has
// expired" for a token ECR did not issue. No image is downloaded.
//
// It listens on 127.0.0.1 (-listen, default a free port) and prints
// "listening on tcp://ADDR" once it accepts connections.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// apiVersion is the Engine API version this stand-in answers with.
const apiVersion = "1.47"

var ecrHost = regexp.MustCompile(`^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com$`)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fatal(err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fatal(err)
	}
	d := &daemon{ecr: ecr.NewFromConfig(cfg)}
	fmt.Printf("listening on tcp://%s\n", ln.Addr())
	fatal(http.Serve(ln, d))
}

func ping(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Api-Version", apiVersion)
	w.Header().Set("Ostype", "linux")
	_, _ = w.Write([]byte("OK"))
}

type daemon struct {
	ecr *ecr.Client
}

// ServeHTTP routes the Engine API paths, with or without their /vX.Y
// version prefix.
func (d *daemon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasSuffix(r.URL.Path, "/_ping"):
		ping(w, r)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/images/create"):
		d.pull(w, r)
	default:
		fail(w, http.StatusNotFound, "page not found: "+r.URL.Path)
	}
}

// registryAuth is the login the docker CLI sends in X-Registry-Auth.
type registryAuth struct {
	Username, Password, ServerAddress string
}

func (d *daemon) pull(w http.ResponseWriter, r *http.Request) {
	image := r.URL.Query().Get("fromImage")
	tag := r.URL.Query().Get("tag")
	host, repo, _ := strings.Cut(image, "/")
	m := ecrHost.FindStringSubmatch(host)
	if m == nil {
		fail(w, http.StatusNotFound, fmt.Sprintf("pull access denied for %s: not an ECR registry", image))
		return
	}
	manifest := fmt.Sprintf("Head %q: ", fmt.Sprintf("https://%s/v2/%s/manifests/%s", host, repo, tag))

	var auth registryAuth
	if h := r.Header.Get("X-Registry-Auth"); h != "" {
		body, err := base64.URLEncoding.DecodeString(h)
		if err == nil {
			_ = json.Unmarshal(body, &auth)
		}
	}
	if auth.Password == "" {
		fail(w, http.StatusInternalServerError, manifest+"no basic auth credentials")
		return
	}
	ok, err := d.issued(r.Context(), m[1], auth)
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	if !ok {
		fail(w, http.StatusInternalServerError, manifest+"denied: Your authorization token has "+
			"expired. Reauthenticate and try again.")
		return
	}
	_, err = d.ecr.DescribeRepositories(r.Context(), &ecr.DescribeRepositoriesInput{
		RegistryId: aws.String(m[1]), RepositoryNames: []string{repo}})
	if err != nil {
		fail(w, http.StatusNotFound, fmt.Sprintf("manifest for %s:%s not found: manifest unknown",
			image, tag))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	_ = enc.Encode(map[string]string{"status": "Pulling from " + repo, "id": tag})
	_ = enc.Encode(map[string]string{"status": "Digest: sha256:" + strings.Repeat("0", 64)})
	_ = enc.Encode(map[string]string{"status": "Status: Image is up to date for " + image + ":" + tag})
}

// issued reports whether auth is the login ECR issues for account.
func (d *daemon) issued(ctx context.Context, account string, auth registryAuth) (bool, error) {
	out, err := d.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{
		RegistryIds: []string{account}}) //nolint:staticcheck // moto issues per registry ID
	if err != nil {
		return false, fmt.Errorf("get authorization token: %w", err)
	}
	for _, a := range out.AuthorizationData {
		raw, err := base64.StdEncoding.DecodeString(aws.ToString(a.AuthorizationToken))
		if err != nil {
			continue
		}
		user, pass, _ := strings.Cut(string(raw), ":")
		if user == auth.Username && pass == auth.Password {
			return true, nil
		}
	}
	return false, nil
}

func fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// fatal prints err and exits.
func fatal(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

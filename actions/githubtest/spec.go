package githubtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// SpecEnv names a variable that may hold the path of GitHub's OpenAPI
// description (api.github.com.json); when it is empty, [LoadSpec] asks
// scripts/tools.sh to install the npm package @octokit/openapi.
const SpecEnv = "SELF_HEAL_GITHUB_OPENAPI"

// Spec is GitHub's OpenAPI description of the REST API, loaded once per
// process and shared by every [Server].
type Spec struct {
	doc  *openapi3.T
	path string
}

var (
	specOnce sync.Once
	spec     *Spec
	specErr  error
)

// LoadSpec returns GitHub's OpenAPI description, installing it first when
// needed. It fails the test when the description cannot be had: a fake
// that validates nothing must not pass for one that does.
func LoadSpec(t testing.TB) *Spec {
	t.Helper()
	specOnce.Do(func() { spec, specErr = loadSpec() })
	if specErr != nil {
		t.Fatalf("GitHub OpenAPI description: %v", specErr)
	}
	return spec
}

func loadSpec() (*Spec, error) {
	path := os.Getenv(SpecEnv)
	if path == "" {
		var err error
		if path, err = installSpec(); err != nil {
			return nil, err
		}
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	// The document as a whole is not validated: GitHub's description has
	// flaws of its own elsewhere (templated paths that collide, examples
	// that do not match their schemas). What counts here is that every
	// request and response of the fake is held to the schemas of its
	// operation, which Server does.
	if doc.Paths.Find("/repos/{owner}/{repo}/issues/{issue_number}/comments") == nil {
		return nil, fmt.Errorf("%s does not describe the issue comments API", path)
	}
	return &Spec{doc: doc, path: path}, nil
}

// installSpec runs scripts/tools.sh openapi from the module root and
// returns the path it prints.
func installSpec() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(filepath.Join(root, "scripts", "tools.sh"), "openapi")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("scripts/tools.sh openapi: %w\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// moduleRoot finds the directory holding go.mod above the working
// directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Path is the file the description was loaded from.
func (s *Spec) Path() string { return s.path }

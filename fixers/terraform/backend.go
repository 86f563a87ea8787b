package terraform

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// backend is the backend a working directory was initialised with, as
// terraform records it in the data directory's terraform.tfstate.
type backend struct {
	Type   string         `json:"type"`
	Config map[string]any `json:"config"`
	Hash   json.Number    `json:"hash"`
	// workspace is the selected workspace, "default" when none is.
	workspace string
}

// dataDir returns the step's terraform data directory: TF_DATA_DIR, else
// .terraform in the step's directory.
func dataDir(step fixer.Step) string {
	d := step.Getenv("TF_DATA_DIR")
	if d == "" {
		d = ".terraform"
	}
	if !filepath.IsAbs(d) {
		d = filepath.Join(stepDir(step), d)
	}
	return d
}

func stepDir(step fixer.Step) string {
	if step.Dir == "" {
		return "."
	}
	return step.Dir
}

// backendFile is where terraform records the initialised backend.
func backendFile(step fixer.Step) string {
	return filepath.Join(dataDir(step), "terraform.tfstate")
}

// readBackend returns the backend the step's directory was initialised
// with, or nil when it has not been initialised for one.
func readBackend(step fixer.Step) (*backend, error) {
	body, err := os.ReadFile(backendFile(step))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read backend settings: %w", err)
	}
	var rec struct {
		Backend *backend `json:"backend"`
	}
	if err := json.Unmarshal(body, &rec); err != nil {
		return nil, fmt.Errorf("parse backend settings %s: %w", backendFile(step), err)
	}
	if rec.Backend == nil || rec.Backend.Type == "" {
		return nil, nil
	}
	rec.Backend.workspace = currentWorkspace(step)
	return rec.Backend, nil
}

// currentWorkspace is the workspace terraform would use in the step:
// TF_WORKSPACE, else the one recorded in the data directory.
func currentWorkspace(step fixer.Step) string {
	if ws := step.Getenv("TF_WORKSPACE"); ws != "" {
		return ws
	}
	b, err := os.ReadFile(filepath.Join(dataDir(step), "environment"))
	if ws := strings.TrimSpace(string(b)); err == nil && ws != "" {
		return ws
	}
	return "default"
}

// str returns a string setting, or "".
func (b *backend) str(key string) string {
	s, _ := b.Config[key].(string)
	return s
}

// flag returns a boolean setting.
func (b *backend) flag(key string) bool {
	v, _ := b.Config[key].(bool)
	return v
}

// endpoint returns the s3 backend's endpoint for a service ("s3",
// "dynamodb"), from the endpoints block or the older top-level settings.
func (b *backend) endpoint(service string) string {
	if eps, ok := b.Config["endpoints"].(map[string]any); ok {
		if s, _ := eps[service].(string); s != "" {
			return s
		}
	}
	legacy := map[string]string{"s3": "endpoint", "dynamodb": "dynamodb_endpoint"}
	return b.str(legacy[service])
}

// statePath is the object key of the s3 backend's state in the selected
// workspace.
func (b *backend) statePath() string {
	key := b.str("key")
	if b.workspace == "" || b.workspace == "default" {
		return key
	}
	prefix := b.str("workspace_key_prefix")
	if prefix == "" {
		prefix = "env:"
	}
	return prefix + "/" + b.workspace + "/" + key
}

// location names where an s3 backend keeps the state, for messages.
func (b *backend) location() string {
	return "s3://" + b.str("bucket") + "/" + b.statePath()
}

// lockTable is the DynamoDB table of an s3 backend, or "".
func (b *backend) lockTable() string {
	return b.str("dynamodb_table")
}

// requireS3 explains why a backend is not one this fixer can work on, or
// returns "".
func requireS3(b *backend) string {
	switch {
	case b == nil:
		return "the working directory is not initialised for a backend"
	case b.Type != "s3":
		return fmt.Sprintf("the backend is %q; only the s3 backend is supported", b.Type)
	case b.str("bucket") == "" || b.str("key") == "":
		return "the s3 backend settings name no bucket or key"
	}
	return ""
}

package kube

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/self-heal/self-heal/pkg/fixer"
)

// manifestHead is the part of a manifest document the fixers read.
type manifestHead struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

// manifestNamespace finds the namespace that the step's own manifests
// (kubectl's -f/--filename files and directories) give an object of kind
// called name. It returns "" when no manifest names it: error messages
// such as `The Deployment "web" is invalid` omit the namespace.
func manifestNamespace(step fixer.Step, kind, name string) string {
	kind, _, _ = strings.Cut(kind, ".")
	for _, path := range manifestFiles(step) {
		body, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, h := range manifestHeads(body) {
			if strings.EqualFold(h.Kind, kind) && h.Metadata.Name == name {
				return h.Metadata.Namespace
			}
		}
	}
	return ""
}

// manifestFiles lists the YAML and JSON files the step's -f flags name,
// directories expanded one level (kubectl without -R).
func manifestFiles(step fixer.Step) []string {
	var out []string
	args := step.Args
	for i := 0; i < len(args); i++ {
		var v string
		switch {
		case (args[i] == "-f" || args[i] == "--filename") && i+1 < len(args):
			v = args[i+1]
		case strings.HasPrefix(args[i], "--filename="):
			v = strings.TrimPrefix(args[i], "--filename=")
		case strings.HasPrefix(args[i], "-f="):
			v = strings.TrimPrefix(args[i], "-f=")
		default:
			continue
		}
		if v == "-" || strings.Contains(v, "://") {
			continue
		}
		out = append(out, expand(absolute(step.Dir, v))...)
	}
	return out
}

func expand(path string) []string {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return []string{path}
	}
	var out []string
	for _, ext := range []string{"*.yaml", "*.yml", "*.json"} {
		m, _ := filepath.Glob(filepath.Join(path, ext))
		out = append(out, m...)
	}
	return out
}

func absolute(dir, p string) string {
	if filepath.IsAbs(p) || dir == "" {
		return p
	}
	return filepath.Join(dir, p)
}

// manifestHeads decodes the kind and metadata of every document of a
// YAML or JSON stream, skipping documents it cannot read.
func manifestHeads(body []byte) []manifestHead {
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(body), 4096)
	var out []manifestHead
	for {
		var h manifestHead
		err := dec.Decode(&h)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			return out
		}
		if h.Kind != "" {
			out = append(out, h)
		}
	}
}

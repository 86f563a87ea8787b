package gitlab_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v4"
)

// The two ways to use the job: a CI/CD component and an include template.
const (
	componentFile = "../templates/self-heal.yml"
	includeFile   = "self-heal.gitlab-ci.yml"
)

// job is the part of the .self-heal job the tests compare.
type job struct {
	Variables map[string]string `yaml:"variables"`
	Script    []string          `yaml:"script"`
	Artifacts map[string]any    `yaml:"artifacts"`
}

type input struct {
	Type        string `yaml:"type"`
	Default     any    `yaml:"default"`
	Description string `yaml:"description"`
}

// readDocs decodes every YAML document of path.
func readDocs(t *testing.T, path string) []map[string]yaml.Node {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(body))
	for {
		var d map[string]yaml.Node
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, d)
	}
}

func decodeNode[T any](t *testing.T, n yaml.Node) T {
	t.Helper()
	var v T
	if err := n.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// component returns the component's inputs and its job.
func component(t *testing.T) (map[string]input, job) {
	t.Helper()
	docs := readDocs(t, componentFile)
	if len(docs) != 2 {
		t.Fatalf("%s has %d documents, want spec and jobs", componentFile, len(docs))
	}
	spec := decodeNode[struct {
		Inputs map[string]input `yaml:"inputs"`
	}](t, docs[0]["spec"])
	return spec.Inputs, decodeNode[job](t, docs[1][".self-heal"])
}

func includeJob(t *testing.T) job {
	t.Helper()
	docs := readDocs(t, includeFile)
	if len(docs) != 1 {
		t.Fatalf("%s has %d documents, want 1", includeFile, len(docs))
	}
	return decodeNode[job](t, docs[0][".self-heal"])
}

// varName is the variable an input becomes: max-attempts, SELF_HEAL_MAX_ATTEMPTS.
func varName(input string) string {
	return "SELF_HEAL_" + strings.ToUpper(strings.ReplaceAll(input, "-", "_"))
}

func TestTemplates_sameJob(t *testing.T) {
	t.Parallel()
	inputs, comp := component(t)
	inc := includeJob(t)

	if diff := cmp.Diff(comp.Script, inc.Script); diff != "" {
		t.Errorf("scripts differ (-component +include):\n%s", diff)
	}
	if diff := cmp.Diff(comp.Artifacts, inc.Artifacts); diff != "" {
		t.Errorf("artifacts differ (-component +include):\n%s", diff)
	}

	// Every input is one variable; the include template gives it the
	// input's default. Other variables are the same in both.
	for name, in := range inputs {
		v := varName(name)
		if got, want := comp.Variables[v], "$[[ inputs."+name+" ]]"; got != want {
			t.Errorf("component variable %s = %q, want %q", v, got, want)
		}
		if got, want := inc.Variables[v], yamlScalar(in.Default); got != want {
			t.Errorf("include variable %s = %q, want the input's default %q", v, got, want)
		}
		delete(comp.Variables, v)
		delete(inc.Variables, v)
	}
	if diff := cmp.Diff(comp.Variables, inc.Variables); diff != "" {
		t.Errorf("other variables differ (-component +include):\n%s", diff)
	}
}

// yamlScalar prints a default as the string a variable holds.
func yamlScalar(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := yaml.Marshal(v)
	return strings.TrimSpace(string(b))
}

func TestTemplates_inputsMapToFlags(t *testing.T) {
	t.Parallel()
	inputs, comp := component(t)
	if len(comp.Script) != 2 {
		t.Fatalf("script has %d items, want the install step and the run", len(comp.Script))
	}
	run := comp.Script[1]

	// The run line is one command: no shell logic beyond the install step.
	for _, word := range []string{"if ", "then", "&&", "||", ";", "case "} {
		if strings.Contains(run, word) {
			t.Errorf("run line holds %q: %s", word, run)
		}
	}

	// Each input but run (the command) and version (the install step)
	// is one flag of the same name, fed by its variable.
	flag := regexp.MustCompile(`--([a-z-]+)[ =]"\$([A-Z_]+)"`)
	got := map[string]string{}
	for _, m := range flag.FindAllStringSubmatch(run, -1) {
		if _, dup := got[m[1]]; dup {
			t.Errorf("flag --%s given twice", m[1])
		}
		got[m[1]] = m[2]
	}
	want := map[string]string{}
	for name := range inputs {
		if !slices.Contains([]string{"run", "version"}, name) {
			want[name] = varName(name)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flags mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(run, `-- sh -c "${SELF_HEAL_RUN:?`) {
		t.Errorf("run line does not run $SELF_HEAL_RUN after --: %s", run)
	}
	if !strings.Contains(comp.Script[0], "$SELF_HEAL_VERSION") {
		t.Errorf("install step ignores SELF_HEAL_VERSION")
	}
}

func TestTemplates_inputsDocumented(t *testing.T) {
	t.Parallel()
	inputs, _ := component(t)
	for name, in := range inputs {
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
		if in.Default == nil {
			t.Errorf("input %s has no default, so every include must set it", name)
		}
	}
}

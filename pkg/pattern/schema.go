package pattern

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v4"

	"github.com/self-heal/self-heal/pkg/strictyaml"
)

// Schema is the JSON Schema of the pattern file format, for editors and
// for `self-heal patterns schema`.
//
//go:embed schema.json
var Schema []byte

// ValidateSchema checks a pattern file against [Schema]. Files in the
// older `converge:` format are not checked: they load with a warning.
func ValidateSchema(name string, data []byte) error {
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return strictyaml.SyntaxError(name, err)
	}
	if m, ok := doc.(map[string]any); ok {
		if _, legacy := m["converge"]; legacy {
			return nil
		}
	}
	sch, err := compiledSchema()
	if err != nil {
		return err
	}
	if err := sch.Validate(jsonCompatible(doc)); err != nil {
		return fmt.Errorf("%s: does not follow the schema: %w", name, err)
	}
	return nil
}

var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("patterns.schema.json", doc); err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	return c.Compile("patterns.schema.json")
})

// jsonCompatible converts YAML-decoded values into the types a JSON
// decoder would produce (map[string]any, float64 numbers).
func jsonCompatible(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = jsonCompatible(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = jsonCompatible(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = jsonCompatible(e)
		}
		return t
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case uint64:
		return float64(t)
	}
	return v
}

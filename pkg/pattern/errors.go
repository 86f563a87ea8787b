package pattern

import (
	"go.yaml.in/yaml/v4"

	"github.com/self-heal/self-heal/pkg/strictyaml"
)

// Error is a problem in a pattern file, with its position and field path.
type Error = strictyaml.Error

// Position is a place in a pattern file.
type Position = strictyaml.Position

type decoder = strictyaml.Decoder

func didYouMean(got string, known []string) string { return strictyaml.DidYouMean(got, known) }

func keys[V any](m map[string]V) []string { return strictyaml.Keys(m) }

func kindName(n *yaml.Node) string { return strictyaml.KindName(n) }

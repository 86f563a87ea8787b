// Package patterns holds the built-in failure catalogue: one YAML file per
// category (state, aws, kubernetes, auth, timing, recovery), each pattern
// with real logs under testdata that it must recognise and near misses it
// must leave alone.
//
// The files are embedded in the binary; pkg/pattern reads them with
// [pattern.ReadFS] from [FS] at the root directory ".".
package patterns

import "embed"

// FS holds the built-in pattern files (*.yaml at its root) and the example
// logs they name (testdata/), so that the catalogue and its examples ship
// together.
//
//go:embed *.yaml testdata
var FS embed.FS

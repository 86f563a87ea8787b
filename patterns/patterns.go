// Package patterns holds the built-in failure catalogue: one YAML file per
// category (state, aws, kubernetes, auth, timing, recovery), each pattern
// with the real logs it must recognise under testdata/<id>/ and the near
// misses it must leave alone under testdata/nearmiss/.
//
// Patterns key on a failure's message rather than its error code alone,
// because one code can be transient in one message and permanent in
// another. They are not scoped by tool: CI steps often run terraform,
// helm or docker through make, scripts or wrappers, and the messages are
// specific enough on their own. Priorities order the patterns whose
// evidence overlaps; testdata/wordings.txt lists further wordings and
// look-alikes the catalogue is tested against.
package patterns

import "embed"

// FS holds the built-in pattern files (*.yaml at its root) and the example
// logs they name (testdata/), so that the catalogue and its examples ship
// together. Read it from the directory ".".
//
//go:embed *.yaml testdata
var FS embed.FS

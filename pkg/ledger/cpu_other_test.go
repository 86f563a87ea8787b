//go:build !unix

package ledger_test

import "time"

// cpuTime is unknown here; the benchmark reports 0 CPU seconds.
func cpuTime() time.Duration { return 0 }

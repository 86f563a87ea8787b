package heal

import (
	"math"
	"time"

	"github.com/self-heal/self-heal/pkg/pattern"
)

// Backoff returns the wait before re-run number n (1-based) under r:
// exponential from r.Initial, capped at r.Max, spread by ±r.Jitter using
// rnd, which returns values in [0, 1).
func Backoff(r pattern.Retry, n int, rnd func() float64) time.Duration {
	if n < 1 || r.Initial <= 0 {
		return 0
	}
	d := float64(r.Initial) * math.Pow(2, float64(n-1))
	if r.Max > 0 && d > float64(r.Max) {
		d = float64(r.Max)
	}
	if r.Jitter > 0 && rnd != nil {
		d *= 1 + r.Jitter*(2*rnd()-1)
	}
	return time.Duration(d)
}

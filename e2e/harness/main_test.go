//go:build e2e

package harness_test

import (
	"os"
	"testing"

	"github.com/self-heal/self-heal/e2e/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Run(m)) }

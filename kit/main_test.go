package kit

import (
	"os"
	"testing"

	"github.com/hookperf/hookperf/internal/leakcheck"
)

// TestMain fails the package's tests when they leave file descriptors or
// goroutines behind: every run must close what it opened.
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }

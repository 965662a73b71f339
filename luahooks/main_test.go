package luahooks

import (
	"os"
	"testing"

	"github.com/hookperf/hookperf/internal/leakcheck"
)

// TestMain fails the package's tests when they leave file descriptors or
// goroutines behind: a script stopped in a loop or a blocking call, a
// failed or interrupted run, must still close what it opened.
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }

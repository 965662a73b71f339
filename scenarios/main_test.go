// Package scenarios holds hookperf's scenario suite: each test builds two
// network namespaces on a veth link, runs the kit's server and client in
// them with a Lua script from testdata/, and asserts on what the script
// collected (one runs the CLI binary in the two namespaces instead). As root nothing is skipped; as another user the suite runs
// in a user namespace when the kernel allows it.
package scenarios

import (
	"testing"

	"github.com/hookperf/hookperf/netns/nstest"
)

func TestMain(m *testing.M) { nstest.Main(m) }

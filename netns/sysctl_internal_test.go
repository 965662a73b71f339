package netns

import (
	"testing"

	"gotest.tools/v3/assert"
)

// TestKnownGlobalSysctlsProbe checks the list against this kernel, and
// that the probe alone (without the list) finds each one global: absent
// or read-only in a new namespace while present or writable in ours.
func TestKnownGlobalSysctlsProbe(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	ns, err := New()
	assert.NilError(t, err)
	defer ns.Close()
	for _, name := range knownGlobalSysctls {
		t.Run(name, func(t *testing.T) {
			path, err := sysctlPath(name)
			assert.NilError(t, err)
			host, err := statSysctl(path)
			assert.NilError(t, err)
			if host == sysctlMissing {
				t.Skipf("%s does not exist on this kernel", name)
			}
			var inNS sysctlState
			assert.NilError(t, ns.Do(func() (err error) { inNS, err = statSysctl(path); return err }))
			assert.Assert(t, inNS != sysctlWritable, "%s is writable in a new namespace: not global here", name)
			if host == sysctlWritable || inNS == sysctlMissing {
				// The caller's namespace is the initial one (not a user
				// namespace run): the probe must tell without the list.
				global, err := probeGlobal(path, inNS)
				assert.NilError(t, err)
				assert.Assert(t, global, "the probe does not find %s global", name)
			}
		})
	}
}

package netns_test

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/netns"
	"github.com/hookperf/hookperf/netns/nstest"
)

// hostSysctl reads a sysctl in the test's own namespace ("absent" if
// the namespace does not show it, as a user namespace run's does not show
// most global ones).
func hostSysctl(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(name, ".", "/"))
	if errors.Is(err, fs.ErrNotExist) {
		return "absent"
	}
	assert.NilError(t, err)
	return strings.TrimRight(string(b), "\n")
}

// TestSysctlPerNamespace sets per-namespace sysctls in one namespace and
// checks the value there, the host's (unchanged) and a fresh namespace's
// (its default, unchanged).
func TestSysctlPerNamespace(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{"net.ipv4.tcp_congestion_control", "reno"},
		{"net.core.somaxconn", "1234"},
		{"net.ipv4.ip_forward", "1"},
		{"net.ipv4.tcp_rmem", "4096\t65536\t1048576"},
		{"net.ipv6.conf.all.forwarding", "1"},
		{"net.ipv4.conf.lo.rp_filter", "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns, fresh := nstest.NS(t), nstest.NS(t)
			hostBefore := hostSysctl(t, tc.name)
			freshBefore, err := fresh.Sysctl(tc.name)
			assert.NilError(t, err)
			assert.Assert(t, freshBefore != tc.value, "pick a value that is not the default")

			assert.NilError(t, ns.SetSysctl(tc.name, tc.value))

			got, err := ns.Sysctl(tc.name)
			assert.NilError(t, err)
			assert.Equal(t, got, tc.value)
			assert.Equal(t, hostSysctl(t, tc.name), hostBefore, "the host's value changed")
			freshAfter, err := fresh.Sysctl(tc.name)
			assert.NilError(t, err)
			assert.Equal(t, freshAfter, freshBefore, "another namespace's value changed")
		})
	}
}

// TestSysctlGlobal tries global sysctls: each is refused with
// ErrGlobalSysctl, and the host's value stays.
func TestSysctlGlobal(t *testing.T) {
	ns := nstest.NS(t)
	for _, tc := range []struct {
		name  string
		value string
	}{
		{"net.core.rmem_max", "1234567"},
		{"net.core.wmem_max", "1234567"},
		{"net.core.rmem_default", "123456"},
		{"net.core.netdev_max_backlog", "1234"},
		{"net.ipv4.tcp_allowed_congestion_control", "reno"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := hostSysctl(t, tc.name)
			err := ns.SetSysctl(tc.name, tc.value)
			assert.ErrorIs(t, err, netns.ErrGlobalSysctl)
			assert.Error(t, err, "netns: "+tc.name+" is global, not per network namespace: setting it here would change the host")
			assert.Equal(t, hostSysctl(t, tc.name), before, "the host's value changed")
		})
	}
}

func TestSysctlErrors(t *testing.T) {
	ns := nstest.NS(t)
	for _, tc := range []struct {
		name, sysctl, value string
		is                  error
		contains            string
	}{
		{"not net", "kernel.hostname", "x", nil, "not a net.* sysctl"},
		{"malformed", "net..core", "1", nil, "malformed"},
		{"path escape", "net.core/../../kernel/hostname", "x", nil, "malformed"},
		{"missing", "net.ipv4.no_such_thing", "1", fs.ErrNotExist, "no such sysctl"},
		{"device not here", "net.ipv4.conf.eth0.forwarding", "1", fs.ErrNotExist, `no device "eth0"`},
		{"read-only", "net.ipv4.tcp_available_congestion_control", "reno", fs.ErrPermission, "read-only"},
		{"bad value", "net.core.somaxconn", "lots", unix.EINVAL, "invalid argument"},
		{"unknown congestion control", "net.ipv4.tcp_congestion_control", "nope", unix.ENOENT, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ns.SetSysctl(tc.sysctl, tc.value)
			assert.Assert(t, err != nil)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.ErrorContains(t, err, tc.contains)
			assert.Assert(t, !strings.Contains(err.Error(), "global"), "%v", err)
		})
	}
	// Reading: the namespace has no value of its own for a hidden global.
	_, err := ns.Sysctl("net.core.netdev_max_backlog")
	assert.ErrorIs(t, err, netns.ErrGlobalSysctl)
	_, err = ns.Sysctl("net.ipv4.no_such_thing")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	// A read-only global can be read: the namespace sees the host's.
	got, err := ns.Sysctl("net.core.rmem_max")
	assert.NilError(t, err)
	assert.Equal(t, got, hostSysctl(t, "net.core.rmem_max"))
}

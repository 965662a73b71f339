package netns

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// ErrGlobalSysctl is wrapped by the error SetSysctl returns for a sysctl
// that the kernel keeps for the whole host rather than per network
// namespace: a namespace cannot have its own value, and writing the
// host's would change every namespace.
var ErrGlobalSysctl = errors.New("global, not per network namespace")

// knownGlobalSysctls are net.* sysctls that are global on Linux 6.18
// (measured: absent from a new network namespace's /proc/sys/net, or
// read-only there while writable in the initial one). SetSysctl also
// probes, so this list only matters where the probe cannot tell, e.g.
// when the caller is itself in a non-initial namespace (a user namespace
// test run), where these are absent or read-only too.
var knownGlobalSysctls = []string{
	"net.core.bpf_jit_enable", "net.core.bpf_jit_harden", "net.core.bpf_jit_kallsyms",
	"net.core.bpf_jit_limit", "net.core.busy_poll", "net.core.busy_read",
	"net.core.default_qdisc", "net.core.dev_weight", "net.core.dev_weight_rx_bias",
	"net.core.dev_weight_tx_bias", "net.core.devconf_inherit_init_net",
	"net.core.fb_tunnels_only_for_init_net", "net.core.flow_limit_cpu_bitmap",
	"net.core.flow_limit_table_len", "net.core.gro_normal_batch",
	"net.core.high_order_alloc_disable", "net.core.max_skb_frags", "net.core.mem_pcpu_rsv",
	"net.core.message_burst", "net.core.message_cost", "net.core.netdev_budget",
	"net.core.netdev_budget_usecs", "net.core.netdev_max_backlog", "net.core.netdev_rss_key",
	"net.core.netdev_tstamp_prequeue", "net.core.netdev_unregister_timeout_secs",
	"net.core.rmem_default", "net.core.rmem_max", "net.core.rps_sock_flow_entries",
	"net.core.skb_defer_max", "net.core.warnings", "net.core.wmem_default", "net.core.wmem_max",
	"net.ipv4.cipso_cache_bucket_size", "net.ipv4.cipso_cache_enable",
	"net.ipv4.cipso_rbm_optfmt", "net.ipv4.cipso_rbm_strictvalid", "net.ipv4.fib_sync_mem",
	"net.ipv4.inet_peer_maxttl", "net.ipv4.inet_peer_minttl", "net.ipv4.inet_peer_threshold",
	"net.ipv4.ipfrag_secret_interval", "net.ipv4.route.error_burst", "net.ipv4.route.error_cost",
	"net.ipv4.route.gc_elasticity", "net.ipv4.route.gc_interval", "net.ipv4.route.gc_min_interval",
	"net.ipv4.route.gc_min_interval_ms", "net.ipv4.route.gc_thresh", "net.ipv4.route.gc_timeout",
	"net.ipv4.route.max_size", "net.ipv4.route.redirect_load", "net.ipv4.route.redirect_number",
	"net.ipv4.route.redirect_silence", "net.ipv4.tcp_allowed_congestion_control",
	"net.ipv4.tcp_available_ulp", "net.ipv4.tcp_low_latency", "net.ipv4.tcp_max_orphans",
	"net.ipv4.tcp_mem", "net.ipv4.udp_mem", "net.ipv6.calipso_cache_bucket_size",
	"net.ipv6.calipso_cache_enable", "net.ipv6.ip6frag_secret_interval", "net.ipv6.mld_max_msf",
	"net.ipv6.mld_qrv", "net.netfilter.nf_conntrack_buckets",
	"net.netfilter.nf_conntrack_expect_max", "net.netfilter.nf_log_all_netns",
	"net.nf_conntrack_max",
}

// SetSysctl sets a net.* sysctl (e.g. "net.ipv4.tcp_congestion_control")
// inside the namespace, writing /proc/sys/net from a thread in it. A
// sysctl that is global rather than per namespace (net.core.rmem_max, for
// one) is never written: the error wraps ErrGlobalSysctl. A sysctl that
// does not exist wraps fs.ErrNotExist; one that is read-only everywhere
// wraps fs.ErrPermission.
func (ns *NS) SetSysctl(name, value string) error {
	op := fmt.Sprintf("netns: set %s=%q in %s", name, value, ns)
	path, err := sysctlPath(name)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if slices.Contains(knownGlobalSysctls, name) {
		return globalSysctlError(name)
	}
	var state sysctlState
	err = ns.Do(func() error {
		var err error
		state, err = statSysctl(path)
		if err != nil || state != sysctlWritable {
			return err
		}
		// Do has checked this already; a write here must never reach
		// the host, so check again right before it.
		if err := ns.checkThread(); err != nil {
			return err
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, werr := f.WriteString(value)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		return werr
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if state == sysctlWritable {
		return nil
	}
	return ns.classify(op, name, path, state)
}

// Sysctl reads a net.* sysctl inside the namespace, without the trailing
// newline. Reading a global sysctl that the namespace does not show
// returns an error wrapping ErrGlobalSysctl.
func (ns *NS) Sysctl(name string) (string, error) {
	op := fmt.Sprintf("netns: read %s in %s", name, ns)
	path, err := sysctlPath(name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	var (
		state sysctlState
		value []byte
	)
	err = ns.Do(func() error {
		var err error
		state, err = statSysctl(path)
		if err != nil || state == sysctlMissing {
			return err
		}
		value, err = os.ReadFile(path)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	if state == sysctlMissing {
		return "", ns.classify(op, name, path, state)
	}
	return strings.TrimRight(string(value), "\n"), nil
}

type sysctlState int

const (
	sysctlMissing sysctlState = iota
	sysctlReadOnly
	sysctlWritable
)

// statSysctl tells whether a /proc/sys file exists and is writable in the
// calling thread's namespace (/proc/sys/net shows the thread's).
func statSysctl(path string) (sysctlState, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return sysctlMissing, nil
	case err != nil:
		return sysctlMissing, err
	case st.IsDir():
		return sysctlMissing, fmt.Errorf("%s is a directory, not a sysctl", path)
	case st.Mode().Perm()&0o222 == 0:
		return sysctlReadOnly, nil
	}
	return sysctlWritable, nil
}

// classify explains why a sysctl that is missing or read-only in ns
// cannot be set there.
func (ns *NS) classify(op, name, path string, inNS sysctlState) error {
	if slices.Contains(knownGlobalSysctls, name) {
		return globalSysctlError(name)
	}
	if dev, ok := sysctlDevice(name); ok && inNS == sysctlMissing {
		// Per device, and the device is not in ns (it may be in the host).
		return fmt.Errorf("%s: no device %q in this namespace: %w", op, dev, fs.ErrNotExist)
	}
	global, err := probeGlobal(path, inNS)
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", op, err)
	case global:
		return globalSysctlError(name)
	case inNS == sysctlReadOnly:
		return fmt.Errorf("%s: %s is read-only: %w", op, name, fs.ErrPermission)
	}
	return fmt.Errorf("%s: no such sysctl: %w", op, fs.ErrNotExist)
}

// probeGlobal compares a sysctl's state in a namespace with the caller's
// own namespace: what exists, or is writable, only in the caller's is
// global (the kernel shows global net sysctls in the initial namespace
// only, or read-only elsewhere).
func probeGlobal(path string, inNS sysctlState) (bool, error) {
	host, err := statSysctl(path)
	if err != nil {
		return false, err
	}
	return host > inNS, nil
}

func globalSysctlError(name string) error {
	return fmt.Errorf("netns: %s is %w: setting it here would change the host", name, ErrGlobalSysctl)
}

// sysctlPath maps "net.ipv4.tcp_rmem" to "/proc/sys/net/ipv4/tcp_rmem".
func sysctlPath(name string) (string, error) {
	parts := strings.Split(name, ".")
	if len(parts) < 2 || parts[0] != "net" {
		return "", fmt.Errorf("%q is not a net.* sysctl (only those are per network namespace)", name)
	}
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p, "/\x00") {
			return "", fmt.Errorf("malformed sysctl name %q", name)
		}
	}
	return "/proc/sys/" + strings.Join(parts, "/"), nil
}

// sysctlDevice returns the device a per-device sysctl
// (net.ipv4.conf.<dev>.x, net.ipv6.neigh.<dev>.x) is about.
func sysctlDevice(name string) (string, bool) {
	parts := strings.Split(name, ".")
	if len(parts) >= 5 && (parts[1] == "ipv4" || parts[1] == "ipv6") && (parts[2] == "conf" || parts[2] == "neigh") {
		switch parts[3] {
		case "all", "default":
			return "", false
		}
		return parts[3], true
	}
	return "", false
}

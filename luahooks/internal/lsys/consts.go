package lsys

import (
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// The constants, grouped as ljsyscall groups them: S.c.<GROUP>.<NAME>,
// and as globals named as in C (<GROUP>_<NAME>; errnos E<NAME>). Values
// come from golang.org/x/sys/unix wherever it has them (Linux's values);
// the few it lacks are libc's or linux/filter.h's, written out here.

type konst struct {
	name  string
	value int
}

type constGroup struct {
	name   string // S.c.<name>
	prefix string // of the globals: "AF_", or "E" for errnos
	consts []konst
	byName map[string]int
}

// global is the name of the global for a constant of the group.
func (g *constGroup) global(name string) string { return g.prefix + name }

// parse or-s the names in s (ljsyscall's string flags: "inet",
// "dgram, nonblock", "SOCK_DGRAM|SOCK_NONBLOCK").
func (g *constGroup) parse(s string) (int, error) {
	x, found := 0, false
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '|' || r == ' ' || r == '\t' }) {
		name := upper(tok)
		v, ok := g.byName[name]
		if !ok {
			v, ok = g.byName[strings.TrimPrefix(name, g.prefix)]
		}
		if !ok {
			return 0, fmtErr("unknown %s constant %q", g.name, tok)
		}
		x |= v
		found = true
	}
	if !found {
		return 0, fmtErr("no %s constant in %q", g.name, s)
	}
	return x, nil
}

func group(name, prefix string, consts ...konst) *constGroup {
	g := &constGroup{name: name, prefix: prefix, consts: consts, byName: make(map[string]int, len(consts))}
	for _, k := range consts {
		g.byName[k.name] = k.value
	}
	return g
}

var (
	grpAF = group("AF", "AF_",
		konst{"UNSPEC", unix.AF_UNSPEC},
		konst{"LOCAL", unix.AF_LOCAL},
		konst{"UNIX", unix.AF_UNIX},
		konst{"FILE", unix.AF_FILE},
		konst{"INET", unix.AF_INET},
		konst{"INET6", unix.AF_INET6},
		konst{"NETLINK", unix.AF_NETLINK},
		konst{"ROUTE", unix.AF_ROUTE},
		konst{"PACKET", unix.AF_PACKET},
		konst{"BRIDGE", unix.AF_BRIDGE},
		konst{"KEY", unix.AF_KEY},
		konst{"ALG", unix.AF_ALG},
		konst{"VSOCK", unix.AF_VSOCK},
		konst{"XDP", unix.AF_XDP},
	)

	grpSOCK = group("SOCK", "SOCK_",
		konst{"STREAM", unix.SOCK_STREAM},
		konst{"DGRAM", unix.SOCK_DGRAM},
		konst{"RAW", unix.SOCK_RAW},
		konst{"RDM", unix.SOCK_RDM},
		konst{"SEQPACKET", unix.SOCK_SEQPACKET},
		konst{"DCCP", unix.SOCK_DCCP},
		konst{"PACKET", unix.SOCK_PACKET},
		konst{"CLOEXEC", unix.SOCK_CLOEXEC},
		konst{"NONBLOCK", unix.SOCK_NONBLOCK},
	)

	grpIPPROTO = group("IPPROTO", "IPPROTO_",
		konst{"IP", unix.IPPROTO_IP},
		konst{"ICMP", unix.IPPROTO_ICMP},
		konst{"IGMP", unix.IPPROTO_IGMP},
		konst{"IPIP", unix.IPPROTO_IPIP},
		konst{"TCP", unix.IPPROTO_TCP},
		konst{"EGP", unix.IPPROTO_EGP},
		konst{"PUP", unix.IPPROTO_PUP},
		konst{"UDP", unix.IPPROTO_UDP},
		konst{"IDP", unix.IPPROTO_IDP},
		konst{"TP", unix.IPPROTO_TP},
		konst{"DCCP", unix.IPPROTO_DCCP},
		konst{"IPV6", unix.IPPROTO_IPV6},
		konst{"ROUTING", unix.IPPROTO_ROUTING},
		konst{"FRAGMENT", unix.IPPROTO_FRAGMENT},
		konst{"RSVP", unix.IPPROTO_RSVP},
		konst{"GRE", unix.IPPROTO_GRE},
		konst{"ESP", unix.IPPROTO_ESP},
		konst{"AH", unix.IPPROTO_AH},
		konst{"ICMPV6", unix.IPPROTO_ICMPV6},
		konst{"NONE", unix.IPPROTO_NONE},
		konst{"DSTOPTS", unix.IPPROTO_DSTOPTS},
		konst{"MTP", unix.IPPROTO_MTP},
		konst{"ENCAP", unix.IPPROTO_ENCAP},
		konst{"PIM", unix.IPPROTO_PIM},
		konst{"COMP", unix.IPPROTO_COMP},
		konst{"SCTP", unix.IPPROTO_SCTP},
		konst{"UDPLITE", unix.IPPROTO_UDPLITE},
		konst{"MPLS", unix.IPPROTO_MPLS},
		konst{"MPTCP", unix.IPPROTO_MPTCP},
		konst{"RAW", unix.IPPROTO_RAW},
	)

	// ljsyscall's SOL lacks TCP and UDP; they are here as in C.
	grpSOL = group("SOL", "SOL_",
		konst{"SOCKET", unix.SOL_SOCKET},
		konst{"IP", unix.SOL_IP},
		konst{"IPV6", unix.SOL_IPV6},
		konst{"TCP", unix.SOL_TCP},
		konst{"UDP", unix.SOL_UDP},
		konst{"ICMPV6", unix.SOL_ICMPV6},
		konst{"RAW", unix.SOL_RAW},
		konst{"PACKET", unix.SOL_PACKET},
		konst{"TLS", unix.SOL_TLS},
		konst{"XDP", unix.SOL_XDP},
		konst{"MPTCP", unix.SOL_MPTCP},
	)

	grpSO = group("SO", "SO_",
		konst{"DEBUG", unix.SO_DEBUG},
		konst{"REUSEADDR", unix.SO_REUSEADDR},
		konst{"TYPE", unix.SO_TYPE},
		konst{"ERROR", unix.SO_ERROR},
		konst{"DONTROUTE", unix.SO_DONTROUTE},
		konst{"BROADCAST", unix.SO_BROADCAST},
		konst{"SNDBUF", unix.SO_SNDBUF},
		konst{"RCVBUF", unix.SO_RCVBUF},
		konst{"KEEPALIVE", unix.SO_KEEPALIVE},
		konst{"OOBINLINE", unix.SO_OOBINLINE},
		konst{"NO_CHECK", unix.SO_NO_CHECK},
		konst{"PRIORITY", unix.SO_PRIORITY},
		konst{"LINGER", unix.SO_LINGER},
		konst{"BSDCOMPAT", unix.SO_BSDCOMPAT},
		konst{"REUSEPORT", unix.SO_REUSEPORT},
		konst{"PASSCRED", unix.SO_PASSCRED},
		konst{"PEERCRED", unix.SO_PEERCRED},
		konst{"RCVLOWAT", unix.SO_RCVLOWAT},
		konst{"SNDLOWAT", unix.SO_SNDLOWAT},
		konst{"RCVTIMEO", unix.SO_RCVTIMEO},
		konst{"SNDTIMEO", unix.SO_SNDTIMEO},
		konst{"SECURITY_AUTHENTICATION", unix.SO_SECURITY_AUTHENTICATION},
		konst{"SECURITY_ENCRYPTION_TRANSPORT", unix.SO_SECURITY_ENCRYPTION_TRANSPORT},
		konst{"SECURITY_ENCRYPTION_NETWORK", unix.SO_SECURITY_ENCRYPTION_NETWORK},
		konst{"BINDTODEVICE", unix.SO_BINDTODEVICE},
		konst{"ATTACH_FILTER", unix.SO_ATTACH_FILTER},
		konst{"DETACH_FILTER", unix.SO_DETACH_FILTER},
		konst{"GET_FILTER", unix.SO_GET_FILTER},
		konst{"PEERNAME", unix.SO_PEERNAME},
		konst{"TIMESTAMP", unix.SO_TIMESTAMP},
		konst{"ACCEPTCONN", unix.SO_ACCEPTCONN},
		konst{"PEERSEC", unix.SO_PEERSEC},
		konst{"SNDBUFFORCE", unix.SO_SNDBUFFORCE},
		konst{"RCVBUFFORCE", unix.SO_RCVBUFFORCE},
		konst{"PASSSEC", unix.SO_PASSSEC},
		konst{"TIMESTAMPNS", unix.SO_TIMESTAMPNS},
		konst{"MARK", unix.SO_MARK},
		konst{"TIMESTAMPING", unix.SO_TIMESTAMPING},
		konst{"PROTOCOL", unix.SO_PROTOCOL},
		konst{"DOMAIN", unix.SO_DOMAIN},
		konst{"RXQ_OVFL", unix.SO_RXQ_OVFL},
		konst{"WIFI_STATUS", unix.SO_WIFI_STATUS},
		konst{"PEEK_OFF", unix.SO_PEEK_OFF},
		konst{"NOFCS", unix.SO_NOFCS},
		konst{"LOCK_FILTER", unix.SO_LOCK_FILTER},
		konst{"SELECT_ERR_QUEUE", unix.SO_SELECT_ERR_QUEUE},
		konst{"BUSY_POLL", unix.SO_BUSY_POLL},
		konst{"MAX_PACING_RATE", unix.SO_MAX_PACING_RATE},
		konst{"BPF_EXTENSIONS", unix.SO_BPF_EXTENSIONS},
		konst{"INCOMING_CPU", unix.SO_INCOMING_CPU},
		konst{"ATTACH_BPF", unix.SO_ATTACH_BPF},
		konst{"DETACH_BPF", unix.SO_DETACH_BPF},
		konst{"ATTACH_REUSEPORT_CBPF", unix.SO_ATTACH_REUSEPORT_CBPF},
		konst{"ATTACH_REUSEPORT_EBPF", unix.SO_ATTACH_REUSEPORT_EBPF},
		konst{"CNX_ADVICE", unix.SO_CNX_ADVICE},
		konst{"MEMINFO", unix.SO_MEMINFO},
		konst{"INCOMING_NAPI_ID", unix.SO_INCOMING_NAPI_ID},
		konst{"COOKIE", unix.SO_COOKIE},
		konst{"PEERGROUPS", unix.SO_PEERGROUPS},
		konst{"ZEROCOPY", unix.SO_ZEROCOPY},
		konst{"TXTIME", unix.SO_TXTIME},
		konst{"BINDTOIFINDEX", unix.SO_BINDTOIFINDEX},
		konst{"DETACH_REUSEPORT_BPF", unix.SO_DETACH_REUSEPORT_BPF},
		konst{"PREFER_BUSY_POLL", unix.SO_PREFER_BUSY_POLL},
		konst{"BUSY_POLL_BUDGET", unix.SO_BUSY_POLL_BUDGET},
		konst{"NETNS_COOKIE", unix.SO_NETNS_COOKIE},
		konst{"BUF_LOCK", unix.SO_BUF_LOCK},
		konst{"RESERVE_MEM", unix.SO_RESERVE_MEM},
		konst{"TXREHASH", unix.SO_TXREHASH},
		konst{"RCVMARK", unix.SO_RCVMARK},
	)

	grpSOEE = group("SO_EE_ORIGIN", "SO_EE_ORIGIN_",
		konst{"NONE", unix.SO_EE_ORIGIN_NONE},
		konst{"LOCAL", unix.SO_EE_ORIGIN_LOCAL},
		konst{"ICMP", unix.SO_EE_ORIGIN_ICMP},
		konst{"ICMP6", unix.SO_EE_ORIGIN_ICMP6},
		konst{"TXSTATUS", unix.SO_EE_ORIGIN_TXSTATUS},
		konst{"TIMESTAMPING", unix.SO_EE_ORIGIN_TIMESTAMPING},
		konst{"ZEROCOPY", unix.SO_EE_ORIGIN_ZEROCOPY},
		konst{"TXTIME", unix.SO_EE_ORIGIN_TXTIME},
	)

	grpSCM = group("SCM", "SCM_",
		konst{"RIGHTS", unix.SCM_RIGHTS},
		konst{"CREDENTIALS", unix.SCM_CREDENTIALS},
		konst{"TIMESTAMP", unix.SCM_TIMESTAMP},
		konst{"TIMESTAMPNS", unix.SCM_TIMESTAMPNS},
		konst{"TIMESTAMPING", unix.SCM_TIMESTAMPING},
		konst{"TIMESTAMPING_OPT_STATS", unix.SCM_TIMESTAMPING_OPT_STATS},
		konst{"TIMESTAMPING_PKTINFO", unix.SCM_TIMESTAMPING_PKTINFO},
		konst{"WIFI_STATUS", unix.SCM_WIFI_STATUS},
		konst{"TXTIME", unix.SCM_TXTIME},
		konst{"TSTAMP_SND", unix.SCM_TSTAMP_SND},
		konst{"TSTAMP_SCHED", unix.SCM_TSTAMP_SCHED},
		konst{"TSTAMP_ACK", unix.SCM_TSTAMP_ACK},
	)

	grpSOF = group("SOF", "SOF_",
		konst{"TIMESTAMPING_TX_HARDWARE", unix.SOF_TIMESTAMPING_TX_HARDWARE},
		konst{"TIMESTAMPING_TX_SOFTWARE", unix.SOF_TIMESTAMPING_TX_SOFTWARE},
		konst{"TIMESTAMPING_RX_HARDWARE", unix.SOF_TIMESTAMPING_RX_HARDWARE},
		konst{"TIMESTAMPING_RX_SOFTWARE", unix.SOF_TIMESTAMPING_RX_SOFTWARE},
		konst{"TIMESTAMPING_SOFTWARE", unix.SOF_TIMESTAMPING_SOFTWARE},
		konst{"TIMESTAMPING_SYS_HARDWARE", unix.SOF_TIMESTAMPING_SYS_HARDWARE},
		konst{"TIMESTAMPING_RAW_HARDWARE", unix.SOF_TIMESTAMPING_RAW_HARDWARE},
		konst{"TIMESTAMPING_OPT_ID", unix.SOF_TIMESTAMPING_OPT_ID},
		konst{"TIMESTAMPING_TX_SCHED", unix.SOF_TIMESTAMPING_TX_SCHED},
		konst{"TIMESTAMPING_TX_ACK", unix.SOF_TIMESTAMPING_TX_ACK},
		konst{"TIMESTAMPING_OPT_CMSG", unix.SOF_TIMESTAMPING_OPT_CMSG},
		konst{"TIMESTAMPING_OPT_TSONLY", unix.SOF_TIMESTAMPING_OPT_TSONLY},
		konst{"TIMESTAMPING_OPT_STATS", unix.SOF_TIMESTAMPING_OPT_STATS},
		konst{"TIMESTAMPING_OPT_PKTINFO", unix.SOF_TIMESTAMPING_OPT_PKTINFO},
		konst{"TIMESTAMPING_OPT_TX_SWHW", unix.SOF_TIMESTAMPING_OPT_TX_SWHW},
		konst{"TIMESTAMPING_BIND_PHC", unix.SOF_TIMESTAMPING_BIND_PHC},
		konst{"TIMESTAMPING_OPT_ID_TCP", unix.SOF_TIMESTAMPING_OPT_ID_TCP},
		konst{"TIMESTAMPING_LAST", unix.SOF_TIMESTAMPING_LAST},
		konst{"TIMESTAMPING_MASK", unix.SOF_TIMESTAMPING_MASK},
	)

	grpIP = group("IP", "IP_",
		konst{"TOS", unix.IP_TOS},
		konst{"TTL", unix.IP_TTL},
		konst{"HDRINCL", unix.IP_HDRINCL},
		konst{"OPTIONS", unix.IP_OPTIONS},
		konst{"ROUTER_ALERT", unix.IP_ROUTER_ALERT},
		konst{"RECVOPTS", unix.IP_RECVOPTS},
		konst{"RETOPTS", unix.IP_RETOPTS},
		konst{"PKTINFO", unix.IP_PKTINFO},
		konst{"PKTOPTIONS", unix.IP_PKTOPTIONS},
		konst{"MTU_DISCOVER", unix.IP_MTU_DISCOVER},
		konst{"RECVERR", unix.IP_RECVERR},
		konst{"RECVTTL", unix.IP_RECVTTL},
		konst{"RECVTOS", unix.IP_RECVTOS},
		konst{"MTU", unix.IP_MTU},
		konst{"FREEBIND", unix.IP_FREEBIND},
		konst{"IPSEC_POLICY", unix.IP_IPSEC_POLICY},
		konst{"XFRM_POLICY", unix.IP_XFRM_POLICY},
		konst{"PASSSEC", unix.IP_PASSSEC},
		konst{"TRANSPARENT", unix.IP_TRANSPARENT},
		konst{"ORIGDSTADDR", unix.IP_ORIGDSTADDR},
		konst{"RECVORIGDSTADDR", unix.IP_RECVORIGDSTADDR},
		konst{"MINTTL", unix.IP_MINTTL},
		konst{"NODEFRAG", unix.IP_NODEFRAG},
		konst{"CHECKSUM", unix.IP_CHECKSUM},
		konst{"BIND_ADDRESS_NO_PORT", unix.IP_BIND_ADDRESS_NO_PORT},
		konst{"RECVFRAGSIZE", unix.IP_RECVFRAGSIZE},
		konst{"RECVERR_RFC4884", unix.IP_RECVERR_RFC4884},
		konst{"MULTICAST_IF", unix.IP_MULTICAST_IF},
		konst{"MULTICAST_TTL", unix.IP_MULTICAST_TTL},
		konst{"MULTICAST_LOOP", unix.IP_MULTICAST_LOOP},
		konst{"ADD_MEMBERSHIP", unix.IP_ADD_MEMBERSHIP},
		konst{"DROP_MEMBERSHIP", unix.IP_DROP_MEMBERSHIP},
		konst{"UNBLOCK_SOURCE", unix.IP_UNBLOCK_SOURCE},
		konst{"BLOCK_SOURCE", unix.IP_BLOCK_SOURCE},
		konst{"ADD_SOURCE_MEMBERSHIP", unix.IP_ADD_SOURCE_MEMBERSHIP},
		konst{"DROP_SOURCE_MEMBERSHIP", unix.IP_DROP_SOURCE_MEMBERSHIP},
		konst{"MSFILTER", unix.IP_MSFILTER},
		konst{"MULTICAST_ALL", unix.IP_MULTICAST_ALL},
		konst{"UNICAST_IF", unix.IP_UNICAST_IF},
		konst{"LOCAL_PORT_RANGE", unix.IP_LOCAL_PORT_RANGE},
		konst{"PMTUDISC_DONT", unix.IP_PMTUDISC_DONT},
		konst{"PMTUDISC_WANT", unix.IP_PMTUDISC_WANT},
		konst{"PMTUDISC_DO", unix.IP_PMTUDISC_DO},
		konst{"PMTUDISC_PROBE", unix.IP_PMTUDISC_PROBE},
		konst{"PMTUDISC_INTERFACE", unix.IP_PMTUDISC_INTERFACE},
		konst{"PMTUDISC_OMIT", unix.IP_PMTUDISC_OMIT},
	)

	grpIPV6 = group("IPV6", "IPV6_",
		konst{"ADDRFORM", unix.IPV6_ADDRFORM},
		konst{"2292PKTINFO", unix.IPV6_2292PKTINFO},
		konst{"2292HOPOPTS", unix.IPV6_2292HOPOPTS},
		konst{"2292DSTOPTS", unix.IPV6_2292DSTOPTS},
		konst{"2292RTHDR", unix.IPV6_2292RTHDR},
		konst{"2292PKTOPTIONS", unix.IPV6_2292PKTOPTIONS},
		konst{"CHECKSUM", unix.IPV6_CHECKSUM},
		konst{"2292HOPLIMIT", unix.IPV6_2292HOPLIMIT},
		konst{"NEXTHOP", unix.IPV6_NEXTHOP},
		konst{"AUTHHDR", unix.IPV6_AUTHHDR},
		konst{"FLOWINFO", 11}, // linux/in6.h; x/sys lacks it
		konst{"UNICAST_HOPS", unix.IPV6_UNICAST_HOPS},
		konst{"MULTICAST_IF", unix.IPV6_MULTICAST_IF},
		konst{"MULTICAST_HOPS", unix.IPV6_MULTICAST_HOPS},
		konst{"MULTICAST_LOOP", unix.IPV6_MULTICAST_LOOP},
		konst{"ADD_MEMBERSHIP", unix.IPV6_ADD_MEMBERSHIP},
		konst{"DROP_MEMBERSHIP", unix.IPV6_DROP_MEMBERSHIP},
		konst{"ROUTER_ALERT", unix.IPV6_ROUTER_ALERT},
		konst{"MTU_DISCOVER", unix.IPV6_MTU_DISCOVER},
		konst{"MTU", unix.IPV6_MTU},
		konst{"RECVERR", unix.IPV6_RECVERR},
		konst{"V6ONLY", unix.IPV6_V6ONLY},
		konst{"JOIN_ANYCAST", unix.IPV6_JOIN_ANYCAST},
		konst{"LEAVE_ANYCAST", unix.IPV6_LEAVE_ANYCAST},
		konst{"MULTICAST_ALL", unix.IPV6_MULTICAST_ALL},
		konst{"ROUTER_ALERT_ISOLATE", unix.IPV6_ROUTER_ALERT_ISOLATE},
		konst{"RECVERR_RFC4884", unix.IPV6_RECVERR_RFC4884},
		konst{"IPSEC_POLICY", unix.IPV6_IPSEC_POLICY},
		konst{"XFRM_POLICY", unix.IPV6_XFRM_POLICY},
		konst{"HDRINCL", unix.IPV6_HDRINCL},
		konst{"RECVPKTINFO", unix.IPV6_RECVPKTINFO},
		konst{"PKTINFO", unix.IPV6_PKTINFO},
		konst{"RECVHOPLIMIT", unix.IPV6_RECVHOPLIMIT},
		konst{"HOPLIMIT", unix.IPV6_HOPLIMIT},
		konst{"RECVHOPOPTS", unix.IPV6_RECVHOPOPTS},
		konst{"HOPOPTS", unix.IPV6_HOPOPTS},
		konst{"RTHDRDSTOPTS", unix.IPV6_RTHDRDSTOPTS},
		konst{"RECVRTHDR", unix.IPV6_RECVRTHDR},
		konst{"RTHDR", unix.IPV6_RTHDR},
		konst{"RECVDSTOPTS", unix.IPV6_RECVDSTOPTS},
		konst{"DSTOPTS", unix.IPV6_DSTOPTS},
		konst{"RECVPATHMTU", unix.IPV6_RECVPATHMTU},
		konst{"PATHMTU", unix.IPV6_PATHMTU},
		konst{"DONTFRAG", unix.IPV6_DONTFRAG},
		konst{"RECVTCLASS", unix.IPV6_RECVTCLASS},
		konst{"TCLASS", unix.IPV6_TCLASS},
		konst{"AUTOFLOWLABEL", unix.IPV6_AUTOFLOWLABEL},
		konst{"ADDR_PREFERENCES", unix.IPV6_ADDR_PREFERENCES},
		konst{"MINHOPCOUNT", unix.IPV6_MINHOPCOUNT},
		konst{"ORIGDSTADDR", unix.IPV6_ORIGDSTADDR},
		konst{"RECVORIGDSTADDR", unix.IPV6_RECVORIGDSTADDR},
		konst{"TRANSPARENT", unix.IPV6_TRANSPARENT},
		konst{"UNICAST_IF", unix.IPV6_UNICAST_IF},
		konst{"RECVFRAGSIZE", unix.IPV6_RECVFRAGSIZE},
		konst{"FREEBIND", unix.IPV6_FREEBIND},
		konst{"FLOWLABEL_MGR", 32}, // linux/in6.h
		konst{"FLOWINFO_SEND", 33}, // linux/in6.h
		konst{"PMTUDISC_DONT", unix.IPV6_PMTUDISC_DONT},
		konst{"PMTUDISC_WANT", unix.IPV6_PMTUDISC_WANT},
		konst{"PMTUDISC_DO", unix.IPV6_PMTUDISC_DO},
		konst{"PMTUDISC_PROBE", unix.IPV6_PMTUDISC_PROBE},
		konst{"PMTUDISC_INTERFACE", unix.IPV6_PMTUDISC_INTERFACE},
		konst{"PMTUDISC_OMIT", unix.IPV6_PMTUDISC_OMIT},
	)

	grpTCP = group("TCP", "TCP_",
		konst{"NODELAY", unix.TCP_NODELAY},
		konst{"MAXSEG", unix.TCP_MAXSEG},
		konst{"CORK", unix.TCP_CORK},
		konst{"KEEPIDLE", unix.TCP_KEEPIDLE},
		konst{"KEEPINTVL", unix.TCP_KEEPINTVL},
		konst{"KEEPCNT", unix.TCP_KEEPCNT},
		konst{"SYNCNT", unix.TCP_SYNCNT},
		konst{"LINGER2", unix.TCP_LINGER2},
		konst{"DEFER_ACCEPT", unix.TCP_DEFER_ACCEPT},
		konst{"WINDOW_CLAMP", unix.TCP_WINDOW_CLAMP},
		konst{"INFO", unix.TCP_INFO},
		konst{"QUICKACK", unix.TCP_QUICKACK},
		konst{"CONGESTION", unix.TCP_CONGESTION},
		konst{"MD5SIG", unix.TCP_MD5SIG},
		konst{"THIN_LINEAR_TIMEOUTS", unix.TCP_THIN_LINEAR_TIMEOUTS},
		konst{"THIN_DUPACK", unix.TCP_THIN_DUPACK},
		konst{"USER_TIMEOUT", unix.TCP_USER_TIMEOUT},
		konst{"REPAIR", unix.TCP_REPAIR},
		konst{"REPAIR_QUEUE", unix.TCP_REPAIR_QUEUE},
		konst{"QUEUE_SEQ", unix.TCP_QUEUE_SEQ},
		konst{"REPAIR_OPTIONS", unix.TCP_REPAIR_OPTIONS},
		konst{"FASTOPEN", unix.TCP_FASTOPEN},
		konst{"TIMESTAMP", unix.TCP_TIMESTAMP},
		konst{"NOTSENT_LOWAT", unix.TCP_NOTSENT_LOWAT},
		konst{"CC_INFO", unix.TCP_CC_INFO},
		konst{"SAVE_SYN", unix.TCP_SAVE_SYN},
		konst{"SAVED_SYN", unix.TCP_SAVED_SYN},
		konst{"REPAIR_WINDOW", unix.TCP_REPAIR_WINDOW},
		konst{"FASTOPEN_CONNECT", unix.TCP_FASTOPEN_CONNECT},
		konst{"ULP", unix.TCP_ULP},
		konst{"MD5SIG_EXT", unix.TCP_MD5SIG_EXT},
		konst{"FASTOPEN_KEY", unix.TCP_FASTOPEN_KEY},
		konst{"FASTOPEN_NO_COOKIE", unix.TCP_FASTOPEN_NO_COOKIE},
		konst{"ZEROCOPY_RECEIVE", unix.TCP_ZEROCOPY_RECEIVE},
		konst{"INQ", unix.TCP_INQ},
		konst{"CM_INQ", unix.TCP_CM_INQ},
		konst{"TX_DELAY", unix.TCP_TX_DELAY},
	)

	grpUDP = group("UDP", "UDP_",
		konst{"CORK", unix.UDP_CORK},
		konst{"ENCAP", unix.UDP_ENCAP},
		konst{"NO_CHECK6_TX", unix.UDP_NO_CHECK6_TX},
		konst{"NO_CHECK6_RX", unix.UDP_NO_CHECK6_RX},
		konst{"SEGMENT", unix.UDP_SEGMENT},
		konst{"GRO", unix.UDP_GRO},
	)

	grpMSG = group("MSG", "MSG_",
		konst{"OOB", unix.MSG_OOB},
		konst{"PEEK", unix.MSG_PEEK},
		konst{"DONTROUTE", unix.MSG_DONTROUTE},
		konst{"TRYHARD", unix.MSG_TRYHARD},
		konst{"CTRUNC", unix.MSG_CTRUNC},
		konst{"PROXY", unix.MSG_PROXY},
		konst{"TRUNC", unix.MSG_TRUNC},
		konst{"DONTWAIT", unix.MSG_DONTWAIT},
		konst{"EOR", unix.MSG_EOR},
		konst{"WAITALL", unix.MSG_WAITALL},
		konst{"FIN", unix.MSG_FIN},
		konst{"SYN", unix.MSG_SYN},
		konst{"CONFIRM", unix.MSG_CONFIRM},
		konst{"RST", unix.MSG_RST},
		konst{"ERRQUEUE", unix.MSG_ERRQUEUE},
		konst{"NOSIGNAL", unix.MSG_NOSIGNAL},
		konst{"MORE", unix.MSG_MORE},
		konst{"WAITFORONE", unix.MSG_WAITFORONE},
		konst{"BATCH", unix.MSG_BATCH},
		konst{"ZEROCOPY", unix.MSG_ZEROCOPY},
		konst{"FASTOPEN", unix.MSG_FASTOPEN},
		konst{"CMSG_CLOEXEC", unix.MSG_CMSG_CLOEXEC},
	)

	grpSHUT = group("SHUT", "SHUT_",
		konst{"RD", unix.SHUT_RD},
		konst{"WR", unix.SHUT_WR},
		konst{"RDWR", unix.SHUT_RDWR},
	)

	grpCLOCK = group("CLOCK", "CLOCK_",
		konst{"REALTIME", unix.CLOCK_REALTIME},
		konst{"MONOTONIC", unix.CLOCK_MONOTONIC},
		konst{"PROCESS_CPUTIME_ID", unix.CLOCK_PROCESS_CPUTIME_ID},
		konst{"THREAD_CPUTIME_ID", unix.CLOCK_THREAD_CPUTIME_ID},
		konst{"MONOTONIC_RAW", unix.CLOCK_MONOTONIC_RAW},
		konst{"REALTIME_COARSE", unix.CLOCK_REALTIME_COARSE},
		konst{"MONOTONIC_COARSE", unix.CLOCK_MONOTONIC_COARSE},
		konst{"BOOTTIME", unix.CLOCK_BOOTTIME},
		konst{"REALTIME_ALARM", unix.CLOCK_REALTIME_ALARM},
		konst{"BOOTTIME_ALARM", unix.CLOCK_BOOTTIME_ALARM},
		konst{"TAI", unix.CLOCK_TAI},
	)

	// fcntl(2) commands, and the flags they get and set.
	grpF = group("F", "F_",
		konst{"DUPFD", unix.F_DUPFD},
		konst{"DUPFD_CLOEXEC", unix.F_DUPFD_CLOEXEC},
		konst{"GETFD", unix.F_GETFD},
		konst{"SETFD", unix.F_SETFD},
		konst{"GETFL", unix.F_GETFL},
		konst{"SETFL", unix.F_SETFL},
		konst{"GETOWN", unix.F_GETOWN},
		konst{"SETOWN", unix.F_SETOWN},
		konst{"GETSIG", unix.F_GETSIG},
		konst{"SETSIG", unix.F_SETSIG},
		konst{"GETPIPE_SZ", unix.F_GETPIPE_SZ},
		konst{"SETPIPE_SZ", unix.F_SETPIPE_SZ},
	)
	grpFD = group("FD", "FD_", konst{"CLOEXEC", unix.FD_CLOEXEC})
	grpO  = group("O", "O_",
		konst{"RDONLY", unix.O_RDONLY},
		konst{"WRONLY", unix.O_WRONLY},
		konst{"RDWR", unix.O_RDWR},
		konst{"APPEND", unix.O_APPEND},
		konst{"NONBLOCK", unix.O_NONBLOCK},
		konst{"CLOEXEC", unix.O_CLOEXEC},
		konst{"ASYNC", unix.O_ASYNC},
	)

	// getaddrinfo(3) flags, as in ai.ai_flags: glibc's values (x/sys has
	// none).
	grpAI = group("AI", "AI_",
		konst{"PASSIVE", 0x1},
		konst{"CANONNAME", 0x2},
		konst{"NUMERICHOST", 0x4},
		konst{"V4MAPPED", 0x8},
		konst{"ALL", 0x10},
		konst{"ADDRCONFIG", 0x20},
		konst{"NUMERICSERV", 0x400},
	)

	// Classic BPF opcodes (linux/filter.h), as ljsyscall's c.BPF; sock_filter
	// takes them by name ("LD,W,ABS").
	grpBPF = group("BPF", "BPF_",
		konst{"LD", unix.BPF_LD},
		konst{"LDX", unix.BPF_LDX},
		konst{"ST", unix.BPF_ST},
		konst{"STX", unix.BPF_STX},
		konst{"ALU", unix.BPF_ALU},
		konst{"JMP", unix.BPF_JMP},
		konst{"RET", unix.BPF_RET},
		konst{"MISC", unix.BPF_MISC},
		konst{"W", unix.BPF_W},
		konst{"H", unix.BPF_H},
		konst{"B", unix.BPF_B},
		konst{"IMM", unix.BPF_IMM},
		konst{"ABS", unix.BPF_ABS},
		konst{"IND", unix.BPF_IND},
		konst{"MEM", unix.BPF_MEM},
		konst{"LEN", unix.BPF_LEN},
		konst{"MSH", unix.BPF_MSH},
		konst{"ADD", unix.BPF_ADD},
		konst{"SUB", unix.BPF_SUB},
		konst{"MUL", unix.BPF_MUL},
		konst{"DIV", unix.BPF_DIV},
		konst{"OR", unix.BPF_OR},
		konst{"AND", unix.BPF_AND},
		konst{"LSH", unix.BPF_LSH},
		konst{"RSH", unix.BPF_RSH},
		konst{"NEG", unix.BPF_NEG},
		konst{"MOD", unix.BPF_MOD},
		konst{"XOR", unix.BPF_XOR},
		konst{"JA", unix.BPF_JA},
		konst{"JEQ", unix.BPF_JEQ},
		konst{"JGT", unix.BPF_JGT},
		konst{"JGE", unix.BPF_JGE},
		konst{"JSET", unix.BPF_JSET},
		konst{"K", unix.BPF_K},
		konst{"X", unix.BPF_X},
		konst{"A", unix.BPF_A},
		konst{"TAX", unix.BPF_TAX},
		konst{"TXA", unix.BPF_TXA},
		konst{"MAXINSNS", unix.BPF_MAXINSNS},
		konst{"MEMWORDS", unix.BPF_MEMWORDS},
	)

	// Classic BPF ancillary offsets (linux/filter.h; x/sys has none), for
	// loads such as {op="LD,W,ABS", k=SKF_AD_OFF+SKF_AD_CPU}.
	grpSKF = group("SKF", "SKF_",
		konst{"AD_OFF", -0x1000},
		konst{"AD_PROTOCOL", 0},
		konst{"AD_PKTTYPE", 4},
		konst{"AD_IFINDEX", 8},
		konst{"AD_NLATTR", 12},
		konst{"AD_NLATTR_NEST", 16},
		konst{"AD_MARK", 20},
		konst{"AD_QUEUE", 24},
		konst{"AD_HATYPE", 28},
		konst{"AD_RXHASH", 32},
		konst{"AD_CPU", 36},
		konst{"AD_ALU_XOR_X", 40},
		konst{"AD_VLAN_TAG", 44},
		konst{"AD_VLAN_TAG_PRESENT", 48},
		konst{"AD_PAY_OFFSET", 52},
		konst{"AD_RANDOM", 56},
		konst{"AD_VLAN_TPID", 60},
		konst{"AD_MAX", 64},
		konst{"NET_OFF", -0x100000},
		konst{"LL_OFF", -0x200000},
	)

	// Errnos: S.c.E.AGAIN, global EAGAIN, err.AGAIN.
	grpE = errnoGroup()
)

// topConsts are constants outside any group (S.c.SOMAXCONN, SOMAXCONN).
var topConsts = []konst{
	{"SOMAXCONN", unix.SOMAXCONN},
	{"IFNAMSIZ", unix.IFNAMSIZ},
}

var constGroups = []*constGroup{
	grpAF, grpSOCK, grpIPPROTO, grpSOL, grpSO, grpSOEE, grpSCM, grpSOF,
	grpIP, grpIPV6, grpTCP, grpUDP, grpMSG, grpSHUT, grpCLOCK,
	grpF, grpFD, grpO, grpAI, grpBPF, grpSKF, grpE,
}

// errnoGroup lists Linux's errnos by the names x/sys/unix gives them
// (EOPNOTSUPP for 95, as Linux and ljsyscall name it), with the aliases
// that share a number (EWOULDBLOCK, EDEADLOCK, ENOTSUP, ENOATTR).
func errnoGroup() *constGroup {
	var ks []konst
	for e := unix.Errno(1); e < 4096; e++ {
		if name := errnoSym(e); name != "" {
			ks = append(ks, konst{strings.TrimPrefix(name, "E"), int(e)})
		}
	}
	ks = append(ks,
		konst{"WOULDBLOCK", int(unix.EWOULDBLOCK)},
		konst{"DEADLOCK", int(unix.EDEADLOCK)},
		konst{"NOTSUP", int(unix.ENOTSUP)},
		konst{"NOATTR", int(unix.ENODATA)},
	)
	sort.SliceStable(ks, func(i, j int) bool { return ks[i].value < ks[j].value })
	return group("E", "E", ks...)
}

// errnoSym is the symbolic name of an errno ("EAGAIN"), "" if unknown.
func errnoSym(e unix.Errno) string {
	if e == unix.EOPNOTSUPP {
		return "EOPNOTSUPP" // x/sys says ENOTSUP, its alias
	}
	return unix.ErrnoName(e)
}

// optGroup is the group of option names for a setsockopt level, for names
// given as strings.
func optGroup(level int) *constGroup {
	switch level {
	case unix.SOL_SOCKET:
		return grpSO
	case unix.SOL_IP:
		return grpIP
	case unix.SOL_IPV6:
		return grpIPV6
	case unix.SOL_TCP:
		return grpTCP
	case unix.SOL_UDP:
		return grpUDP
	}
	return nil
}

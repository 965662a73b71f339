package netns_test

import (
	"bufio"
	"compress/gzip"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/netns"
)

// kernelHasQdisc tells from /proc/config.gz whether the running kernel
// was built with a qdisc (an oracle independent of the package's probe).
func kernelHasQdisc(t *testing.T, option string) (has, known bool) {
	t.Helper()
	f, err := os.Open("/proc/config.gz")
	if err != nil {
		return false, false
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	assert.NilError(t, err)
	sc := bufio.NewScanner(z)
	for sc.Scan() {
		switch sc.Text() {
		case option + "=y", option + "=m":
			return true, true
		case "# " + option + " is not set":
			return false, true
		}
	}
	return false, true
}

// rootQdisc returns the device's root qdisc as the kernel reports it.
func rootQdisc(t *testing.T, ns *netns.NS, dev string) netlink.Qdisc {
	t.Helper()
	h, err := ns.Handle()
	assert.NilError(t, err)
	l, err := h.LinkByName(dev)
	assert.NilError(t, err)
	qs, err := h.QdiscList(l)
	assert.NilError(t, err)
	for _, q := range qs {
		if q.Attrs().Parent == netlink.HANDLE_ROOT {
			return q
		}
	}
	t.Fatalf("no root qdisc on %s: %v", dev, qs)
	return nil
}

func TestSetQdisc(t *testing.T) {
	a, b, la, _ := vethPair(t, netns.VethConfig{})
	for _, tc := range []struct {
		name  string
		q     netns.Qdisc
		check func(t *testing.T, got netlink.Qdisc)
	}{
		{"tbf", netns.TBF{Rate: 10 * netns.Mbit, Burst: 32 << 10, Latency: 50 * time.Millisecond}, func(t *testing.T, got netlink.Qdisc) {
			tbf, ok := got.(*netlink.Tbf)
			assert.Assert(t, ok, "%T", got)
			assert.Equal(t, tbf.Rate, uint64(10e6/8), "bytes per second")
			// limit = rate × latency + burst, as tc computes it
			assert.Equal(t, tbf.Limit, uint32(10e6/8*0.05+32<<10))
			assert.Equal(t, tbf.Handle, netlink.MakeHandle(1, 0))
		}},
		{"tbf with limit and defaults", netns.TBF{Rate: 5 * netns.Gbit, Limit: 100000}, func(t *testing.T, got netlink.Qdisc) {
			tbf, ok := got.(*netlink.Tbf)
			assert.Assert(t, ok, "%T", got)
			assert.Equal(t, tbf.Rate, uint64(5e9/8), "a rate above 32 bits of bytes/s")
			assert.Equal(t, tbf.Limit, uint32(100000))
		}},
		{"htb", netns.HTB{Rate: 10 * netns.Mbit, Ceil: 20 * netns.Mbit}, func(t *testing.T, got netlink.Qdisc) {
			htb, ok := got.(*netlink.Htb)
			assert.Assert(t, ok, "%T", got)
			assert.Equal(t, htb.Defcls, uint32(1), "all traffic goes to class 1:1")
			h, _ := a.Handle()
			l, _ := h.LinkByName(la.Name)
			classes, err := h.ClassList(l, netlink.MakeHandle(1, 0))
			assert.NilError(t, err)
			var found bool
			for _, c := range classes {
				if hc, ok := c.(*netlink.HtbClass); ok && hc.Handle == netlink.MakeHandle(1, 1) {
					found = true
					assert.Equal(t, hc.Rate, uint64(10e6/8))
					assert.Equal(t, hc.Ceil, uint64(20e6/8))
				}
			}
			assert.Assert(t, found, "class 1:1 in %v", classes)
		}},
		{"htb replaced by htb", netns.HTB{Rate: netns.Mbit}, func(t *testing.T, got netlink.Qdisc) {
			_, ok := got.(*netlink.Htb)
			assert.Assert(t, ok, "%T", got)
		}},
		{"delete", netns.Delete{}, func(t *testing.T, got netlink.Qdisc) {
			assert.Equal(t, got.Type(), "noqueue", "the veth default")
			assert.Equal(t, got.Attrs().Handle, uint32(0))
		}},
		{"delete again", netns.Delete{}, func(t *testing.T, got netlink.Qdisc) {
			assert.Equal(t, got.Type(), "noqueue")
		}},
		{"tbf after delete", netns.TBF{Rate: netns.Gbit}, func(t *testing.T, got netlink.Qdisc) {
			assert.Equal(t, got.Type(), "tbf")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.NilError(t, a.SetQdisc(la.Name, tc.q))
			tc.check(t, rootQdisc(t, a, la.Name))
			// The link still carries traffic.
			exchange(t, "udp", b, a, client4.Addr())
		})
	}
}

// TestQdiscCountsTraffic checks that the qdisc is on the data path: its
// packet counter grows with what the namespace sends.
func TestQdiscCountsTraffic(t *testing.T) {
	a, b, la, _ := vethPair(t, netns.VethConfig{})
	for _, q := range []netns.Qdisc{netns.TBF{Rate: 100 * netns.Mbit}, netns.HTB{Rate: 100 * netns.Mbit}} {
		t.Run(q.Kind(), func(t *testing.T) {
			assert.NilError(t, a.SetQdisc(la.Name, q))
			before := rootQdisc(t, a, la.Name).Attrs().Statistics.Basic.Packets
			for range 10 {
				exchange(t, "udp", b, a, client4.Addr())
			}
			after := rootQdisc(t, a, la.Name).Attrs().Statistics.Basic.Packets
			assert.Assert(t, after >= before+10, "%s counted %d packets, then %d", q.Kind(), before, after)
		})
	}
}

// TestQdiscUnsupported asks for qdiscs by what the kernel config says:
// those it lacks give ErrUnsupported naming the qdisc and leave the
// device as it was; those it has are installed.
func TestQdiscUnsupported(t *testing.T) {
	a, _, la, _ := vethPair(t, netns.VethConfig{})
	assert.NilError(t, a.SetQdisc(la.Name, netns.TBF{Rate: netns.Gbit}))
	for _, tc := range []struct {
		q      netns.Qdisc
		option string
	}{
		{netns.Netem{Delay: 10 * time.Millisecond, Loss: 1}, "CONFIG_NET_SCH_NETEM"},
		{netns.FQ{FlowMaxRate: 10 * netns.Mbit}, "CONFIG_NET_SCH_FQ"},
		{netns.TBF{Rate: netns.Gbit}, "CONFIG_NET_SCH_TBF"},
		{netns.HTB{Rate: netns.Gbit}, "CONFIG_NET_SCH_HTB"},
	} {
		t.Run(tc.q.Kind(), func(t *testing.T) {
			has, known := kernelHasQdisc(t, tc.option)
			err := a.SetQdisc(la.Name, tc.q)
			if !known {
				// No /proc/config.gz: the answer must be one of the two.
				has = err == nil
			}
			if has {
				assert.NilError(t, err)
				assert.Equal(t, rootQdisc(t, a, la.Name).Type(), tc.q.Kind())
				assert.NilError(t, a.SetQdisc(la.Name, netns.TBF{Rate: netns.Gbit}))
				return
			}
			assert.ErrorIs(t, err, netns.ErrUnsupported)
			assert.Error(t, err, "netns: qdisc "+tc.q.Kind()+" is not supported by this kernel")
			assert.Equal(t, rootQdisc(t, a, la.Name).Type(), "tbf", "the device must be left as it was")
			// Asked again: the same answer (from the probe's memory).
			assert.ErrorIs(t, a.SetQdisc(la.Name, tc.q), netns.ErrUnsupported)
		})
	}
}

func TestQdiscErrors(t *testing.T) {
	a, _, la, _ := vethPair(t, netns.VethConfig{})
	for _, tc := range []struct {
		name, dev string
		q         netns.Qdisc
		want      string
	}{
		{"no device", "nope0", netns.TBF{Rate: netns.Mbit}, "set qdisc tbf on nope0"},
		{"zero tbf rate", la.Name, netns.TBF{}, "below one byte per second"},
		{"zero htb rate", la.Name, netns.HTB{}, "below one byte per second"},
		{"ceil below rate", la.Name, netns.HTB{Rate: 2 * netns.Mbit, Ceil: netns.Mbit}, "ceil 1Mbit is below rate 2Mbit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := a.SetQdisc(tc.dev, tc.q)
			assert.ErrorContains(t, err, tc.want)
			assert.Assert(t, !errors.Is(err, netns.ErrUnsupported))
		})
	}
}

func TestBitRateString(t *testing.T) {
	for _, tc := range []struct {
		r    netns.BitRate
		want string
	}{
		{0, "0bit"}, {999, "999bit"}, {netns.Kbit, "1Kbit"}, {1500 * netns.Kbit, "1500Kbit"},
		{100 * netns.Mbit, "100Mbit"}, {10 * netns.Gbit, "10Gbit"},
	} {
		assert.Equal(t, tc.r.String(), tc.want)
	}
}

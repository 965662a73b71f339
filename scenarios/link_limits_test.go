package scenarios

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/hooktest"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/netns"
	"github.com/hookperf/hookperf/netns/nstest"
)

// linkLimitsRate is the rate the tbf qdisc on the client's end of the
// link allows: 20 Mbit/s.
const linkLimitsRate = 20 * netns.Mbit

// linkLimitsReceivedMbps is the rate at which the receiver of a stream
// read data (Mbit/s) over the run's full sampling intervals. The kit's
// headline figure (kit.Result.ThroughputMbps) is not used: its last
// sample also counts what the receiver drained after the stop (the
// sender's queued data) while the window ends at the stop, which
// overstates a rate-limited stream by what sat in the send buffer (about
// 0.7 MB: 2.9 Mbit/s over 2 s at 20 Mbit/s).
func linkLimitsReceivedMbps(t testing.TB, r *kit.Result) float64 {
	t.Helper()
	first, last := r.StartIndex, r.EndIndex-1
	if last <= first {
		t.Fatalf("too few samples to measure a rate: window %d..%d of %d", r.StartIndex, r.EndIndex, len(r.Samples))
	}
	a, b := r.Samples[first], r.Samples[last]
	return float64(b.BytesRead-a.BytesRead) * 8 / 1e6 / (b.Time - a.Time).Seconds()
}

// linkLimitsRun runs a single-flow tcp_stream of length d with
// testdata/link-limits.lua.
func linkLimitsRun(t testing.TB, topo *nstest.Topology, d time.Duration, ipv6 bool) *hooktest.Result {
	t.Helper()
	return hooktest.Run(t, topo, hooktest.Config{
		Script:   "testdata/link-limits.lua",
		Workload: kit.TCPStream,
		IPv6:     ipv6,
		Options:  func(o *kit.Options) { o.TestLength = d },
	})
}

// linkLimitsShaped is a topology whose client sends through a tbf qdisc
// at linkLimitsRate.
func linkLimitsShaped(t testing.TB) *nstest.Topology {
	t.Helper()
	topo := nstest.Pair(t, nstest.PairConfig{})
	if err := topo.Client.SetQdisc(topo.ClientLink.Name, netns.TBF{Rate: linkLimitsRate}); err != nil {
		t.Fatal(err)
	}
	return topo
}

// linkLimitsMSS is what one side of a run collected: per worker, the
// connections seen with each "TCP_MAXSEG/tcpi_snd_mss".
func linkLimitsMSS(r *hooktest.Result) map[string][]any {
	return map[string][]any{"client": r.Client.Collected["mss"], "server": r.Server.Collected["mss"]}
}

// linkLimitsWantMSS is linkLimitsMSS for one connection with segment size
// mss on both sides.
func linkLimitsWantMSS(mss int) map[string][]any {
	key := fmt.Sprintf("%d/%d", mss, mss)
	return map[string][]any{"client": {map[string]any{key: 1.0}}, "server": {map[string]any{key: 1.0}}}
}

// TestLinkLimits: limits set on the veth link show in the workload. A
// 20 Mbit/s tbf qdisc on the client's end caps a tcp_stream's
// throughput; and the link's MTU, given to nstest.Pair or set afterwards
// with Link.SetMTU, sets the segment size the connection uses (TCP_MAXSEG
// and tcpi_snd_mss on both sides): the MTU less 20 bytes of IPv4 header
// (40 of IPv6), 20 of TCP header and 12 of timestamp option.
func TestLinkLimits(t *testing.T) {
	t.Run("tbf 20Mbit", func(t *testing.T) {
		topo := linkLimitsShaped(t)
		res := linkLimitsRun(t, topo, 2*time.Second, false)
		// tbf lets through Rate, counting whole frames, plus one burst
		// (32 KiB: 0.13 Mbit/s over 2 s); the payload the receiver
		// counts is less. 30% over is room for measurement alone.
		mbps, rate := linkLimitsReceivedMbps(t, res.Server.Kit), float64(linkLimitsRate)/1e6
		t.Logf("%.2f Mbit/s received through a %v tbf (%.2f x; the kit's headline: %.2f Mbit/s)",
			mbps, linkLimitsRate, mbps/rate, res.Server.Kit.ThroughputMbps)
		assert.Assert(t, mbps <= 1.3*rate, "the receiver counted %.2f Mbit/s through a %v tbf: over 1.3 times its rate", mbps, linkLimitsRate)
		assert.Assert(t, mbps > 0, "nothing arrived through the %v tbf", linkLimitsRate)
		// The default MTU, 1500: 1500 - 20 - 20 - 12.
		if diff := cmp.Diff(linkLimitsWantMSS(1448), linkLimitsMSS(res)); diff != "" {
			t.Errorf("segment sizes on a 1500-byte link (-want +got):\n%s", diff)
		}
	})

	for _, tc := range []struct {
		name   string
		mtu    int
		setMTU bool // Link.SetMTU on both ends after Pair, not PairConfig.MTU
		ipv6   bool
		mss    int
	}{
		{"PairConfig.MTU 1280 IPv4", 1280, false, false, 1280 - 20 - 20 - 12},
		{"PairConfig.MTU 1280 IPv6", 1280, false, true, 1280 - 40 - 20 - 12},
		{"Link.SetMTU 1400 IPv4", 1400, true, false, 1400 - 20 - 20 - 12},
		{"Link.SetMTU 9000 IPv6", 9000, true, true, 9000 - 40 - 20 - 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := nstest.PairConfig{}
			if !tc.setMTU {
				cfg.MTU = tc.mtu
			}
			topo := nstest.Pair(t, cfg)
			if tc.setMTU {
				assert.NilError(t, topo.ServerLink.SetMTU(tc.mtu))
				assert.NilError(t, topo.ClientLink.SetMTU(tc.mtu))
			}
			res := linkLimitsRun(t, topo, 300*time.Millisecond, tc.ipv6)
			if diff := cmp.Diff(linkLimitsWantMSS(tc.mss), linkLimitsMSS(res)); diff != "" {
				t.Errorf("TCP_MAXSEG/tcpi_snd_mss on a %d-byte link (-want +got):\n%s", tc.mtu, diff)
			}
		})
	}
}

// BenchmarkLinkLimits reports the rate a 2 s single-flow tcp_stream
// reaches through a 20 Mbit/s tbf qdisc (Mbit/s, as the receiver counted
// it).
func BenchmarkLinkLimits(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // a run raises it
	topo := linkLimitsShaped(b)
	var mbps float64
	n := 0
	for b.Loop() {
		mbps += linkLimitsReceivedMbps(b, linkLimitsRun(b, topo, 2*time.Second, false).Server.Kit)
		n++
	}
	b.ReportMetric(mbps/float64(n), "Mbit/s")
	b.ReportMetric(0, "ns/op") // a run lasts its test length
}

package scenarios

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/hooktest"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/netns/nstest"
)

// reuseportCBPFRun runs testdata/reuseport-cbpf.lua with two server
// workers sharing the data port, four client flows on two threads, and
// the program chosen by steer.
func reuseportCBPFRun(t *testing.T, topo *nstest.Topology, w kit.Workload, steer string) *hooktest.Result {
	t.Helper()
	return hooktest.Run(t, topo, hooktest.Config{
		Script:   "testdata/reuseport-cbpf.lua",
		Workload: w,
		Args:     map[string]string{"steer": steer},
		Options: func(o *kit.Options) {
			o.TestLength = 500 * time.Millisecond
			o.NumThreads, o.NumFlows = 2, 4
			if w.IsUDP() {
				o.ReusePort = true // TCP listeners always share the port
				o.BufferSize = 1400
			}
		},
	})
}

// TestReuseportCBPF: a classic BPF program attached with
// SO_ATTACH_REUSEPORT_CBPF to the server's SO_REUSEPORT group picks the
// server socket of every datagram (udp_stream) and connection
// (tcp_stream). RET #0 sends everything to the first socket, server
// worker 1, and worker 2 reads nothing; RET #1 the other way round; and a
// program reading a tag byte the client writes into each datagram sends
// tag 0 to worker 1 and tag 1 to worker 2, and nothing else.
func TestReuseportCBPF(t *testing.T) {
	topo := nstest.Pair(t, nstest.PairConfig{})
	for _, w := range []kit.Workload{kit.UDPStream, kit.TCPStream} {
		for _, tc := range []struct {
			steer string
			// Which server worker reads anything.
			want []bool
		}{
			{"0", []bool{true, false}},
			{"1", []bool{false, true}},
		} {
			t.Run(fmt.Sprintf("%s/RET #%s", w, tc.steer), func(t *testing.T) {
				res := reuseportCBPFRun(t, topo, w, tc.steer)
				// The program sits on the group's founder only.
				assert.DeepEqual(t, res.Server.Collected["attached"], []any{true, false})
				reads := res.Server.Collected["reads"]
				var got []bool
				for _, n := range reads {
					got = append(got, n.(float64) > 0)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("RET #%s: which server worker read data (-want +got):\n%s\nreads per server worker: %v",
						tc.steer, diff, reads)
				}
				if w.IsUDP() {
					// Everything the kit read went through the hook.
					assert.Equal(t, hooktest.Sum(t, reads, ""), float64(res.Server.Kit.PacketsRead),
						"datagrams seen by the hook vs read by the server's kit")
				} else {
					// All four connections were accepted (by the one worker that read).
					assert.Equal(t, res.Server.Kit.Connections, uint64(4), "connections the server accepted")
				}
			})
		}
	}

	t.Run("udp_stream/tag byte", func(t *testing.T) {
		res := reuseportCBPFRun(t, topo, kit.UDPStream, "tag")
		assert.DeepEqual(t, res.Server.Collected["attached"], []any{true, false})
		// Per server worker, the tags of the datagrams it read.
		var got [][]string
		for _, v := range res.Server.Collected["tags"] {
			m, _ := v.(map[string]any)
			var tags []string
			for tag := range m {
				tags = append(tags, tag)
			}
			slices.Sort(tags)
			got = append(got, tags)
		}
		want := [][]string{{"0"}, {"1"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("tags read per server worker (-want +got):\n%s\ncounts: %v", diff, res.Server.Collected["tags"])
		}
	})
}

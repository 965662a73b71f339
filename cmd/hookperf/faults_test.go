package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// The faults of a run as a user meets them: interrupts, script code that
// never ends, hooks that fail. Each must end in bounded time, with a
// message that names the cause, and never lose the report on stdout.

// exitBound is how long after the moment a run ends (its length, -s, a
// signal) the process must have exited: 2 s, with room for a loaded
// machine and the race detector.
const exitBound = 5 * time.Second

// signalAfter sends sig to p once d has passed since it started.
func (p *proc) signalAfter(d time.Duration, sig syscall.Signal) time.Time {
	p.t.Helper()
	time.Sleep(time.Until(p.started.Add(d)))
	assert.NilError(p.t, p.cmd.Process.Signal(sig))
	return time.Now()
}

// TestInterruptReportsWhatWasMeasured: SIGINT or SIGTERM mid-run ends the
// test on both sides; the interrupted process prints its report of what it
// measured so far and exits 130 or 143; its peer reports too and exits 1,
// saying why.
func TestInterruptReportsWhatWasMeasured(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		name := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig]
		status := 128 + int(sig)
		t.Run("local/"+name, func(t *testing.T) {
			t.Parallel()
			p := start(t, "tcp_rr", "--local", "-l", "30")
			at := p.signalAfter(1500*time.Millisecond, sig)
			r := p.wait(procTimeout)
			assert.Assert(t, time.Since(at) < exitBound, "exited %v after the signal", time.Since(at))
			checkInterrupted(t, r, status, name, "interrupted ("+name+") after ")
		})
		t.Run("local split/"+name, func(t *testing.T) {
			t.Parallel()
			// Too few open files for both sides: the server runs in a
			// child process, which the client ends.
			p := startBin(t, "/bin/sh", t.TempDir(), "-c", `ulimit -n 120 && exec "$0" "$@"`, hookperfBin, "tcp_rr", "--local", "-F", "50", "-l", "30")
			at := p.signalAfter(2*time.Second, sig)
			r := p.wait(procTimeout)
			assert.Assert(t, time.Since(at) < exitBound, "exited %v after the signal", time.Since(at))
			checkInterrupted(t, r, status, name, "interrupted ("+name+") after ")
			assert.Assert(t, num(t, parseKV(t, r.stdout), "remote_throughput") > 0, "no figures from the server process: %s", r)
		})
		for _, who := range []string{"client", "server"} {
			t.Run("two processes/"+who+"/"+name, func(t *testing.T) {
				t.Parallel()
				cport, dport := strconv.Itoa(freePort(t)), strconv.Itoa(freePort(t))
				sp := start(t, "tcp_rr", "-C", cport, "-P", dport)
				cp := start(t, "tcp_rr", "-c", "-C", cport, "-P", dport, "-l", "30")
				victim, peer := cp, sp
				if who == "server" {
					victim, peer = sp, cp
				}
				at := victim.signalAfter(1500*time.Millisecond, sig)
				vr, pr := victim.wait(procTimeout), peer.wait(procTimeout)
				assert.Assert(t, time.Since(at) < exitBound, "exited %v after the signal", time.Since(at))
				checkInterrupted(t, vr, status, name, "interrupted ("+name+") after ")
				checkInterrupted(t, pr, 1, name, "the "+who+" was interrupted ("+name+") after ")
				// Both sides counted the same transactions, but for the one
				// in flight at the stop (answered, the answer not read).
				diff := num(t, parseKV(t, vr.stdout), "num_transactions") - num(t, parseKV(t, pr.stdout), "num_transactions")
				assert.Assert(t, diff >= -1 && diff <= 1, "the sides' counts differ by %v", diff)
			})
		}
	}
}

// checkInterrupted checks an interrupted run's exit status, its one error
// line, and its report of a test cut short.
func checkInterrupted(t *testing.T, r result, status int, signal, why string) {
	t.Helper()
	assert.Equal(t, r.code, status, "%s", r)
	assert.Assert(t, strings.HasPrefix(r.stderr, "hookperf: "+why), "%s", r)
	assert.Equal(t, strings.Count(r.stderr, "\n"), 1, "%s", r)
	kv := parseKV(t, r.stdout)
	assert.Assert(t, num(t, kv, "num_transactions") > 0, "%s", r)
	length := num(t, kv, "total_run_time")
	assert.Assert(t, length > 0.5 && length < 10, "total_run_time=%v", length)
	// The sides exchanged their figures all the same.
	assert.Assert(t, num(t, kv, "remote_throughput") > 0, "%s", r)
	assert.Equal(t, kv["interrupted"], signal, "%s", r)
}

// TestStuckScriptEndsInTime: script code that never ends by itself is
// stopped when the run ends, whatever ends it, and the process exits soon
// after with a message that says what was stopped.
func TestStuckScriptEndsInTime(t *testing.T) {
	t.Parallel()
	loopTop := "while true do end\n"
	loopAfter := "run()\nwhile true do end\n"
	sleepHook := "client_sendmsg(function(s, m, f) nanosleep(3600) return sendmsg(s, m, f) end)\n"
	tests := []struct {
		name   string
		script string
		args   []string
		signal syscall.Signal // sent after 1 s, if set
		ends   time.Duration  // when the run ends, from the start
		status int
		want   string // in the one error line
		report bool   // whether the report is printed
	}{
		{"top-level loop, -s", loopTop, []string{"-s", "1"}, 0, time.Second, 1,
			"the script's top level was still running when the run took longer than -s/--suicide-length allows; stopped at stuck.lua:1", false},
		{"top-level loop, SIGINT", loopTop, nil, syscall.SIGINT, time.Second, 130,
			"the script's top level was still running when interrupted (SIGINT) before the test started; stopped at stuck.lua:1", false},
		{"top-level loop, SIGTERM", loopTop, nil, syscall.SIGTERM, time.Second, 143,
			"the script's top level was still running when interrupted (SIGTERM) before the test started; stopped at stuck.lua:1", false},
		{"loop after run(), -l", loopAfter, []string{"-l", "1"}, 0, time.Second, 1,
			"the script's code after run() was still running when the run had been over for 1s; stopped at stuck.lua:2", true},
		{"loop after run(), SIGINT", loopAfter, []string{"-l", "30"}, syscall.SIGINT, time.Second, 130,
			"interrupted (SIGINT) after ", true},
		{"hook in nanosleep, -l", sleepHook, []string{"-l", "1"}, 0, time.Second, 1,
			"client_sendmsg: the hook was still running when the run had been over for 1s; stopped at stuck.lua:1", false},
		{"hook in nanosleep, SIGINT", sleepHook, []string{"-l", "30"}, syscall.SIGINT, time.Second, 130,
			"client_sendmsg: the hook was still running when the run had been over for 1s; stopped at stuck.lua:1", false},
		{"client socket hook in nanosleep, setup limit", "client_socket(function(fd, ai) nanosleep(3600) end)\n", []string{"-l", "1"}, 0, 10 * time.Second, 1,
			"opening the client's sockets took longer than 10.001s; client worker 0: client_socket: the hook was still running when the run had been over for 1s; stopped at stuck.lua:1", false},
		{"server socket hook in nanosleep, setup limit", "server_socket(function(fd, ai) nanosleep(3600) end)\n", []string{"-l", "1"}, 0, 10 * time.Second, 1,
			"opening the server's sockets took longer than 10.001s; server worker 0: server_socket: the hook was still running when the run had been over for 1s; stopped at stuck.lua:1", false},
		{"socket hook in nanosleep, SIGINT", "client_socket(function(fd, ai) nanosleep(3600) end)\n", []string{"-l", "30"}, syscall.SIGINT, time.Second, 130,
			"interrupted (SIGINT) before the test started; client worker 0: client_socket: the hook was still running when the run had been over for 1s; stopped at stuck.lua:1", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			script := writeScript(t, "stuck.lua", tc.script)
			p := start(t, append([]string{"tcp_rr", "--local", "--script", script}, tc.args...)...)
			end := p.started.Add(tc.ends)
			if tc.signal != 0 {
				end = p.signalAfter(tc.ends, tc.signal)
			}
			r := p.wait(procTimeout)
			assert.Assert(t, time.Since(end) < exitBound, "exited %v after the run ended: %s", time.Since(end), r)
			assert.Equal(t, r.code, tc.status, "%s", r)
			want := strings.ReplaceAll(tc.want, "stuck.lua", script)
			assert.Assert(t, strings.Contains(r.stderr, want), "want %q in: %s", want, r)
			assert.Equal(t, strings.Count(r.stderr, "\n"), 1, "one error line: %s", r)
			if tc.report {
				// The test itself ran to its end, or to the interrupt.
				assert.Assert(t, num(t, parseKV(t, r.stdout), "num_transactions") > 0, "%s", r)
			} else {
				assert.Equal(t, r.stdout, "")
			}
		})
	}
}

// TestPacketHookMatrix: every packet hook alone, on every workload and
// side, as a pass-through measures as the plain call does, and returning an
// error fails the run (status 1) naming the side, the worker, the hook and
// what it returned.
func TestPacketHookMatrix(t *testing.T) {
	t.Parallel()
	type hookCase struct{ workload, hook string }
	var cases []hookCase
	for _, w := range []string{"tcp_rr", "tcp_crr", "tcp_stream", "udp_rr"} {
		for _, h := range []string{"client_sendmsg", "client_recvmsg", "server_sendmsg", "server_recvmsg"} {
			cases = append(cases, hookCase{w, h})
		}
	}
	// A udp_stream client only sends and its server only receives.
	cases = append(cases, hookCase{"udp_stream", "client_sendmsg"}, hookCase{"udp_stream", "server_recvmsg"})
	for _, tc := range cases {
		args := []string{tc.workload, "--local", "-l", "0.5"}
		key := "throughput"
		if strings.HasSuffix(tc.workload, "_stream") {
			key = "throughput_Mbps"
		}
		if tc.workload == "tcp_stream" {
			args = append(args, "-r", "-w") // both ways: every hook is called
		}
		call := strings.TrimPrefix(strings.TrimPrefix(tc.hook, "client_"), "server_")
		t.Run(tc.workload+"/"+tc.hook+"/pass-through", func(t *testing.T) {
			t.Parallel()
			script := writeScript(t, "pass.lua", fmt.Sprintf("%s(function(fd, msg, flags) return %s(fd, msg, flags) end)\n", tc.hook, call))
			kv := mustSucceed(t, slices.Concat(args, []string{"--script", script})...)
			assert.Assert(t, num(t, kv, key) > 0, "%s=%s", key, kv[key])
		})
		t.Run(tc.workload+"/"+tc.hook+"/error", func(t *testing.T) {
			t.Parallel()
			script := writeScript(t, "fail.lua", fmt.Sprintf("%s(function(fd, msg, flags) local _, err = %s(-1, msg, flags) return nil, err end)\n", tc.hook, call))
			r := runBin(t, slices.Concat(args, []string{"--script", script})...)
			assert.Equal(t, r.code, 1, "%s", r)
			side := strings.TrimSuffix(tc.hook, "_"+call)
			want := tc.hook + " returned EBADF (bad file descriptor)"
			assert.Assert(t, strings.Contains(r.stderr, side+" worker 0: ") && strings.Contains(r.stderr, want), "want %q in: %s", want, r)
			assert.Equal(t, strings.Count(r.stderr, "\n"), 1, "one error line: %s", r)
		})
	}
}

// TestServerFailureReachesClient: in two processes, a server whose hook
// fails tells its client why; the client reports the server's reason
// first, not the reset it saw.
func TestServerFailureReachesClient(t *testing.T) {
	t.Parallel()
	for _, w := range []string{"tcp_rr", "tcp_crr", "udp_rr"} {
		t.Run(w, func(t *testing.T) {
			t.Parallel()
			script := writeScript(t, "fail.lua", "server_sendmsg(function(fd, msg, flags) local _, err = sendmsg(-1, msg, flags) return nil, err end)\n")
			cport, dport := strconv.Itoa(freePort(t)), strconv.Itoa(freePort(t))
			sp := start(t, w, "-C", cport, "-P", dport, "--script", script)
			cr := start(t, w, "-c", "-C", cport, "-P", dport, "-l", "2").wait(procTimeout)
			sr := sp.wait(procTimeout)
			want := "server worker 0: server_sendmsg returned EBADF (bad file descriptor)"
			assert.Equal(t, sr.code, 1, "%s", sr)
			assert.Equal(t, sr.stderr, "hookperf: "+want+"\n")
			assert.Equal(t, cr.code, 1, "%s", cr)
			assert.Equal(t, cr.stderr, "hookperf: server failed: "+want+"\n")
		})
	}
}

// TestUDPRRLossesFromAScript: a script drops a request, delays a
// response past --udp-timeout and duplicates one; the client resends the
// lost and the late request once each, and counts the late and the
// duplicated answers in their own keys, never as transactions.
func TestUDPRRLossesFromAScript(t *testing.T) {
	t.Parallel()
	script := writeScript(t, "lossy.lua", `
-- The server drops the third request it receives, sends its fifth
-- answer 300 ms late (past the client's 200 ms --udp-timeout) and its
-- eighth twice.
local got, sent = 0, 0
server_recvmsg(function(fd, msg, flags)
  local n, err = recvmsg(fd, msg, flags)
  if n then
    got = got + 1
    if got == 3 then return nil, S.t.error("AGAIN") end
  end
  return n, err
end)
server_sendmsg(function(fd, msg, flags)
  sent = sent + 1
  if sent == 5 then nanosleep(0.3) end
  if sent == 8 then sendmsg(fd, msg, flags) end
  return sendmsg(fd, msg, flags)
end)
`)
	kv := mustSucceed(t, "udp_rr", "--local", "-l", "-20", "-Q", "8", "-R", "8", "--script", script)
	got := map[string]string{}
	for _, k := range []string{"num_transactions", "udp_resends", "udp_stale", "udp_duplicates"} {
		got[k] = kv[k]
	}
	want := map[string]string{"num_transactions": "20", "udp_resends": "2", "udp_stale": "1", "udp_duplicates": "1"}
	assert.DeepEqual(t, got, want)
}

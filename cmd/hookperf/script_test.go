package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// writeScript puts a script in the test's directory and returns its path.
func writeScript(t *testing.T, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	assert.NilError(t, os.WriteFile(p, []byte(src), 0o644))
	return p
}

func TestScriptExitStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		src    string
		code   int
		stderr string // a line of stderr contains this
		stdout string // stdout contains this
	}{
		{"pass-through hooks", "client_sendmsg(function(fd, m, f) return sendmsg(fd, m, f) end)\nprint('top')", 0, "", "top\n"},
		{"syntax error", "client_socket(function() end\n\nprint(", 2, "bad.lua:3:", ""},
		{"double registration", "client_socket(function() end)\nclient_socket(function() end)", 2, "client_socket: registered twice", ""},
		{"runtime error in a hook", "client_sendmsg(function(fd, m, f)\n  local t\n  return t.x\nend)", 1, "client_sendmsg: ", ""},
		{"hook returns nothing", "server_recvmsg(function(fd, m, f) recvmsg(fd, m, f) end)", 1, "server_recvmsg: returned nothing", ""},
		{"os.exit in a hook", "client_socket(function() os.exit(3) end)", 3, "os.exit(3)", ""},
		{"os.exit at the top level", "print('bye')\nos.exit(4)", 4, "os.exit(4)", "bye\n"},
		{"os.exit(0) after run", "run()\nos.exit(0)", 0, "", ""},
		{"runtime error at the top level", "local t\nprint(t.x)", 2, "bad.lua:2:", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			script := writeScript(t, "bad.lua", tc.src)
			r := runBin(t, "tcp_rr", "--local", "-l", "0.5", "--script", script)
			assert.Equal(t, r.code, tc.code, "%s", r)
			if tc.stderr != "" {
				assert.Assert(t, strings.Contains(r.stderr, tc.stderr), "%s", r)
				for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
					assert.Assert(t, strings.HasPrefix(line, "hookperf: "), "%s", r)
				}
			}
			assert.Assert(t, !strings.Contains(r.stderr, "goroutine "), "%s", r)
			assert.Assert(t, strings.Contains(r.stdout, tc.stdout), "%s", r)
		})
	}
}

func TestScriptArgsAndSidesTwoProcesses(t *testing.T) {
	t.Parallel()
	script := writeScript(t, "sides.lua", `
local n = collect(0)
client_sendmsg(function(fd, m, f) n = n + 1 return sendmsg(fd, m, f) end)
server_recvmsg(function(fd, m, f) n = n + 1 return recvmsg(fd, m, f) end)
run()
print((is_client() and "client" or "server") .. " " .. args.tag .. " " .. n[1])
`)
	cport, dport := freePort(t), freePort(t)
	c, d := strconv.Itoa(cport), strconv.Itoa(dport)
	srv := start(t, "tcp_rr", "-C", c, "-P", d, "--script", script, "--script-arg", "tag=s")
	cli := runBin(t, "tcp_rr", "-c", "-H", "127.0.0.1", "-C", c, "-P", d, "-l", "-100", "--script", script, "--script-arg", "tag=c")
	s := srv.wait(procTimeout)
	assert.Equal(t, cli.code, 0, "%s", cli)
	assert.Equal(t, s.code, 0, "%s", s)
	assert.Assert(t, strings.HasPrefix(cli.stdout, "client c 100\n"), "%s", cli)
	// The server reads each of the 100 requests, and the client's EOF.
	assert.Assert(t, strings.HasPrefix(s.stdout, "server s 101\n"), "%s", s)
}

// TestUDPPacketHookAlone: each packet hook a UDP side calls, alone, as a
// pass-through leaves the workload measuring; returning an errno that is
// no passing loss ends the run with status 1 and a line that names the
// hook and the errno.
func TestUDPPacketHookAlone(t *testing.T) {
	t.Parallel()
	type hookCase struct{ workload, hook string }
	cases := []hookCase{
		{"udp_rr", "client_sendmsg"}, {"udp_rr", "client_recvmsg"},
		{"udp_rr", "server_sendmsg"}, {"udp_rr", "server_recvmsg"},
		{"udp_stream", "client_sendmsg"}, {"udp_stream", "server_recvmsg"},
	}
	for _, tc := range cases {
		call := "recvmsg"
		if strings.HasSuffix(tc.hook, "sendmsg") {
			call = "sendmsg"
		}
		length := "-50"
		if tc.workload == "udp_stream" {
			length = "0.3"
		}
		t.Run(tc.workload+"/"+tc.hook+"/pass-through", func(t *testing.T) {
			t.Parallel()
			script := writeScript(t, "pass.lua", tc.hook+"(function(fd, m, f) return "+call+"(fd, m, f) end)")
			kv := mustSucceed(t, tc.workload, "--local", "-l", length, "--script", script)
			if tc.workload == "udp_rr" {
				assert.Equal(t, kv["num_transactions"], "50")
				assert.Equal(t, kv["udp_resends"], "0")
			} else {
				assert.Assert(t, num(t, kv, "throughput_Mbps") > 0, "throughput_Mbps=%s", kv["throughput_Mbps"])
			}
		})
		t.Run(tc.workload+"/"+tc.hook+"/EBADF", func(t *testing.T) {
			t.Parallel()
			script := writeScript(t, "ebadf.lua", tc.hook+"(function(fd, m, f) return "+call+"(-1, m, f) end)")
			r := runBin(t, tc.workload, "--local", "-l", "20", "--script", script)
			assert.Equal(t, r.code, 1, "%s", r)
			side := strings.TrimSuffix(tc.hook, "_"+call)
			want := side + " worker 0: "
			if side == "client" {
				want += "flow 0: "
			}
			want += tc.hook + " returned EBADF (bad file descriptor)"
			assert.Assert(t, strings.Contains(r.stderr, want), "want %q in\n%s", want, r)
		})
	}
}

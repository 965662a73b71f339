package main

// Faults and bad input around a server: connections that are not clients,
// clients that fail before their test.

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// firstLine is the first line of s.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestControlPortSurvivesIdleConnections: two connections that say
// nothing and one that sends garbage do not keep a client from its test.
func TestControlPortSurvivesIdleConnections(t *testing.T) {
	t.Parallel()
	cport, dport := strconv.Itoa(freePort(t)), strconv.Itoa(freePort(t))
	sp := start(t, "tcp_rr", "-C", cport, "-P", dport)
	addr := net.JoinHostPort("127.0.0.1", cport)
	var conns []net.Conn
	for i := 0; i < 50 && len(conns) == 0; i++ { // until the server listens
		if c, err := net.Dial("tcp", addr); err == nil {
			conns = append(conns, c)
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	for len(conns) < 3 {
		c, err := net.Dial("tcp", addr)
		assert.NilError(t, err)
		conns = append(conns, c)
	}
	for _, c := range conns {
		t.Cleanup(func() { c.Close() })
	}
	_, err := conns[2].Write([]byte("\x00\x00\x00\x20garbage, not a hello"))
	assert.NilError(t, err)

	// A client waits 10 s for its welcome; the idle connections must not
	// spend that.
	cr := start(t, "tcp_rr", "-c", "-C", cport, "-P", dport, "-l", "1").wait(8 * time.Second)
	assert.Equal(t, cr.code, 0, "client: %s", cr)
	sr := sp.wait(procTimeout)
	assert.Equal(t, sr.code, 0, "server: %s", sr)
	checkPair(t, "tcp_rr", parseKV(t, sr.stdout), parseKV(t, cr.stdout))
}

// TestServerOutlivesRefusedClients: a client that fails on its own
// options, or that the server refuses, leaves the server waiting for the
// next, which it serves.
func TestServerOutlivesRefusedClients(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		code  int
		first string // the first line on stderr
	}{
		{"unknown congestion control", []string{"--congestion-control", "nonexistent"}, 2,
			`hookperf: --congestion-control: this kernel has no "nonexistent" (it has: `},
		{"wrong magic", []string{"--magic", "7"}, 1,
			"hookperf: control: the server refused: wrong magic 7 (this server's is 42)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cport, dport := strconv.Itoa(freePort(t)), strconv.Itoa(freePort(t))
			sp := start(t, "tcp_rr", "-C", cport, "-P", dport)
			client := []string{"tcp_rr", "-c", "-C", cport, "-P", dport, "-l", "1"}
			bad := start(t, append(client, tc.args...)...).wait(procTimeout)
			assert.Equal(t, bad.code, tc.code, "%s", bad)
			assert.Equal(t, bad.stdout, "")
			assert.Equal(t, strings.Count(bad.stderr, "\n"), 1, "one line: %s", bad)
			assert.Assert(t, strings.HasPrefix(firstLine(bad.stderr), tc.first), "%s", bad)

			good := start(t, client...).wait(procTimeout)
			assert.Equal(t, good.code, 0, "%s", good)
			sr := sp.wait(procTimeout)
			assert.Equal(t, sr.code, 0, "server: %s", sr)
			checkPair(t, "tcp_rr", parseKV(t, sr.stdout), parseKV(t, good.stdout))
		})
	}
}

// TestBadInputFoundAtStart: input that used to fail late (after the test,
// or when a client came) is a usage error before any traffic, in one line.
func TestBadInputFoundAtStart(t *testing.T) {
	t.Parallel()
	held, err := net.Listen("tcp4", "0.0.0.0:0")
	assert.NilError(t, err)
	t.Cleanup(func() { held.Close() })
	heldPort := strconv.Itoa(held.Addr().(*net.TCPAddr).Port)
	cport := strconv.Itoa(freePort(t))
	tests := []struct {
		name string
		args []string
		want string // the one line on stderr
	}{
		{"unwritable -A", []string{"tcp_rr", "--local", "-l", "10", "-A=/proc/x.csv"},
			"hookperf: -A/--all-samples: open /proc/x.csv: no such file or directory"},
		{"unwritable -A on a server", []string{"tcp_rr", "-C", cport, "--all-samples=/proc/x.csv"},
			"hookperf: -A/--all-samples: open /proc/x.csv: no such file or directory"},
		{"-C equal to -P", []string{"tcp_rr", "-C", cport, "-P", cport},
			"hookperf: -P/--port: the data port must differ from the control port (-C), both " + cport},
		{"data port in use", []string{"tcp_rr", "-C", cport, "-P", heldPort},
			"hookperf: -P/--port: bind 0.0.0.0:" + heldPort + ": address already in use"},
		{"idle threads, local", []string{"tcp_rr", "--local", "-F", "1", "-T", "4"},
			"hookperf: -T/--num-threads: 4 threads for 1 flow(s) leave threads idle; use at most -T 1"},
		{"idle threads, client", []string{"tcp_rr", "-c", "-C", cport, "-F", "1", "-T", "4"},
			"hookperf: -T/--num-threads: 4 threads for 1 flow(s) leave threads idle; use at most -T 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Well inside -l 10: nothing ran.
			r := start(t, tc.args...).wait(5 * time.Second)
			assert.Equal(t, r.code, 2, "%s", r)
			assert.Equal(t, r.stdout, "", "%s", r)
			assert.Equal(t, r.stderr, tc.want+"\n")
		})
	}
}

// TestJSONWithPrintingScript: --json is one JSON document on stdout
// whatever the script prints; the script's output goes to stderr.
func TestJSONWithPrintingScript(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"--json", "--gobench"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			script, err := filepath.Abs("../../examples/collect-values.lua")
			assert.NilError(t, err)
			r := runBin(t, "tcp_stream", "--local", "-l", "1", format, "--script", script)
			assert.Equal(t, r.code, 0, "%s", r)
			for _, side := range []string{"client fds:", "server fds:"} {
				assert.Assert(t, strings.Contains(r.stderr, side), "the script's output belongs on stderr: %s", r)
				assert.Assert(t, !strings.Contains(r.stdout, side), "the script's output on stdout: %s", r)
			}
			if format == "--gobench" {
				assert.Equal(t, strings.Count(r.stdout, "\n"), 1, "%s", r)
				return
			}
			dec := json.NewDecoder(strings.NewReader(r.stdout))
			var doc map[string]any
			assert.NilError(t, dec.Decode(&doc), "%s", r)
			assert.Assert(t, doc["results"] != nil, "%s", r)
			_, err = dec.Token()
			assert.Equal(t, err, io.EOF, "more than one JSON document: %s", r)
		})
	}
}

// TestShebangScript: a script whose first line is #! loads, and its
// errors keep the file's line numbers.
func TestShebangScript(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		src   string
		code  int
		first string // how the first line on stderr starts, "" for none
	}{
		{"runs", "#!/usr/bin/env hookperf\nrun()\nprint('after run')\n", 0, ""},
		{"syntax error on line 3", "#!/usr/bin/env hookperf\nlocal x = 1\nlocal = 2\n", 2, "%s:3: syntax error near '='"},
		// Both sides fail alike; the first to fail is reported.
		{"runtime error on line 3", "#! hookperf\nlocal t\nprint(t.x)\n", 2, "%s:3: attempt to index a non-table object(nil) with key 'x'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			script := writeScript(t, "shebang.lua", tc.src)
			r := runBin(t, "tcp_rr", "--local", "-l", "-100", "--script", script)
			assert.Equal(t, r.code, tc.code, "%s", r)
			want := ""
			if tc.first != "" {
				want = fmt.Sprintf(tc.first, script)
			}
			if want == "" {
				assert.Equal(t, r.stderr, "", "%s", r)
			} else {
				line := firstLine(r.stderr)
				assert.Assert(t, strings.HasPrefix(line, "hookperf: ") && strings.Contains(line, want), "want %q…: %s", want, r)
			}
		})
	}
}

// TestOneProblemOneLine: each mistake is reported once, naming the flag
// at fault, with status 2.
func TestOneProblemOneLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"empty script-arg key", []string{"tcp_rr", "--local", "--script-arg", "=x"},
			"hookperf: --script-arg: \"=x\" is not key=value with a key\nhookperf: try 'hookperf --help'\n"},
		{"-4 and -6", []string{"tcp_rr", "--local", "-4", "-6"},
			"hookperf: -6: not with -4/--ipv4: choose one family\nhookperf: try 'hookperf --help'\n"},
		{"-6 and --ipv4", []string{"tcp_rr", "--local", "-6", "--ipv4"},
			"hookperf: --ipv4: not with -6/--ipv6: choose one family\nhookperf: try 'hookperf --help'\n"},
		{"-B 0 on tcp_rr", []string{"tcp_rr", "--local", "-B", "0"},
			"hookperf: -B/--buffer-size: must be in 1..67108864, got 0\n"},
		{"-T 100000", []string{"tcp_rr", "--local", "-T", "100000", "-F", "100000"},
			"hookperf: -T/--num-threads: at most 4096, got 100000\n"},
		{"-T 100000 on a server", []string{"tcp_rr", "-T", "100000"},
			"hookperf: -T/--num-threads: at most 4096, got 100000\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, append(tc.args, "-C", strconv.Itoa(freePort(t)))...).wait(10 * time.Second)
			assert.Equal(t, r.code, 2, "%s", r)
			assert.Equal(t, r.stdout, "")
			assert.Equal(t, r.stderr, tc.stderr)
		})
	}
}

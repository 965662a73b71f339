package kit

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ctlTestConn is a net.Conn over a bytes.Buffer: what writeMessage writes,
// readMessage reads back. Methods the codec does not use panic (nil
// embedded Conn).
type ctlTestConn struct {
	net.Conn
	buf           bytes.Buffer
	writeDeadline time.Time
}

func (c *ctlTestConn) Read(p []byte) (int, error)         { return c.buf.Read(p) }
func (c *ctlTestConn) Write(p []byte) (int, error)        { return c.buf.Write(p) }
func (c *ctlTestConn) SetWriteDeadline(t time.Time) error { c.writeDeadline = t; return nil }

// ctlTestFrame prefixes body with its length, as the wire carries it.
func ctlTestFrame(body []byte) []byte {
	return ctlTestFrameLen(uint32(len(body)), body)
}

// ctlTestFrameLen prefixes body with the length n, true or not.
func ctlTestFrameLen(n uint32, body []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, n)
	return append(out, body...)
}

// ctlTestMessages is one valid message of each type.
func ctlTestMessages() []message {
	return []message{
		{Type: msgHello, Magic: 42, Hello: &hello{
			Workload: TCPRR, NumFlows: 8, NumThreads: 2, TestLength: 10 * time.Second, Transactions: 0,
			BufferSize: 16384, RequestSize: 100, ResponseSize: 1000, EnableRead: true, EnableWrite: true,
			Delay: 50 * time.Microsecond, Interval: time.Second,
		}},
		{Type: msgWelcome, Ports: []uint16{12867, 12868, 65535}},
		{Type: msgStart},
		{Type: msgHeartbeat},
		{Type: msgStop, Figures: &Figures{
			Transactions: 123456789, BytesRead: 1 << 40, BytesWritten: 1<<64 - 1, PacketsRead: 7, PacketsWritten: 9,
			Throughput: 12345.678, ReadBitrate: 9.4e9, WriteBitrate: 1.25e-3, LocalBitrate: 9.400000001e9, Seconds: 9.99,
		}},
		{Type: msgResult, Figures: &Figures{}},
		{Type: msgAbort, Error: "peer said: \"no\"\n\x00 ünïcode"},
	}
}

// ctlTestErrorIsProtocol fails t unless err's ErrProtocol-ness is want.
func ctlTestErrorIsProtocol(t *testing.T, err error, want bool) {
	t.Helper()
	if got := errors.Is(err, ErrProtocol); got != want {
		t.Errorf("errors.Is(%v, ErrProtocol) = %v, want %v", err, got, want)
	}
}

func TestWriteReadMessageRoundTrip(t *testing.T) {
	for _, m := range ctlTestMessages() {
		t.Run(m.Type, func(t *testing.T) {
			c := &ctlTestConn{}
			before := time.Now()
			sent := m
			if err := writeMessage(c, &sent, 5*time.Second); err != nil {
				t.Fatalf("writeMessage: %v", err)
			}
			if sent.Version != protocolVersion {
				t.Errorf("writeMessage left Version %d, want %d", sent.Version, protocolVersion)
			}
			if sent.Sent.Before(before) {
				t.Errorf("writeMessage stamped Sent %v, before the call at %v", sent.Sent, before)
			}
			if c.writeDeadline.Before(before.Add(5 * time.Second)) {
				t.Errorf("write deadline %v is less than 5s after %v", c.writeDeadline, before)
			}
			wire := c.buf.Bytes()
			if len(wire) < 4 {
				t.Fatalf("wire has %d bytes, want a 4-byte header and a body", len(wire))
			}
			if n := binary.BigEndian.Uint32(wire); int(n) != len(wire)-4 {
				t.Errorf("length prefix %d, body of %d bytes", n, len(wire)-4)
			}
			got, err := readMessage(c)
			if err != nil {
				t.Fatalf("readMessage: %v", err)
			}
			if diff := cmp.Diff(&sent, got); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
			if c.buf.Len() != 0 {
				t.Errorf("readMessage left %d bytes unread", c.buf.Len())
			}
		})
	}
}

// TestReadMessageStream reads several messages written back to back, as
// a control connection carries them.
func TestReadMessageStream(t *testing.T) {
	c := &ctlTestConn{}
	want := ctlTestMessages()
	for i := range want {
		if err := writeMessage(c, &want[i], time.Second); err != nil {
			t.Fatalf("writeMessage(%s): %v", want[i].Type, err)
		}
	}
	var got []message
	for {
		m, err := readMessage(c)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("readMessage after %d messages: %v", len(got), err)
		}
		got = append(got, *m)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages mismatch (-want +got):\n%s", diff)
	}
}

// TestMessageOverPipe runs the codec over a synchronous net.Pipe.
func TestMessageOverPipe(t *testing.T) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	msgs := ctlTestMessages()
	errc := make(chan error, 1)
	go func() {
		for i := range msgs {
			if err := writeMessage(a, &msgs[i], 5*time.Second); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	_ = b.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []message
	for range msgs {
		m, err := readMessage(b)
		if err != nil {
			t.Fatalf("readMessage after %d messages: %v", len(got), err)
		}
		got = append(got, *m)
	}
	if err := <-errc; err != nil {
		t.Fatalf("writeMessage: %v", err)
	}
	if diff := cmp.Diff(msgs, got); diff != "" {
		t.Errorf("messages mismatch (-want +got):\n%s", diff)
	}
}

// TestWriteMessageDeadline checks that a peer that never reads does not
// hang the writer.
func TestWriteMessageDeadline(t *testing.T) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	err := writeMessage(a, &message{Type: msgHeartbeat}, 20*time.Millisecond)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("writeMessage to a silent peer = %v, want os.ErrDeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "control: send heartbeat") {
		t.Errorf("writeMessage error %q lacks its context", err)
	}
	ctlTestErrorIsProtocol(t, err, false)
}

func TestReadMessageRejects(t *testing.T) {
	body := func(s string) []byte { return ctlTestFrame([]byte(s)) }
	tests := []struct {
		name     string
		wire     []byte
		protocol bool   // the error must wrap ErrProtocol
		is       error  // else the error must be this one
		contains string // and the message must say this
	}{
		{name: "closed before a header", wire: nil, is: io.EOF},
		{name: "short header", wire: []byte{0, 0}, is: io.ErrUnexpectedEOF},
		{name: "header without body", wire: ctlTestFrameLen(10, nil), is: io.ErrUnexpectedEOF},
		{name: "truncated body", wire: ctlTestFrameLen(100, []byte(`{"type":"start","version":1}`)), is: io.ErrUnexpectedEOF},
		{name: "zero length", wire: ctlTestFrameLen(0, nil), protocol: true, contains: "0 bytes"},
		{name: "one byte too long", wire: ctlTestFrameLen(maxMessage+1, nil), protocol: true, contains: "limit"},
		{name: "4 GiB", wire: ctlTestFrameLen(1<<32-1, nil), protocol: true, contains: "limit"},
		{name: "not JSON", wire: body("\x00\x01garbage"), protocol: true},
		{name: "truncated JSON", wire: body(`{"type":"start","version":1`), protocol: true},
		{name: "trailing garbage", wire: body(`{"type":"start","version":1}x`), protocol: true},
		{name: "two objects", wire: body(`{"type":"start","version":1}{"type":"start","version":1}`), protocol: true},
		{name: "JSON array", wire: body(`[1,2,3]`), protocol: true},
		{name: "JSON null", wire: body(`null`), protocol: true, contains: "version 0"},
		{name: "type is a number", wire: body(`{"type":1,"version":1}`), protocol: true},
		{name: "port out of range", wire: body(`{"type":"welcome","version":1,"ports":[70000]}`), protocol: true},
		{name: "negative magic", wire: body(`{"type":"hello","version":1,"magic":-1,"hello":{}}`), protocol: true},
		{name: "no version", wire: body(`{"type":"start"}`), protocol: true, contains: "version 0"},
		{name: "wrong version", wire: body(`{"type":"start","version":2}`), protocol: true, contains: "version 2"},
		{name: "unknown type", wire: body(`{"type":"bogus","version":1}`), protocol: true, contains: `"bogus"`},
		{name: "no type", wire: body(`{"version":1}`), protocol: true, contains: "unknown message type"},
		{name: "hello without Hello", wire: body(`{"type":"hello","version":1,"magic":42}`), protocol: true, contains: "hello without options"},
		{name: "hello with null Hello", wire: body(`{"type":"hello","version":1,"magic":42,"hello":null}`), protocol: true, contains: "hello without options"},
		{name: "welcome without ports", wire: body(`{"type":"welcome","version":1}`), protocol: true, contains: "0 data ports"},
		{name: "welcome with empty ports", wire: body(`{"type":"welcome","version":1,"ports":[]}`), protocol: true, contains: "0 data ports"},
		{name: "stop without figures", wire: body(`{"type":"stop","version":1}`), protocol: true, contains: "stop without figures"},
		{name: "result without figures", wire: body(`{"type":"result","version":1,"figures":null}`), protocol: true, contains: "result without figures"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := readMessage(bytes.NewReader(tt.wire))
			if err == nil {
				t.Fatalf("readMessage = %+v, want an error", m)
			}
			if m != nil {
				t.Errorf("readMessage returned %+v with its error, want nil", m)
			}
			ctlTestErrorIsProtocol(t, err, tt.protocol)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("readMessage error = %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("readMessage error %q does not say %q", err, tt.contains)
			}
		})
	}
}

// TestReadMessageAccepts lists the least a peer may send of each type.
func TestReadMessageAccepts(t *testing.T) {
	tests := []struct {
		name string
		body string
		want message
	}{
		{"hello with empty options", `{"type":"hello","version":1,"hello":{}}`, message{Type: msgHello, Version: 1, Hello: &hello{}}},
		{"welcome with port 0", `{"type":"welcome","version":1,"ports":[0]}`, message{Type: msgWelcome, Version: 1, Ports: []uint16{0}}},
		{"start", `{"type":"start","version":1}`, message{Type: msgStart, Version: 1}},
		{"heartbeat with a time stamp", `{"type":"heartbeat","version":1,"sent":"2024-01-02T03:04:05.123456789Z"}`,
			message{Type: msgHeartbeat, Version: 1, Sent: time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)}},
		{"stop with zero figures", `{"type":"stop","version":1,"figures":{}}`, message{Type: msgStop, Version: 1, Figures: &Figures{}}},
		{"result with some figures", `{"type":"result","version":1,"figures":{"transactions":5,"seconds":1.5}}`,
			message{Type: msgResult, Version: 1, Figures: &Figures{Transactions: 5, Seconds: 1.5}}},
		{"abort without a reason", `{"type":"abort","version":1}`, message{Type: msgAbort, Version: 1}},
		{"abort with unknown fields and spaces", ` {"type":"abort","version":1,"error":"x","unknown_field":[1]} `, message{Type: msgAbort, Version: 1, Error: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readMessage(bytes.NewReader(ctlTestFrame([]byte(tt.body))))
			if err != nil {
				t.Fatalf("readMessage(%s): %v", tt.body, err)
			}
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Errorf("readMessage(%s) mismatch (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

// TestReadMessageLargestMessage checks the cap is inclusive: a message of
// exactly maxMessage bytes is read.
func TestReadMessageLargestMessage(t *testing.T) {
	prefix := `{"type":"abort","version":1,"error":"`
	suffix := `"}`
	body := []byte(prefix + strings.Repeat("e", maxMessage-len(prefix)-len(suffix)) + suffix)
	if len(body) != maxMessage {
		t.Fatalf("test body is %d bytes, want %d", len(body), maxMessage)
	}
	m, err := readMessage(bytes.NewReader(ctlTestFrame(body)))
	if err != nil {
		t.Fatalf("readMessage of %d bytes: %v", len(body), err)
	}
	if len(m.Error) != maxMessage-len(prefix)-len(suffix) {
		t.Errorf("decoded error of %d bytes, want %d", len(m.Error), maxMessage-len(prefix)-len(suffix))
	}
}

// ctlTestHeaderOnly yields a 4-byte header and notes whether the reader
// asked for more: an oversized message must be refused on its header
// alone.
type ctlTestHeaderOnly struct {
	hdr  []byte
	more bool
}

func (r *ctlTestHeaderOnly) Read(p []byte) (int, error) {
	if len(r.hdr) == 0 {
		r.more = true
		return 0, io.EOF
	}
	n := copy(p, r.hdr)
	r.hdr = r.hdr[n:]
	return n, nil
}

func TestReadMessageOversizeDoesNotAllocate(t *testing.T) {
	for _, n := range []uint32{maxMessage + 1, 1 << 31, 1<<32 - 1} {
		t.Run(strconv.FormatUint(uint64(n), 10), func(t *testing.T) {
			r := &ctlTestHeaderOnly{hdr: ctlTestFrameLen(n, nil)}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := readMessage(r)
			runtime.ReadMemStats(&after)
			ctlTestErrorIsProtocol(t, err, true)
			if r.more {
				t.Errorf("readMessage read past the header of a %d-byte message", n)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew >= maxMessage {
				t.Errorf("readMessage allocated %d bytes refusing a %d-byte message", grew, n)
			}
		})
	}
}

// ctlTestSeeds are FuzzDecodeMessage's corpus: every valid message as
// writeMessage encodes it, and garbage near the edges of the format.
func ctlTestSeeds(f *testing.F) [][]byte {
	f.Helper()
	var seeds [][]byte
	for _, m := range ctlTestMessages() {
		m.Version = protocolVersion
		m.Sent = time.Date(2025, 6, 7, 8, 9, 10, 11, time.FixedZone("x", 3600))
		b, err := json.Marshal(&m)
		if err != nil {
			f.Fatalf("encode seed %s: %v", m.Type, err)
		}
		seeds = append(seeds, b)
	}
	for _, s := range []string{
		"", "{}", "null", "[]", "\x00\xff\xfe", `"hello"`, `{"type":"hello"}`,
		`{"type":"hello","version":1,"hello":null}`,
		`{"type":"welcome","version":1,"ports":[]}`,
		`{"type":"welcome","version":1,"ports":[65535,0]}`,
		`{"type":"stop","version":1,"figures":{"transactions":-1}}`,
		`{"type":"result","version":1,"figures":{"seconds":1e400}}`,
		`{"type":"heartbeat","version":1,"sent":"0001-01-01T00:00:00Z"}`,
		`{"type":"heartbeat","version":1,"sent":"9999-12-31T23:59:59.999999999-23:59"}`,
		`{"TYPE":"abort","Version":1,"ERROR":"\ud800"}`,
		`{"type":"hello","version":1,"hello":{"workload":"tcp_rr","num_flows":-1,"test_length":9223372036854775807}}`,
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// FuzzDecodeMessage: decodeMessage never panics, every error it returns
// is a protocol error, and whatever it accepts encodes and decodes back
// to the same message.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range ctlTestSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := decodeMessage(body)
		if err != nil {
			if m != nil {
				t.Errorf("decodeMessage returned %+v with error %v", m, err)
			}
			if !errors.Is(err, ErrProtocol) {
				t.Errorf("decodeMessage error %v does not wrap ErrProtocol", err)
			}
			return
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("accepted message %+v does not encode: %v", m, err)
		}
		m2, err := decodeMessage(again)
		if err != nil {
			t.Fatalf("re-encoded message %s is refused: %v", again, err)
		}
		// An empty list and a missing one are the same message on the wire.
		if diff := cmp.Diff(m, m2, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("re-encoded message differs (-first +second):\n%s", diff)
		}
		// Framed, the same bytes read back the same way.
		if len(again) <= maxMessage {
			m3, err := readMessage(bytes.NewReader(ctlTestFrame(again)))
			if err != nil {
				t.Fatalf("readMessage of a re-encoded message: %v", err)
			}
			if diff := cmp.Diff(m2, m3); diff != "" {
				t.Errorf("readMessage differs from decodeMessage (-decode +read):\n%s", diff)
			}
		}
	})
}

// TestFiguresAddTCP: a server with several clients sums their
// retransmissions and averages their RTTs over all their connections.
func TestFiguresAddTCP(t *testing.T) {
	tests := []struct {
		name string
		a, b Figures
		want Figures
	}{
		{"weighted by connections",
			Figures{TCPConnections: 1, TCPRetransmits: 2, TCPRTT: 10},
			Figures{TCPConnections: 3, TCPRetransmits: 5, TCPRTT: 30},
			Figures{TCPConnections: 4, TCPRetransmits: 7, TCPRTT: 25}},
		{"into nothing", Figures{}, Figures{TCPConnections: 2, TCPRTT: 40}, Figures{TCPConnections: 2, TCPRTT: 40}},
		{"no TCP connections", Figures{}, Figures{}, Figures{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.a
			got.add(&tt.b)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("add (-want +got):\n%s", diff)
			}
		})
	}
}

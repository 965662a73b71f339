package kit

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// The control protocol. Each message is a 4-byte big-endian length and a
// JSON object of at most maxMessage bytes. The client opens with hello
// (magic and options), the server answers welcome (data addresses), the
// client says start once its flows are connected; both send heartbeats
// while the test runs; the client ends with stop (its figures), the server
// answers result (its figures). Either side may send abort with the reason
// and close.

const (
	protocolVersion = 1
	maxMessage      = 1 << 20
)

// Message types.
const (
	msgHello     = "hello"
	msgWelcome   = "welcome"
	msgStart     = "start"
	msgHeartbeat = "heartbeat"
	msgStop      = "stop"
	msgResult    = "result"
	msgAbort     = "abort"
)

// message is one control message; which fields are set depends on Type.
type message struct {
	Type    string   `json:"type"`
	Version int      `json:"version,omitempty"`
	Magic   uint32   `json:"magic,omitempty"`
	Hello   *hello   `json:"hello,omitempty"`
	Ports   []uint16 `json:"ports,omitempty"` // welcome: the server workers' data ports
	// Flows, in start, names the client's flows by their address, so
	// that the server's per-flow samples carry the client's flow ids.
	Flows   flowPorts `json:"flows,omitempty"`
	Figures *Figures  `json:"figures,omitempty"`
	Error   string    `json:"error,omitempty"`
	// Interrupted, in stop or abort, names the interrupt (SIGINT) that
	// ended the sender's test early; an abort then carries its figures.
	Interrupted string    `json:"interrupted,omitempty"`
	Sent        time.Time `json:"sent,omitzero"`
}

// hello carries the options the server takes from the client.
type hello struct {
	Workload     Workload      `json:"workload"`
	NumFlows     int           `json:"num_flows"`
	NumThreads   int           `json:"num_threads"`
	TestLength   time.Duration `json:"test_length"`
	Transactions int64         `json:"transactions"`
	BufferSize   int           `json:"buffer_size"`
	RequestSize  int           `json:"request_size"`
	ResponseSize int           `json:"response_size"`
	EnableRead   bool          `json:"enable_read"`
	EnableWrite  bool          `json:"enable_write"`
	Delay        time.Duration `json:"delay"`
	Interval     time.Duration `json:"interval"`
	// TimeWait: the client's --time-wait. Without it the server resets
	// a flow the client has ended, so that neither side keeps it in
	// TIME_WAIT.
	TimeWait bool `json:"time_wait,omitempty"`
	// TCPFastOpen: the client's -X; its server's listeners take TFO.
	TCPFastOpen bool `json:"tcp_fastopen,omitempty"`
	// SplitBidir: the client's --split-bidir; its server writes on every
	// socket until the client's data arrives on it.
	SplitBidir bool `json:"split_bidir,omitempty"`
}

// Figures is what one side tells the other of its measurement.
type Figures struct {
	Transactions   uint64  `json:"transactions"`
	BytesRead      uint64  `json:"bytes_read"`
	BytesWritten   uint64  `json:"bytes_written"`
	PacketsRead    uint64  `json:"packets_read"`
	PacketsWritten uint64  `json:"packets_written"`
	Throughput     float64 `json:"throughput"`      // rr: transactions/s
	ReadBitrate    float64 `json:"read_bitrate"`    // bit/s received
	WriteBitrate   float64 `json:"write_bitrate"`   // bit/s sent
	LocalBitrate   float64 `json:"local_bitrate"`   // bit/s moved either way
	Seconds        float64 `json:"seconds"`         // the measured window
	TCPConnections uint64  `json:"tcp_connections"` // whose TCP_INFO was read
	TCPRetransmits uint64  `json:"tcp_retransmits"`
	TCPRTT         int64   `json:"tcp_rtt_ns"` // mean smoothed RTT
	UDPResends     uint64  `json:"udp_resends"`
	UDPDuplicates  uint64  `json:"udp_duplicates"`
	UDPStale       uint64  `json:"udp_stale"`
	// Samples are the side's samples over time (at most
	// maxRemoteSamples of them).
	Samples []RemoteSample `json:"samples,omitempty"`
}

// RemoteSample is one of the peer's samples: cumulative counts and CPU
// time (seconds, its workers' threads) at Time seconds into the run.
type RemoteSample struct {
	Time         float64 `json:"time"`
	Transactions uint64  `json:"transactions"`
	BytesRead    uint64  `json:"bytes_read"`
	BytesWritten uint64  `json:"bytes_written"`
	CPU          float64 `json:"cpu"`
}

// ErrProtocol marks a malformed or unexpected control message.
var ErrProtocol = errors.New("control: protocol error")

// writeMessage sends m on c, bounded by deadline.
func writeMessage(c net.Conn, m *message, deadline time.Duration) error {
	m.Version = protocolVersion
	m.Sent = time.Now()
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("control: encode %s: %w", m.Type, err)
	}
	buf := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(buf, uint32(len(body)))
	copy(buf[4:], body)
	_ = c.SetWriteDeadline(time.Now().Add(deadline))
	if _, err := c.Write(buf); err != nil {
		return fmt.Errorf("control: send %s: %w", m.Type, err)
	}
	return nil
}

// readMessage reads one message from r.
func readMessage(r io.Reader) (*message, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > maxMessage {
		return nil, fmt.Errorf("%w: message of %d bytes (limit %d)", ErrProtocol, n, maxMessage)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return decodeMessage(body)
}

// decodeMessage parses and checks one message body.
func decodeMessage(body []byte) (*message, error) {
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	if m.Version != protocolVersion {
		return nil, fmt.Errorf("%w: version %d, this hookperf speaks %d", ErrProtocol, m.Version, protocolVersion)
	}
	switch m.Type {
	case msgHello:
		if m.Hello == nil {
			return nil, fmt.Errorf("%w: hello without options", ErrProtocol)
		}
	case msgWelcome:
		if len(m.Ports) == 0 || len(m.Ports) > 1<<16 {
			return nil, fmt.Errorf("%w: welcome with %d data ports", ErrProtocol, len(m.Ports))
		}
	case msgStop, msgResult:
		if m.Figures == nil {
			return nil, fmt.Errorf("%w: %s without figures", ErrProtocol, m.Type)
		}
	case msgStart, msgHeartbeat, msgAbort:
	default:
		return nil, fmt.Errorf("%w: unknown message type %q", ErrProtocol, m.Type)
	}
	return &m, nil
}

// event is what a control connection's reader hands its side: a message,
// or the error that ended the connection.
type event struct {
	from *conn
	m    *message
	err  error
}

// conn is one control connection with a reader goroutine that feeds a
// side's event channel, so the side's main loop can wait for its peer,
// its workers and a timer at once.
type conn struct {
	c    net.Conn
	sink chan<- event
	done chan struct{}
	once sync.Once
	seen time.Time // when the peer last said something (side's goroutine only)
}

func newConn(c net.Conn, sink chan<- event) *conn {
	cc := &conn{c: c, sink: sink, done: make(chan struct{}), seen: time.Now()}
	go cc.readLoop()
	return cc
}

func (cc *conn) readLoop() {
	for {
		m, err := readMessage(cc.c)
		select {
		case cc.sink <- event{from: cc, m: m, err: err}:
		case <-cc.done:
			return
		}
		if err != nil {
			return
		}
	}
}

func (cc *conn) send(m *message) error { return writeMessage(cc.c, m, 10*time.Second) }

// abort tells the peer why this side gives up; it is best effort.
func (cc *conn) abort(err error) {
	_ = writeMessage(cc.c, &message{Type: msgAbort, Error: err.Error()}, time.Second)
}

// Close closes the connection and ends the reader goroutine.
func (cc *conn) Close() error {
	var err error
	cc.once.Do(func() {
		close(cc.done)
		err = cc.c.Close()
	})
	return err
}

package kit

// workloadFor picks the setup of one side of a workload.
func workloadFor(o *Options, side Side) workload {
	switch o.Workload {
	case TCPRR:
		if side == ServerSide {
			return tcpServer{newFlow: newRRServer}
		}
		return tcpClient{func(w *worker, id int) (flow, error) { return newRRClient(w, id, w.s.peerAddr(id)) }}
	case TCPCRR:
		if side == ServerSide {
			return tcpServer{newFlow: newCRRServer, readAtAccept: true}
		}
		return tcpClient{func(w *worker, id int) (flow, error) { return newCRRClient(w, id, w.s.peerAddr(id)) }}
	case TCPStream:
		if side == ServerSide {
			return tcpServer{newFlow: newStreamServer}
		}
		return tcpClient{func(w *worker, id int) (flow, error) { return newStreamClient(w, id, w.s.peerAddr(id)) }}
	case DummyTest:
		return dummySetup{}
	case UDPRR, UDPStream:
		if side == ServerSide {
			return udpServerSetup{}
		}
		return udpClientSetup{}
	}
	return nil
}

// tcpServer listens on the data port; each accepted connection becomes a
// flow made by newFlow. With readAtAccept a new connection is read at
// once: a tcp_crr client writes its request right after connecting.
type tcpServer struct {
	newFlow      func(w *worker, fd int) flow
	readAtAccept bool
}

func (t tcpServer) setup(w *worker) error { return w.listenTCP(t.newFlow, t.readAtAccept) }

// tcpClient opens the worker's share of the flows before the start.
type tcpClient struct {
	newFlow func(w *worker, id int) (flow, error)
}

func (t tcpClient) setup(w *worker) error {
	for _, id := range w.s.flowsOf(w.id) {
		f, err := t.newFlow(w, id)
		if err != nil {
			return err
		}
		w.flows = append(w.flows, f)
	}
	return nil
}

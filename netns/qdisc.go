package netns

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ErrUnsupported is wrapped by the error SetQdisc returns for a qdisc the
// running kernel does not have (netem and fq are not built into every
// kernel).
var ErrUnsupported = errors.New("not supported by this kernel")

// BitRate is a rate in bits per second.
type BitRate uint64

// Units of BitRate, as tc(8) counts them (powers of 1000).
const (
	Bit  BitRate = 1
	Kbit         = 1000 * Bit
	Mbit         = 1000 * Kbit
	Gbit         = 1000 * Mbit
)

// String formats the rate as tc(8) would, e.g. "100Mbit".
func (r BitRate) String() string {
	for _, u := range []struct {
		div  BitRate
		unit string
	}{{Gbit, "Gbit"}, {Mbit, "Mbit"}, {Kbit, "Kbit"}} {
		if r >= u.div && r%u.div == 0 {
			return strconv.FormatUint(uint64(r/u.div), 10) + u.unit
		}
	}
	return strconv.FormatUint(uint64(r), 10) + "bit"
}

func (r BitRate) bytesPerSecond() uint64 { return uint64(r) / 8 }

// Qdisc is a root queueing discipline for SetQdisc: TBF, HTB, Netem, FQ,
// or Delete to go back to the device's default.
type Qdisc interface {
	// Kind is the kernel's name of the qdisc ("tbf", "htb", "netem",
	// "fq"), empty for Delete.
	Kind() string
	// install replaces link's root qdisc (the old one is already gone).
	install(h *netlink.Handle, link netlink.Link) error
	// probe is a small valid instance of the kind, for feature probes.
	probe() Qdisc
}

// rootHandle is the handle SetQdisc gives every root qdisc ("1:").
const rootHandle uint32 = 1 << 16

func rootAttrs(link netlink.Link) netlink.QdiscAttrs {
	return netlink.QdiscAttrs{LinkIndex: link.Attrs().Index, Handle: rootHandle, Parent: netlink.HANDLE_ROOT}
}

// TBF is a token bucket filter: it shapes the device's egress to Rate.
type TBF struct {
	// Rate is the sustained rate; it must not be zero.
	Rate BitRate
	// Burst is the bucket size in bytes; 0 means 32 KiB, or the device's
	// MTU plus headers if that is larger.
	Burst uint32
	// Latency bounds how long a packet may wait in the queue; 0 means
	// 50ms unless Limit is set.
	Latency time.Duration
	// Limit is the queue size in bytes; when set it overrides Latency.
	Limit uint32
}

// Kind returns "tbf".
func (TBF) Kind() string { return "tbf" }

func (q TBF) probe() Qdisc { return TBF{Rate: Mbit} }

func (q TBF) install(h *netlink.Handle, link netlink.Link) error {
	if q.Rate < 8*Bit {
		return fmt.Errorf("rate %s is below one byte per second", q.Rate)
	}
	rate := q.Rate.bytesPerSecond()
	burst := q.Burst
	if burst == 0 {
		burst = max(32<<10, uint32(link.Attrs().MTU)+64)
	}
	limit := uint64(q.Limit)
	if limit == 0 {
		lat := q.Latency
		if lat == 0 {
			lat = 50 * time.Millisecond
		}
		limit = uint64(float64(rate)*lat.Seconds()) + uint64(burst)
	}
	if limit > math.MaxUint32 {
		return fmt.Errorf("queue limit of %d bytes is too large", limit)
	}
	return h.QdiscAdd(&netlink.Tbf{
		QdiscAttrs: rootAttrs(link),
		Rate:       rate,
		Buffer:     netlink.Xmittime(rate, burst),
		Limit:      uint32(limit),
	})
}

// HTB is a hierarchical token bucket with one class (1:1), which all
// traffic goes to: it shapes the device's egress to Rate, borrowing up to
// Ceil.
type HTB struct {
	// Rate is the class's guaranteed rate; it must not be zero.
	Rate BitRate
	// Ceil is the most the class may send; 0 means Rate.
	Ceil BitRate
}

// Kind returns "htb".
func (HTB) Kind() string { return "htb" }

func (q HTB) probe() Qdisc { return HTB{Rate: Mbit} }

func (q HTB) install(h *netlink.Handle, link netlink.Link) error {
	if q.Rate < 8*Bit {
		return fmt.Errorf("rate %s is below one byte per second", q.Rate)
	}
	ceil := q.Ceil
	if ceil == 0 {
		ceil = q.Rate
	}
	if ceil < q.Rate {
		return fmt.Errorf("ceil %s is below rate %s", ceil, q.Rate)
	}
	htb := netlink.NewHtb(rootAttrs(link)) // version 3, r2q 10, as tc(8)
	htb.Defcls = 1
	if err := h.QdiscAdd(htb); err != nil {
		return err
	}
	class := netlink.NewHtbClass(
		netlink.ClassAttrs{LinkIndex: link.Attrs().Index, Parent: rootHandle, Handle: netlink.MakeHandle(1, 1)},
		netlink.HtbClassAttrs{Rate: uint64(q.Rate), Ceil: uint64(ceil)},
	)
	if err := h.ClassAdd(class); err != nil {
		return fmt.Errorf("class 1:1: %w", err)
	}
	return nil
}

// Netem emulates a wide-area link on the device's egress: delay and loss.
type Netem struct {
	// Delay is added to every packet, varied by up to Jitter.
	Delay, Jitter time.Duration
	// Loss is the share of packets dropped, in percent (0 to 100).
	Loss float64
	// Limit is the queue size in packets; 0 means 1000.
	Limit uint32
}

// Kind returns "netem".
func (Netem) Kind() string { return "netem" }

func (q Netem) probe() Qdisc { return Netem{Delay: time.Millisecond} }

func (q Netem) install(h *netlink.Handle, link netlink.Link) error {
	if q.Loss < 0 || q.Loss > 100 {
		return fmt.Errorf("loss %v%% is outside 0..100", q.Loss)
	}
	if q.Delay < 0 || q.Jitter < 0 {
		return fmt.Errorf("negative delay or jitter")
	}
	return h.QdiscAdd(netlink.NewNetem(rootAttrs(link), netlink.NetemQdiscAttrs{
		Latency: uint32(q.Delay.Microseconds()),
		Jitter:  uint32(q.Jitter.Microseconds()),
		Loss:    float32(q.Loss),
		Limit:   q.Limit,
	}))
}

// FQ is the fair queue packet scheduler, which also paces flows (as
// SO_MAX_PACING_RATE and TCP pacing ask).
type FQ struct {
	// FlowMaxRate caps each flow; 0 means no cap.
	FlowMaxRate BitRate
}

// Kind returns "fq".
func (FQ) Kind() string { return "fq" }

func (q FQ) probe() Qdisc { return FQ{} }

func (q FQ) install(h *netlink.Handle, link netlink.Link) error {
	fq := netlink.NewFq(rootAttrs(link))
	if r := q.FlowMaxRate.bytesPerSecond(); r > 0 {
		if r > math.MaxUint32 {
			return fmt.Errorf("flow max rate %s is too large", q.FlowMaxRate)
		}
		fq.FlowMaxRate = uint32(r)
	}
	return h.QdiscAdd(fq)
}

// Delete, given to SetQdisc, removes the device's root qdisc, which gives
// it back the kernel's default.
type Delete struct{}

// Kind returns "" (Delete installs nothing).
func (Delete) Kind() string { return "" }

func (Delete) probe() Qdisc { return Delete{} }

func (Delete) install(*netlink.Handle, netlink.Link) error { return nil }

// SetQdisc replaces the root qdisc of device dev in the namespace with q
// (with handle 1:), or removes it if q is Delete{}. A qdisc the kernel
// lacks gives an error wrapping ErrUnsupported that names it, and leaves
// the device as it was.
func (ns *NS) SetQdisc(dev string, q Qdisc) error {
	if q == nil {
		q = Delete{}
	}
	op := fmt.Sprintf("netns: %s: set qdisc %s on %s", ns, q.Kind(), dev)
	if q.Kind() == "" {
		op = fmt.Sprintf("netns: %s: delete qdisc on %s", ns, dev)
	}
	if err := probeQdisc(q); err != nil {
		return err
	}
	h, err := ns.Handle()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	link, err := h.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := setRootQdisc(h, link, q); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// setRootQdisc deletes link's root qdisc, if it has one of its own, and
// installs q.
func setRootQdisc(h *netlink.Handle, link netlink.Link, q Qdisc) error {
	qs, err := h.QdiscList(link)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	for _, old := range qs {
		a := old.Attrs()
		// Handle 0 is the device's default (noqueue, pfifo_fast):
		// nothing to delete.
		if a.Parent == netlink.HANDLE_ROOT && a.Handle != 0 {
			if err := h.QdiscDel(old); err != nil {
				return fmt.Errorf("delete %s: %w", old.Type(), err)
			}
		}
	}
	return q.install(h, link)
}

// qdiscProbes remembers, per qdisc kind, whether the running kernel has
// it: a fact about the kernel, found once per process.
var qdiscProbes sync.Map // kind → error (nil: supported)

// probeQdisc tells whether the kernel has q's kind, installing a sample
// on lo in a throwaway namespace the first time a kind is asked for.
func probeQdisc(q Qdisc) error {
	kind := q.Kind()
	if kind == "" {
		return nil
	}
	if err, ok := qdiscProbes.Load(kind); ok {
		return toErr(err)
	}
	ns, err := New()
	if err != nil {
		return fmt.Errorf("netns: probe qdisc %s: %w", kind, err)
	}
	defer ns.Close()
	h, err := ns.Handle()
	if err != nil {
		return fmt.Errorf("netns: probe qdisc %s: %w", kind, err)
	}
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("netns: probe qdisc %s: %w", kind, err)
	}
	var result error
	// The kernel answers ENOENT for a kind it does not know (after trying
	// to load its module); lo always exists, so nothing else can cause it.
	// Any other answer means the kernel knows the kind.
	if err := q.probe().install(h, lo); errors.Is(err, unix.ENOENT) {
		result = fmt.Errorf("netns: qdisc %s is %w", kind, ErrUnsupported)
	}
	v, _ := qdiscProbes.LoadOrStore(kind, result)
	return toErr(v)
}

func toErr(v any) error {
	if v == nil {
		return nil
	}
	return v.(error)
}

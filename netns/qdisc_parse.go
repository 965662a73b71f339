package netns

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseQdisc reads a qdisc as tc(8) writes it after "root", e.g.
//
//	fq
//	fq maxrate 1gbit
//	tbf rate 100mbit [burst 32kb] [latency 50ms] [limit 64kb]
//	htb rate 1gbit [ceil 2gbit]
//	netem [delay 10ms [1ms]] [loss 1%] [limit 1000]
//	none                       (the device's default again)
//
// Rates take tc's units (bit, kbit, mbit, gbit, tbit; bps, kbps, mbps,
// gbps for bytes per second); sizes b, kb, mb (powers of 1024).
func ParseQdisc(spec string) (Qdisc, error) {
	f := strings.Fields(spec)
	if len(f) == 0 {
		return nil, fmt.Errorf("qdisc %q: empty (try fq, tbf rate 1gbit, htb rate 1gbit, netem delay 1ms, none)", spec)
	}
	kind, args := strings.ToLower(f[0]), f[1:]
	p := &qdiscArgs{spec: spec, args: args}
	var q Qdisc
	switch kind {
	case "none", "default", "delete":
		q = Delete{}
	case "fq":
		var fq FQ
		p.each(map[string]func(string) error{
			"maxrate": p.rate(&fq.FlowMaxRate),
		})
		q = fq
	case "tbf":
		var t TBF
		p.each(map[string]func(string) error{
			"rate": p.rate(&t.Rate), "burst": p.size(&t.Burst),
			"latency": p.duration(&t.Latency), "limit": p.size(&t.Limit),
		})
		if p.err == nil && t.Rate == 0 {
			p.err = fmt.Errorf("qdisc %q: tbf needs a rate", spec)
		}
		q = t
	case "htb":
		var h HTB
		p.each(map[string]func(string) error{"rate": p.rate(&h.Rate), "ceil": p.rate(&h.Ceil)})
		if p.err == nil && h.Rate == 0 {
			p.err = fmt.Errorf("qdisc %q: htb needs a rate", spec)
		}
		q = h
	case "netem":
		var n Netem
		p.each(map[string]func(string) error{
			"delay": func(v string) error {
				if err := p.duration(&n.Delay)(v); err != nil {
					return err
				}
				// tc's optional jitter right after the delay.
				if len(p.args) > 0 && startsWithDigit(p.args[0]) {
					v, p.args = p.args[0], p.args[1:]
					return p.duration(&n.Jitter)(v)
				}
				return nil
			},
			"loss": func(v string) error {
				pct, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
				if err != nil || pct < 0 || pct > 100 {
					return fmt.Errorf("loss %q: want a percentage in 0..100", v)
				}
				n.Loss = pct
				return nil
			},
			"limit": func(v string) error {
				l, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					return fmt.Errorf("limit %q: want a count of packets", v)
				}
				n.Limit = uint32(l)
				return nil
			},
		})
		q = n
	default:
		return nil, fmt.Errorf("qdisc %q: unknown kind %q (known: fq, tbf, htb, netem, none)", spec, kind)
	}
	if p.err != nil {
		return nil, p.err
	}
	return q, nil
}

// qdiscArgs walks a qdisc's "key value" arguments.
type qdiscArgs struct {
	spec string
	args []string
	err  error
}

// each hands every key's value to its parser; the first error stays.
func (p *qdiscArgs) each(keys map[string]func(string) error) {
	for len(p.args) > 0 && p.err == nil {
		key := strings.ToLower(p.args[0])
		set, ok := keys[key]
		if !ok {
			p.err = fmt.Errorf("qdisc %q: unknown parameter %q", p.spec, p.args[0])
			return
		}
		if len(p.args) < 2 {
			p.err = fmt.Errorf("qdisc %q: %s needs a value", p.spec, key)
			return
		}
		v := p.args[1]
		p.args = p.args[2:]
		if err := set(v); err != nil {
			p.err = fmt.Errorf("qdisc %q: %w", p.spec, err)
		}
	}
}

func (p *qdiscArgs) rate(dst *BitRate) func(string) error {
	return func(v string) error {
		r, err := ParseBitRate(v)
		*dst = r
		return err
	}
}

func (p *qdiscArgs) size(dst *uint32) func(string) error {
	return func(v string) error {
		n, err := parseSize(v)
		*dst = n
		return err
	}
}

func (p *qdiscArgs) duration(dst *time.Duration) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("%q: want a duration such as 10ms", v)
		}
		*dst = d
		return nil
	}
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// ParseBitRate reads a rate in tc's units: bit, kbit, mbit, gbit, tbit
// (bits per second, powers of 1000), or bps, kbps, mbps, gbps (bytes per
// second); a bare number is bits per second.
func ParseBitRate(s string) (BitRate, error) {
	units := []struct {
		suffix string
		mult   float64
	}{
		{"tbit", 1e12}, {"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1},
		{"gbps", 8e9}, {"mbps", 8e6}, {"kbps", 8e3}, {"bps", 8},
	}
	l := strings.ToLower(s)
	mult, num := 1.0, l
	for _, u := range units {
		if strings.HasSuffix(l, u.suffix) {
			mult, num = u.mult, strings.TrimSuffix(l, u.suffix)
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 || v*mult > math.MaxUint64/2 {
		return 0, fmt.Errorf("rate %q: want a positive rate such as 100mbit or 1gbit", s)
	}
	return BitRate(v * mult), nil
}

// parseSize reads a size in bytes: b, kb, mb (powers of 1024), or bare.
func parseSize(s string) (uint32, error) {
	l := strings.ToLower(s)
	mult, num := 1.0, l
	for _, u := range []struct {
		suffix string
		mult   float64
	}{{"mb", 1 << 20}, {"kb", 1 << 10}, {"b", 1}} {
		if strings.HasSuffix(l, u.suffix) {
			mult, num = u.mult, strings.TrimSuffix(l, u.suffix)
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 || v*mult > math.MaxUint32 {
		return 0, fmt.Errorf("size %q: want a positive size such as 32kb", s)
	}
	return uint32(v * mult), nil
}

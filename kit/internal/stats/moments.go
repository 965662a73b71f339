package stats

import (
	"math"
	"math/big"
	"math/bits"
)

// Moments accumulates count, min, max, sum and sum of squares of
// nanosecond values, enough for a mean and a population standard
// deviation. The zero value is empty and ready to use. Negative values are
// recorded as 0. The sum of squares is kept exactly in 128 bits, so results
// are exact as long as the plain sum stays below 2^64 ns (about 584 years).
type Moments struct {
	count    uint64
	sum      uint64
	sqHi     uint64 // sum of squares, high 64 bits
	sqLo     uint64 // sum of squares, low 64 bits
	min, max int64
}

// Add records one value.
func (m *Moments) Add(ns int64) {
	if ns < 0 {
		ns = 0
	}
	if m.count == 0 || ns < m.min {
		m.min = ns
	}
	if ns > m.max {
		m.max = ns
	}
	m.count++
	v := uint64(ns)
	m.sum += v
	hi, lo := bits.Mul64(v, v)
	var carry uint64
	m.sqLo, carry = bits.Add64(m.sqLo, lo, 0)
	m.sqHi += hi + carry
}

// Merge adds everything recorded in o to m.
func (m *Moments) Merge(o *Moments) {
	if o.count == 0 {
		return
	}
	if m.count == 0 || o.min < m.min {
		m.min = o.min
	}
	if o.max > m.max {
		m.max = o.max
	}
	m.count += o.count
	m.sum += o.sum
	var carry uint64
	m.sqLo, carry = bits.Add64(m.sqLo, o.sqLo, 0)
	m.sqHi += o.sqHi + carry
}

// Count returns the number of values added.
func (m *Moments) Count() uint64 { return m.count }

// Min returns the smallest value added, or 0 if none.
func (m *Moments) Min() int64 { return m.min }

// Max returns the largest value added, or 0 if none.
func (m *Moments) Max() int64 { return m.max }

// Mean returns the arithmetic mean, or 0 if no values were added.
func (m *Moments) Mean() float64 {
	if m.count == 0 {
		return 0
	}
	return float64(m.sum) / float64(m.count)
}

// Stddev returns the population standard deviation, or 0 for fewer than
// two values.
func (m *Moments) Stddev() float64 {
	if m.count < 2 {
		return 0
	}
	// variance = (n*Σx² - (Σx)²) / n², with an exact integer numerator.
	n := new(big.Int).SetUint64(m.count)
	sq := new(big.Int).SetUint64(m.sqHi)
	sq.Lsh(sq, 64).Or(sq, new(big.Int).SetUint64(m.sqLo))
	s := new(big.Int).SetUint64(m.sum)
	num := new(big.Int).Mul(n, sq)
	num.Sub(num, s.Mul(s, s))
	if num.Sign() <= 0 {
		return 0
	}
	den := n.Mul(n, n)
	v, _ := new(big.Float).SetPrec(128).Quo(
		new(big.Float).SetPrec(128).SetInt(num),
		new(big.Float).SetPrec(128).SetInt(den),
	).Float64()
	return math.Sqrt(v)
}

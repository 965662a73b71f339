package kit

import (
	"fmt"
	"strings"
)

// RateUnit is one of neper's units for a stream's throughput
// (--throughput-opt): its name on the command line, the label the report
// gives it (throughput_units=) and its size in bytes per second.
type RateUnit struct {
	Name           string
	Label          string
	BytesPerSecond float64
}

const (
	kilo, kibi = 1e3, 1 << 10
	mega, mebi = 1e6, 1 << 20
	giga, gibi = 1e9, 1 << 30
)

// rateUnits are neper's units, in neper's order (auto units search it).
var rateUnits = []RateUnit{
	{"b", "bits/s", 1.0 / 8}, {"k", "10^3bits/s", kilo / 8}, {"m", "10^6bits/s", mega / 8}, {"g", "10^9bits/s", giga / 8},
	{"B", "B/s", 1}, {"K", "KBytes/s", kibi}, {"M", "MBytes/s", mebi}, {"G", "GBytes/s", gibi},
	{"Kb", "Kbit/s", kilo / 8}, {"Mb", "Mbit/s", mega / 8}, {"Gb", "Gbit/s", giga / 8},
	{"KB", "KB/s", kilo}, {"MB", "MB/s", mega}, {"GB", "GB/s", giga},
	{"Kib", "Kibit/s", kibi / 8}, {"Mib", "Mibit/s", mebi / 8}, {"Gib", "Gibit/s", gibi / 8},
	{"KiB", "KiB/s", kibi}, {"MiB", "MiB/s", mebi}, {"GiB", "GiB/s", gibi},
}

// autoUnits are the names that pick a unit by the figure: bits or bytes,
// powers of 10 or of 2.
var autoUnits = []string{"auto-b", "auto-ib", "auto-B", "auto-iB"}

// DefaultThroughputUnit is neper's: Mbit/s.
const DefaultThroughputUnit = "Mb"

// ValidThroughputUnit reports whether name is a unit --throughput-opt
// takes, and if not, an error listing them.
func ValidThroughputUnit(name string) error {
	for _, u := range rateUnits {
		if u.Name == name {
			return nil
		}
	}
	for _, a := range autoUnits {
		if a == name {
			return nil
		}
	}
	names := make([]string, 0, len(rateUnits)+len(autoUnits))
	for _, u := range rateUnits {
		names = append(names, u.Name)
	}
	return fmt.Errorf("unknown unit %q (one of %s)", name, strings.Join(append(names, autoUnits...), ", "))
}

// ThroughputIn expresses bytesPerSecond in the unit named (a name
// ValidThroughputUnit accepts; "" is the default). An auto unit takes,
// as neper's do, the first unit of its kind (names ending in b, ib, B or
// iB) that puts the figure between 1 and 1000; a rate outside every
// unit's range takes the smallest or the largest unit, where neper
// stops with an internal error.
func ThroughputIn(name string, bytesPerSecond float64) (float64, string) {
	if name == "" {
		name = DefaultThroughputUnit
	}
	for _, u := range rateUnits {
		if u.Name == name {
			return bytesPerSecond / u.BytesPerSecond, u.Label
		}
	}
	kind, ok := strings.CutPrefix(name, "auto-")
	if !ok {
		return bytesPerSecond / (mega / 8), "Mbit/s"
	}
	var first, last *RateUnit
	for i := range rateUnits {
		u := &rateUnits[i]
		if len(u.Name) < len(kind)+1 || !strings.HasSuffix(u.Name, kind) || !strings.HasPrefix(kind, "i") && strings.HasSuffix(u.Name, "i"+kind) {
			continue // auto-b takes Kb, Mb, Gb; auto-ib Kib, Mib, Gib
		}
		if first == nil {
			first = u
		}
		last = u
		if v := bytesPerSecond / u.BytesPerSecond; v > 1 && v < 1000 {
			return v, u.Label
		}
	}
	u := first
	if bytesPerSecond/last.BytesPerSecond >= 1000 {
		u = last
	}
	return bytesPerSecond / u.BytesPerSecond, u.Label
}

package stats

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// errString returns err's message, or "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestParsePercentiles(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []float64
		wantErr string
	}{
		{"", nil, ""},
		{"  ", nil, ""},
		{"50", []float64{50}, ""},
		{"50,90,99,99.9", []float64{50, 90, 99, 99.9}, ""},
		{"99.9,50,99,90", []float64{50, 90, 99, 99.9}, ""},
		{"50, 90 ,50", []float64{50, 90}, ""},
		{"50,50.0", []float64{50}, ""},
		{"100,0.001", []float64{0.001, 100}, ""},
		{"101", nil, `percentile "101": must be in (0, 100]`},
		{"50,0", nil, `percentile "0": must be in (0, 100]`},
		{"-5", nil, `percentile "-5": must be in (0, 100]`},
		{"p50", nil, `percentile "p50": not a number`},
		{"50,,90", nil, `percentile "": not a number`},
		{"50,", nil, `percentile "": not a number`},
		{"1e2", nil, `percentile "1e2": not a number`},
		{"NaN", nil, `percentile "NaN": not a number`},
		{"9.9.9", nil, `percentile "9.9.9": not a number`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePercentiles(tc.in)
			if diff := cmp.Diff(tc.wantErr, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("percentiles (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPercentileKey(t *testing.T) {
	for _, tc := range []struct {
		p    float64
		want string
	}{
		{50, "latency_p50"},
		{99.9, "latency_p99.9"},
		{99.99, "latency_p99.99"},
		{100, "latency_p100"},
		{0.5, "latency_p0.5"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, PercentileKey(tc.p)); diff != "" {
				t.Errorf("PercentileKey(%v) (-want +got):\n%s", tc.p, diff)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	bad := ": " + rateHelp
	for _, tc := range []struct {
		in      string
		want    uint64
		wantErr string
	}{
		{"0", 0, ""},
		{"100", 100, ""},
		{"100B", 100, ""},
		{"8b", 1, ""},
		{"1k", 125, ""},           // 1000 bits/s
		{"1g", 125_000_000, ""},   // 1 Gbit/s, as neper
		{"10M", 10_485_760, ""},   // 10 MiB/s, as neper
		{"1K", 1024, ""},          // KiB/s, as neper
		{"2G", 2 << 30, ""},       // GiB/s
		{"100Mb", 12_500_000, ""}, // 100 Mbit/s (neper would read MiB/s here)
		{"1MB", 1_000_000, ""},
		{"1MiB", 1 << 20, ""},
		{"8Mib", 1 << 20, ""},
		{"1.5g", 187_500_000, ""},
		{".5K", 512, ""},
		{"5.", 5, ""},
		{"2.5", 2, ""},
		{"18446744073709551615", 1<<64 - 1, ""},
		{"18446744073709551616", 0, `rate "18446744073709551616": out of range (max 18446744073709551615)`},
		{"20000000000000G", 0, `rate "20000000000000G": out of range (max 18446744073709551615)`},
		{"-5", 0, `rate "-5": must not be negative`},
		{"-1.5G", 0, `rate "-1.5G": must not be negative`},
		{"", 0, `rate ""` + bad},
		{"M", 0, `rate "M"` + bad},
		{"abc", 0, `rate "abc"` + bad},
		{"10X", 0, `rate "10X"` + bad},
		{"10MBx", 0, `rate "10MBx"` + bad},
		{"1e3", 0, `rate "1e3"` + bad},
		{" 10", 0, `rate " 10"` + bad},
		{"1.2.3", 0, `rate "1.2.3"` + bad},
		{"+5", 0, `rate "+5"` + bad},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRate(tc.in)
			if diff := cmp.Diff(tc.wantErr, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rate (-want +got):\n%s", diff)
			}
		})
	}
}

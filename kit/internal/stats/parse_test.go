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
	const bad = ": want a number with optional k, M, G or T suffix"
	for _, tc := range []struct {
		in      string
		want    uint64
		wantErr string
	}{
		{"0", 0, ""},
		{"100", 100, ""},
		{"1k", 1000, ""},
		{"1K", 1000, ""},
		{"10M", 10_000_000, ""},
		{"10m", 10_000_000, ""},
		{"1.5G", 1_500_000_000, ""},
		{"2g", 2_000_000_000, ""},
		{"2T", 2_000_000_000_000, ""},
		{"0.1G", 100_000_000, ""},
		{".5k", 500, ""},
		{"5.", 5, ""},
		{"1.0009k", 1000, ""}, // 1000.9 truncated
		{"2.5", 2, ""},
		{"18446744073709551615", 1<<64 - 1, ""},
		{"18446744073709551616", 0, `rate "18446744073709551616": out of range (max 18446744073709551615)`},
		{"20000000T", 0, `rate "20000000T": out of range (max 18446744073709551615)`},
		{"-5", 0, `rate "-5": must not be negative`},
		{"-1.5G", 0, `rate "-1.5G": must not be negative`},
		{"", 0, `rate ""` + bad},
		{"M", 0, `rate "M"` + bad},
		{"abc", 0, `rate "abc"` + bad},
		{"10X", 0, `rate "10X"` + bad},
		{"10MB", 0, `rate "10MB"` + bad},
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

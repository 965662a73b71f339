package main

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// TestHelpPlacesEveryFlag: every flag has a heading and an origin in
// --help, and every placed flag exists.
func TestHelpPlacesEveryFlag(t *testing.T) {
	t.Parallel()
	known := map[string]bool{}
	for _, f := range flagSpecs {
		known[f.long] = true
		_, ok := flagPlaces[f.long]
		assert.Assert(t, ok, "--%s has no place in --help (help.go's flagPlaces)", f.long)
	}
	for name := range flagPlaces {
		assert.Assert(t, known[name], "flagPlaces names --%s, which is no flag", name)
	}
}

// TestHelpGroups: --help lists each flag once, under its heading, with
// its origin; neper's tcp_stream flags sit under tcp_stream.
func TestHelpGroups(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	usage(&b)
	out := b.String()
	listed := map[string]int{} // flag → lines listing it
	for _, line := range strings.Split(out, "\n") {
		for _, field := range strings.Fields(line)[:min(2, len(strings.Fields(line)))] {
			if name, ok := strings.CutPrefix(field, "--"); ok {
				name, _, _ = strings.Cut(name, "[")
				listed[name]++
			}
		}
	}
	for _, f := range flagSpecs {
		assert.Equal(t, listed[f.long], 1, "--%s listed %d times", f.long, listed[f.long])
	}
	section := out[strings.Index(out, "\ntcp_stream:\n"):]
	section = section[:strings.Index(section[1:], "\n\n")+1]
	for _, want := range []string{"-z, --rx-zerocopy", "--skip-rx-copy", "--no-cork", "-M, --enable-tcp-maerts"} {
		assert.Assert(t, strings.Contains(section, want), "%q not under tcp_stream:\n%s", want, section)
	}
	assert.Assert(t, strings.Contains(out, "[rushit]") && strings.Contains(out, "[hookperf]") && strings.Contains(out, "[neper]"))
	line := out[strings.Index(out, "--script FILE"):]
	assert.Assert(t, strings.Contains(line[:strings.Index(line, "\n")], "[rushit]"), "--script is rushit's")
}

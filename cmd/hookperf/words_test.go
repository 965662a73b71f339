package main

import (
	"testing"

	"gotest.tools/v3/assert"
)

func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{"", nil, ""},
		{"  -m 1G  ", []string{"-m", "1G"}, ""},
		{"--congestion-control reno -D\t1ms", []string{"--congestion-control", "reno", "-D", "1ms"}, ""},
		{"--qdisc 'tbf rate 1gbit'", []string{"--qdisc", "tbf rate 1gbit"}, ""},
		{`--setup "nft -f \"my rules.nft\""`, []string{"--setup", `nft -f "my rules.nft"`}, ""},
		{`--script-arg a=b\ c`, []string{"--script-arg", "a=b c"}, ""},
		{`x'y'"z"`, []string{"xyz"}, ""},
		{`''`, []string{""}, ""},
		{`"a\nb"`, []string{`a\nb`}, ""},
		{`'$HOME'`, []string{"$HOME"}, ""},
		{"--qdisc 'tbf", nil, "' is not closed"},
		{`--setup "nft`, nil, `" is not closed`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := splitWords(tc.in)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			assert.NilError(t, err)
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"
)

func TestArgScanner(t *testing.T) {
	sc := &argScanner{args: []string{"--threshold=5", "--alpha", "0.01", "old.txt", "--metrics"}}
	var got []string
	for sc.next() {
		switch sc.name {
		case "--threshold", "--alpha", "--metrics":
			got = append(got, sc.name+":"+sc.value())
		default:
			got = append(got, "arg:"+sc.arg)
		}
	}
	if diff := cmp.Diff([]string{"--threshold:5", "--alpha:0.01", "arg:old.txt", "--metrics:"}, got); diff != "" {
		t.Errorf("scanned (-want +got):\n%s", diff)
	}
	assert.Equal(t, len(sc.errs), 1)
	assert.Error(t, sc.errs[0], "--metrics needs a value")
}

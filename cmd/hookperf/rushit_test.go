package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// TestRushitFuncTests runs rushit's own functional tests unchanged, the
// binary linked under rushit's names (tcp_rr, tcp_stream, udp_stream,
// dummy_test) in the directory the tests expect as their top: the
// numbered ones and every *.sh, among them udp-stream-flags.sh, whose
// server and client get different flags.
func TestRushitFuncTests(t *testing.T) {
	t.Parallel()
	// rushit's functional tests (tests/func of its repository) are not
	// copied into this repository: RUSHIT_FUNC_TESTS names a copy.
	src := os.Getenv("RUSHIT_FUNC_TESTS")
	if src == "" {
		t.Skip("RUSHIT_FUNC_TESTS is not set: set it to the tests/func directory of a copy of rushit to run its functional tests unchanged")
	}
	scripts, err := filepath.Glob(filepath.Join(src, "*"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("RUSHIT_FUNC_TESTS (%s) holds no test: %v", src, err)
	}
	top := t.TempDir()
	funcDir := filepath.Join(top, "tests", "func")
	assert.NilError(t, os.MkdirAll(funcDir, 0o755))
	var tests []string
	for _, s := range scripts {
		b, err := os.ReadFile(s)
		assert.NilError(t, err)
		fi, err := os.Stat(s)
		assert.NilError(t, err)
		assert.NilError(t, os.WriteFile(filepath.Join(funcDir, filepath.Base(s)), b, fi.Mode().Perm()))
		if name := filepath.Base(s); filepath.Ext(name) == ".sh" || (len(name) == 4 && name[0] == '0') {
			tests = append(tests, filepath.Join("tests", "func", name))
		}
	}
	for _, w := range []string{"tcp_rr", "tcp_stream", "udp_stream", "dummy_test"} {
		assert.NilError(t, os.Symlink(hookperfBin, filepath.Join(top, w)))
	}
	for _, test := range tests {
		t.Run(filepath.Base(test), func(t *testing.T) {
			// The tests use rushit's default ports: one at a time.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", test)
			cmd.Dir = top
			out, err := cmd.CombinedOutput()
			assert.NilError(t, err, "%s:\n%s", test, out)
		})
	}
}

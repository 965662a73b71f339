package luahooks

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

// TestLoadFileShebang: a first line starting with # is skipped, as Lua's
// own loader skips it, and errors keep the file's line numbers.
func TestLoadFileShebang(t *testing.T) {
	tests := []struct {
		name, src, err string // err "" when it loads
	}{
		{"shebang", "#!/usr/bin/env hookperf\nprint(1)\n", ""},
		{"shebang alone", "#!/usr/bin/env hookperf", ""},
		{"syntax error after a shebang", "#!/usr/bin/env hookperf\n\nlocal = 1\n", "%s:3: syntax error near '='"},
		{"no shebang", "print(1)\n#x\n", "%s:2: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "s.lua")
			assert.NilError(t, os.WriteFile(p, []byte(tc.src), 0o644))
			_, err := LoadFile(p)
			if tc.err == "" {
				assert.NilError(t, err)
				return
			}
			assert.ErrorContains(t, err, fmt.Sprintf(tc.err, p))
		})
	}
}

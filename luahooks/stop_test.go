package luahooks

import (
	"context"
	"errors"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/kit"
)

// TestStuckScriptIsStopped: script code that never ends by itself — a loop
// or a sleep, at the top level or after run() — is stopped when the run
// ends, by whatever ends it, within 2 s, and the error says what was
// stopped, where, and why.
func TestStuckScriptIsStopped(t *testing.T) {
	interrupt := &kit.Interrupted{Reason: "SIGINT"}
	tests := []struct {
		name     string
		at       string
		suicide  time.Duration // -s
		cancelAt time.Duration // cancel the run's context with interrupt
		want     string        // the error, exactly
		cause    error         // what errors.As/Is finds in it
	}{
		{
			name: "top-level loop, -s", at: "top", suicide: time.Second,
			want: "client: the script's top level was still running when the run took longer than -s/--suicide-length allows; stopped at testdata/stuck.lua:7",
		},
		{
			name: "top-level loop, interrupted", at: "top", cancelAt: 500 * time.Millisecond,
			want:  "the script's top level was still running when interrupted (SIGINT) before the test started; stopped at testdata/stuck.lua:7",
			cause: interrupt,
		},
		{
			name: "top-level sleep, interrupted", at: "top-sleep", cancelAt: 500 * time.Millisecond,
			want:  "the script's top level was still running when interrupted (SIGINT) before the test started; stopped at testdata/stuck.lua:9",
			cause: interrupt,
		},
		{
			name: "loop after run()", at: "after",
			want: "client: the script's code after run() was still running when the run had been over for 1s; stopped at testdata/stuck.lua:15",
		},
		{
			name: "sleep after run()", at: "after-sleep",
			want: "client: the script's code after run() was still running when the run had been over for 1s; stopped at testdata/stuck.lua:17",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := rrOpts(0, 1, 1)
			o.TestLength, o.SuicideLength = 300*time.Millisecond, tc.suicide
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			if tc.cancelAt > 0 {
				time.AfterFunc(tc.cancelAt, func() { cancel(tc.cause) })
			}
			// Only the client's script is stuck: the server's runs through.
			server, client := Env{Args: map[string]string{}}, Env{Args: map[string]string{"at": tc.at}}
			start := time.Now()
			_, err := RunLocal(ctx, loadScript(t, "stuck.lua"), o, kit.SideConfig{}, kit.SideConfig{}, server, client)
			took := time.Since(start)
			assert.Error(t, err, tc.want)
			var stopped *StoppedError
			assert.Assert(t, errors.As(err, &stopped), "%T", err)
			if tc.cause != nil {
				var in *kit.Interrupted
				assert.Assert(t, errors.As(err, &in))
				assert.Equal(t, in.Reason, "SIGINT")
			}
			// When the run ends: -s, the interrupt, or the test's length.
			end := max(tc.suicide, tc.cancelAt, o.TestLength)
			assert.Assert(t, took < end+2*time.Second, "stopped %v after the run ended", took-end)
		})
	}
}

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hookperf/hookperf/kit"
)

// readyFDEnv names the descriptor on which a server started by a split
// --local run announces its control port.
const readyFDEnv = "HOOKPERF_READY_FD"

// announcer returns the Listening callback of a server started by a split
// --local run, or nil.
func announcer() func(ap netip.AddrPort) {
	v := os.Getenv(readyFDEnv)
	if v == "" {
		return nil
	}
	fd, err := strconv.Atoi(v)
	if err != nil {
		return nil
	}
	return func(ap netip.AddrPort) {
		f := os.NewFile(uintptr(fd), "ready")
		fmt.Fprintf(f, "%d\n", ap.Port())
		f.Close()
	}
}

// splitServer reports whether this process is the server of a split
// --local run: it serves and prints no report (the client's is the run's),
// but its script's output goes through.
func splitServer() bool { return os.Getenv(readyFDEnv) != "" }

// runLocalSplit runs a --local test whose two sides do not fit one
// process's open-file limit: the server runs in a child process (this
// binary, same flags), the client here. It returns the client's result.
// runClient runs the client side with the options given (the server's
// control port filled in).
func runLocalSplit(ctx context.Context, args []string, o kit.Options, runClient func(kit.Options) (*kit.Result, error), stdout, stderr io.Writer) (*kit.Result, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("--local: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("--local: %w", err)
	}
	defer r.Close()
	var serverArgs []string
	for i := 0; i < len(args); i++ {
		// The client writes the report, the samples, the RTT log and the
		// HTML report; the server only serves.
		a := args[i]
		switch {
		case a == "--report":
			i++ // and its FILE
		case a == "--local", strings.HasPrefix(a, "--report="), strings.HasPrefix(a, "-A"),
			strings.HasPrefix(a, "--all-samples"), strings.HasPrefix(a, "--log-rtt"):
		default:
			serverArgs = append(serverArgs, a)
		}
	}
	serverArgs = append(serverArgs, "-C", "0", "-P", "0")
	cmd := exec.Command(self, serverArgs...)
	cmd.Stdout = stdout // what the server's script prints; it reports nothing
	cmd.Stderr = stderr
	cmd.ExtraFiles = []*os.File{w}
	cmd.Env = append(os.Environ(), readyFDEnv+"=3")
	// The child dies with the thread that started it: keep that thread
	// alive, locked, until the child has ended.
	started, exited := make(chan error, 1), make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		err := cmd.Start()
		started <- err
		if err == nil {
			exited <- cmd.Wait()
		}
	}()
	if err := <-started; err != nil {
		w.Close()
		return nil, fmt.Errorf("--local: start the server: %w", err)
	}
	w.Close()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	port, err := readPort(r, 10*time.Second)
	if err != nil {
		stop()
		return nil, fmt.Errorf("--local: the server process did not start: %w", err)
	}
	o.Client, o.ControlPort = true, port
	res, err := runClient(o)
	if err != nil {
		stop()
		return res, err
	}
	select {
	case err := <-exited:
		if err != nil {
			return res, fmt.Errorf("--local: the server process: %w", err)
		}
	case <-time.After(10 * time.Second):
		stop()
		return res, fmt.Errorf("--local: the server process did not end")
	}
	return res, nil
}

// readPort reads the port a child server announces.
func readPort(r *os.File, timeout time.Duration) (int, error) {
	_ = r.SetReadDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(line))
}

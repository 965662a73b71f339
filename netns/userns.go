package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// RerunInUserNS runs this program again, with the same arguments and
// standard streams and with marker (NAME=VALUE) added to its environment,
// inside new user and network namespaces where the current user is root:
// how an unprivileged user gets namespaces of their own (unshare of a user
// namespace is refused to a multithreaded process, so Go programs re-execute,
// as Go's own syscall tests do). It returns the child's exit status; the
// error is non-nil only if the child could not be started. The child
// should call LoopbackUp first: its network namespace starts with lo down.
func RerunInUserNS(marker string) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("cannot re-execute in a user namespace: %w", err)
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), marker)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER | unix.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		Pdeathsig:   syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("the kernel refused a user namespace (unprivileged user namespaces may be disabled, e.g. by sysctl or AppArmor): %w", err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode(), nil
	case errors.As(err, &exit):
		// Killed by a signal: report it as a shell would.
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
	}
	fmt.Fprintf(os.Stderr, "netns: the run in the user namespace: %v\n", err)
	return 1, nil
}

// LoopbackUp brings lo up in the calling thread's network namespace, as a
// host has it: a user namespace's new network namespace starts with lo
// down.
func LoopbackUp() error {
	lo, err := netlink.LinkByName("lo")
	if err == nil {
		err = netlink.LinkSetUp(lo)
	}
	if err != nil {
		return fmt.Errorf("netns: bring lo up: %w", err)
	}
	return nil
}

package nstest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
)

// snapshot is what the host looked like before the tests.
type snapshot struct {
	named []string // /run/netns entries
	veths []string // veth devices in the host namespace
}

func takeSnapshot() (snapshot, error) {
	named, err := namedNamespaces()
	if err != nil {
		return snapshot{}, err
	}
	veths, err := hostVeths()
	if err != nil {
		return snapshot{}, err
	}
	return snapshot{named: named, veths: veths}, nil
}

// leakWait bounds how long checkLeaks waits for threads that are on their
// way out (a locked goroutine's thread exits just after the goroutine).
const leakWait = 10 * time.Second

// checkLeaks reports what the tests left behind, compared with before.
func checkLeaks(before snapshot) error {
	deadline := time.Now().Add(leakWait)
	for {
		err := findLeaks(before)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func findLeaks(before snapshot) error {
	var errs []error
	threads, fds, err := NamespaceHolders()
	if err != nil {
		return err
	}
	for _, th := range threads {
		errs = append(errs, fmt.Errorf("thread %s is still in another network namespace", th))
	}
	for _, fd := range fds {
		errs = append(errs, fmt.Errorf("file descriptor %s still holds a network namespace", fd))
	}
	named, err := namedNamespaces()
	if err != nil {
		return err
	}
	for _, n := range named {
		if !slices.Contains(before.named, n) {
			errs = append(errs, fmt.Errorf("named network namespace %s appeared", n))
		}
	}
	veths, err := hostVeths()
	if err != nil {
		return err
	}
	for _, v := range veths {
		if !slices.Contains(before.veths, v) {
			errs = append(errs, fmt.Errorf("veth %s appeared in the host namespace", v))
		}
	}
	return errors.Join(errs...)
}

// NamespaceHolders lists what in this process holds a network namespace
// other than the process's own (that of its main thread): threads inside
// one (as "tid: net:[ino]") and open file descriptors to one (as
// "fd: net:[ino]"). After a test both should be empty.
func NamespaceHolders() (threads, fds []string, err error) {
	own, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return nil, nil, err
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, nil, err
	}
	for _, t := range tasks {
		ns, err := os.Readlink(filepath.Join("/proc/self/task", t.Name(), "ns/net"))
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			continue // the thread exited meanwhile
		}
		if err != nil {
			return nil, nil, err
		}
		if ns != own {
			threads = append(threads, t.Name()+": "+ns)
		}
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, nil, err
	}
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil {
			continue // closed meanwhile (or the directory's own fd)
		}
		if strings.HasPrefix(target, "net:[") && target != own {
			fds = append(fds, e.Name()+": "+target)
		}
	}
	return threads, fds, nil
}

// namedNamespaces lists /run/netns, as `ip netns list` does.
func namedNamespaces() ([]string, error) {
	ents, err := os.ReadDir("/run/netns")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list named namespaces: %w", err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names, nil
}

// hostVeths lists the veth devices of the caller's namespace, as
// `ip link show type veth` does.
func hostVeths() ([]string, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list host links: %w", err)
	}
	var names []string
	for _, l := range links {
		if l.Type() == "veth" {
			names = append(names, fmt.Sprintf("%s (index %d)", l.Attrs().Name, l.Attrs().Index))
		}
	}
	return names, nil
}

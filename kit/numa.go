package kit

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// parseCPUList reads a kernel CPU list ("0-3,8,10-11").
func parseCPUList(s string) ([]int, error) {
	var cpus []int
	for _, r := range strings.Split(strings.TrimSpace(s), ",") {
		if r == "" {
			continue
		}
		lo, hi, found := strings.Cut(r, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("CPU list %q: %w", s, err)
		}
		z := a
		if found {
			if z, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("CPU list %q: %w", s, err)
			}
		}
		if z < a {
			return nil, fmt.Errorf("CPU list %q: range %d-%d", s, a, z)
		}
		for c := a; c <= z; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// numaNodes lists each NUMA node's CPUs, in the order of the nodes'
// numbers, from sysfs.
func numaNodes() ([][]int, error) {
	dirs, err := filepath.Glob("/sys/devices/system/node/node[0-9]*")
	if err != nil || len(dirs) == 0 {
		return nil, fmt.Errorf("-N/--pin-numa: no NUMA nodes in /sys/devices/system/node")
	}
	num := func(d string) int { n, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "node")); return n }
	sort.Slice(dirs, func(i, j int) bool { return num(dirs[i]) < num(dirs[j]) })
	var nodes [][]int
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cpulist"))
		if err != nil {
			return nil, fmt.Errorf("-N/--pin-numa: %w", err)
		}
		cpus, err := parseCPUList(string(b))
		if err != nil {
			return nil, fmt.Errorf("-N/--pin-numa: %w", err)
		}
		if len(cpus) > 0 { // a node of memory only has no CPU to pin to
			nodes = append(nodes, cpus)
		}
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("-N/--pin-numa: no NUMA node has CPUs")
	}
	return nodes, nil
}

// pinToNUMANode pins the calling thread to the CPUs of NUMA node i
// (modulo the nodes with CPUs), as neper's -N pins thread i.
func pinToNUMANode(i int) error {
	nodes, err := numaNodes()
	if err != nil {
		return err
	}
	var set unix.CPUSet
	for _, c := range nodes[i%len(nodes)] {
		set.Set(c)
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("-N/--pin-numa: pin to node %d's CPUs: %w", i%len(nodes), err)
	}
	return nil
}

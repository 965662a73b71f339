package kit

import (
	"runtime"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// Environment is what a run ran on, for a report to say.
type Environment struct {
	Hostname string
	Kernel   string // the kernel's release and version (uname -rv)
	Machine  string // uname -m
	CPUs     int    // the CPUs this process may run on
	Version  string // hookperf's: the module version, or the VCS revision
	Go       string // the Go toolchain that built it
}

// currentEnvironment reads the machine's and the binary's facts.
func currentEnvironment() Environment {
	e := Environment{CPUs: runtime.NumCPU(), Go: runtime.Version(), Version: "devel"}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		e.Hostname = unix.ByteSliceToString(u.Nodename[:])
		e.Kernel = unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Version[:])
		e.Machine = unix.ByteSliceToString(u.Machine[:])
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			e.Version = v
		}
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if e.Version == "devel" && rev != "" {
			e.Version = "devel-" + rev[:min(12, len(rev))] + dirty
		}
	}
	return e
}

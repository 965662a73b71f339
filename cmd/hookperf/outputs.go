package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/hookperf/hookperf/kit"
)

// outputFile is a file a flag names for a part of the result (-A's
// samples, --log-rtt's round trips): opened before any traffic, so that a
// path that cannot be written is a usage error, and written after the
// run.
type outputFile struct {
	flag    string // e.g. "-A/--all-samples", for errors
	f       *os.File
	created bool // by this run: removed if the run writes nothing
	write   func(io.Writer, *kit.Result) error
}

// outputFiles are the run's output files; the zero value has none.
type outputFiles []*outputFile

// open opens (creating, not yet truncating) the file path for flag,
// which write fills after the run.
func (o *outputFiles) open(flag, path string, write func(io.Writer, *kit.Result) error) error {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o666)
	if err != nil {
		return &kit.UsageError{Err: fmt.Errorf("%s: %w", flag, err)}
	}
	*o = append(*o, &outputFile{flag: flag, f: f, created: errors.Is(statErr, fs.ErrNotExist), write: write})
	return nil
}

// writeAll replaces each file's contents with its part of res and closes
// it; the first failure is returned.
func (o outputFiles) writeAll(res *kit.Result) error {
	var first error
	for _, of := range o {
		err := of.truncate()
		if err == nil {
			err = of.write(of.f, res)
		}
		if cerr := of.f.Close(); err == nil {
			err = cerr
		}
		if err != nil && first == nil {
			first = fmt.Errorf("%s: %w", of.flag, err)
		}
	}
	return first
}

// truncate empties a regular file (not a device such as /dev/null).
func (of *outputFile) truncate() error {
	fi, err := of.f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return err
	}
	return of.f.Truncate(0)
}

// discardAll closes the files unwritten, removing those this run created.
func (o outputFiles) discardAll() {
	for _, of := range o {
		of.f.Close()
		if of.created {
			os.Remove(of.f.Name())
		}
	}
}

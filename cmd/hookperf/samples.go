package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/hookperf/hookperf/kit"
)

// samplesFile is the -A file: opened before any traffic, so that a path
// that cannot be written is a usage error, and written after the run.
type samplesFile struct {
	f       *os.File
	created bool // by this run: removed if the run writes nothing
}

// openSamples opens (creating, not yet truncating) the -A file.
func openSamples(path string) (*samplesFile, error) {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o666)
	if err != nil {
		return nil, &kit.UsageError{Err: fmt.Errorf("-A/--all-samples: %w", err)}
	}
	return &samplesFile{f: f, created: errors.Is(statErr, fs.ErrNotExist)}, nil
}

// write replaces the file's contents with res's samples and closes it.
func (s *samplesFile) write(res *kit.Result) error {
	if s == nil {
		return nil
	}
	err := s.truncate()
	if err == nil {
		err = kit.WriteSamplesCSV(s.f, res)
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("-A/--all-samples: %w", err)
	}
	return nil
}

// truncate empties a regular file (not a device such as /dev/null).
func (s *samplesFile) truncate() error {
	fi, err := s.f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return err
	}
	return s.f.Truncate(0)
}

// discard closes the file unwritten, removing it if this run created it.
func (s *samplesFile) discard() {
	if s == nil {
		return
	}
	s.f.Close()
	if s.created {
		os.Remove(s.f.Name())
	}
}

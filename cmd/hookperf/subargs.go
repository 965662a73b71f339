package main

import (
	"fmt"
	"strings"
)

// argScanner walks the arguments of a subcommand (ab, compare): each
// argument as given, its flag name, and on request the flag's value,
// attached (--threshold=5) or the next argument (--threshold 5). A value
// that is missing is recorded in errs.
type argScanner struct {
	args []string
	i    int
	errs []error

	arg, name, attached string
	hasAttached         bool
	start               int // the current flag's index in args
}

// next moves to the next argument; false when there are no more.
func (s *argScanner) next() bool {
	if s.i >= len(s.args) {
		return false
	}
	s.arg = s.args[s.i]
	s.start = s.i
	s.i++
	s.name, s.attached, s.hasAttached = strings.Cut(s.arg, "=")
	return true
}

// value is the current flag's value, taking the next argument if none
// is attached.
func (s *argScanner) value() string {
	if s.hasAttached {
		return s.attached
	}
	if s.i < len(s.args) {
		s.i++
		return s.args[s.i-1]
	}
	s.errs = append(s.errs, fmt.Errorf("%s needs a value", s.name))
	return ""
}

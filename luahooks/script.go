package luahooks

import (
	"fmt"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Script is a compiled hook script. Compiling checks the syntax, so a
// broken script is refused before any traffic; the compiled prototype is
// read-only and serves every state that runs the script.
type Script struct {
	// Name is the chunk name in messages: the file name as given.
	Name  string
	proto *lua.FunctionProto
}

// LoadFile reads and compiles the script at path.
func LoadFile(path string) (*Script, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, &ScriptError{Msg: fmt.Sprintf("--script: %v", err)}
	}
	return LoadString(path, skipShebang(string(src)))
}

// skipShebang blanks a first line that starts with #, as Lua's own file
// loader does (#!/usr/bin/env hookperf…), keeping its newline so that
// line numbers in messages stay the file's.
func skipShebang(src string) string {
	if !strings.HasPrefix(src, "#") {
		return src
	}
	if i := strings.IndexByte(src, '\n'); i >= 0 {
		return src[i:]
	}
	return ""
}

// LoadString compiles a script held in src, called name in messages.
func LoadString(name, src string) (*Script, error) {
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		return nil, &ScriptError{Msg: syntaxMessage(name, src, err)}
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, &ScriptError{Msg: fmt.Sprintf("%s: %v", name, err)}
	}
	return &Script{Name: name, proto: proto}, nil
}

// syntaxMessage turns gopher-lua's parse error ("name line:3(column:5)
// near 'x': syntax error") into file:line: message.
func syntaxMessage(name, src string, err error) string {
	if pe, ok := err.(*parse.Error); ok {
		if pe.Pos.Line == parse.EOF {
			last := strings.Count(strings.TrimRight(src, "\n"), "\n") + 1
			return fmt.Sprintf("%s:%d: %s at the end of the file", name, last, pe.Message)
		}
		return fmt.Sprintf("%s:%d: %s near '%s'", name, pe.Pos.Line, pe.Message, pe.Token)
	}
	return fmt.Sprintf("%s: %v", name, err)
}

// ScriptError is a script that cannot run: unreadable, broken syntax, or
// failing before any traffic. The CLI exits with status 2 for it.
type ScriptError struct{ Msg string }

func (e *ScriptError) Error() string { return e.Msg }

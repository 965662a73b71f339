// Package luacopy copies Lua values from one gopher-lua state to another.
//
// hookperf gives each worker thread its own *lua.LState with copies of the
// script's hook functions and of everything they reach (upvalues, tables,
// metatables), taken when run() is called; after the run the collected values
// are copied back from every worker state into the main state. A compiled
// *lua.FunctionProto is read-only and is shared between the states; nothing
// mutable is.
//
// A Copier never writes to the source state, so several Copiers may read one
// source at the same time (e.g. one per worker), as long as nothing else runs
// in the source meanwhile: an open upvalue is read from the source's stack.
// A Copier itself is not safe for concurrent use, and the destination state
// must be idle while it works.
package luacopy

import (
	"fmt"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// CopyTo is implemented by the Go value of a userdata (ud.Value) that can be
// copied into another state. The result replaces the userdata in the
// destination; when it is a *lua.LUserData whose Metatable is unset (nil or
// lua.LNil), the source userdata's metatable is copied onto it.
type CopyTo interface {
	CopyTo(to *lua.LState) lua.LValue
}

// Copier copies values from one state to another, keeping identity: a table,
// function or upvalue reached twice (or in a cycle) is copied once and the copy
// is reused. Use one Copier for everything that goes from one source state to
// one destination state in one go (e.g. all hooks of one worker), so that what
// the hooks share stays shared in the copy.
type Copier struct {
	// IsWrapper, if set, recognises a collect() wrapper: it returns the wrapped value,
	// which is copied in the wrapper's place; where the copy lands is recorded in Slots.
	// It is called for every value that is not nil, a boolean, a number or a string.
	IsWrapper func(v lua.LValue) (inner lua.LValue, ok bool)
	// Slots lists, in the order met, where wrapped values landed in the destination.
	// (Within one table, the array part is met in order and the hash part in Go
	// map order.)
	Slots []Slot
	// GoFunction maps a Go function (IsG) of the source state to the destination's
	// equivalent; when it returns false the function value is shared as it is (a stateless
	// Go function is safe to share: it receives the calling state). See MatchGoFunctions.
	GoFunction func(fn *lua.LFunction) (*lua.LFunction, bool)

	from, to *lua.LState
	tables   map[*lua.LTable]*lua.LTable
	funcs    map[*lua.LFunction]*lua.LFunction
	upvals   map[*lua.Upvalue]*lua.Upvalue
	udata    map[*lua.LUserData]lua.LValue
	path     []seg // where the value being copied sits; rendered only for errors
}

// Slot is where a wrapped value landed in the destination: an upvalue, or a table field.
//
// A wrapper handed to Copy itself has no place yet: its Slot has neither
// Upvalue nor Table, and Value returns the copy Copy returned. The caller that
// stores that copy should set Table and Key (or Upvalue), or use CopyField.
type Slot struct {
	Wrapper lua.LValue   // the wrapper in the source
	Upvalue *lua.Upvalue // set when it landed in an upvalue
	Table   *lua.LTable  // set when it landed in a table field (incl. the globals table)...
	Key     lua.LValue   // ...under this key (already copied)

	value lua.LValue // the copy, for a slot with no place
}

// Value reads a slot's current value in the destination state.
func (s Slot) Value() lua.LValue {
	switch {
	case s.Upvalue != nil:
		return s.Upvalue.Value()
	case s.Table != nil:
		return s.Table.RawGet(s.Key)
	case s.value != nil:
		return s.value
	}
	return lua.LNil
}

// CopyError is returned for a value that cannot be copied; its message names the path,
// e.g. `cannot copy a coroutine (thread) in upvalue co of client_sendmsg: field "x"[3]`.
type CopyError struct{ Path, Kind string }

func (e *CopyError) Error() string {
	return "cannot copy " + e.Kind + " in " + e.Path
}

// New returns a Copier from state from to state to.
func New(from, to *lua.LState) *Copier {
	return &Copier{
		from:   from,
		to:     to,
		tables: make(map[*lua.LTable]*lua.LTable),
		funcs:  make(map[*lua.LFunction]*lua.LFunction),
		upvals: make(map[*lua.Upvalue]*lua.Upvalue),
		udata:  make(map[*lua.LUserData]lua.LValue),
	}
}

// Map pre-seeds the copier: source table from is copied as the existing table to (its
// contents are NOT copied by Map) — used for the globals table, so that a function's Env
// (the source globals) becomes the destination's globals. It also suits tables both
// states hold their own version of, such as a userdata type's metatable.
func (c *Copier) Map(from, to *lua.LTable) {
	c.tables[from] = to
}

// MapUserData pre-seeds the copier: source userdata from is copied as to, a
// value of the destination (e.g. io.stdout as the destination's io.stdout, which
// otherwise, being an open file, cannot be copied).
func (c *Copier) MapUserData(from *lua.LUserData, to lua.LValue) {
	c.udata[from] = to
}

// Copy copies v; name says what v is, for errors ("upvalue stats of client_recvmsg", "global cfg").
//
// If v is itself a wrapper, its copied inner value is returned and a Slot
// without a place is recorded (see Slot). After an error, discard the Copier:
// what it has copied so far is incomplete.
func (c *Copier) Copy(v lua.LValue, name string) (lua.LValue, error) {
	c.path = append(c.path[:0], seg{kind: segRoot, name: name})
	n := len(c.Slots)
	cv, err := c.value(v, landing{})
	if err != nil {
		return lua.LNil, err
	}
	for i := n; i < len(c.Slots); i++ {
		if s := &c.Slots[i]; s.Upvalue == nil && s.Table == nil {
			s.value = cv
		}
	}
	return cv, nil
}

// CopyField copies key and v and stores the copies (raw) in dst, a destination
// table: the way to copy a global (dst is then the destination's globals) so
// that a wrapper in it is recorded with its place. name is as for Copy.
func (c *Copier) CopyField(dst *lua.LTable, key, v lua.LValue, name string) error {
	c.path = append(c.path[:0], seg{kind: segRoot, name: name})
	ck, err := c.key(key)
	if err != nil {
		return err
	}
	cv, err := c.value(v, landing{table: dst, key: ck})
	if err != nil {
		return err
	}
	dst.RawSet(ck, cv)
	return nil
}

// landing says where the copy of a value will be stored, for Slots.
type landing struct {
	upvalue *lua.Upvalue
	table   *lua.LTable
	key     lua.LValue
	nowrap  string // non-empty: a wrapper may not stand here; says where this is
}

func (c *Copier) value(v lua.LValue, at landing) (lua.LValue, error) {
	if v == nil { // e.g. a zero lua.Upvalue{} never set
		return lua.LNil, nil
	}
	switch v.Type() {
	case lua.LTNil, lua.LTBool, lua.LTNumber, lua.LTString:
		return v, nil
	}
	if c.IsWrapper != nil {
		if inner, ok := c.IsWrapper(v); ok {
			if at.nowrap != "" {
				return lua.LNil, c.fail("a collect() wrapper " + at.nowrap)
			}
			c.Slots = append(c.Slots, Slot{Wrapper: v, Upvalue: at.upvalue, Table: at.table, Key: at.key})
			return c.value(inner, at)
		}
	}
	switch v := v.(type) {
	case *lua.LTable:
		return c.table(v)
	case *lua.LFunction:
		return c.function(v)
	case *lua.LUserData:
		return c.userdata(v)
	case *lua.LState:
		return lua.LNil, c.fail("a coroutine (thread)")
	case lua.LChannel:
		return lua.LNil, c.fail("a channel")
	}
	return lua.LNil, c.fail(fmt.Sprintf("a value of type %s (%T)", v.Type(), v))
}

func (c *Copier) key(k lua.LValue) (lua.LValue, error) {
	switch k.Type() {
	case lua.LTNumber, lua.LTString, lua.LTBool:
		return k, nil
	}
	c.push(seg{kind: segKey})
	ck, err := c.value(k, landing{nowrap: "as a table key"})
	c.pop()
	return ck, err
}

func (c *Copier) table(t *lua.LTable) (lua.LValue, error) {
	if nt, ok := c.tables[t]; ok {
		return nt, nil
	}
	nt := c.to.CreateTable(t.Len(), 0)
	c.tables[t] = nt
	if mt := t.Metatable; mt != nil && mt != lua.LNil {
		c.push(seg{kind: segMeta})
		cmt, err := c.value(mt, landing{nowrap: "as a metatable"})
		c.pop()
		if err != nil {
			return lua.LNil, err
		}
		nt.Metatable = cmt
	}
	var err error
	t.ForEach(func(k, v lua.LValue) {
		if err != nil {
			return
		}
		var ck, cv lua.LValue
		if ck, err = c.key(k); err != nil {
			return
		}
		c.push(seg{kind: segField, key: k})
		cv, err = c.value(v, landing{table: nt, key: ck})
		c.pop()
		if err == nil {
			nt.RawSet(ck, cv)
		}
	})
	if err != nil {
		return lua.LNil, err
	}
	return nt, nil
}

func (c *Copier) function(fn *lua.LFunction) (lua.LValue, error) {
	if nf, ok := c.funcs[fn]; ok {
		return nf, nil
	}
	if fn.IsG {
		if c.GoFunction != nil {
			if nf, ok := c.GoFunction(fn); ok && nf != nil {
				c.funcs[fn] = nf
				return nf, nil
			}
		}
		return fn, nil
	}
	nf := &lua.LFunction{Proto: fn.Proto, Upvalues: make([]*lua.Upvalue, len(fn.Upvalues))}
	c.funcs[fn] = nf
	if fn.Env != nil {
		c.push(seg{kind: segEnv})
		env, err := c.value(fn.Env, landing{nowrap: "as an environment"})
		c.pop()
		if err != nil {
			return lua.LNil, err
		}
		nf.Env = env.(*lua.LTable) // the copy of a table is a table
	}
	for i, uv := range fn.Upvalues {
		if uv == nil {
			continue
		}
		if nuv, ok := c.upvals[uv]; ok {
			nf.Upvalues[i] = nuv
			continue
		}
		nuv := &lua.Upvalue{} // closed; holds its value itself
		c.upvals[uv] = nuv
		nf.Upvalues[i] = nuv
		c.push(seg{kind: segUpvalue, name: upvalueName(fn.Proto, i)})
		v, err := c.value(uv.Value(), landing{upvalue: nuv})
		c.pop()
		if err != nil {
			return lua.LNil, err
		}
		nuv.SetValue(v)
	}
	return nf, nil
}

func (c *Copier) userdata(ud *lua.LUserData) (lua.LValue, error) {
	if nv, ok := c.udata[ud]; ok {
		return nv, nil
	}
	cp, ok := ud.Value.(CopyTo)
	if !ok {
		if fmt.Sprintf("%T", ud.Value) == "*lua.lFile" {
			return lua.LNil, c.fail("an open file (userdata)")
		}
		return lua.LNil, c.fail(fmt.Sprintf("a userdata (%T)", ud.Value))
	}
	nv := cp.CopyTo(c.to)
	if nv == nil {
		nv = lua.LNil
	}
	c.udata[ud] = nv
	if nud, ok := nv.(*lua.LUserData); ok && (nud.Metatable == nil || nud.Metatable == lua.LNil) &&
		ud.Metatable != nil && ud.Metatable != lua.LNil {
		c.push(seg{kind: segMeta})
		mt, err := c.value(ud.Metatable, landing{nowrap: "as a metatable"})
		c.pop()
		if err != nil {
			return lua.LNil, err
		}
		nud.Metatable = mt
	}
	return nv, nil
}

func upvalueName(p *lua.FunctionProto, i int) string {
	if p != nil && i < len(p.DbgUpvalues) && p.DbgUpvalues[i] != "" {
		return p.DbgUpvalues[i]
	}
	return "#" + strconv.Itoa(i+1)
}

// Path segments, kept as a stack while copying and rendered only for an error.

type segKind uint8

const (
	segRoot    segKind = iota // name
	segField                  // value under key
	segKey                    // a key of the table
	segMeta                   // metatable
	segEnv                    // function environment
	segUpvalue                // upvalue name
)

type seg struct {
	kind segKind
	name string
	key  lua.LValue
}

func (c *Copier) push(s seg) { c.path = append(c.path, s) }
func (c *Copier) pop()       { c.path = c.path[:len(c.path)-1] }

func (c *Copier) fail(kind string) error {
	return &CopyError{Path: renderPath(c.path), Kind: kind}
}

// renderPath renders e.g. `upvalue co of client_sendmsg: field "x"[3]`.
func renderPath(path []seg) string {
	var b strings.Builder
	inFields := false
	for _, s := range path {
		switch s.kind {
		case segRoot:
			b.WriteString(s.name)
			inFields = false
		case segField:
			if inFields {
				b.WriteString("[" + keyString(s.key) + "]")
			} else {
				b.WriteString(": field " + keyString(s.key))
				inFields = true
			}
		default:
			var prefix string
			switch s.kind {
			case segKey:
				prefix = "a key of "
			case segMeta:
				prefix = "metatable of "
			case segEnv:
				prefix = "environment of "
			case segUpvalue:
				prefix = "upvalue " + s.name + " of "
			}
			rest := b.String()
			b.Reset()
			b.WriteString(prefix + rest)
			inFields = false
		}
	}
	return b.String()
}

func keyString(k lua.LValue) string {
	switch k := k.(type) {
	case lua.LString:
		return strconv.Quote(string(k))
	case lua.LNumber, lua.LBool:
		return k.String()
	}
	return k.Type().String()
}

// MatchGoFunctions returns a function for Copier.GoFunction that maps a Go
// function of the source state to the Go function found at the same place in
// the destination: under the same name in the globals tables from and to, or
// in a table reached from them by string keys (io.write, string.format,
// S.c...), to the given depth. Sharing such functions across states would be
// wrong for some: gopher-lua's io functions keep the state's default files in
// an upvalue, and require() reads package from the function's Env (the
// source's globals).
func MatchGoFunctions(from, to *lua.LTable, depth int) func(fn *lua.LFunction) (*lua.LFunction, bool) {
	m := make(map[*lua.LFunction]*lua.LFunction)
	seen := make(map[*lua.LTable]bool)
	var walk func(f, t *lua.LTable, d int)
	walk = func(f, t *lua.LTable, d int) {
		if seen[f] {
			return
		}
		seen[f] = true
		f.ForEach(func(k, v lua.LValue) {
			if _, ok := k.(lua.LString); !ok {
				return
			}
			switch v := v.(type) {
			case *lua.LFunction:
				if w, ok := t.RawGet(k).(*lua.LFunction); ok && v.IsG && w.IsG {
					if _, dup := m[v]; !dup {
						m[v] = w
					}
				}
			case *lua.LTable:
				if w, ok := t.RawGet(k).(*lua.LTable); ok && d > 0 {
					walk(v, w, d-1)
				}
			}
		})
	}
	walk(from, to, depth)
	return func(fn *lua.LFunction) (*lua.LFunction, bool) {
		nf, ok := m[fn]
		return nf, ok
	}
}

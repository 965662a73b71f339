package luacopy

import (
	"fmt"
	"sync"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// Protos of functions with 0..3 upvalues that return their upvalues, compiled
// once and shared by all states (a FunctionProto is read-only).
var (
	protosOnce sync.Once
	protos     [4]*lua.FunctionProto
)

func upvalueProtos(t testing.TB) [4]*lua.FunctionProto {
	protosOnce.Do(func() {
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		defer L.Close()
		fn, err := L.LoadString(`local a, b, c
			return function() return end, function() return a end,
				function() return a, b end, function() return a, b, c end`)
		if err != nil {
			panic(err)
		}
		L.Push(fn)
		L.Call(0, 4)
		for i := range protos {
			protos[i] = L.Get(i + 1).(*lua.LFunction).Proto
		}
	})
	return protos
}

// builder builds a random value graph in a state from fuzz input.
type builder struct {
	data   []byte
	pos    int
	env    *lua.LTable
	protos [4]*lua.FunctionProto
	tables []*lua.LTable
	funcs  []*lua.LFunction
	uvs    []*lua.Upvalue
}

func (b *builder) more() bool { return b.pos < len(b.data) }

func (b *builder) next() byte {
	if b.pos >= len(b.data) {
		return 0
	}
	b.pos++
	return b.data[b.pos-1]
}

func (b *builder) newTable() *lua.LTable {
	t := &lua.LTable{Metatable: lua.LNil}
	b.tables = append(b.tables, t)
	return t
}

func (b *builder) table() *lua.LTable {
	if len(b.tables) == 0 || b.next()%8 == 0 {
		return b.newTable()
	}
	return b.tables[int(b.next())%len(b.tables)]
}

func (b *builder) upvalue() *lua.Upvalue {
	if len(b.uvs) == 0 || b.next()%4 == 0 {
		uv := &lua.Upvalue{}
		uv.SetValue(lua.LNumber(len(b.uvs)))
		b.uvs = append(b.uvs, uv)
		return uv
	}
	return b.uvs[int(b.next())%len(b.uvs)]
}

func (b *builder) newFunc() *lua.LFunction {
	n := int(b.next() % 4)
	f := &lua.LFunction{Proto: b.protos[n], Env: b.env, Upvalues: make([]*lua.Upvalue, n)}
	for i := range f.Upvalues {
		f.Upvalues[i] = b.upvalue()
	}
	b.funcs = append(b.funcs, f)
	return f
}

func (b *builder) function() *lua.LFunction {
	if len(b.funcs) == 0 || b.next()%4 == 0 {
		return b.newFunc()
	}
	return b.funcs[int(b.next())%len(b.funcs)]
}

func (b *builder) str() lua.LString {
	n := int(b.next() % 4)
	s := make([]byte, n)
	for i := range s {
		s[i] = 'a' + b.next()%3
	}
	return lua.LString(s)
}

func (b *builder) value(depth int) lua.LValue {
	switch b.next() % 10 {
	case 0:
		return lua.LBool(b.next()&1 == 1)
	case 1:
		return lua.LNumber(int8(b.next()))
	case 2:
		return lua.LNumber(float64(int8(b.next())) / 8)
	case 3:
		return b.str()
	case 4, 5:
		return b.table()
	case 6:
		return b.function()
	case 7:
		return b.newTable()
	case 8:
		if depth < 3 {
			ud := &lua.LUserData{Value: &wrap{b.value(depth + 1)}, Metatable: lua.LNil}
			return ud
		}
		return lua.LNumber(8)
	default:
		return b.newFunc()
	}
}

func (b *builder) key() lua.LValue {
	switch b.next() % 6 {
	case 0:
		return lua.LNumber(1 + b.next()%8)
	case 1:
		return lua.LNumber(float64(int8(b.next())) / 2)
	case 2:
		return b.str()
	case 3:
		return lua.LBool(b.next()&1 == 1)
	case 4:
		return b.table()
	default:
		return b.function()
	}
}

// build runs the input as a program and returns a root table listing every
// table and function built (each is also reachable otherwise, or not).
func (b *builder) build() *lua.LTable {
	for ops := 0; b.more() && ops < 300; ops++ {
		switch b.next() % 7 {
		case 0:
			b.newTable()
		case 1, 6:
			t, k, v := b.table(), b.key(), b.value(0)
			t.RawSet(k, v)
		case 2:
			uv := &lua.Upvalue{}
			if b.next()%2 == 0 {
				uv.SetValue(b.value(0))
			}
			b.uvs = append(b.uvs, uv)
		case 3:
			b.newFunc()
		case 4:
			b.upvalue().SetValue(b.value(0))
		case 5:
			t := b.table()
			if b.next()%3 == 0 {
				t.Metatable = lua.LNil
			} else {
				t.Metatable = b.table()
			}
		}
	}
	root := &lua.LTable{Metatable: lua.LNil}
	for _, t := range b.tables {
		root.Append(t)
	}
	for _, f := range b.funcs {
		root.Append(f)
	}
	return root
}

// checkCopy checks that droot, a copy of sroot made by c, is isomorphic to it;
// wrapped says whether sroot may hold wrappers (then Slots are checked too).
func checkCopy(sroot, droot lua.LValue, srcG, dstG *lua.LTable, c *Copier, dst *lua.LState) error {
	st, dt := sroot.(*lua.LTable), droot.(*lua.LTable)
	if st.Len() != dt.Len() {
		return fmt.Errorf("root length %d copied as %d", st.Len(), dt.Len())
	}
	k := newIso(srcG, dstG)
	// Pre-bind every listed table and function so that table keys can be
	// matched; check then verifies each pair in depth.
	for i := 1; i <= st.Len(); i++ {
		a, b := st.RawGetInt(i), dt.RawGetInt(i)
		if a.Type() != b.Type() {
			return fmt.Errorf("root[%d]: %s copied as %s", i, a.Type(), b.Type())
		}
		if f, ok := k.fwd[a]; ok && f != b {
			return fmt.Errorf("root[%d]: copied twice", i)
		}
		if f, ok := k.bwd[b]; ok && f != a {
			return fmt.Errorf("root[%d]: is the copy of two values", i)
		}
		k.fwd[a], k.bwd[b] = b, a
	}
	if err := k.check(sroot, droot, "root"); err != nil {
		return err
	}
	if err := k.disjoint(); err != nil {
		return err
	}
	if k.wrappers != len(c.Slots) {
		return fmt.Errorf("%d wrappers met, %d slots", k.wrappers, len(c.Slots))
	}
	for i, s := range c.Slots {
		inner := s.Wrapper
		for {
			in, ok := isWrapper(inner)
			if !ok {
				break
			}
			inner = in
		}
		want := inner
		switch inner.Type() {
		case lua.LTTable, lua.LTFunction:
			want = k.fwd[inner].(lua.LValue)
		}
		if got := s.Value(); got != want {
			return fmt.Errorf("slot %d: value %v, want %v", i, got, want)
		}
		switch {
		case s.Upvalue != nil:
			if _, ok := k.bwd[s.Upvalue]; !ok {
				return fmt.Errorf("slot %d: upvalue not a copied one", i)
			}
		case s.Table != nil:
			if _, ok := k.bwd[s.Table]; !ok {
				return fmt.Errorf("slot %d: table not a copied one", i)
			}
		default:
			return fmt.Errorf("slot %d: no place", i)
		}
	}
	// Every copied function runs in the destination and returns its upvalues.
	for i := 1; i <= dt.Len(); i++ {
		f, ok := dt.RawGetInt(i).(*lua.LFunction)
		if !ok {
			continue
		}
		top := dst.GetTop()
		if err := dst.CallByParam(lua.P{Fn: f, NRet: len(f.Upvalues), Protect: true}); err != nil {
			return fmt.Errorf("root[%d]: %v", i, err)
		}
		for j, uv := range f.Upvalues {
			if got := dst.Get(top + 1 + j); got != uv.Value() {
				return fmt.Errorf("root[%d] returned %v for upvalue %d = %v", i, got, j, uv.Value())
			}
		}
		dst.SetTop(top)
	}
	return nil
}

func FuzzCopy(f *testing.F) {
	for _, seed := range [][]byte{
		{},
		{0, 1, 0, 0, 4, 0, 4, 0},
		{3, 3, 3, 1, 4, 0, 6, 0, 9, 2, 1, 8, 7},
		{1, 4, 0, 0, 2, 4, 0, 0, 1, 1, 4, 0, 0, 5, 0},
		[]byte("the quick brown fox jumps over the lazy dog, twice: the quick brown fox"),
		{6, 2, 0, 8, 8, 8, 4, 0, 2, 0, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 9, 9},
	} {
		f.Add(seed)
	}
	pr := upvalueProtos(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		// Small states: NewState's default stack and registry dominate the
		// cost of an exec otherwise.
		opts := lua.Options{SkipOpenLibs: true, CallStackSize: 8, RegistrySize: 64}
		from := lua.NewState(opts)
		defer from.Close()
		to := lua.NewState(opts)
		defer to.Close()
		back := lua.NewState(opts)
		defer back.Close()

		b := &builder{data: data, env: from.G.Global, protos: pr}
		sroot := b.build()

		c := New(from, to)
		c.IsWrapper = isWrapper
		c.Map(from.G.Global, to.G.Global)
		droot, err := c.Copy(sroot, "root")
		if err != nil {
			t.Fatalf("copy: %v", err)
		}
		if err := checkCopy(sroot, droot, from.G.Global, to.G.Global, c, to); err != nil {
			t.Fatalf("copy: %v", err)
		}

		// And back again (no wrappers left).
		c2 := New(to, back)
		c2.IsWrapper = isWrapper
		c2.Map(to.G.Global, back.G.Global)
		broot, err := c2.Copy(droot, "root")
		if err != nil {
			t.Fatalf("copy back: %v", err)
		}
		if err := checkCopy(droot, broot, to.G.Global, back.G.Global, c2, back); err != nil {
			t.Fatalf("copy back: %v", err)
		}
	})
}

package lsys

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// Classic BPF programs, the Lua way to write what rushit's
// reuseport-cbpf.lua built with FFI types:
//
//	local prog = bpf_prog{
//	  {op = "LD,W,ABS", k = SKF_AD_OFF + SKF_AD_CPU}, -- A = #cpu
//	  {op = "ALU,MOD,K", k = 16},                     -- A = A % 16
//	  {op = "RET,A"},                                 -- return A
//	}
//	assert(setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, prog))
//
// An instruction is a table {op=, k=, jt=, jf=} (op: BPF_* names joined by
// commas, as ljsyscall's sock_filter takes them) or {code=, k=, jt=, jf=}
// (a numeric opcode), a list {op, k, jt, jf}, or a sock_filter(op, k, jt,
// jf) object. bpf_prog checks what the kernel would refuse: unknown
// opcodes, jumps out of the program, scratch memory slots past 15, division
// by a zero constant, a last instruction other than RET.

type sockFilter struct{ f unix.SockFilter }

// CopyTo implements the engine's cross-state copy.
func (s *sockFilter) CopyTo(to *lua.LState) lua.LValue { return udTo(to, tFilter, &sockFilter{s.f}) }

type bpfProg struct{ insns []unix.SockFilter }

// CopyTo implements the engine's cross-state copy.
func (p *bpfProg) CopyTo(to *lua.LState) lua.LValue {
	return udTo(to, tProg, &bpfProg{append([]unix.SockFilter(nil), p.insns...)})
}

func (p *bpfProg) attach(fd, level, name int) error {
	return unix.SetsockoptSockFprog(fd, level, name, &unix.SockFprog{Len: uint16(len(p.insns)), Filter: &p.insns[0]})
}

// validOps are the classic BPF opcodes the kernel accepts.
var validOps = func() map[uint16]bool {
	m := map[uint16]bool{}
	add := func(codes ...int) {
		for _, c := range codes {
			m[uint16(c)] = true
		}
	}
	for _, op := range []int{unix.BPF_ADD, unix.BPF_SUB, unix.BPF_MUL, unix.BPF_DIV, unix.BPF_MOD,
		unix.BPF_AND, unix.BPF_OR, unix.BPF_XOR, unix.BPF_LSH, unix.BPF_RSH} {
		add(unix.BPF_ALU|op|unix.BPF_K, unix.BPF_ALU|op|unix.BPF_X)
	}
	add(unix.BPF_ALU | unix.BPF_NEG)
	for _, size := range []int{unix.BPF_W, unix.BPF_H, unix.BPF_B} {
		add(unix.BPF_LD|size|unix.BPF_ABS, unix.BPF_LD|size|unix.BPF_IND)
	}
	add(unix.BPF_LD|unix.BPF_W|unix.BPF_LEN, unix.BPF_LD|unix.BPF_IMM, unix.BPF_LD|unix.BPF_MEM,
		unix.BPF_LDX|unix.BPF_W|unix.BPF_LEN, unix.BPF_LDX|unix.BPF_B|unix.BPF_MSH,
		unix.BPF_LDX|unix.BPF_IMM, unix.BPF_LDX|unix.BPF_MEM,
		unix.BPF_ST, unix.BPF_STX,
		unix.BPF_MISC|unix.BPF_TAX, unix.BPF_MISC|unix.BPF_TXA,
		unix.BPF_RET|unix.BPF_K, unix.BPF_RET|unix.BPF_A,
		unix.BPF_JMP|unix.BPF_JA)
	for _, op := range []int{unix.BPF_JEQ, unix.BPF_JGT, unix.BPF_JGE, unix.BPF_JSET} {
		add(unix.BPF_JMP|op|unix.BPF_K, unix.BPF_JMP|op|unix.BPF_X)
	}
	return m
}()

// opCode reads an opcode: a number or BPF_* names ("LD,W,ABS").
func opCode(v lua.LValue) (uint16, error) {
	switch v := v.(type) {
	case lua.LNumber:
		if v < 0 || v > 0xffff {
			return 0, fmt.Errorf("opcode %v out of range", v)
		}
		return uint16(v), nil
	case lua.LString:
		c, err := grpBPF.parse(string(v))
		if err != nil {
			return 0, err
		}
		if !validOps[uint16(c)] {
			return 0, fmt.Errorf("%q is not a classic BPF instruction", string(v))
		}
		return uint16(c), nil
	}
	return 0, fmt.Errorf("opcode (string or number) expected, got %s", typeName(v))
}

func u8Field(v lua.LValue, what string) (uint8, error) {
	switch v := v.(type) {
	case *lua.LNilType:
		return 0, nil
	case lua.LNumber:
		if v < 0 || v > 255 || v != lua.LNumber(int(v)) {
			return 0, fmt.Errorf("%s %v out of range 0..255", what, v)
		}
		return uint8(v), nil
	}
	return 0, fmt.Errorf("%s: number expected, got %s", what, typeName(v))
}

func kField(v lua.LValue) (uint32, error) {
	switch v := v.(type) {
	case *lua.LNilType:
		return 0, nil
	case lua.LNumber:
		if v < -(1<<31) || v > 0xffffffff || v != lua.LNumber(int64(v)) {
			return 0, fmt.Errorf("k %v is not a 32-bit integer", v)
		}
		return uint32(int64(v)), nil
	}
	return 0, fmt.Errorf("k: number expected, got %s", typeName(v))
}

// makeInsn builds an instruction from its four parts.
func makeInsn(code, k, jt, jf lua.LValue) (unix.SockFilter, error) {
	var f unix.SockFilter
	var err error
	if f.Code, err = opCode(code); err != nil {
		return f, err
	}
	if f.K, err = kField(k); err != nil {
		return f, err
	}
	if f.Jt, err = u8Field(jt, "jt"); err != nil {
		return f, err
	}
	if f.Jf, err = u8Field(jf, "jf"); err != nil {
		return f, err
	}
	return f, nil
}

// insnOf reads one instruction of a program.
func insnOf(L *lua.LState, v lua.LValue) (unix.SockFilter, error) {
	switch v := v.(type) {
	case *lua.LUserData:
		if s, ok := v.Value.(*sockFilter); ok {
			return s.f, nil
		}
	case *lua.LTable:
		code := v.RawGetString("op")
		if code == lua.LNil {
			code = v.RawGetString("code")
		}
		if code != lua.LNil {
			return makeInsn(code, v.RawGetString("k"), v.RawGetString("jt"), v.RawGetString("jf"))
		}
		return makeInsn(v.RawGetInt(1), v.RawGetInt(2), v.RawGetInt(3), v.RawGetInt(4))
	}
	return unix.SockFilter{}, fmt.Errorf("instruction (table or sock_filter) expected, got %s", typeName(v))
}

// checkProg checks a program as the kernel's classic BPF checker would.
func checkProg(insns []unix.SockFilter) error {
	n := len(insns)
	if n == 0 || n > unix.BPF_MAXINSNS {
		return fmt.Errorf("a program has 1 to %d instructions, not %d", unix.BPF_MAXINSNS, n)
	}
	for pc, f := range insns {
		if !validOps[f.Code] {
			return fmt.Errorf("instruction %d: opcode %#x is not classic BPF", pc+1, f.Code)
		}
		switch f.Code {
		case unix.BPF_ALU | unix.BPF_DIV | unix.BPF_K, unix.BPF_ALU | unix.BPF_MOD | unix.BPF_K:
			if f.K == 0 {
				return fmt.Errorf("instruction %d: division by zero", pc+1)
			}
		case unix.BPF_LD | unix.BPF_MEM, unix.BPF_LDX | unix.BPF_MEM, unix.BPF_ST, unix.BPF_STX:
			if f.K >= unix.BPF_MEMWORDS {
				return fmt.Errorf("instruction %d: memory slot %d past %d", pc+1, f.K, unix.BPF_MEMWORDS-1)
			}
		case unix.BPF_JMP | unix.BPF_JA:
			if uint64(pc)+1+uint64(f.K) >= uint64(n) {
				return fmt.Errorf("instruction %d: jump past the end", pc+1)
			}
		default:
			if f.Code&0x07 == unix.BPF_JMP && (pc+1+int(f.Jt) >= n || pc+1+int(f.Jf) >= n) {
				return fmt.Errorf("instruction %d: jump past the end", pc+1)
			}
		}
	}
	if last := insns[n-1].Code; last != unix.BPF_RET|unix.BPF_K && last != unix.BPF_RET|unix.BPF_A {
		return fmt.Errorf("the last instruction must be a RET")
	}
	return nil
}

// progFromTable builds a checked program from a list of instructions
// (argument n, for errors).
func progFromTable(L *lua.LState, t *lua.LTable, n int) *bpfProg {
	p := &bpfProg{}
	for i := 1; i <= t.Len(); i++ {
		f, err := insnOf(L, t.RawGetInt(i))
		if err != nil {
			L.ArgError(n, fmt.Sprintf("instruction %d: %v", i, err))
		}
		p.insns = append(p.insns, f)
	}
	if err := checkProg(p.insns); err != nil {
		L.ArgError(n, err.Error())
	}
	return p
}

// sock_filter(op, k, jt, jf)
func newSockFilter(st *state, L *lua.LState) int {
	f, err := makeInsn(L.Get(1), L.Get(2), L.Get(3), L.Get(4))
	if err != nil {
		L.RaiseError("sock_filter: %v", err)
	}
	L.Push(st.newUD(L, tFilter, &sockFilter{f}))
	return 1
}

// bpf_prog{insn...} (also S.t.sock_fprog)
func newBPFProg(st *state, L *lua.LState) int {
	t, ok := L.Get(1).(*lua.LTable)
	if !ok {
		L.ArgError(1, "list of instructions expected, got "+typeName(L.Get(1)))
	}
	L.Push(st.newUD(L, tProg, progFromTable(L, t, 1)))
	return 1
}

func (st *state) initBPFTypes(L *lua.LState) {
	st.setMeta(st.mt[tFilter], map[string]func(*state, *lua.LState) int{
		"__index": func(st *state, L *lua.LState) int {
			s := checkUD[*sockFilter](L, 1, "sock_filter")
			switch k := L.CheckString(2); k {
			case "code":
				L.Push(Int(int(s.f.Code)))
			case "jt":
				L.Push(Int(int(s.f.Jt)))
			case "jf":
				L.Push(Int(int(s.f.Jf)))
			case "k":
				L.Push(lua.LNumber(s.f.K))
			default:
				L.RaiseError("sock_filter has no field %q", k)
			}
			return 1
		},
		"__tostring": func(st *state, L *lua.LState) int {
			s := checkUD[*sockFilter](L, 1, "sock_filter")
			L.Push(lua.LString(fmt.Sprintf("{ %#04x, %d, %d, %#08x }", s.f.Code, s.f.Jt, s.f.Jf, s.f.K)))
			return 1
		},
	})
	st.setMeta(st.mt[tProg], map[string]func(*state, *lua.LState) int{
		"__index": func(st *state, L *lua.LState) int {
			p := checkUD[*bpfProg](L, 1, "bpf_prog")
			i := L.CheckInt(2)
			if i < 0 || i >= len(p.insns) {
				L.RaiseError("bpf_prog: index %d out of bounds (%d instructions)", i, len(p.insns))
			}
			L.Push(st.newUD(L, tFilter, &sockFilter{p.insns[i]}))
			return 1
		},
		"__len": func(st *state, L *lua.LState) int {
			L.Push(Int(len(checkUD[*bpfProg](L, 1, "bpf_prog").insns)))
			return 1
		},
		"__tostring": func(st *state, L *lua.LState) int {
			L.Push(lua.LString(fmt.Sprintf("bpf_prog: %d instructions", len(checkUD[*bpfProg](L, 1, "bpf_prog").insns))))
			return 1
		},
	})
}

package lsys

import (
	"math"
	"math/bits"

	lua "github.com/yuin/gopher-lua"
)

// The bit library as LuaJIT has it (https://bitop.luajit.org/api.html):
// operations on 32-bit integers, results normalised to signed 32 bits.

// tobit normalises a number to a signed 32-bit integer as LuaJIT does:
// round to nearest (even), then keep the low 32 bits.
func tobit(x float64) int32 {
	return int32(uint32(math.Float64bits(x + 6755399441055744.0))) // 2^52 + 2^51
}

func bitArg(L *lua.LState, n int) int32 { return tobit(float64(L.CheckNumber(n))) }

func pushBit(L *lua.LState, x int32) int {
	L.Push(Int(int(x)))
	return 1
}

func openBit(L *lua.LState, st *state) *lua.LTable {
	variadic := func(op func(a, b int32) int32) func(*state, *lua.LState) int {
		return func(_ *state, L *lua.LState) int {
			x := bitArg(L, 1)
			for i := 2; i <= L.GetTop(); i++ {
				x = op(x, bitArg(L, i))
			}
			return pushBit(L, x)
		}
	}
	shift := func(op func(x int32, n uint) int32) func(*state, *lua.LState) int {
		return func(_ *state, L *lua.LState) int {
			return pushBit(L, op(bitArg(L, 1), uint(bitArg(L, 2)&31)))
		}
	}
	fns := map[string]func(*state, *lua.LState) int{
		"tobit": func(_ *state, L *lua.LState) int { return pushBit(L, bitArg(L, 1)) },
		"bnot":  func(_ *state, L *lua.LState) int { return pushBit(L, ^bitArg(L, 1)) },
		"band":  variadic(func(a, b int32) int32 { return a & b }),
		"bor":   variadic(func(a, b int32) int32 { return a | b }),
		"bxor":  variadic(func(a, b int32) int32 { return a ^ b }),
		"lshift": shift(func(x int32, n uint) int32 {
			return int32(uint32(x) << n)
		}),
		"rshift": shift(func(x int32, n uint) int32 {
			return int32(uint32(x) >> n)
		}),
		"arshift": shift(func(x int32, n uint) int32 { return x >> n }),
		"rol": shift(func(x int32, n uint) int32 {
			return int32(bits.RotateLeft32(uint32(x), int(n)))
		}),
		"ror": shift(func(x int32, n uint) int32 {
			return int32(bits.RotateLeft32(uint32(x), -int(n)))
		}),
		"bswap": func(_ *state, L *lua.LState) int {
			return pushBit(L, int32(bits.ReverseBytes32(uint32(bitArg(L, 1)))))
		},
		"tohex": func(_ *state, L *lua.LState) int {
			x := uint32(bitArg(L, 1))
			n := 8
			if L.GetTop() >= 2 {
				n = int(bitArg(L, 2))
			}
			digits := "0123456789abcdef"
			if n < 0 {
				n, digits = -n, "0123456789ABCDEF"
			}
			n = min(n, 8)
			buf := make([]byte, n)
			for i := n - 1; i >= 0; i-- {
				buf[i] = digits[x&15]
				x >>= 4
			}
			L.Push(lua.LString(buf))
			return 1
		},
	}
	t := L.NewTable()
	for name, f := range fns {
		t.RawSetString(name, st.fn(f))
	}
	return t
}

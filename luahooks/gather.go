package luahooks

import (
	"fmt"
	"sort"

	lua "github.com/yuin/gopher-lua"
)

// gather copies each worker's collected values back into the main state:
// every collect() wrapper becomes a table with one entry per worker, in
// worker order, holding that worker's final value (or its starting value
// if no hook of the worker reached it).
func (e *engine) gather() error {
	if len(e.wrappers) == 0 {
		return nil
	}
	n := len(e.workers)
	values := make(map[*lua.LTable][]lua.LValue, len(e.wrappers))
	for _, w := range e.wrappers {
		values[w] = make([]lua.LValue, n)
	}
	for i, ws := range e.workers {
		if ws == nil {
			continue
		}
		c := newCopier(ws.L, e.L)
		for _, slot := range ws.slots {
			w := slot.Wrapper.(*lua.LTable)
			if values[w][i] != nil {
				continue
			}
			v, err := c.Copy(slot.Value(), fmt.Sprintf("collected value of worker %d", i+1))
			if err != nil {
				return fmt.Errorf("collect: %w", err)
			}
			values[w][i] = v
		}
	}
	for _, w := range e.wrappers {
		start := w.RawGetInt(1)
		vs := values[w]
		w.Metatable = lua.LNil
		w.RawSetInt(1, lua.LNil)
		for i := range vs {
			v := vs[i]
			if v == nil {
				// No hook of this worker held the value: its entry is a copy
				// of the starting value.
				c := newCopier(e.L, e.L)
				var err error
				if v, err = c.Copy(start, "collected value"); err != nil {
					return fmt.Errorf("collect: %w", err)
				}
			}
			w.RawSetInt(i+1, v)
		}
	}
	return nil
}

// closeWorkers closes the workers' states once their values are gathered.
func (e *engine) closeWorkers() {
	for _, ws := range e.workers {
		if ws != nil {
			ws.L.Close()
		}
	}
	e.workers = nil
}

// collected names every wrapper (as a global, a hook's upvalue, or a
// field of either) and returns its per-worker values as Go values.
func (e *engine) collected() map[string][]any {
	if len(e.wrappers) == 0 {
		return nil
	}
	names := e.wrapperNames()
	out := map[string][]any{}
	for i, w := range e.wrappers {
		key, ok := names[w]
		if !ok {
			key = fmt.Sprintf("collect#%d", i+1)
		}
		var vals []any
		for j := 1; j <= w.MaxN(); j++ {
			vals = append(vals, toGo(w.RawGetInt(j), map[*lua.LTable]bool{}))
		}
		out[key] = vals
	}
	return out
}

// wrapperNames names each wrapper after where the script keeps it: a
// global, a local that a hook (or a function a hook calls) refers to, or
// a field of either (name.field).
func (e *engine) wrapperNames() map[*lua.LTable]string {
	isWrapper := map[*lua.LTable]bool{}
	for _, w := range e.wrappers {
		isWrapper[w] = true
	}
	names := map[*lua.LTable]string{}
	seen := map[lua.LValue]bool{}
	var visit func(v lua.LValue, name string, depth int)
	visit = func(v lua.LValue, name string, depth int) {
		if depth > 4 || seen[v] {
			return
		}
		switch v := v.(type) {
		case *lua.LTable:
			if isWrapper[v] {
				if _, ok := names[v]; !ok {
					names[v] = name
				}
				return
			}
			seen[v] = true
			v.ForEach(func(k, fv lua.LValue) {
				if ks, ok := k.(lua.LString); ok {
					visit(fv, name+"."+string(ks), depth+1)
				}
			})
		case *lua.LFunction:
			if v.IsG || v.Proto == nil {
				return
			}
			seen[v] = true
			for i, uv := range v.Upvalues {
				if uv != nil && i < len(v.Proto.DbgUpvalues) {
					visit(uv.Value(), v.Proto.DbgUpvalues[i], depth+1)
				}
			}
		}
	}
	e.L.G.Global.ForEach(func(k, v lua.LValue) {
		if ks, ok := k.(lua.LString); ok && e.prelude[string(ks)] != v {
			visit(v, string(ks), 0)
		}
	})
	hooks := make([]string, 0, len(e.hooks))
	for h := range e.hooks {
		hooks = append(hooks, h)
	}
	sort.Strings(hooks)
	for _, h := range hooks {
		visit(e.hooks[h], h, 0)
	}
	return names
}

// toGo converts a Lua value to a Go value: nil, bool, float64, string,
// []any for a sequence (keys 1..n), map[string]any for any other table
// (number keys written as numbers are, e.g. "2" or "0.5"); a table met
// again on its own path is "<cycle>", anything else its type name.
func toGo(v lua.LValue, path map[*lua.LTable]bool) any {
	switch v := v.(type) {
	case *lua.LNilType:
		return nil
	case lua.LBool:
		return bool(v)
	case lua.LNumber:
		return float64(v)
	case lua.LString:
		return string(v)
	case *lua.LTable:
		if path[v] {
			return "<cycle>"
		}
		path[v] = true
		defer delete(path, v)
		n, count := v.MaxN(), 0
		v.ForEach(func(lua.LValue, lua.LValue) { count++ })
		if n > 0 && n == count {
			s := make([]any, n)
			for i := range s {
				s[i] = toGo(v.RawGetInt(i+1), path)
			}
			return s
		}
		m := map[string]any{}
		v.ForEach(func(k, val lua.LValue) {
			m[k.String()] = toGo(val, path)
		})
		return m
	}
	return v.Type().String()
}

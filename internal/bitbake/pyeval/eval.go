package pyeval

import (
	"errors"
	"math"
	"strings"
	"unicode/utf8"
)

func (in *Interp) eval(e expr, sc *scope) (Value, error) {
	if err := in.step(); err != nil {
		return nil, err
	}
	switch x := e.(type) {
	case *constExpr:
		return x.v, nil
	case *nameExpr:
		return in.lookupName(x.name, sc)
	case *attrExpr:
		obj, err := in.eval(x.x, sc)
		if err != nil {
			return nil, err
		}
		if inst, ok := obj.(*Instance); ok {
			return in.instanceAttr(inst, x.name)
		}
		return in.getAttr(obj, x.name), nil
	case *callExpr:
		return in.evalCall(x, sc)
	case *indexExpr:
		obj, err := in.eval(x.x, sc)
		if err != nil {
			return nil, err
		}
		var idx Value
		if s, ok := x.idx.(*sliceExpr); ok {
			sv := &sliceValue{}
			for i, part := range []expr{s.lo, s.hi, s.step} {
				if part == nil {
					continue
				}
				v, err := in.eval(part, sc)
				if err != nil {
					return nil, err
				}
				if v == None {
					continue
				}
				n, ok := toInt(v)
				if !ok {
					if u, isU := v.(*Unknown); isU {
						return u, nil
					}
					return nil, newExc(excTypeError, "slice indices must be integers")
				}
				switch i {
				case 0:
					sv.lo = &n
				case 1:
					sv.hi = &n
				case 2:
					sv.step = &n
				}
			}
			idx = sv
		} else {
			idx, err = in.eval(x.idx, sc)
			if err != nil {
				return nil, err
			}
		}
		return in.getItem(obj, idx)
	case *fstringExpr:
		var b strings.Builder
		for _, p := range x.parts {
			if p.e == nil {
				b.WriteString(p.lit)
				continue
			}
			v, err := in.eval(p.e, sc)
			if err != nil {
				return nil, err
			}
			if u, ok := v.(*Unknown); ok {
				return u, nil
			}
			switch p.conv {
			case 'r', 'a', 's':
				r, err := in.strBounded(v, p.conv != 's', b.Len())
				if err != nil {
					return nil, err
				}
				v = Str(r)
			}
			s, err := in.formatSpec(v, p.spec, b.Len())
			if err != nil {
				return nil, err
			}
			b.WriteString(s)
			if err := in.checkSize(b.Len()); err != nil {
				return nil, err
			}
		}
		return Str(b.String()), nil
	case *listExpr:
		items, err := in.evalElts(x.elts, sc)
		if err != nil {
			return nil, err
		}
		return &List{items: items}, nil
	case *tupleExpr:
		items, err := in.evalElts(x.elts, sc)
		if err != nil {
			return nil, err
		}
		return &Tuple{items: items}, nil
	case *setExpr:
		items, err := in.evalElts(x.elts, sc)
		if err != nil {
			return nil, err
		}
		s := newSet()
		for _, it := range items {
			if err := s.add(it); err != nil {
				return nil, err
			}
		}
		return s, nil
	case *dictExpr:
		d := NewDict()
		for i, k := range x.keys {
			v, err := in.eval(x.vals[i], sc)
			if err != nil {
				return nil, err
			}
			if k == nil {
				m, ok := v.(*Dict)
				if !ok {
					return unknownf("** of %s", typeName(v)), nil
				}
				for j := range m.keys {
					_ = d.set(m.keys[j], m.vals[j])
				}
				continue
			}
			kv, err := in.eval(k, sc)
			if err != nil {
				return nil, err
			}
			if err := d.set(kv, v); err != nil {
				return nil, err
			}
		}
		return d, nil
	case *compExpr:
		return in.evalComp(x, sc)
	case *ternaryExpr:
		c, err := in.eval(x.cond, sc)
		if err != nil {
			return nil, err
		}
		if u, ok := c.(*Unknown); ok {
			return u, nil
		}
		b, err := truth(c)
		if err != nil {
			return nil, err
		}
		if b {
			return in.eval(x.yes, sc)
		}
		return in.eval(x.no, sc)
	case *boolOpExpr:
		var v Value
		for _, sub := range x.vals {
			var err error
			v, err = in.eval(sub, sc)
			if err != nil {
				return nil, err
			}
			if u, ok := v.(*Unknown); ok {
				return u, nil
			}
			b, err := truth(v)
			if err != nil {
				return nil, err
			}
			if x.and && !b || !x.and && b {
				return v, nil
			}
		}
		return v, nil
	case *notExpr:
		v, err := in.eval(x.x, sc)
		if err != nil {
			return nil, err
		}
		if u, ok := v.(*Unknown); ok {
			return u, nil
		}
		b, err := truth(v)
		if err != nil {
			return nil, err
		}
		return Bool(!b), nil
	case *unaryExpr:
		v, err := in.eval(x.x, sc)
		if err != nil {
			return nil, err
		}
		switch n := v.(type) {
		case *Unknown:
			return n, nil
		case Bool, Int:
			i, _ := toInt(n)
			switch x.op {
			case "-":
				if n, ok := negInt(i); ok {
					return Int(n), nil
				}
				return intOverflow("unary -"), nil
			case "+":
				return Int(i), nil
			case "~":
				return Int(^i), nil
			}
		case Float:
			switch x.op {
			case "-":
				return -n, nil
			case "+":
				return n, nil
			}
		}
		return nil, newExc(excTypeError, "bad operand type for unary %s: '%s'", x.op, typeName(v))
	case *binExpr:
		l, err := in.eval(x.l, sc)
		if err != nil {
			return nil, err
		}
		r, err := in.eval(x.r, sc)
		if err != nil {
			return nil, err
		}
		return in.binop(x.op, l, r)
	case *compareExpr:
		left, err := in.eval(x.first, sc)
		if err != nil {
			return nil, err
		}
		for i, op := range x.ops {
			right, err := in.eval(x.rest[i], sc)
			if err != nil {
				return nil, err
			}
			if u, ok := left.(*Unknown); ok {
				return u, nil
			}
			if u, ok := right.(*Unknown); ok {
				return u, nil
			}
			ok, err := in.compareOp(op, left, right)
			if err != nil {
				return nil, err
			}
			if !ok {
				return False, nil
			}
			left = right
		}
		return True, nil
	case *lambdaExpr:
		return in.makeFunction(x.fn, sc)
	case *starExpr:
		return nil, newExc(excTypeError, "can't use starred expression here")
	case *sliceExpr:
		return nil, unsupported("slice outside subscript")
	}
	return nil, unsupported("expression %T", e)
}

// pushArgs evaluates call arguments onto the argument stack and returns
// them (capacity clipped, so that an append copies); popArgs(base) with
// the stack's length from before releases them. Calls made while they
// are evaluated push and pop above them.
func (in *Interp) pushArgs(elts []expr, sc *scope) ([]Value, error) {
	base := len(in.argStack)
	for _, el := range elts {
		if st, ok := el.(*starExpr); ok {
			v, err := in.eval(st.x, sc)
			if err != nil {
				return nil, err
			}
			sub, err := in.iterate(v)
			if err != nil {
				return nil, err
			}
			in.argStack = append(in.argStack, sub...)
			continue
		}
		v, err := in.eval(el, sc)
		if err != nil {
			return nil, err
		}
		in.argStack = append(in.argStack, v)
	}
	n := len(in.argStack) - base
	if err := in.checkItems(n, n); err != nil {
		return nil, err
	}
	return in.argStack[base:len(in.argStack):len(in.argStack)], nil
}

func (in *Interp) popArgs(base int) {
	clear(in.argStack[base:])
	in.argStack = in.argStack[:base]
}

func (in *Interp) evalElts(elts []expr, sc *scope) ([]Value, error) {
	items := make([]Value, 0, len(elts))
	for _, el := range elts {
		if st, ok := el.(*starExpr); ok {
			v, err := in.eval(st.x, sc)
			if err != nil {
				return nil, err
			}
			sub, err := in.iterate(v)
			if err != nil {
				return nil, err
			}
			items = append(items, sub...)
			continue
		}
		v, err := in.eval(el, sc)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	if err := in.checkItems(len(items), len(items)); err != nil {
		return nil, err
	}
	return items, nil
}

func (in *Interp) evalComp(c *compExpr, outer *scope) (Value, error) {
	sc := &scope{vars: map[string]Value{}, parent: outer}
	var items []Value
	var dict *Dict
	if c.kind == 'd' {
		dict = NewDict()
	}
	var rec func(level int) error
	rec = func(level int) error {
		if level == len(c.clauses) {
			if dict != nil {
				k, err := in.eval(c.elt, sc)
				if err != nil {
					return err
				}
				v, err := in.eval(c.val, sc)
				if err != nil {
					return err
				}
				if err := in.checkItems(len(dict.keys)+1, 1); err != nil {
					return err
				}
				return dict.set(k, v)
			}
			v, err := in.eval(c.elt, sc)
			if err != nil {
				return err
			}
			items = append(items, v)
			return in.checkItems(len(items), 1)
		}
		cl := c.clauses[level]
		iv, err := in.eval(cl.iter, sc)
		if err != nil {
			return err
		}
		seq, err := in.iterate(iv)
		if err != nil {
			return err
		}
	outerLoop:
		for _, it := range seq {
			if err := in.assign(cl.target, it, sc); err != nil {
				return err
			}
			for _, cond := range cl.conds {
				cv, err := in.eval(cond, sc)
				if err != nil {
					return err
				}
				b, err := truth(cv)
				if err != nil {
					return err
				}
				if !b {
					continue outerLoop
				}
			}
			if err := rec(level + 1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := rec(0); err != nil {
		var u *Unsupported
		if errors.As(err, &u) {
			return unknownf("%s", u.What), nil
		}
		return nil, err
	}
	switch c.kind {
	case 'd':
		return dict, nil
	case '{':
		s := newSet()
		for _, it := range items {
			if err := s.add(it); err != nil {
				return nil, err
			}
		}
		return s, nil
	}
	return &List{items: items}, nil
}

func (in *Interp) lookupName(name string, sc *scope) (Value, error) {
	if v, ok := in.lookupScoped(sc, name); ok {
		return v, nil
	}
	if v, ok := in.globalNS(sc, false)[name]; ok {
		return v, nil
	}
	if in.filterLookup != nil || name == "d" {
		in.recipeIO()
	}
	if in.filterLookup != nil {
		if b, ok := filterProcs[name]; ok {
			return b, nil
		}
		if mod, ok := in.filterLookup(name); ok {
			if m := in.module(mod); m != nil {
				if v, ok := m.Attrs[name]; ok {
					return v, nil
				}
			}
		}
	}
	if name == "d" {
		return &DataRef{in.Host}, nil
	}
	if m := globalModule(name); m != nil {
		return m, nil
	}
	if src, ok := in.Host.Function(name); ok {
		in.recipeIO()
		fn, err := cachedDef(src)
		if err != nil {
			return unknownf("function %s: %v", name, err), nil
		}
		return &Function{def: fn}, nil
	}
	if m := globalModule(name); m != nil {
		return m, nil
	}
	if b, ok := builtins[name]; ok {
		return b, nil
	}
	if in.inline {
		// bb.data_smart.DataContext: unknown names are variables.
		in.recipeIO()
		if v, ok := in.Host.GetVar(name, true); ok {
			return Str(v), nil
		}
	}
	return unknownf("name %s", name), nil
}

// sliceValue is an evaluated slice index.
type sliceValue struct{ lo, hi, step *int64 }

func sliceBounds(s *sliceValue, n int) (int, int) {
	clamp := func(p *int64, def int) int {
		if p == nil {
			return def
		}
		i := int(*p)
		if i < 0 {
			i += n
			if i < 0 {
				i = 0
			}
		}
		if i > n {
			i = n
		}
		return i
	}
	return clamp(s.lo, 0), clamp(s.hi, n)
}

func sliceIndices(s *sliceValue, n int) ([]int, error) {
	step := int64(1)
	if s.step != nil {
		step = *s.step
	}
	if step == 0 {
		return nil, newExc(excValueError, "slice step cannot be zero")
	}
	if step == 1 {
		lo, hi := sliceBounds(s, n)
		var out []int
		for i := lo; i < hi; i++ {
			out = append(out, i)
		}
		return out, nil
	}
	var lo, hi int
	if step > 0 {
		lo, hi = sliceBounds(s, n)
		var out []int
		for i := lo; i < hi; i += int(step) {
			out = append(out, i)
		}
		return out, nil
	}
	// Negative step.
	lo = n - 1
	if s.lo != nil {
		lo = int(*s.lo)
		if lo < 0 {
			lo += n
		}
		if lo >= n {
			lo = n - 1
		}
	}
	hi = -1
	if s.hi != nil {
		hi = int(*s.hi)
		if hi < 0 {
			hi += n
			if hi < 0 {
				hi = -1
			}
		}
	}
	var out []int
	for i := lo; i > hi && i >= 0; i += int(step) {
		out = append(out, i)
	}
	return out, nil
}

// sliceOf returns the elements of items that sl selects, in its order.
func sliceOf[T any](items []T, sl *sliceValue) ([]T, error) {
	ix, err := sliceIndices(sl, len(items))
	if err != nil {
		return nil, err
	}
	out := make([]T, len(ix))
	for k, i := range ix {
		out[k] = items[i]
	}
	return out, nil
}

func (in *Interp) getItem(obj, idx Value) (Value, error) {
	if u, ok := obj.(*Unknown); ok {
		return u, nil
	}
	if u, ok := idx.(*Unknown); ok {
		return u, nil
	}
	if sl, ok := idx.(*sliceValue); ok {
		switch o := obj.(type) {
		case Str:
			if sl.step == nil {
				n := strLen(string(o))
				lo, hi := sliceBounds(sl, n)
				if hi < lo {
					return Str(""), nil
				}
				if n != len(o) {
					lo, hi = byteOffset(string(o), lo), byteOffset(string(o), hi)
				}
				return o[lo:hi], nil
			}
			if !isASCII(string(o)) {
				r, err := sliceOf([]rune(string(o)), sl)
				if err != nil {
					return nil, err
				}
				return Str(string(r)), nil
			}
			b, err := sliceOf([]byte(o), sl)
			if err != nil {
				return nil, err
			}
			return Str(b), nil
		case *List, *Tuple:
			out, err := sliceOf(seqItems(o), sl)
			if err != nil {
				return nil, err
			}
			if _, isList := o.(*List); isList {
				return &List{items: out}, nil
			}
			return &Tuple{items: out}, nil
		}
		return nil, newExc(excTypeError, "'%s' object is not subscriptable", typeName(obj))
	}
	switch o := obj.(type) {
	case *Dict:
		v, ok, err := o.get(idx)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &Exception{Class: excKeyError, Args: []Value{idx}}
		}
		return v, nil
	case Str, *List, *Tuple:
		i, ok := toInt(idx)
		if !ok {
			return nil, newExc(excTypeError, "indices must be integers, not %s", typeName(idx))
		}
		var n int64
		if s, isStr := o.(Str); isStr {
			n = int64(strLen(string(s)))
			if i < 0 {
				i += n
			}
			if i < 0 || i >= n {
				return nil, newExc(excIndexError, "string index out of range")
			}
			if n != int64(len(s)) {
				b := byteOffset(string(s), int(i))
				_, size := utf8.DecodeRuneInString(string(s[b:]))
				return s[b : b+size], nil
			}
			return Str(s[i : i+1]), nil
		}
		items := seqItems(o)
		n = int64(len(items))
		if i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return nil, newExc(excIndexError, "list index out of range")
		}
		return items[i], nil
	case *matchObj:
		return o.group(idx)
	case *DataRef:
		// d['VAR'] is getVar('VAR', False) in BitBake's mapping interface.
		name, ok := idx.(Str)
		if !ok {
			return nil, newExc(excTypeError, "datastore keys are strings")
		}
		if v, ok := o.h.GetVar(string(name), false); ok {
			return Str(v), nil
		}
		return nil, &Exception{Class: excKeyError, Args: []Value{idx}}
	}
	return nil, newExc(excTypeError, "'%s' object is not subscriptable", typeName(obj))
}

func seqItems(v Value) []Value {
	switch x := v.(type) {
	case *List:
		return x.items
	case *Tuple:
		return x.items
	}
	return nil
}

func (in *Interp) compareOp(op string, a, b Value) (bool, error) {
	switch op {
	case "==":
		return equal(a, b), nil
	case "!=":
		return !equal(a, b), nil
	case "is":
		return identical(a, b), nil
	case "is not":
		return !identical(a, b), nil
	case "in", "not in":
		r, err := in.contains(b, a)
		if err != nil {
			return false, err
		}
		if op == "not in" {
			return !r, nil
		}
		return r, nil
	}
	c, err := compare(a, b)
	if err != nil {
		return false, err
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	case ">=":
		return c >= 0, nil
	}
	return false, unsupported("operator %s", op)
}

func identical(a, b Value) bool {
	switch a.(type) {
	case *noneType, Bool:
		return a == b
	case Int, Str, Float:
		return equal(a, b)
	}
	return a == b
}

func (in *Interp) contains(container, item Value) (bool, error) {
	switch c := container.(type) {
	case Str:
		s, ok := item.(Str)
		if !ok {
			return false, newExc(excTypeError, "'in <string>' requires string as left operand, not %s", typeName(item))
		}
		return strings.Contains(string(c), string(s)), nil
	case *List, *Tuple:
		for _, it := range seqItems(c) {
			if equal(it, item) {
				return true, nil
			}
		}
		return false, nil
	case *Dict:
		_, ok, err := c.get(item)
		return ok, err
	case *Set:
		return c.has(item)
	case *DataRef:
		name, ok := item.(Str)
		if !ok {
			return false, nil
		}
		_, set := c.h.GetVar(string(name), false)
		return set, nil
	case *noneType:
		return false, newExc(excTypeError, "argument of type 'NoneType' is not iterable")
	case *Unknown:
		return false, unsupported("membership in unknown value (%s)", c.Why)
	}
	return false, newExc(excTypeError, "argument of type '%s' is not iterable", typeName(container))
}

func (in *Interp) binop(op string, l, r Value) (Value, error) {
	if u, ok := l.(*Unknown); ok {
		return u, nil
	}
	if u, ok := r.(*Unknown); ok {
		return u, nil
	}
	switch op {
	case "+":
		switch a := l.(type) {
		case Str:
			if b, ok := r.(Str); ok {
				if err := in.checkSize(len(a) + len(b)); err != nil {
					return nil, err
				}
				return a + b, nil
			}
		case *List:
			if b, ok := r.(*List); ok {
				if err := in.checkItems(len(a.items)+len(b.items), len(a.items)+len(b.items)); err != nil {
					return nil, err
				}
				items := append(append([]Value(nil), a.items...), b.items...)
				return &List{items: items}, nil
			}
		case *Tuple:
			if b, ok := r.(*Tuple); ok {
				if err := in.checkItems(len(a.items)+len(b.items), len(a.items)+len(b.items)); err != nil {
					return nil, err
				}
				items := append(append([]Value(nil), a.items...), b.items...)
				return &Tuple{items: items}, nil
			}
		}
	case "%":
		if s, ok := l.(Str); ok {
			return in.percentFormat(string(s), r)
		}
	case "*":
		if s, ok := l.(Str); ok {
			if n, ok := toInt(r); ok {
				return in.repeatStr(s, n)
			}
		}
		if s, ok := r.(Str); ok {
			if n, ok := toInt(l); ok {
				return in.repeatStr(s, n)
			}
		}
		seq, n, ok := seqRepeat(l, r)
		if !ok {
			seq, n, ok = seqRepeat(r, l)
		}
		if ok {
			items, err := in.repeatItems(seqItems(seq), n)
			if err != nil {
				return nil, err
			}
			if _, isTuple := seq.(*Tuple); isTuple {
				return &Tuple{items: items}, nil
			}
			return &List{items: items}, nil
		}
	case "|", "&", "-", "^":
		if a, ok := l.(*Set); ok {
			if b, ok := r.(*Set); ok {
				return setOp(op, a, b)
			}
		}
		if a, ok := l.(*Dict); ok && op == "|" {
			if b, ok := r.(*Dict); ok {
				n := a.copy()
				for i := range b.keys {
					_ = n.set(b.keys[i], b.vals[i])
				}
				return n, nil
			}
		}
	}
	if isNumber(l) && isNumber(r) {
		return numOp(op, l, r)
	}
	return nil, newExc(excTypeError, "unsupported operand type(s) for %s: '%s' and '%s'", op, typeName(l), typeName(r))
}

// seqRepeat recognises list or tuple * int.
func seqRepeat(seq, count Value) (Value, int64, bool) {
	switch seq.(type) {
	case *List, *Tuple:
		n, ok := toInt(count)
		return seq, n, ok
	}
	return nil, 0, false
}

// repeatItems is the elements of a list or tuple repeated n times, refused
// before it is built when it would exceed the collection size limit.
func (in *Interp) repeatItems(items []Value, n int64) ([]Value, error) {
	if n <= 0 || len(items) == 0 {
		return nil, nil
	}
	if n > int64(in.Limits.MaxBytes)/itemCost/int64(len(items)) {
		return nil, &errBudget{"sequence repetition"}
	}
	total := len(items) * int(n)
	if err := in.checkItems(total, total); err != nil {
		return nil, err
	}
	out := make([]Value, 0, total)
	for i := int64(0); i < n; i++ {
		out = append(out, items...)
	}
	return out, nil
}

func (in *Interp) repeatStr(s Str, n int64) (Value, error) {
	if n <= 0 {
		return Str(""), nil
	}
	if len(s) == 0 {
		return Str(""), nil
	}
	if n > int64(in.Limits.MaxBytes)/int64(len(s)) {
		return nil, &errBudget{"string repetition"}
	}
	if err := in.checkSize(len(s) * int(n)); err != nil {
		return nil, err
	}
	return Str(strings.Repeat(string(s), int(n))), nil
}

func setOp(op string, a, b *Set) (Value, error) {
	out := newSet()
	switch op {
	case "|":
		for _, k := range a.d.keys {
			_ = out.add(k)
		}
		for _, k := range b.d.keys {
			_ = out.add(k)
		}
	case "&":
		for _, k := range a.d.keys {
			if has, _ := b.has(k); has {
				_ = out.add(k)
			}
		}
	case "-":
		for _, k := range a.d.keys {
			if has, _ := b.has(k); !has {
				_ = out.add(k)
			}
		}
	case "^":
		for _, k := range a.d.keys {
			if has, _ := b.has(k); !has {
				_ = out.add(k)
			}
		}
		for _, k := range b.d.keys {
			if has, _ := a.has(k); !has {
				_ = out.add(k)
			}
		}
	}
	return out, nil
}

func numOp(op string, l, r Value) (Value, error) {
	ai, aok := toInt(l)
	bi, bok := toInt(r)
	if aok && bok {
		switch op {
		case "+":
			if n, ok := addInt(ai, bi); ok {
				return Int(n), nil
			}
			return intOverflow(op), nil
		case "-":
			if n, ok := subInt(ai, bi); ok {
				return Int(n), nil
			}
			return intOverflow(op), nil
		case "*":
			if n, ok := mulInt(ai, bi); ok {
				return Int(n), nil
			}
			return intOverflow(op), nil
		case "/":
			if bi == 0 {
				return nil, newExc(excZeroDiv, "division by zero")
			}
			return Float(float64(ai) / float64(bi)), nil
		case "//":
			if bi == 0 {
				return nil, newExc(excZeroDiv, "integer division or modulo by zero")
			}
			if ai == math.MinInt64 && bi == -1 {
				return intOverflow(op), nil
			}
			q := ai / bi
			if (ai%bi != 0) && ((ai < 0) != (bi < 0)) {
				q--
			}
			return Int(q), nil
		case "%":
			if bi == 0 {
				return nil, newExc(excZeroDiv, "integer division or modulo by zero")
			}
			if bi == -1 {
				return Int(0), nil
			}
			m := ai % bi
			if m != 0 && ((m < 0) != (bi < 0)) {
				m += bi
			}
			return Int(m), nil
		case "**":
			if bi < 0 {
				if ai == 0 {
					return nil, newExc(excZeroDiv, "0.0 cannot be raised to a negative power")
				}
				return Float(math.Pow(float64(ai), float64(bi))), nil
			}
			if n, ok := powInt(ai, bi); ok {
				return Int(n), nil
			}
			return intOverflow(op), nil
		case "&":
			return Int(ai & bi), nil
		case "|":
			return Int(ai | bi), nil
		case "^":
			return Int(ai ^ bi), nil
		case "<<":
			if bi < 0 {
				return nil, newExc(excValueError, "negative shift count")
			}
			if n, ok := shlInt(ai, bi); ok {
				return Int(n), nil
			}
			return intOverflow(op), nil
		case ">>":
			if bi < 0 {
				return nil, newExc(excValueError, "negative shift count")
			}
			if bi > 63 {
				bi = 63
			}
			return Int(ai >> uint(bi)), nil
		}
	}
	a, b := toFloat(l), toFloat(r)
	switch op {
	case "+":
		return Float(a + b), nil
	case "-":
		return Float(a - b), nil
	case "*":
		return Float(a * b), nil
	case "/":
		if b == 0 {
			return nil, newExc(excZeroDiv, "float division by zero")
		}
		return Float(a / b), nil
	case "//":
		if b == 0 {
			return nil, newExc(excZeroDiv, "float floor division by zero")
		}
		return Float(math.Floor(a / b)), nil
	case "%":
		if b == 0 {
			return nil, newExc(excZeroDiv, "float modulo")
		}
		m := math.Mod(a, b)
		if m != 0 && (m < 0) != (b < 0) {
			m += b
		}
		return Float(m), nil
	case "**":
		if a == 0 && b < 0 {
			return nil, newExc(excZeroDiv, "0.0 cannot be raised to a negative power")
		}
		p := math.Pow(a, b)
		if math.IsInf(p, 0) && !math.IsInf(a, 0) && !math.IsInf(b, 0) {
			return unknownf("float result of ** out of range"), nil
		}
		if math.IsNaN(p) && !math.IsNaN(a) && !math.IsNaN(b) {
			return unknownf("complex result of **"), nil
		}
		return Float(p), nil
	}
	return nil, newExc(excTypeError, "unsupported operand type(s) for %s", op)
}

// evalCall evaluates a call expression.
func (in *Interp) evalCall(c *callExpr, sc *scope) (Value, error) {
	if n, ok := c.fn.(*nameExpr); ok && (n.name == "__yield__" || n.name == "__walrus__") {
		return in.specialCall(n.name, c, sc)
	}
	var fn Value
	var err error
	var self Value // a method of a built-in type called directly
	if a, ok := c.fn.(*attrExpr); ok {
		// obj.method(...): what eval(c.fn) does (one step for the
		// attribute, then getAttr), without making the bound method when
		// getAttr would return one of a built-in type's.
		if err := in.step(); err != nil {
			return nil, err
		}
		obj, err := in.eval(a.x, sc)
		if err != nil {
			return nil, err
		}
		if builtinMethod(obj, a.name) {
			self = obj
		} else if inst, ok := obj.(*Instance); ok {
			if fn, err = in.instanceAttr(inst, a.name); err != nil {
				return nil, err
			}
		} else {
			fn = in.getAttr(obj, a.name)
		}
	} else if fn, err = in.eval(c.fn, sc); err != nil {
		return nil, err
	}
	var args []Value
	if self != nil {
		// The methods of built-in types do not keep their argument
		// slice: it lives on the evaluator's argument stack.
		base := len(in.argStack)
		defer in.popArgs(base)
		args, err = in.pushArgs(c.args, sc)
	} else {
		args, err = in.evalElts(c.args, sc)
	}
	if err != nil {
		return nil, err
	}
	var kw map[string]Value
	for _, k := range c.kwargs {
		v, err := in.eval(k.v, sc)
		if err != nil {
			return nil, err
		}
		if kw == nil {
			kw = map[string]Value{}
		}
		if k.name == "" {
			m, ok := v.(*Dict)
			if !ok {
				return unknownf("** of %s", typeName(v)), nil
			}
			for i := range m.keys {
				ks, ok := m.keys[i].(Str)
				if !ok {
					return nil, newExc(excTypeError, "keywords must be strings")
				}
				kw[string(ks)] = m.vals[i]
			}
			continue
		}
		kw[k.name] = v
	}
	if self != nil {
		v, err := in.callMethod(self, c.fn.(*attrExpr).name, args, kw)
		if err == nil {
			err = in.chargeResult(v)
		}
		return v, err
	}
	return in.call(fn, args, kw)
}

// builtinMethod reports whether getAttr(obj, name) is a method of a
// built-in type bound to obj (a boundMethod).
func builtinMethod(obj Value, name string) bool {
	switch obj.(type) {
	case Str:
		return strMethods[name] && name != "__str__" && name != "__repr__"
	case *List:
		return listMethods[name]
	case *Dict:
		return dictMethods[name]
	case *Set:
		return setMethods[name]
	case *DataRef:
		return dataMethods[name]
	}
	return false
}

func (in *Interp) specialCall(name string, c *callExpr, sc *scope) (Value, error) {
	switch name {
	case "__yield__":
		if len(in.yields) == 0 {
			return nil, unsupported("yield outside generator")
		}
		acc := in.yields[len(in.yields)-1]
		if st, ok := c.args[0].(*starExpr); ok {
			v, err := in.eval(st.x, sc)
			if err != nil {
				return nil, err
			}
			items, err := in.iterate(v)
			if err != nil {
				return nil, err
			}
			acc.items = append(acc.items, items...)
			return None, nil
		}
		v, err := in.eval(c.args[0], sc)
		if err != nil {
			return nil, err
		}
		acc.items = append(acc.items, v)
		return None, in.checkItems(len(acc.items), 1)
	case "__walrus__":
		v, err := in.eval(c.args[1], sc)
		if err != nil {
			return nil, err
		}
		nameV := c.args[0].(*constExpr).v.(Str)
		if nameV != "" {
			sc.set(string(nameV), v)
		}
		return v, nil
	}
	return nil, unsupported("special call %s", name)
}

// call invokes any callable value.
func (in *Interp) call(fn Value, args []Value, kw map[string]Value) (Value, error) {
	switch f := fn.(type) {
	case *Builtin:
		v, err := f.Fn(in, args, kw)
		if err == nil {
			err = in.chargeResult(v)
		}
		return v, err
	case *boundMethod:
		v, err := in.callMethod(f.self, f.name, args, kw)
		if err == nil {
			err = in.chargeResult(v)
		}
		return v, err
	case *Function:
		return in.callFunctionValue(f, args, kw)
	case *ExcClass:
		return &Exception{Class: f, Args: args}, nil
	case *Class:
		return in.instantiate(f, args, kw)
	case *boundFunc:
		return in.call(f.fn, append([]Value{f.self}, args...), kw)
	case *Unknown:
		return f, nil
	case *Module:
		return unknownf("call of module %s", f.Name), nil
	}
	return nil, newExc(excTypeError, "'%s' object is not callable", typeName(fn))
}

// callFunctionValue calls a metadata function; unsupported code inside
// makes the result Unknown instead of failing the caller.
func (in *Interp) callFunctionValue(f *Function, args []Value, kw map[string]Value) (Value, error) {
	saved := in.recover
	in.recover = false
	v, err := in.callFunction(f, args, kw)
	in.recover = saved
	if err != nil {
		var u *Unsupported
		if errors.As(err, &u) {
			return unknownf("%s", u.What), nil
		}
		return nil, err
	}
	return v, nil
}

func (in *Interp) callFunction(f *Function, args []Value, kw map[string]Value) (Value, error) {
	in.depth++
	defer func() { in.depth-- }()
	if in.depth > in.Limits.Depth {
		return nil, newExc(excRecursion, "maximum recursion depth exceeded")
	}
	fd := f.def
	sc := &scope{vars: make(map[string]Value, len(fd.params)+4), parent: f.closure}
	pos := 0
	for i, p := range fd.params {
		if p.kwOnly {
			continue
		}
		if pos < len(args) {
			sc.vars[p.name] = args[pos]
			pos++
			continue
		}
		_ = i
	}
	if pos < len(args) {
		if fd.vararg == "" {
			return nil, newExc(excTypeError, "%s() takes %d positional arguments but %d were given", fd.name, pos, len(args))
		}
		sc.vars[fd.vararg] = &Tuple{items: append([]Value(nil), args[pos:]...)}
	} else if fd.vararg != "" {
		sc.vars[fd.vararg] = &Tuple{}
	}
	var extra *Dict
	if fd.kwarg != "" {
		extra = NewDict()
		sc.vars[fd.kwarg] = extra
	}
	for k, v := range kw {
		found := false
		for _, p := range fd.params {
			if p.name == k {
				if _, dup := sc.vars[k]; dup {
					return nil, newExc(excTypeError, "%s() got multiple values for argument '%s'", fd.name, k)
				}
				sc.vars[k] = v
				found = true
				break
			}
		}
		if !found {
			if extra == nil {
				return nil, newExc(excTypeError, "%s() got an unexpected keyword argument '%s'", fd.name, k)
			}
			extra.SetStr(k, v)
		}
	}
	for i, p := range fd.params {
		if _, ok := sc.vars[p.name]; ok {
			continue
		}
		if i < len(f.defaults) && f.defaults[i] != nil {
			sc.vars[p.name] = f.defaults[i]
			continue
		}
		if f.defaults == nil && p.def != nil {
			// Functions resolved from metadata by name have their defaults
			// evaluated lazily.
			v, err := in.eval(p.def, nil)
			if err != nil {
				return nil, err
			}
			sc.vars[p.name] = v
			continue
		}
		return nil, newExc(excTypeError, "%s() missing required argument: '%s'", fd.name, p.name)
	}
	if fd.lambda != nil {
		return in.eval(fd.lambda, sc)
	}
	if fd.hasYield {
		acc := &List{}
		in.yields = append(in.yields, acc)
		_, _, err := in.execBlock(fd.body, sc)
		in.yields = in.yields[:len(in.yields)-1]
		if err != nil {
			return nil, err
		}
		return acc, nil
	}
	c, v, err := in.execBlock(fd.body, sc)
	if err != nil {
		return nil, err
	}
	if c == ctrlReturn {
		return v, nil
	}
	return None, nil
}

// chargeResult charges what a built-in function or method produced to
// the allocation budget, so that loops over cheap-looking string
// operations on large values stay bounded.
func (in *Interp) chargeResult(v Value) error {
	switch x := v.(type) {
	case Str:
		return in.checkSize(len(x))
	case *List:
		return in.checkItems(len(x.items), len(x.items))
	case *Tuple:
		return in.checkItems(len(x.items), len(x.items))
	case *Set:
		return in.checkItems(len(x.d.keys), len(x.d.keys))
	case *Dict:
		return in.checkItems(2*len(x.keys), 2*len(x.keys))
	}
	return nil
}

package pyeval

import (
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

var builtins map[string]Value

func init() {
	builtins = map[string]Value{}
	def := func(name string, fn func(in *Interp, args []Value, kw map[string]Value) (Value, error)) {
		builtins[name] = &Builtin{Name: name, Fn: fn}
	}
	def("len", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) != 1 {
			return nil, argErr("len", 1, len(a))
		}
		switch x := a[0].(type) {
		case Str:
			return Int(len([]rune(string(x)))), nil
		case *List:
			return Int(len(x.items)), nil
		case *Tuple:
			return Int(len(x.items)), nil
		case *Dict:
			return Int(len(x.keys)), nil
		case *Set:
			return Int(len(x.d.keys)), nil
		case *Unknown:
			return x, nil
		}
		return nil, newExc(excTypeError, "object of type '%s' has no len()", typeName(a[0]))
	})
	def("str", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) == 0 {
			return Str(""), nil
		}
		if u, ok := a[0].(*Unknown); ok {
			return u, nil
		}
		return in.strValue(a[0], false)
	})
	def("repr", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) != 1 {
			return nil, argErr("repr", 1, len(a))
		}
		if u, ok := a[0].(*Unknown); ok {
			return u, nil
		}
		return in.strValue(a[0], true)
	})
	def("int", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) == 0 {
			return Int(0), nil
		}
		base := int64(10)
		if len(a) > 1 {
			base, _ = toInt(a[1])
		}
		switch x := a[0].(type) {
		case Bool, Int:
			i, _ := toInt(x)
			return Int(i), nil
		case Float:
			if math.IsInf(float64(x), 0) || math.IsNaN(float64(x)) {
				return nil, newExc(excValueError, "cannot convert float %s to integer", floatRepr(float64(x)))
			}
			if n, ok := floatToInt(float64(x)); ok {
				return Int(n), nil
			}
			return intOverflow("int()"), nil
		case Str:
			s := strings.ReplaceAll(strings.TrimSpace(string(x)), "_", "")
			if base == 0 || base == 16 {
				s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
				if base == 0 {
					base = 10
					if s != strings.TrimSpace(string(x)) {
						base = 16
					}
				}
			}
			n, err := strconv.ParseInt(s, int(base), 64)
			if errors.Is(err, strconv.ErrRange) {
				return intOverflow("int()"), nil
			}
			if err != nil {
				return nil, newExc(excValueError, "invalid literal for int() with base %d: %s", base, repr(x))
			}
			return Int(n), nil
		case *Unknown:
			return x, nil
		}
		return nil, newExc(excTypeError, "int() argument must be a string or a number, not '%s'", typeName(a[0]))
	})
	def("float", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) == 0 {
			return Float(0), nil
		}
		switch x := a[0].(type) {
		case Bool, Int, Float:
			return Float(toFloat(x)), nil
		case Str:
			f, err := strconv.ParseFloat(strings.TrimSpace(string(x)), 64)
			if err != nil {
				return nil, newExc(excValueError, "could not convert string to float: %s", repr(x))
			}
			return Float(f), nil
		case *Unknown:
			return x, nil
		}
		return nil, newExc(excTypeError, "float() argument must be a string or a number")
	})
	def("bool", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) == 0 {
			return False, nil
		}
		if u, ok := a[0].(*Unknown); ok {
			return u, nil
		}
		b, err := truth(a[0])
		return Bool(b), err
	})
	def("list", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) == 0 {
			return &List{}, nil
		}
		if u, ok := a[0].(*Unknown); ok {
			return u, nil
		}
		items, err := in.iterate(a[0])
		if err != nil {
			return nil, err
		}
		return &List{items: append([]Value(nil), items...)}, nil
	})
	def("tuple", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) == 0 {
			return &Tuple{}, nil
		}
		if u, ok := a[0].(*Unknown); ok {
			return u, nil
		}
		items, err := in.iterate(a[0])
		if err != nil {
			return nil, err
		}
		return &Tuple{items: append([]Value(nil), items...)}, nil
	})
	setCtor := func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		s := newSet()
		if len(a) == 0 {
			return s, nil
		}
		if u, ok := a[0].(*Unknown); ok {
			return u, nil
		}
		items, err := in.iterate(a[0])
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if err := s.add(it); err != nil {
				return nil, err
			}
		}
		return s, nil
	}
	def("set", setCtor)
	def("frozenset", setCtor)
	def("dict", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		d := NewDict()
		if len(a) > 0 {
			switch x := a[0].(type) {
			case *Dict:
				d = x.copy()
			case *Unknown:
				return x, nil
			default:
				items, err := in.iterate(x)
				if err != nil {
					return nil, err
				}
				for _, it := range items {
					pair, err := in.iterate(it)
					if err != nil {
						return nil, err
					}
					if len(pair) != 2 {
						return nil, newExc(excValueError, "dictionary update sequence element has wrong length")
					}
					if err := d.set(pair[0], pair[1]); err != nil {
						return nil, err
					}
				}
			}
		}
		for _, k := range sortedKeys(kw) {
			d.SetStr(k, kw[k])
		}
		return d, nil
	})
	def("sorted", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) != 1 {
			return nil, argErr("sorted", 1, len(a))
		}
		if u, ok := a[0].(*Unknown); ok {
			return u, nil
		}
		items, err := in.iterate(a[0])
		if err != nil {
			return nil, err
		}
		items = append([]Value(nil), items...)
		rev := false
		if r, ok := kw["reverse"]; ok {
			rev, _ = truth(r)
		}
		if err := sortValues(in, items, kw["key"], rev); err != nil {
			return nil, err
		}
		return &List{items: items}, nil
	})
	def("reversed", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) != 1 {
			return nil, argErr("reversed", 1, len(a))
		}
		if u, ok := a[0].(*Unknown); ok {
			return u, nil
		}
		items, err := in.iterate(a[0])
		if err != nil {
			return nil, err
		}
		out := make([]Value, len(items))
		for i, it := range items {
			out[len(items)-1-i] = it
		}
		return &List{items: out}, nil
	})
	def("enumerate", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) < 1 {
			return nil, argErr("enumerate", 1, len(a))
		}
		if u, ok := a[0].(*Unknown); ok {
			return u, nil
		}
		items, err := in.iterate(a[0])
		if err != nil {
			return nil, err
		}
		start := int64(0)
		if len(a) > 1 {
			start, _ = toInt(a[1])
		}
		if s, ok := kw["start"]; ok {
			start, _ = toInt(s)
		}
		out := make([]Value, len(items))
		for i, it := range items {
			out[i] = &Tuple{items: []Value{Int(start + int64(i)), it}}
		}
		return &List{items: out}, nil
	})
	def("zip", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		var seqs [][]Value
		n := -1
		for _, x := range a {
			if u, ok := x.(*Unknown); ok {
				return u, nil
			}
			items, err := in.iterate(x)
			if err != nil {
				return nil, err
			}
			seqs = append(seqs, items)
			if n < 0 || len(items) < n {
				n = len(items)
			}
		}
		if n < 0 {
			n = 0
		}
		out := make([]Value, n)
		for i := 0; i < n; i++ {
			t := make([]Value, len(seqs))
			for j := range seqs {
				t[j] = seqs[j][i]
			}
			out[i] = &Tuple{items: t}
		}
		return &List{items: out}, nil
	})
	def("range", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		var start, stop, step int64 = 0, 0, 1
		ints := make([]int64, len(a))
		for i, x := range a {
			if u, ok := x.(*Unknown); ok {
				return u, nil
			}
			n, ok := toInt(x)
			if !ok {
				return nil, newExc(excTypeError, "range() integer arguments expected")
			}
			ints[i] = n
		}
		switch len(ints) {
		case 1:
			stop = ints[0]
		case 2:
			start, stop = ints[0], ints[1]
		case 3:
			start, stop, step = ints[0], ints[1], ints[2]
		default:
			return nil, argErr("range", 1, len(a))
		}
		if step == 0 {
			return nil, newExc(excValueError, "range() arg 3 must not be zero")
		}
		// The length is known before anything is built: count it in
		// unsigned arithmetic, which cannot overflow for 64-bit bounds.
		var count uint64
		switch {
		case step > 0 && start < stop:
			count = (uint64(stop)-uint64(start)-1)/uint64(step) + 1
		case step < 0 && start > stop:
			count = (uint64(start)-uint64(stop)-1)/(uint64(-(step+1))+1) + 1
		}
		if count*itemCost > uint64(in.Limits.MaxBytes) || count > uint64(in.Limits.MaxBytes) {
			return nil, &errBudget{"range size"}
		}
		out := make([]Value, count)
		for i := range out {
			out[i] = Int(start + int64(i)*step)
		}
		return &List{items: out}, nil
	})
	minmax := func(name string, less bool) {
		def(name, func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			items := a
			if len(a) == 1 {
				if u, ok := a[0].(*Unknown); ok {
					return u, nil
				}
				var err error
				items, err = in.iterate(a[0])
				if err != nil {
					return nil, err
				}
			}
			if len(items) == 0 {
				if d, ok := kw["default"]; ok {
					return d, nil
				}
				return nil, newExc(excValueError, "%s() arg is an empty sequence", name)
			}
			key := kw["key"]
			best := items[0]
			bestK := best
			if key != nil {
				var err error
				if bestK, err = in.call(key, []Value{best}, nil); err != nil {
					return nil, err
				}
			}
			for _, it := range items[1:] {
				k := it
				if key != nil {
					var err error
					if k, err = in.call(key, []Value{it}, nil); err != nil {
						return nil, err
					}
				}
				c, err := compare(k, bestK)
				if err != nil {
					return nil, err
				}
				if (less && c < 0) || (!less && c > 0) {
					best, bestK = it, k
				}
			}
			return best, nil
		})
	}
	minmax("min", true)
	minmax("max", false)
	def("sum", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) < 1 {
			return nil, argErr("sum", 1, len(a))
		}
		if u, ok := a[0].(*Unknown); ok {
			return u, nil
		}
		items, err := in.iterate(a[0])
		if err != nil {
			return nil, err
		}
		var acc Value = Int(0)
		if len(a) > 1 {
			acc = a[1]
		}
		for _, it := range items {
			if acc, err = in.binop("+", acc, it); err != nil {
				return nil, err
			}
		}
		return acc, nil
	})
	anyAll := func(name string, isAny bool) {
		def(name, func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if len(a) != 1 {
				return nil, argErr(name, 1, len(a))
			}
			if u, ok := a[0].(*Unknown); ok {
				return u, nil
			}
			items, err := in.iterate(a[0])
			if err != nil {
				return nil, err
			}
			for _, it := range items {
				if u, ok := it.(*Unknown); ok {
					return u, nil
				}
				b, err := truth(it)
				if err != nil {
					return nil, err
				}
				if b == isAny {
					return Bool(isAny), nil
				}
			}
			return Bool(!isAny), nil
		})
	}
	anyAll("any", true)
	anyAll("all", false)
	def("filter", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) != 2 {
			return nil, argErr("filter", 2, len(a))
		}
		if u, ok := a[1].(*Unknown); ok {
			return u, nil
		}
		items, err := in.iterate(a[1])
		if err != nil {
			return nil, err
		}
		var out []Value
		for _, it := range items {
			v := it
			if a[0] != None {
				if v, err = in.call(a[0], []Value{it}, nil); err != nil {
					return nil, err
				}
			}
			if u, ok := v.(*Unknown); ok {
				return u, nil
			}
			b, err := truth(v)
			if err != nil {
				return nil, err
			}
			if b {
				out = append(out, it)
			}
		}
		return &List{items: out}, nil
	})
	def("map", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) < 2 {
			return nil, argErr("map", 2, len(a))
		}
		if u, ok := a[1].(*Unknown); ok {
			return u, nil
		}
		items, err := in.iterate(a[1])
		if err != nil {
			return nil, err
		}
		out := make([]Value, len(items))
		for i, it := range items {
			if out[i], err = in.call(a[0], []Value{it}, nil); err != nil {
				return nil, err
			}
		}
		return &List{items: out}, nil
	})
	def("isinstance", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) != 2 {
			return nil, argErr("isinstance", 2, len(a))
		}
		return Bool(isInstance(a[0], a[1])), nil
	})
	def("abs", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) != 1 {
			return nil, argErr("abs", 1, len(a))
		}
		switch x := a[0].(type) {
		case Int:
			if x < 0 {
				if n, ok := negInt(int64(x)); ok {
					return Int(n), nil
				}
				return intOverflow("abs()"), nil
			}
			return x, nil
		case Float:
			if x < 0 {
				return -x, nil
			}
			return x, nil
		case Bool:
			i, _ := toInt(x)
			return Int(i), nil
		}
		return unknownf("abs of %s", typeName(a[0])), nil
	})
	def("round", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) < 1 || !isNumber(a[0]) {
			return unknownf("round"), nil
		}
		if len(a) == 1 {
			if n, ok := toInt(a[0]); ok {
				return Int(n), nil
			}
			f := toFloat(a[0])
			if math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, newExc(excValueError, "cannot convert float %s to integer", floatRepr(f))
			}
			// Python rounds half to even.
			if r, ok := floatToInt(math.RoundToEven(f)); ok {
				return Int(r), nil
			}
			return intOverflow("round()"), nil
		}
		return unknownf("round with digits"), nil
	})
	def("ord", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) == 1 {
			if s, ok := a[0].(Str); ok {
				r := []rune(string(s))
				if len(r) == 1 {
					return Int(r[0]), nil
				}
			}
		}
		return nil, newExc(excTypeError, "ord() expected a character")
	})
	def("chr", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) == 1 {
			if n, ok := toInt(a[0]); ok && n >= 0 && n <= unicode.MaxRune {
				return Str(string(rune(n))), nil
			}
		}
		return nil, newExc(excValueError, "chr() arg not in range")
	})
	def("hasattr", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) != 2 {
			return nil, argErr("hasattr", 2, len(a))
		}
		name, ok := a[1].(Str)
		if !ok {
			return nil, newExc(excTypeError, "attribute name must be string")
		}
		v := in.getAttr(a[0], string(name))
		if u, isU := v.(*Unknown); isU {
			return u, nil
		}
		return True, nil
	})
	def("getattr", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) < 2 {
			return nil, argErr("getattr", 2, len(a))
		}
		name, ok := a[1].(Str)
		if !ok {
			return nil, newExc(excTypeError, "attribute name must be string")
		}
		v := in.getAttr(a[0], string(name))
		if _, isU := v.(*Unknown); isU && len(a) > 2 {
			return a[2], nil
		}
		return v, nil
	})
	def("print", func(in *Interp, a []Value, kw map[string]Value) (Value, error) { return None, nil })
	def("iter", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) != 1 {
			return nil, argErr("iter", 1, len(a))
		}
		items, err := in.iterate(a[0])
		if err != nil {
			return nil, err
		}
		return &List{items: items}, nil
	})
	def("format", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) < 1 {
			return nil, argErr("format", 1, len(a))
		}
		spec := ""
		if len(a) > 1 {
			s, _ := a[1].(Str)
			spec = string(s)
		}
		s, err := in.formatSpec(a[0], spec, 0)
		return Str(s), err
	})
	def("type", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) == 1 {
			if t, ok := typeObjects[typeName(a[0])]; ok {
				return t, nil
			}
		}
		return unknownf("type()"), nil
	})
	def("open", builtinOpen)
	def("next", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if len(a) >= 1 {
			if l, ok := a[0].(*List); ok {
				if len(l.items) > 0 {
					v := l.items[0]
					l.items = l.items[1:]
					return v, nil
				}
				if len(a) > 1 {
					return a[1], nil
				}
				return nil, &Exception{Class: excStopIteration}
			}
		}
		return unknownf("next()"), nil
	})
	for _, c := range []*ExcClass{excBase, excException, excKeyError, excIndexError, excValueError, excTypeError,
		excAttrError, excNameError, excZeroDiv, excOSError, excFileNotFound, excImportError, excRuntimeError,
		excStopIteration, excAssertion, excNotImpl, excRecursion, excKeyError.Parent, excUnicodeError} {
		builtins[c.Name] = c
	}
	builtins["IOError"] = builtins["OSError"]
	builtins["EnvironmentError"] = builtins["OSError"]
	for name, t := range typeObjects {
		if _, ok := builtins[name]; ok {
			typeObjects[name] = builtins[name]
		} else {
			_ = t
		}
	}
}

// typeObjects maps type names to the builtin used as the type object
// (for isinstance).
var typeObjects = map[string]Value{"str": nil, "int": nil, "float": nil, "bool": nil, "list": nil, "tuple": nil, "dict": nil, "set": nil}

func isInstance(v, t Value) bool {
	if tup, ok := t.(*Tuple); ok {
		for _, it := range tup.items {
			if isInstance(v, it) {
				return true
			}
		}
		return false
	}
	switch x := t.(type) {
	case *Builtin:
		name := typeName(v)
		if x.Name == "int" && name == "bool" {
			return true
		}
		return name == x.Name || (x.Name == "frozenset" && name == "set")
	case *ExcClass:
		if e, ok := v.(*Exception); ok {
			return e.Class.isSubclass(x)
		}
		if o, ok := v.(*Object); ok {
			return o.Class.isSubclass(x)
		}
	case *Class:
		if i, ok := v.(*Instance); ok {
			return i.Class.isSubclass(x)
		}
	}
	return false
}

func argErr(name string, want, got int) error {
	return newExc(excTypeError, "%s() takes %d argument(s) (%d given)", name, want, got)
}

func sortedKeys(m map[string]Value) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// strValue is str(v) or repr(v) bounded by the evaluator's size limit
// and charged to its allocation budget.
func (in *Interp) strValue(v Value, asRepr bool) (Value, error) {
	if s, ok := v.(Str); ok && !asRepr {
		return s, nil
	}
	switch v.(type) {
	case *List, *Tuple, *Dict, *Set:
		s, ok := reprLimit(v, in.Limits.MaxBytes)
		if !ok {
			return nil, &errBudget{"value size"}
		}
		return Str(s), in.checkSize(len(s))
	}
	var s string
	if asRepr {
		s = repr(v)
	} else {
		s = strOf(v)
	}
	return Str(s), in.checkSize(len(s))
}

package pyeval

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Value is a Python value of the supported subset: None, Bool, Int,
// Float, Str, *List, *Tuple, *Dict, *Set, callables, modules, the
// datastore object and *Unknown.
type Value interface{}

type noneType struct{}

// Python constants.
var (
	None  Value = &noneType{}
	True  Value = Bool(true)
	False Value = Bool(false)
)

type (
	// Bool is a Python bool.
	Bool bool
	// Int is a Python int (bounded to 64 bits).
	Int int64
	// Float is a Python float.
	Float float64
	// Str is a Python str.
	Str string
)

// List is a mutable Python list.
type List struct{ items []Value }

// Tuple is an immutable Python tuple.
type Tuple struct{ items []Value }

// Dict is an insertion-ordered Python dict.
type Dict struct {
	keys  []Value
	vals  []Value
	index map[string]int
	// sharedIndex marks keys and index as shared with another dict
	// (deepCopy): they are copied before the first change.
	sharedIndex bool
}

// own un-shares keys and index before a change.
func (d *Dict) own() {
	if !d.sharedIndex {
		return
	}
	d.keys = append([]Value(nil), d.keys...)
	idx := make(map[string]int, len(d.index))
	for k, v := range d.index {
		idx[k] = v
	}
	d.index = idx
	d.sharedIndex = false
}

// Set is a Python set (insertion-ordered here; Python's own order is
// hash-based, so nothing may depend on it).
type Set struct{ d *Dict }

// Unknown stands for a value the evaluator could not compute (a call to an
// unsupported function, an unsupported attribute...). Operations on it
// give Unknown again; it turns into an Unsupported error where a decision
// or a side effect depends on it.
type Unknown struct{ Why string }

// Builtin is a function implemented in Go.
type Builtin struct {
	Name string
	Fn   func(in *Interp, args []Value, kw map[string]Value) (Value, error)
}

// boundMethod is a method of a built-in type bound to its receiver.
type boundMethod struct {
	self Value
	name string
}

// Function is a Python function defined in metadata (def or lambda).
type Function struct {
	def      *funcDef
	closure  *scope
	defaults []Value
}

// Module is a namespace such as bb.utils or os.path.
type Module struct {
	Name  string
	Attrs map[string]Value
}

// ExcClass is an exception class.
type ExcClass struct {
	Name   string
	Parent *ExcClass
}

// Exception is a raised (or constructed) exception.
type Exception struct {
	Class *ExcClass
	Args  []Value
}

func (e *Exception) Error() string {
	if len(e.Args) == 0 {
		return e.Class.Name
	}
	return e.Class.Name + ": " + strOf(e.Args[0])
}

// Message is str(exception).
func (e *Exception) Message() string {
	switch len(e.Args) {
	case 0:
		return ""
	case 1:
		return strOf(e.Args[0])
	}
	return repr(&Tuple{items: e.Args})
}

// SkipMessage reports whether the exception is bb.parse.SkipRecipe (or a
// subclass) and its message.
func (e *Exception) SkipMessage() (string, bool) {
	if e.Class.isSubclass(ExcSkipRecipe) {
		return e.Message(), true
	}
	return "", false
}

func (c *ExcClass) isSubclass(of *ExcClass) bool {
	for k := c; k != nil; k = k.Parent {
		if k == of {
			return true
		}
	}
	return false
}

// Standard exception classes.
var (
	excBase          = &ExcClass{Name: "BaseException"}
	excException     = &ExcClass{Name: "Exception", Parent: excBase}
	excKeyError      = &ExcClass{Name: "KeyError", Parent: &ExcClass{Name: "LookupError", Parent: excException}}
	excIndexError    = &ExcClass{Name: "IndexError", Parent: excKeyError.Parent}
	excValueError    = &ExcClass{Name: "ValueError", Parent: excException}
	excTypeError     = &ExcClass{Name: "TypeError", Parent: excException}
	excAttrError     = &ExcClass{Name: "AttributeError", Parent: excException}
	excNameError     = &ExcClass{Name: "NameError", Parent: excException}
	excZeroDiv       = &ExcClass{Name: "ZeroDivisionError", Parent: &ExcClass{Name: "ArithmeticError", Parent: excException}}
	excOSError       = &ExcClass{Name: "OSError", Parent: excException}
	excFileNotFound  = &ExcClass{Name: "FileNotFoundError", Parent: excOSError}
	excImportError   = &ExcClass{Name: "ImportError", Parent: excException}
	excRuntimeError  = &ExcClass{Name: "RuntimeError", Parent: excException}
	excStopIteration = &ExcClass{Name: "StopIteration", Parent: excException}
	excAssertion     = &ExcClass{Name: "AssertionError", Parent: excException}
	excNotImpl       = &ExcClass{Name: "NotImplementedError", Parent: excRuntimeError}
	excRecursion     = &ExcClass{Name: "RecursionError", Parent: excRuntimeError}
	excUnicodeError  = &ExcClass{Name: "UnicodeDecodeError", Parent: excValueError}
	// ExcSkipRecipe is bb.parse.SkipRecipe.
	ExcSkipRecipe  = &ExcClass{Name: "SkipRecipe", Parent: excException}
	excSkipPackage = &ExcClass{Name: "SkipPackage", Parent: ExcSkipRecipe}
	// ExcFatal is raised by bb.fatal (bb.BBHandledException in BitBake).
	ExcFatal      = &ExcClass{Name: "BBHandledException", Parent: excException}
	excParseError = &ExcClass{Name: "ParseError", Parent: excException}
	excBBFetch    = &ExcClass{Name: "BBFetchException", Parent: excException}
	excFetchError = &ExcClass{Name: "FetchError", Parent: excBBFetch}
)

func newExc(c *ExcClass, format string, args ...any) *Exception {
	return &Exception{Class: c, Args: []Value{Str(fmt.Sprintf(format, args...))}}
}

// Unsupported reports Python the evaluator does not implement. The
// caller turns it into an empty value and counts it.
type Unsupported struct{ What string }

func (u *Unsupported) Error() string { return "unsupported: " + u.What }

func unsupported(format string, args ...any) error {
	return &Unsupported{What: fmt.Sprintf(format, args...)}
}

func unknownf(format string, args ...any) *Unknown {
	return &Unknown{Why: fmt.Sprintf(format, args...)}
}

// NewList returns a list holding items.
func NewList(items []Value) *List { return &List{items: items} }

// NewTuple returns a tuple holding items.
func NewTuple(items ...Value) *Tuple { return &Tuple{items: items} }

// NewDict returns an empty dict.
func NewDict() *Dict { return &Dict{index: map[string]int{}} }

func newSet() *Set { return &Set{d: NewDict()} }

// StrList converts Go strings to a Python list.
func StrList(ss []string) *List {
	items := make([]Value, len(ss))
	for i, s := range ss {
		items[i] = Str(s)
	}
	return &List{items: items}
}

func (d *Dict) get(k Value) (Value, bool, error) {
	h, err := hashKey(k)
	if err != nil {
		return nil, false, err
	}
	if i, ok := d.index[h]; ok {
		return d.vals[i], true, nil
	}
	return nil, false, nil
}

func (d *Dict) set(k, v Value) error {
	h, err := hashKey(k)
	if err != nil {
		return err
	}
	if i, ok := d.index[h]; ok {
		d.vals[i] = v
		return nil
	}
	d.own()
	d.index[h] = len(d.keys)
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	return nil
}

// SetStr sets a string key.
func (d *Dict) SetStr(k string, v Value) { _ = d.set(Str(k), v) }

func (d *Dict) del(k Value) (bool, error) {
	h, err := hashKey(k)
	if err != nil {
		return false, err
	}
	i, ok := d.index[h]
	if !ok {
		return false, nil
	}
	d.own()
	d.keys = append(d.keys[:i:i], d.keys[i+1:]...)
	d.vals = append(d.vals[:i:i], d.vals[i+1:]...)
	delete(d.index, h)
	for j := i; j < len(d.keys); j++ {
		hk, _ := hashKey(d.keys[j])
		d.index[hk] = j
	}
	return true, nil
}

func (d *Dict) copy() *Dict {
	n := &Dict{keys: append([]Value(nil), d.keys...), vals: append([]Value(nil), d.vals...), index: make(map[string]int, len(d.index))}
	for k, v := range d.index {
		n.index[k] = v
	}
	return n
}

func (s *Set) add(v Value) error { return s.d.set(v, None) }
func (s *Set) has(v Value) (bool, error) {
	_, ok, err := s.d.get(v)
	return ok, err
}

// hashKey encodes a hashable value so that equal values share a key.
func hashKey(v Value) (string, error) {
	switch x := v.(type) {
	case *noneType:
		return "n", nil
	case Bool:
		if x {
			return "i1", nil
		}
		return "i0", nil
	case Int:
		return "i" + strconv.FormatInt(int64(x), 10), nil
	case Float:
		if f := float64(x); f == math.Trunc(f) && math.Abs(f) < 1e18 {
			return "i" + strconv.FormatInt(int64(f), 10), nil
		}
		return "f" + strconv.FormatFloat(float64(x), 'g', -1, 64), nil
	case Str:
		return "s" + string(x), nil
	case *Tuple:
		var b strings.Builder
		b.WriteString("t(")
		for _, it := range x.items {
			k, err := hashKey(it)
			if err != nil {
				return "", err
			}
			b.WriteString(strconv.Itoa(len(k)))
			b.WriteByte(':')
			b.WriteString(k)
		}
		b.WriteByte(')')
		return b.String(), nil
	case *ExcClass:
		return "c" + x.Name, nil
	case *Builtin:
		return "b" + x.Name, nil
	case *Module:
		return "m" + x.Name, nil
	case *Unknown:
		return "", unsupported("hash of unknown value (%s)", x.Why)
	}
	return "", newExc(excTypeError, "unhashable type: '%s'", typeName(v))
}

func typeName(v Value) string {
	switch x := v.(type) {
	case *noneType:
		return "NoneType"
	case Bool:
		return "bool"
	case Int:
		return "int"
	case Float:
		return "float"
	case Str:
		return "str"
	case *List:
		return "list"
	case *Tuple:
		return "tuple"
	case *Dict:
		return "dict"
	case *Set:
		return "set"
	case *Function, *Builtin, *boundMethod, *boundFunc:
		return "function"
	case *Class:
		return "type"
	case *Instance:
		return x.Class.Name
	case *Module:
		return "module"
	case *Exception:
		return "exception"
	case *ExcClass:
		return "type"
	case *Unknown:
		return "unknown"
	}
	return fmt.Sprintf("%T", v)
}

// truth is Python's bool(v).
func truth(v Value) (bool, error) {
	switch x := v.(type) {
	case *noneType:
		return false, nil
	case Bool:
		return bool(x), nil
	case Int:
		return x != 0, nil
	case Float:
		return x != 0, nil
	case Str:
		return x != "", nil
	case *List:
		return len(x.items) > 0, nil
	case *Tuple:
		return len(x.items) > 0, nil
	case *Dict:
		return len(x.keys) > 0, nil
	case *Set:
		return len(x.d.keys) > 0, nil
	case *Unknown:
		return false, unsupported("decision on unknown value (%s)", x.Why)
	case *matchObj:
		return x != nil, nil
	}
	return true, nil
}

// strOf is Python's str(v).
func strOf(v Value) string {
	switch x := v.(type) {
	case Str:
		return string(x)
	case *noneType:
		return "None"
	case Bool:
		if x {
			return "True"
		}
		return "False"
	case Int:
		return strconv.FormatInt(int64(x), 10)
	case Float:
		return floatRepr(float64(x))
	case *Exception:
		return x.Message()
	}
	return repr(v)
}

func floatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if strings.Contains(s, "e") {
		// Python writes 1e+16, Go 1e+16: same; but exponent digits: Go
		// may write e-05, Python too.
		return s
	}
	return s
}

// maxRepr bounds repr/str output of containers built without an
// evaluator at hand.
const maxRepr = 16 << 20

// repr is Python's repr(v) (truncated beyond maxRepr).
func repr(v Value) string {
	s, _ := reprLimit(v, maxRepr)
	return s
}

// reprLimit renders repr(v), stopping once the output exceeds limit
// (ok is then false).
func reprLimit(v Value, limit int) (string, bool) {
	var b strings.Builder
	ok := reprTo(&b, v, limit, 0)
	return b.String(), ok
}

func reprTo(b *strings.Builder, v Value, limit, depth int) bool {
	if b.Len() > limit || depth > 100 {
		return false
	}
	seq := func(open, close string, items []Value, single bool) bool {
		b.WriteString(open)
		for i, it := range items {
			if i > 0 {
				b.WriteString(", ")
			}
			if !reprTo(b, it, limit, depth+1) {
				return false
			}
		}
		if single && len(items) == 1 {
			b.WriteString(",")
		}
		b.WriteString(close)
		return b.Len() <= limit
	}
	switch x := v.(type) {
	case Str:
		// Every character takes at least one byte: refuse before
		// copying a string that cannot fit.
		if b.Len()+len(x)+2 > limit {
			return false
		}
		strReprTo(b, string(x))
	case *List:
		return seq("[", "]", x.items, false)
	case *Tuple:
		return seq("(", ")", x.items, true)
	case *Dict:
		b.WriteString("{")
		for i := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			if !reprTo(b, x.keys[i], limit, depth+1) {
				return false
			}
			b.WriteString(": ")
			if !reprTo(b, x.vals[i], limit, depth+1) {
				return false
			}
		}
		b.WriteString("}")
	case *Set:
		if len(x.d.keys) == 0 {
			b.WriteString("set()")
			return true
		}
		return seq("{", "}", x.d.keys, false)
	case *noneType, Bool, Int, Float:
		b.WriteString(strOf(v))
	case *Function:
		b.WriteString("<function " + x.def.name + ">")
	case *Builtin:
		b.WriteString("<built-in function " + x.Name + ">")
	case *Module:
		b.WriteString("<module '" + x.Name + "'>")
	case *ExcClass:
		b.WriteString("<class '" + x.Name + "'>")
	case *Exception:
		b.WriteString(x.Class.Name)
		return seq("(", ")", x.Args, false)
	case *Unknown:
		b.WriteString("<unknown: " + x.Why + ">")
	case *DataRef:
		b.WriteString("<bb.data_smart.DataSmart object>")
	case *Instance:
		b.WriteString("<" + x.Class.Name + " object>")
	default:
		fmt.Fprintf(b, "<%T>", v)
	}
	return b.Len() <= limit
}

func strReprTo(b *strings.Builder, s string) {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, "\"") {
		q = '"'
	}
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
}

func isNumber(v Value) bool {
	switch v.(type) {
	case Bool, Int, Float:
		return true
	}
	return false
}

func toFloat(v Value) float64 {
	switch x := v.(type) {
	case Bool:
		if x {
			return 1
		}
		return 0
	case Int:
		return float64(x)
	case Float:
		return float64(x)
	}
	return 0
}

func toInt(v Value) (int64, bool) {
	switch x := v.(type) {
	case Bool:
		if x {
			return 1, true
		}
		return 0, true
	case Int:
		return int64(x), true
	}
	return 0, false
}

// equal is Python's ==.
func equal(a, b Value) bool {
	if isNumber(a) && isNumber(b) {
		ai, aok := toInt(a)
		bi, bok := toInt(b)
		if aok && bok {
			return ai == bi
		}
		return toFloat(a) == toFloat(b)
	}
	switch x := a.(type) {
	case Str:
		y, ok := b.(Str)
		return ok && x == y
	case *noneType:
		_, ok := b.(*noneType)
		return ok
	case *List:
		y, ok := b.(*List)
		return ok && seqEqual(x.items, y.items)
	case *Tuple:
		y, ok := b.(*Tuple)
		return ok && seqEqual(x.items, y.items)
	case *Dict:
		y, ok := b.(*Dict)
		if !ok || len(x.keys) != len(y.keys) {
			return false
		}
		for i, k := range x.keys {
			v, found, _ := y.get(k)
			if !found || !equal(x.vals[i], v) {
				return false
			}
		}
		return true
	case *Set:
		y, ok := b.(*Set)
		if !ok || len(x.d.keys) != len(y.d.keys) {
			return false
		}
		for _, k := range x.d.keys {
			if has, _ := y.has(k); !has {
				return false
			}
		}
		return true
	}
	return a == b
}

func seqEqual(a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// compare orders two values like Python's < for numbers, strings and
// sequences.
func compare(a, b Value) (int, error) {
	if isNumber(a) && isNumber(b) {
		ai, aok := toInt(a)
		bi, bok := toInt(b)
		if aok && bok {
			switch {
			case ai < bi:
				return -1, nil
			case ai > bi:
				return 1, nil
			}
			return 0, nil
		}
		fa, fb := toFloat(a), toFloat(b)
		switch {
		case fa < fb:
			return -1, nil
		case fa > fb:
			return 1, nil
		}
		return 0, nil
	}
	switch x := a.(type) {
	case Str:
		if y, ok := b.(Str); ok {
			return strings.Compare(string(x), string(y)), nil
		}
	case *List:
		if y, ok := b.(*List); ok {
			return seqCompare(x.items, y.items)
		}
	case *Tuple:
		if y, ok := b.(*Tuple); ok {
			return seqCompare(x.items, y.items)
		}
	case *Unknown:
		return 0, unsupported("comparison with unknown value (%s)", x.Why)
	}
	if u, ok := b.(*Unknown); ok {
		return 0, unsupported("comparison with unknown value (%s)", u.Why)
	}
	return 0, newExc(excTypeError, "'<' not supported between instances of '%s' and '%s'", typeName(a), typeName(b))
}

func seqCompare(a, b []Value) (int, error) {
	for i := 0; i < len(a) && i < len(b); i++ {
		if equal(a[i], b[i]) {
			continue
		}
		return compare(a[i], b[i])
	}
	switch {
	case len(a) < len(b):
		return -1, nil
	case len(a) > len(b):
		return 1, nil
	}
	return 0, nil
}

// sortValues sorts in place with Python ordering, optionally by key.
func sortValues(in *Interp, items []Value, key Value, reverse bool) error {
	keys := items
	if key != nil && key != None {
		keys = make([]Value, len(items))
		for i, it := range items {
			k, err := in.call(key, []Value{it}, nil)
			if err != nil {
				return err
			}
			keys[i] = k
		}
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	var firstErr error
	sort.SliceStable(idx, func(i, j int) bool {
		c, err := compare(keys[idx[i]], keys[idx[j]])
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if reverse {
			return c > 0
		}
		return c < 0
	})
	if firstErr != nil {
		return firstErr
	}
	out := make([]Value, len(items))
	for i, k := range idx {
		out[i] = items[k]
	}
	copy(items, out)
	return nil
}

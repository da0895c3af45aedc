package pyeval

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

var strMethods = setOf("split", "rsplit", "strip", "lstrip", "rstrip", "replace", "startswith", "endswith",
	"join", "upper", "lower", "find", "rfind", "index", "rindex", "count", "format", "partition", "rpartition",
	"splitlines", "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "isnumeric", "isdecimal",
	"isidentifier", "title", "capitalize", "zfill", "removeprefix", "removesuffix", "center", "ljust", "rjust",
	"encode", "decode", "casefold", "swapcase", "expandtabs")

var listMethods = setOf("append", "extend", "insert", "pop", "remove", "index", "count", "sort", "reverse", "copy", "clear")
var dictMethods = setOf("get", "keys", "values", "items", "setdefault", "update", "pop", "copy", "clear")
var setMethods = setOf("add", "update", "discard", "remove", "union", "intersection", "difference",
	"symmetric_difference", "issubset", "issuperset", "isdisjoint", "copy", "pop", "clear", "intersection_update",
	"difference_update")
var dataMethods = setOf("getVar", "getVarFlag", "getVarFlags", "setVar", "setVarFlag", "setVarFlags", "appendVar",
	"prependVar", "appendVarFlag", "prependVarFlag", "delVar", "delVarFlag", "expand", "renameVar", "createCopy",
	"setVarFilter", "getVarHistory", "expandWithRefs", "keys", "localkeys", "hasOverrides", "delVarFlags", "get",
	"expandVarref")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// getAttr resolves obj.name. Unknown attributes give Unknown.
func (in *Interp) getAttr(obj Value, name string) Value {
	switch name {
	case "__str__", "__repr__":
		if _, isU := obj.(*Unknown); !isU {
			asRepr := name == "__repr__"
			return fn(name, func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
				return in.strValue(obj, asRepr)
			})
		}
	}
	switch o := obj.(type) {
	case *Module:
		if v, ok := o.Attrs[name]; ok {
			if dct, isDict := v.(*Dict); isDict && modules[o.Name] == o {
				// Built-in module attributes are shared: hand out copies
				// of mutable ones (os.environ).
				return dct.copy()
			}
			return v
		}
		if sub := in.module(o.Name + "." + name); sub != nil {
			return sub
		}
		if lib := in.libModule(o.Name); lib != nil && lib != o {
			if v, ok := lib.Attrs[name]; ok {
				return v
			}
		}
		return unknownf("%s.%s", o.Name, name)
	case Str:
		if strMethods[name] {
			return &boundMethod{self: o, name: name}
		}
	case *List:
		if listMethods[name] {
			return &boundMethod{self: o, name: name}
		}
	case *Dict:
		if dictMethods[name] {
			return &boundMethod{self: o, name: name}
		}
	case *Set:
		if setMethods[name] {
			return &boundMethod{self: o, name: name}
		}
	case *Tuple:
		if name == "index" || name == "count" {
			return &boundMethod{self: o, name: name}
		}
	case *DataRef:
		if dataMethods[name] {
			return &boundMethod{self: o, name: name}
		}
	case *Exception:
		if name == "args" {
			return &Tuple{items: o.Args}
		}
	case *ExcClass:
		if name == "__name__" {
			return Str(o.Name)
		}
	case *matchObj:
		if name == "group" || name == "groups" || name == "start" || name == "end" || name == "span" || name == "groupdict" {
			return &boundMethod{self: o, name: name}
		}
	case *fileObj:
		return &boundMethod{self: o, name: name}
	case *regexObj:
		if name == "match" || name == "search" || name == "sub" || name == "findall" || name == "split" || name == "fullmatch" {
			return &boundMethod{self: o, name: name}
		}
	case *Function:
		if name == "__name__" {
			return Str(o.def.name)
		}
	case *Object:
		if v, ok := o.Attrs[name]; ok {
			return v
		}
	case *Class:
		return in.classAttr(o, name)
	case *Instance:
		v, err := in.instanceAttr(o, name)
		if err != nil {
			return unknownf("%v", err)
		}
		return v
	case *Builtin:
		// Unbound methods of built-in types: set.difference(a, b).
		var methods map[string]bool
		switch o.Name {
		case "str":
			methods = strMethods
		case "list", "tuple":
			methods = listMethods
		case "dict":
			methods = dictMethods
		case "set", "frozenset":
			methods = setMethods
		}
		if methods[name] {
			return fn(o.Name+"."+name, func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
				if len(a) < 1 {
					return nil, argErr(name, 1, 0)
				}
				return in.callMethod(a[0], name, a[1:], kw)
			})
		}
	case *Unknown:
		return o
	}
	return unknownf("attribute %s of %s", name, typeName(obj))
}

func (in *Interp) callMethod(self Value, name string, a []Value, kw map[string]Value) (Value, error) {
	for _, x := range a {
		if u, ok := x.(*Unknown); ok {
			if _, isData := self.(*DataRef); isData && strings.HasPrefix(name, "get") {
				return u, nil
			}
			if _, isData := self.(*DataRef); isData {
				return nil, unsupported("d.%s with unknown argument (%s)", name, u.Why)
			}
			if _, isList := self.(*List); isList && (name == "append" || name == "extend" || name == "insert") {
				// Appending an unknown keeps the list usable; it only
				// matters if the element is used.
				break
			}
			return u, nil
		}
	}
	switch o := self.(type) {
	case Str:
		return in.strMethod(o, name, a, kw)
	case *List:
		return in.listMethod(o, name, a, kw)
	case *Tuple:
		return in.listMethod(&List{items: o.items}, name, a, kw)
	case *Dict:
		return in.dictMethod(o, name, a, kw)
	case *Set:
		return in.setMethod(o, name, a, kw)
	case *DataRef:
		return in.dataMethod(o, name, a, kw)
	case *matchObj:
		return o.method(name, a)
	case *regexObj:
		return in.regexMethod(o, name, a, kw)
	case *fileObj:
		return o.method(in, name, a)
	}
	return unknownf("method %s of %s", name, typeName(self)), nil
}

func strArg(a []Value, i int, def string) (string, bool) {
	if i >= len(a) || a[i] == None {
		return def, true
	}
	s, ok := a[i].(Str)
	return string(s), ok
}

func intArg(a []Value, i int, def int64) (int64, bool) {
	if i >= len(a) || a[i] == None {
		return def, true
	}
	return toInt(a[i])
}

// pySplit implements str.split / str.rsplit.
func pySplit(s string, sep string, hasSep bool, maxsplit int64, right bool) []string {
	if !hasSep {
		if maxsplit < 0 {
			return strings.FieldsFunc(s, isPySpace)
		}
		var out []string
		if !right {
			rest := strings.TrimLeftFunc(s, isPySpace)
			for rest != "" {
				if int64(len(out)) == maxsplit {
					out = append(out, rest)
					break
				}
				i := strings.IndexFunc(rest, isPySpace)
				if i < 0 {
					out = append(out, rest)
					break
				}
				out = append(out, rest[:i])
				rest = strings.TrimLeftFunc(rest[i:], isPySpace)
			}
			return out
		}
		rest := strings.TrimRightFunc(s, isPySpace)
		for rest != "" {
			if int64(len(out)) == maxsplit {
				out = append(out, rest)
				break
			}
			i := strings.LastIndexFunc(rest, isPySpace)
			if i < 0 {
				out = append(out, rest)
				break
			}
			_, sz := utf8DecodeLast(rest[:i+1])
			out = append(out, rest[i+sz:])
			rest = strings.TrimRightFunc(rest[:i], isPySpace)
		}
		for l, r := 0, len(out)-1; l < r; l, r = l+1, r-1 {
			out[l], out[r] = out[r], out[l]
		}
		return out
	}
	if maxsplit < 0 {
		return strings.Split(s, sep)
	}
	if !right {
		return strings.SplitN(s, sep, int(maxsplit)+1)
	}
	var out []string
	rest := s
	for int64(len(out)) < maxsplit {
		i := strings.LastIndex(rest, sep)
		if i < 0 {
			break
		}
		out = append(out, rest[i+len(sep):])
		rest = rest[:i]
	}
	out = append(out, rest)
	for l, r := 0, len(out)-1; l < r; l, r = l+1, r-1 {
		out[l], out[r] = out[r], out[l]
	}
	return out
}

// strRange returns the byte range of str that the optional start and end
// arguments a[1] and a[2] (code point offsets, as in str.find) select;
// ok is false when the range starts past the end of str or ends before
// it starts, where Python finds nothing at all.
func strRange(str string, a []Value) (lo, hi int, ok bool) {
	n := strLen(str)
	st, _ := intArg(a, 1, 0)
	en, _ := intArg(a, 2, int64(n))
	lo, hi = sliceBounds(&sliceValue{lo: &st, hi: &en}, n)
	ok = st <= int64(n) && hi >= lo
	if hi < lo {
		hi = lo
	}
	if n != len(str) {
		lo, hi = byteOffset(str, lo), byteOffset(str, hi)
	}
	return lo, hi, ok
}

func utf8DecodeLast(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < 0x80 || s[i] >= 0xC0 {
			return []rune(s[i:])[0], len(s) - i
		}
	}
	return 0, 1
}

func isPySpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x1f, 0x85:
		return true
	}
	return r > 0x7f && unicode.IsSpace(r)
}

func (in *Interp) strMethod(s Str, name string, a []Value, kw map[string]Value) (Value, error) {
	str := string(s)
	bad := func() (Value, error) {
		return nil, newExc(excTypeError, "bad arguments to str.%s", name)
	}
	switch name {
	case "split", "rsplit":
		sep, ok := strArg(a, 0, "")
		if v, has := kw["sep"]; has {
			a = append([]Value{v}, a...)
			sep, ok = strArg(a, 0, "")
		}
		if !ok {
			return bad()
		}
		hasSep := len(a) > 0 && a[0] != None
		if hasSep && sep == "" {
			return nil, newExc(excValueError, "empty separator")
		}
		maxs, ok := intArg(a, 1, -1)
		if v, has := kw["maxsplit"]; has {
			maxs, ok = toInt(v)
		}
		if !ok {
			return bad()
		}
		// At most one part per separator, plus one: refused before the
		// parts are built when that many could exceed the limit.
		var parts int
		if hasSep {
			parts = strings.Count(str, sep) + 1
		} else {
			parts = countFields(str)
		}
		if maxs >= 0 && maxs+1 < int64(parts) {
			parts = int(maxs + 1)
		}
		if err := in.checkItems(parts, 0); err != nil {
			return nil, err
		}
		return StrList(pySplit(str, sep, hasSep, maxs, name == "rsplit")), nil
	case "strip", "lstrip", "rstrip":
		chars, ok := strArg(a, 0, "")
		if !ok {
			return bad()
		}
		hasChars := len(a) > 0 && a[0] != None
		trim := func(r rune) bool {
			if hasChars {
				return strings.ContainsRune(chars, r)
			}
			return isPySpace(r)
		}
		switch name {
		case "strip":
			return Str(strings.TrimRightFunc(strings.TrimLeftFunc(str, trim), trim)), nil
		case "lstrip":
			return Str(strings.TrimLeftFunc(str, trim)), nil
		}
		return Str(strings.TrimRightFunc(str, trim)), nil
	case "replace":
		old, ok1 := strArg(a, 0, "")
		nw, ok2 := strArg(a, 1, "")
		if !ok1 || !ok2 || len(a) < 2 {
			return bad()
		}
		n, _ := intArg(a, 2, -1)
		// The result's length is known before it is built.
		count := int64(strings.Count(str, old))
		if n >= 0 && n < count {
			count = n
		}
		if int64(len(str))+count*int64(len(nw)-len(old)) > int64(in.Limits.MaxBytes) {
			return nil, &errBudget{"replace result"}
		}
		if n > count {
			n = count
		}
		return Str(strings.Replace(str, old, nw, int(n))), nil
	case "startswith", "endswith":
		if len(a) < 1 {
			return bad()
		}
		var cands []string
		switch x := a[0].(type) {
		case Str:
			cands = []string{string(x)}
		case *Tuple:
			for _, it := range x.items {
				if sv, ok := it.(Str); ok {
					cands = append(cands, string(sv))
				}
			}
		default:
			return bad()
		}
		sub := str
		if len(a) > 1 {
			lo, hi, ok := strRange(str, a)
			if !ok {
				return False, nil
			}
			sub = str[lo:hi]
		}
		for _, c := range cands {
			if name == "startswith" && strings.HasPrefix(sub, c) || name == "endswith" && strings.HasSuffix(sub, c) {
				return True, nil
			}
		}
		return False, nil
	case "join":
		if len(a) != 1 {
			return bad()
		}
		items, err := in.iterate(a[0])
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(items))
		total := 0
		for i, it := range items {
			sv, ok := it.(Str)
			if !ok {
				if u, isU := it.(*Unknown); isU {
					return u, nil
				}
				return nil, newExc(excTypeError, "sequence item %d: expected str instance, %s found", i, typeName(it))
			}
			parts[i] = string(sv)
			total += len(sv) + len(str)
		}
		if err := in.checkSize(total); err != nil {
			return nil, err
		}
		return Str(strings.Join(parts, str)), nil
	case "upper":
		return Str(strings.ToUpper(str)), nil
	case "lower", "casefold":
		return Str(strings.ToLower(str)), nil
	case "swapcase":
		return Str(strings.Map(func(r rune) rune {
			if unicode.IsUpper(r) {
				return unicode.ToLower(r)
			}
			return unicode.ToUpper(r)
		}, str)), nil
	case "find", "rfind", "index", "rindex", "count":
		sub, ok := strArg(a, 0, "")
		if !ok || len(a) < 1 {
			return bad()
		}
		lo, hi, inRange := strRange(str, a)
		part := str[lo:hi]
		if name == "count" {
			if !inRange {
				return Int(0), nil
			}
			return Int(strings.Count(part, sub)), nil
		}
		i := -1
		if !inRange {
			// Python finds nothing, not even "", in a range that
			// starts past the end.
		} else if name == "find" || name == "index" {
			i = strings.Index(part, sub)
		} else {
			i = strings.LastIndex(part, sub)
		}
		if i < 0 {
			if name == "index" || name == "rindex" {
				return nil, newExc(excValueError, "substring not found")
			}
			return Int(-1), nil
		}
		return Int(codePointOffset(str, lo+i)), nil
	case "format":
		return in.strFormat(str, a, kw)
	case "partition", "rpartition":
		sep, ok := strArg(a, 0, "")
		if !ok || sep == "" {
			return bad()
		}
		var i int
		if name == "partition" {
			i = strings.Index(str, sep)
		} else {
			i = strings.LastIndex(str, sep)
		}
		if i < 0 {
			if name == "partition" {
				return NewTuple(Str(str), Str(""), Str("")), nil
			}
			return NewTuple(Str(""), Str(""), Str(str)), nil
		}
		return NewTuple(Str(str[:i]), Str(sep), Str(str[i+len(sep):])), nil
	case "splitlines":
		keep, _ := truth(kwOr(a, 0, kw, "keepends", False))
		if err := in.checkItems(strings.Count(str, "\n")+strings.Count(str, "\r")-strings.Count(str, "\r\n")+1, 0); err != nil {
			return nil, err
		}
		lines := splitLines(str, keep)
		return StrList(lines), in.checkItems(len(lines), len(lines))
	case "isdigit", "isnumeric", "isdecimal":
		return Bool(str != "" && strings.IndexFunc(str, func(r rune) bool { return !unicode.IsDigit(r) }) < 0), nil
	case "isalpha":
		return Bool(str != "" && strings.IndexFunc(str, func(r rune) bool { return !unicode.IsLetter(r) }) < 0), nil
	case "isalnum":
		return Bool(str != "" && strings.IndexFunc(str, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) < 0), nil
	case "isspace":
		return Bool(str != "" && strings.IndexFunc(str, func(r rune) bool { return !isPySpace(r) }) < 0), nil
	case "isupper":
		return Bool(strings.ToUpper(str) == str && strings.ToLower(str) != str), nil
	case "islower":
		return Bool(strings.ToLower(str) == str && strings.ToUpper(str) != str), nil
	case "isidentifier":
		ok := str != ""
		for i, r := range str {
			if !(r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
				ok = false
			}
		}
		return Bool(ok), nil
	case "title":
		prev := false
		return Str(strings.Map(func(r rune) rune {
			cased := unicode.IsLetter(r)
			defer func() { prev = cased }()
			if cased && !prev {
				return unicode.ToUpper(r)
			}
			if cased {
				return unicode.ToLower(r)
			}
			return r
		}, str)), nil
	case "capitalize":
		if str == "" {
			return s, nil
		}
		r := []rune(str)
		return Str(strings.ToUpper(string(r[0])) + strings.ToLower(string(r[1:]))), nil
	case "zfill":
		w, ok := intArg(a, 0, 0)
		if !ok {
			return bad()
		}
		if w > int64(in.Limits.MaxBytes) {
			return nil, &errBudget{"zfill width"}
		}
		n := int64(strLen(str))
		if n >= w {
			return s, nil
		}
		sign := ""
		if str != "" && (str[0] == '-' || str[0] == '+') {
			sign, str = str[:1], str[1:]
		}
		return Str(sign + strings.Repeat("0", int(w-n)) + str), nil
	case "removeprefix":
		p, ok := strArg(a, 0, "")
		if !ok {
			return bad()
		}
		return Str(strings.TrimPrefix(str, p)), nil
	case "removesuffix":
		p, ok := strArg(a, 0, "")
		if !ok {
			return bad()
		}
		return Str(strings.TrimSuffix(str, p)), nil
	case "center", "ljust", "rjust":
		w, ok := intArg(a, 0, 0)
		fill, ok2 := strArg(a, 1, " ")
		if !ok || !ok2 || utf8.RuneCountInString(fill) != 1 {
			return bad()
		}
		n := w - int64(utf8.RuneCountInString(str))
		if n <= 0 {
			return s, nil
		}
		if n > int64(in.Limits.MaxBytes-len(str))/int64(len(fill)) {
			return nil, &errBudget{name + " width"}
		}
		switch name {
		case "ljust":
			return Str(str + strings.Repeat(fill, int(n))), nil
		case "rjust":
			return Str(strings.Repeat(fill, int(n)) + str), nil
		}
		// CPython's rule: an odd margin puts its extra fill on the left
		// only when the width is odd.
		left := n/2 + n&w&1
		return Str(strings.Repeat(fill, int(left)) + str + strings.Repeat(fill, int(n-left))), nil
	case "encode", "decode":
		return s, nil
	case "expandtabs":
		size, ok := intArg(a, 0, 8)
		if v, has := kw["tabsize"]; has {
			size, ok = toInt(v)
		}
		if !ok {
			return bad()
		}
		return in.expandTabs(str, size)
	}
	return unknownf("str.%s", name), nil
}

func (in *Interp) listMethod(l *List, name string, a []Value, kw map[string]Value) (Value, error) {
	switch name {
	case "append":
		if len(a) != 1 {
			return nil, argErr("append", 1, len(a))
		}
		l.items = append(l.items, a[0])
		return None, in.checkItems(len(l.items), 1)
	case "extend":
		if len(a) != 1 {
			return nil, argErr("extend", 1, len(a))
		}
		items, err := in.iterate(a[0])
		if err != nil {
			return nil, err
		}
		l.items = append(l.items, items...)
		return None, in.checkItems(len(l.items), len(items))
	case "insert":
		if len(a) != 2 {
			return nil, argErr("insert", 2, len(a))
		}
		i, ok := toInt(a[0])
		if !ok {
			return nil, newExc(excTypeError, "insert index must be int")
		}
		n := int64(len(l.items))
		if i < 0 {
			i += n
			if i < 0 {
				i = 0
			}
		}
		if i > n {
			i = n
		}
		l.items = append(l.items[:i:i], append([]Value{a[1]}, l.items[i:]...)...)
		return None, nil
	case "pop":
		if len(l.items) == 0 {
			return nil, newExc(excIndexError, "pop from empty list")
		}
		i, _ := intArg(a, 0, -1)
		n := int64(len(l.items))
		if i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return nil, newExc(excIndexError, "pop index out of range")
		}
		v := l.items[i]
		l.items = append(l.items[:i:i], l.items[i+1:]...)
		return v, nil
	case "remove":
		if len(a) != 1 {
			return nil, argErr("remove", 1, len(a))
		}
		for i, it := range l.items {
			if equal(it, a[0]) {
				l.items = append(l.items[:i:i], l.items[i+1:]...)
				return None, nil
			}
		}
		return nil, newExc(excValueError, "list.remove(x): x not in list")
	case "index":
		if len(a) < 1 {
			return nil, argErr("index", 1, len(a))
		}
		for i, it := range l.items {
			if equal(it, a[0]) {
				return Int(i), nil
			}
		}
		return nil, newExc(excValueError, "%s is not in list", repr(a[0]))
	case "count":
		if len(a) != 1 {
			return nil, argErr("count", 1, len(a))
		}
		n := 0
		for _, it := range l.items {
			if equal(it, a[0]) {
				n++
			}
		}
		return Int(n), nil
	case "sort":
		rev := false
		if r, ok := kw["reverse"]; ok {
			rev, _ = truth(r)
		}
		return None, sortValues(in, l.items, kw["key"], rev)
	case "reverse":
		for i, j := 0, len(l.items)-1; i < j; i, j = i+1, j-1 {
			l.items[i], l.items[j] = l.items[j], l.items[i]
		}
		return None, nil
	case "copy":
		return &List{items: append([]Value(nil), l.items...)}, nil
	case "clear":
		l.items = nil
		return None, nil
	}
	return unknownf("list.%s", name), nil
}

func (in *Interp) dictMethod(d *Dict, name string, a []Value, kw map[string]Value) (Value, error) {
	switch name {
	case "get":
		if len(a) < 1 {
			return nil, argErr("get", 1, len(a))
		}
		v, ok, err := d.get(a[0])
		if err != nil {
			return nil, err
		}
		if ok {
			return v, nil
		}
		if len(a) > 1 {
			return a[1], nil
		}
		return None, nil
	case "keys":
		return &List{items: append([]Value(nil), d.keys...)}, nil
	case "values":
		return &List{items: append([]Value(nil), d.vals...)}, nil
	case "items":
		out := make([]Value, len(d.keys))
		for i := range d.keys {
			out[i] = &Tuple{items: []Value{d.keys[i], d.vals[i]}}
		}
		return &List{items: out}, nil
	case "setdefault":
		if len(a) < 1 {
			return nil, argErr("setdefault", 1, len(a))
		}
		v, ok, err := d.get(a[0])
		if err != nil {
			return nil, err
		}
		if ok {
			return v, nil
		}
		var def Value = None
		if len(a) > 1 {
			def = a[1]
		}
		return def, d.set(a[0], def)
	case "update":
		if len(a) > 0 {
			src, ok := a[0].(*Dict)
			if !ok {
				return unknownf("dict.update with %s", typeName(a[0])), nil
			}
			for i := range src.keys {
				_ = d.set(src.keys[i], src.vals[i])
			}
		}
		for _, k := range sortedKeys(kw) {
			d.SetStr(k, kw[k])
		}
		return None, nil
	case "pop":
		if len(a) < 1 {
			return nil, argErr("pop", 1, len(a))
		}
		v, ok, err := d.get(a[0])
		if err != nil {
			return nil, err
		}
		if !ok {
			if len(a) > 1 {
				return a[1], nil
			}
			return nil, &Exception{Class: excKeyError, Args: []Value{a[0]}}
		}
		_, _ = d.del(a[0])
		return v, nil
	case "copy":
		return d.copy(), nil
	case "clear":
		*d = *NewDict()
		return None, nil
	}
	return unknownf("dict.%s", name), nil
}

func (in *Interp) setMethod(s *Set, name string, a []Value, kw map[string]Value) (Value, error) {
	others := func() ([]*Set, error) {
		var out []*Set
		for _, x := range a {
			if o, ok := x.(*Set); ok {
				out = append(out, o)
				continue
			}
			items, err := in.iterate(x)
			if err != nil {
				return nil, err
			}
			o := newSet()
			for _, it := range items {
				if err := o.add(it); err != nil {
					return nil, err
				}
			}
			out = append(out, o)
		}
		return out, nil
	}
	switch name {
	case "add":
		if len(a) != 1 {
			return nil, argErr("add", 1, len(a))
		}
		return None, s.add(a[0])
	case "discard", "remove":
		if len(a) != 1 {
			return nil, argErr(name, 1, len(a))
		}
		ok, err := s.d.del(a[0])
		if err != nil {
			return nil, err
		}
		if !ok && name == "remove" {
			return nil, &Exception{Class: excKeyError, Args: []Value{a[0]}}
		}
		return None, nil
	case "copy":
		return &Set{d: s.d.copy()}, nil
	case "clear":
		s.d = NewDict()
		return None, nil
	case "pop":
		if len(s.d.keys) == 0 {
			return nil, newExc(excKeyError, "pop from an empty set")
		}
		v := s.d.keys[0]
		_, _ = s.d.del(v)
		return v, nil
	}
	os, err := others()
	if err != nil {
		return nil, err
	}
	switch name {
	case "update":
		for _, o := range os {
			for _, k := range o.d.keys {
				_ = s.add(k)
			}
		}
		return None, nil
	case "intersection_update", "difference_update":
		op := "&"
		if name == "difference_update" {
			op = "-"
		}
		cur := s
		for _, o := range os {
			v, _ := setOp(op, cur, o)
			cur = v.(*Set)
		}
		s.d = cur.d
		return None, nil
	case "union", "intersection", "difference", "symmetric_difference":
		op := map[string]string{"union": "|", "intersection": "&", "difference": "-", "symmetric_difference": "^"}[name]
		cur := &Set{d: s.d.copy()}
		for _, o := range os {
			v, _ := setOp(op, cur, o)
			cur = v.(*Set)
		}
		return cur, nil
	case "issubset", "issuperset", "isdisjoint":
		if len(os) != 1 {
			return nil, argErr(name, 1, len(a))
		}
		o := os[0]
		switch name {
		case "issubset":
			for _, k := range s.d.keys {
				if has, _ := o.has(k); !has {
					return False, nil
				}
			}
			return True, nil
		case "issuperset":
			for _, k := range o.d.keys {
				if has, _ := s.has(k); !has {
					return False, nil
				}
			}
			return True, nil
		}
		for _, k := range s.d.keys {
			if has, _ := o.has(k); has {
				return False, nil
			}
		}
		return True, nil
	}
	return unknownf("set.%s", name), nil
}

// boolArg reads a positional or keyword boolean argument.
func boolArg(a []Value, i int, kw map[string]Value, name string, def bool) bool {
	v := Value(nil)
	if i < len(a) {
		v = a[i]
	}
	if kv, ok := kw[name]; ok {
		v = kv
	}
	if v == nil {
		return def
	}
	b, err := truth(v)
	if err != nil {
		return def
	}
	return b
}

func optStr(s string, ok bool) Value {
	if !ok {
		return None
	}
	return Str(s)
}

func (in *Interp) dataMethod(dr *DataRef, name string, a []Value, kw map[string]Value) (Value, error) {
	h := dr.h
	str := func(i int) (string, error) {
		if i >= len(a) {
			return "", newExc(excTypeError, "d.%s: missing argument", name)
		}
		s, ok := a[i].(Str)
		if !ok {
			if a[i] == None {
				return "", newExc(excTypeError, "d.%s: argument is None", name)
			}
			return strOf(a[i]), nil
		}
		return string(s), nil
	}
	valueStr := func(i int) (string, bool, error) {
		if i >= len(a) {
			return "", false, newExc(excTypeError, "d.%s: missing value", name)
		}
		switch v := a[i].(type) {
		case Str:
			return string(v), true, nil
		case *noneType:
			return "", false, nil
		case *Unknown:
			return "", false, unsupported("d.%s with unknown value (%s)", name, v.Why)
		case *List, *Dict, *Tuple, *Set, *Instance, *Object, *Function, *Class:
			return "", false, errObjectValue
		}
		return strOf(a[i]), true, nil
	}
	switch name {
	case "keys", "localkeys":
		return dataKeys(in, h, name == "localkeys")
	case "getVar", "get":
		n, err := str(0)
		if err != nil {
			return nil, err
		}
		if obj, ok := h.VarObject(n); ok {
			if v, ok := obj.(Value); ok {
				return v, nil
			}
		}
		exp := boolArg(a, 1, kw, "expand", true)
		if name == "get" {
			exp = false
		}
		return optStr(h.GetVar(n, exp)), nil
	case "getVarFlag":
		n, err := str(0)
		if err != nil {
			return nil, err
		}
		f, err := str(1)
		if err != nil {
			return nil, err
		}
		return optStr(h.GetVarFlag(n, f, boolArg(a, 2, kw, "expand", true))), nil
	case "getVarFlags":
		n, err := str(0)
		if err != nil {
			return nil, err
		}
		flags := h.VarFlags(n)
		if len(flags) == 0 {
			return None, nil
		}
		d := NewDict()
		keys := make([]string, 0, len(flags))
		for k := range flags {
			keys = append(keys, k)
		}
		sortStrings(keys)
		expandAll := false
		var expandSet map[string]bool
		if e, ok := kw["expand"]; ok {
			if b, isB := e.(Bool); isB {
				expandAll = bool(b)
			} else if items, err := in.iterate(e); err == nil {
				expandSet = map[string]bool{}
				for _, it := range items {
					expandSet[strOf(it)] = true
				}
			}
		} else if len(a) > 1 {
			expandAll, _ = truth(a[1])
		}
		for _, k := range keys {
			v := flags[k]
			if expandAll || expandSet[k] {
				ev, err := h.Expand(v)
				if err != nil {
					return nil, err
				}
				v = ev
			}
			d.SetStr(k, Str(v))
		}
		return d, nil
	case "setVar":
		n, err := str(0)
		if err != nil {
			return nil, err
		}
		v, ok, err := valueStr(1)
		if err == errObjectValue {
			h.SetVarObject(n, a[1], strOf(a[1]))
			return None, nil
		}
		if err != nil {
			return nil, err
		}
		if !ok {
			h.DelVar(n)
			return None, nil
		}
		h.SetVar(n, v)
		return None, nil
	case "setVarFlag":
		n, err := str(0)
		if err != nil {
			return nil, err
		}
		f, err := str(1)
		if err != nil {
			return nil, err
		}
		v, ok, err := valueStr(2)
		if err != nil {
			return nil, err
		}
		if !ok {
			h.DelVarFlag(n, f)
			return None, nil
		}
		h.SetVarFlag(n, f, v)
		return None, nil
	case "setVarFlags":
		n, err := str(0)
		if err != nil {
			return nil, err
		}
		if len(a) < 2 {
			return nil, argErr("setVarFlags", 2, len(a))
		}
		m, ok := a[1].(*Dict)
		if !ok {
			return nil, unsupported("d.setVarFlags with %s", typeName(a[1]))
		}
		for i := range m.keys {
			h.SetVarFlag(n, strOf(m.keys[i]), strOf(m.vals[i]))
		}
		return None, nil
	case "appendVar", "prependVar":
		n, err := str(0)
		if err != nil {
			return nil, err
		}
		v, _, err := valueStr(1)
		if err != nil {
			return nil, err
		}
		if name == "appendVar" {
			h.AppendVar(n, v)
		} else {
			h.PrependVar(n, v)
		}
		return None, nil
	case "appendVarFlag", "prependVarFlag":
		n, err := str(0)
		if err != nil {
			return nil, err
		}
		f, err := str(1)
		if err != nil {
			return nil, err
		}
		v, _, err := valueStr(2)
		if err != nil {
			return nil, err
		}
		if name == "appendVarFlag" {
			h.AppendVarFlag(n, f, v)
		} else {
			h.PrependVarFlag(n, f, v)
		}
		return None, nil
	case "delVar":
		n, err := str(0)
		if err != nil {
			return nil, err
		}
		h.DelVar(n)
		return None, nil
	case "delVarFlag":
		n, err := str(0)
		if err != nil {
			return nil, err
		}
		f, err := str(1)
		if err != nil {
			return nil, err
		}
		h.DelVarFlag(n, f)
		return None, nil
	case "delVarFlags":
		n, err := str(0)
		if err != nil {
			return nil, err
		}
		for f := range h.VarFlags(n) {
			h.DelVarFlag(n, f)
		}
		return None, nil
	case "renameVar":
		n, err := str(0)
		if err != nil {
			return nil, err
		}
		m, err := str(1)
		if err != nil {
			return nil, err
		}
		if n != m {
			h.RenameVar(n, m)
		}
		return None, nil
	case "expand":
		if len(a) < 1 {
			return nil, argErr("expand", 1, len(a))
		}
		if a[0] == None {
			return None, nil
		}
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		v, err := h.Expand(s)
		if err != nil {
			return nil, err
		}
		return Str(v), nil
	case "createCopy":
		return &DataRef{h.CreateCopy()}, nil
	case "hasOverrides":
		n, err := str(0)
		if err != nil {
			return nil, err
		}
		return Bool(h.HasOverrides(n)), nil
	case "setVarFilter":
		n, err := str(0)
		if err != nil {
			return nil, err
		}
		f, _, err := valueStr(1)
		if err != nil {
			return nil, err
		}
		h.SetFilter(n, f)
		return None, nil
	}
	return unknownf("d.%s", name), nil
}

// errObjectValue marks a non-string value given to a datastore setter.
var errObjectValue = unsupported("non-string datastore value")

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// percentFormat implements str % args.
func (in *Interp) percentFormat(f string, arg Value) (Value, error) {
	var args []Value
	var mapping *Dict
	switch x := arg.(type) {
	case *Tuple:
		args = x.items
	case *Dict:
		mapping = x
		args = []Value{x}
	case *Unknown:
		return x, nil
	default:
		args = []Value{arg}
	}
	var b strings.Builder
	ai := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(f) {
			return nil, newExc(excValueError, "incomplete format")
		}
		var v Value
		if f[i] == '(' {
			j := strings.IndexByte(f[i:], ')')
			if j < 0 || mapping == nil {
				return nil, newExc(excTypeError, "format requires a mapping")
			}
			key := f[i+1 : i+j]
			i += j + 1
			val, ok, _ := mapping.get(Str(key))
			if !ok {
				return nil, &Exception{Class: excKeyError, Args: []Value{Str(key)}}
			}
			v = val
		}
		// Flags, width, precision.
		spec := ""
		for i < len(f) && strings.IndexByte("-+ #0123456789.*", f[i]) >= 0 {
			spec += string(f[i])
			i++
		}
		if i >= len(f) {
			return nil, newExc(excValueError, "incomplete format")
		}
		conv := f[i]
		if conv == '%' {
			b.WriteByte('%')
			continue
		}
		if v == nil {
			if ai >= len(args) {
				return nil, newExc(excTypeError, "not enough arguments for format string")
			}
			v = args[ai]
			ai++
		}
		if u, ok := v.(*Unknown); ok {
			return u, nil
		}
		s, err := in.percentOne(conv, spec, v, b.Len())
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
		if err := in.checkSize(b.Len()); err != nil {
			return nil, err
		}
	}
	if mapping == nil && ai < len(args) {
		return nil, newExc(excTypeError, "not all arguments converted during string formatting")
	}
	return Str(b.String()), nil
}

// percentOne formats one % conversion; done is the length of the
// output so far, so that a width is refused before it is padded to.
func (in *Interp) percentOne(conv byte, spec string, v Value, done int) (string, error) {
	left := strings.Contains(spec, "-")
	zero := strings.HasPrefix(strings.TrimLeft(spec, "-+ #"), "0")
	w := strings.TrimLeft(spec, "-+ #0")
	width, prec := 0, -1
	if i := strings.IndexByte(w, '.'); i >= 0 {
		prec = specNum(w[i+1:])
		w = w[:i]
	}
	width = specNum(w)
	if err := in.room(done, width, prec); err != nil {
		return "", err
	}
	var s string
	switch conv {
	case 's':
		var err error
		if s, err = in.strBounded(v, false, done); err != nil {
			return "", err
		}
		s = truncate(s, prec)
	case 'r', 'a':
		r, err := in.strBounded(v, true, done)
		if err != nil {
			return "", err
		}
		s = r
	case 'd', 'i', 'u':
		if !isNumber(v) {
			return "", newExc(excTypeError, "%%d format: a number is required, not %s", typeName(v))
		}
		n, ok := toInt(v)
		if !ok {
			f := toFloat(v)
			if math.IsInf(f, 0) || math.IsNaN(f) {
				return "", newExc(excValueError, "cannot convert float %s to integer", floatRepr(f))
			}
			if n, ok = floatToInt(f); !ok {
				return "", &Unsupported{What: intOverflow("%d").Why}
			}
		}
		s = strconv.FormatInt(n, 10)
	case 'x', 'X', 'o':
		n, ok := toInt(v)
		if !ok {
			return "", newExc(excTypeError, "%%x format: an integer is required")
		}
		base := 16
		if conv == 'o' {
			base = 8
		}
		s = strconv.FormatInt(n, base)
		if conv == 'X' {
			s = strings.ToUpper(s)
		}
	case 'f', 'F', 'e', 'E', 'g', 'G':
		if !isNumber(v) {
			return "", newExc(excTypeError, "must be real number, not %s", typeName(v))
		}
		if prec < 0 {
			prec = 6
		}
		s = strconv.FormatFloat(toFloat(v), conv|0x20, prec, 64)
	case 'c':
		if n, ok := toInt(v); ok {
			s = string(rune(n))
		} else {
			s = strOf(v)
		}
	default:
		return "", newExc(excValueError, "unsupported format character %q", conv)
	}
	if n := strLen(s); n < width {
		pad := width - n
		switch {
		case left:
			s += strings.Repeat(" ", pad)
		case zero && conv != 's':
			sign := ""
			if strings.HasPrefix(s, "-") {
				sign, s = "-", s[1:]
			}
			s = sign + strings.Repeat("0", pad) + s
		default:
			s = strings.Repeat(" ", pad) + s
		}
	}
	return s, nil
}

// strFormat implements str.format with positional/keyword fields,
// attribute/index access is not supported.
func (in *Interp) strFormat(f string, a []Value, kw map[string]Value) (Value, error) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c == '{' {
			if i+1 < len(f) && f[i+1] == '{' {
				b.WriteByte('{')
				i++
				continue
			}
			j := strings.IndexByte(f[i:], '}')
			if j < 0 {
				return nil, newExc(excValueError, "Single '{' encountered in format string")
			}
			field := f[i+1 : i+j]
			i += j
			spec := ""
			if k := strings.IndexByte(field, ':'); k >= 0 {
				spec = field[k+1:]
				field = field[:k]
			}
			conv := byte(0)
			if k := strings.IndexByte(field, '!'); k >= 0 && k+1 < len(field) {
				conv = field[k+1]
				field = field[:k]
			}
			var v Value
			switch {
			case field == "":
				if auto >= len(a) {
					return nil, newExc(excIndexError, "Replacement index %d out of range", auto)
				}
				v = a[auto]
				auto++
			case field[0] >= '0' && field[0] <= '9':
				n, err := strconv.Atoi(field)
				if err != nil || n >= len(a) {
					return unknownf("format field %s", field), nil
				}
				v = a[n]
			default:
				kv, ok := kw[field]
				if !ok {
					return unknownf("format field %s", field), nil
				}
				v = kv
			}
			if u, ok := v.(*Unknown); ok {
				return u, nil
			}
			switch conv {
			case 'r':
				r, err := in.strBounded(v, true, b.Len())
				if err != nil {
					return nil, err
				}
				v = Str(r)
			case 's':
				r, err := in.strBounded(v, false, b.Len())
				if err != nil {
					return nil, err
				}
				v = Str(r)
			}
			s, err := in.formatSpec(v, spec, b.Len())
			if err != nil {
				return nil, err
			}
			b.WriteString(s)
			if err := in.checkSize(b.Len()); err != nil {
				return nil, err
			}
			continue
		}
		if c == '}' && i+1 < len(f) && f[i+1] == '}' {
			i++
		}
		b.WriteByte(c)
	}
	return Str(b.String()), nil
}

// formatSpec applies a format() spec: [[fill]align][sign][0][width][.precision][type].
// done is the length of the output so far: a width or precision that
// would take the result beyond the size limit is refused before anything
// is built.
func (in *Interp) formatSpec(v Value, spec string, done int) (string, error) {
	if spec == "" {
		return in.strBounded(v, false, done)
	}
	fill, align := " ", byte(0)
	rs := []rune(spec)
	if len(rs) >= 2 && strings.ContainsRune("<>^=", rs[1]) {
		fill, align = string(rs[0]), byte(rs[1])
		spec = string(rs[2:])
	} else if len(spec) >= 1 && strings.IndexByte("<>^=", spec[0]) >= 0 {
		align = spec[0]
		spec = spec[1:]
	}
	if spec != "" && (spec[0] == '+' || spec[0] == '-' || spec[0] == ' ') {
		spec = spec[1:]
	}
	if strings.HasPrefix(spec, "0") && align == 0 {
		fill, align = "0", '='
		spec = spec[1:]
	}
	typ := byte(0)
	if spec != "" && strings.IndexByte("sdfFeEgGxXobn%", spec[len(spec)-1]) >= 0 {
		typ = spec[len(spec)-1]
		spec = spec[:len(spec)-1]
	}
	width, prec := 0, -1
	if i := strings.IndexByte(spec, '.'); i >= 0 {
		prec = specNum(spec[i+1:])
		spec = spec[:i]
	}
	width = specNum(strings.ReplaceAll(strings.ReplaceAll(spec, ",", ""), "_", ""))
	if err := in.room(done, width*len(fill), prec); err != nil {
		return "", err
	}
	var s string
	switch typ {
	case 0, 's':
		var err error
		if s, err = in.strBounded(v, false, done); err != nil {
			return "", err
		}
		if !isNumber(v) {
			s = truncate(s, prec)
		}
		if isNumber(v) && prec >= 0 {
			s = strconv.FormatFloat(toFloat(v), 'g', prec, 64)
		}
	case 'd', 'n':
		n, ok := toInt(v)
		if !ok {
			return "", newExc(excValueError, "Unknown format code 'd' for object of type '%s'", typeName(v))
		}
		s = strconv.FormatInt(n, 10)
	case 'x', 'X', 'o', 'b':
		n, ok := toInt(v)
		if !ok {
			return "", newExc(excValueError, "Unknown format code for object of type '%s'", typeName(v))
		}
		base := map[byte]int{'x': 16, 'X': 16, 'o': 8, 'b': 2}[typ]
		s = strconv.FormatInt(n, base)
		if typ == 'X' {
			s = strings.ToUpper(s)
		}
	case 'f', 'F', 'e', 'E', 'g', 'G', '%':
		if !isNumber(v) {
			return "", newExc(excValueError, "Unknown format code for object of type '%s'", typeName(v))
		}
		if prec < 0 {
			prec = 6
		}
		f := toFloat(v)
		if typ == '%' {
			s = strconv.FormatFloat(f*100, 'f', prec, 64) + "%"
		} else {
			s = strconv.FormatFloat(f, typ|0x20, prec, 64)
		}
	}
	n := len([]rune(s))
	if n < width {
		pad := width - n
		if align == 0 {
			if isNumber(v) {
				align = '>'
			} else {
				align = '<'
			}
		}
		switch align {
		case '<':
			s += strings.Repeat(fill, pad)
		case '>':
			s = strings.Repeat(fill, pad) + s
		case '^':
			s = strings.Repeat(fill, pad/2) + s + strings.Repeat(fill, pad-pad/2)
		case '=':
			sign := ""
			if strings.HasPrefix(s, "-") {
				sign, s = "-", s[1:]
			}
			s = sign + strings.Repeat(fill, pad) + s
		}
	}
	return s, nil
}

// specNum parses the width or precision of a format spec. A number too
// large for an int saturates, so that the size check refuses it.
func specNum(s string) int {
	n := 0
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n > math.MaxInt32 {
			return math.MaxInt32 + 1
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// room checks, before a formatted field is built, that a field of width
// bytes (or precision digits) after done bytes of output stays within the
// size limit.
func (in *Interp) room(done, width, prec int) error {
	if width > in.Limits.MaxBytes-done || prec > in.Limits.MaxBytes-done {
		return &errBudget{"format width"}
	}
	return nil
}

// expandTabs is str.expandtabs: columns count code points and restart
// after a newline. The result's length is computed before it is built.
func (in *Interp) expandTabs(s string, size int64) (Value, error) {
	if size < 0 {
		size = 0
	}
	total, col := int64(0), int64(0)
	for _, r := range s {
		switch r {
		case '\t':
			if size > 0 {
				pad := size - col%size
				total += pad
				col += pad
			}
		case '\n', '\r':
			total += 1
			col = 0
		default:
			total += int64(utf8.RuneLen(r))
			col++
		}
		if total > int64(in.Limits.MaxBytes) {
			return nil, &errBudget{"expandtabs result"}
		}
	}
	var b strings.Builder
	b.Grow(int(total))
	col = 0
	for _, r := range s {
		switch r {
		case '\t':
			if size > 0 {
				pad := size - col%size
				b.WriteString(strings.Repeat(" ", int(pad)))
				col += pad
			}
		case '\n', '\r':
			b.WriteRune(r)
			col = 0
		default:
			b.WriteRune(r)
			col++
		}
	}
	return Str(b.String()), nil
}

// strBounded is str(v) or repr(v) for a field that comes after done bytes
// of output, refused before a container's rendering grows beyond the size
// limit.
func (in *Interp) strBounded(v Value, asRepr bool, done int) (string, error) {
	limit := in.Limits.MaxBytes - done
	if x, ok := v.(Str); ok && !asRepr {
		if len(x) > limit {
			return "", &errBudget{"value size"}
		}
		return string(x), nil
	}
	if !asRepr {
		switch v.(type) {
		case *noneType, Bool, Int, Float, *Exception:
			return strOf(v), nil
		}
	}
	s, ok := reprLimit(v, limit)
	if !ok {
		return "", &errBudget{"value size"}
	}
	return s, nil
}

// countFields is the number of parts str.split() makes of s, counted
// without building them.
func countFields(s string) int {
	n, in := 0, false
	for _, r := range s {
		space := isPySpace(r)
		if !space && !in {
			n++
		}
		in = !space
	}
	return n
}

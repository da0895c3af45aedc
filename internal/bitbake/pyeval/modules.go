package pyeval

import (
	"path"
	"sort"
	"strconv"
	"strings"
)

// HostUname is os.uname() of the virtual build host BitBake's ground truth
// was produced on (layerindex pins an x86_64 Linux host).
var HostUname = []string{"Linux", "buildhost", "6.0.0", "#1 SMP", "x86_64"}

// BitBakeVersion is bb.__version__.
var BitBakeVersion = "2.19.0"

type nativeFn = func(in *Interp, a []Value, kw map[string]Value) (Value, error)

func mod(name string, attrs map[string]Value) *Module {
	return &Module{Name: name, Attrs: attrs}
}

func fn(name string, f nativeFn) *Builtin { return &Builtin{Name: name, Fn: f} }

var modules map[string]*Module

// globalNames are the modules visible without import in BitBake's
// execution context (bb.utils._context plus BB_GLOBAL_PYMODULES).
var globalNames = map[string]bool{"bb": true, "oe": true, "os": true, "sys": true, "time": true}

func globalModule(name string) *Module {
	if globalNames[name] {
		return modules[name]
	}
	return nil
}

// argStr returns argument i as a string, or ok=false.
func argStr(a []Value, i int) (string, bool) {
	if i >= len(a) {
		return "", false
	}
	s, ok := a[i].(Str)
	return string(s), ok
}

func firstUnknown(a []Value) *Unknown {
	for _, x := range a {
		if u, ok := x.(*Unknown); ok {
			return u
		}
	}
	return nil
}

// dataArg finds the datastore argument (usually the last one).
func dataArg(a []Value, kw map[string]Value) (Host, bool) {
	if v, ok := kw["d"]; ok {
		if dr, ok := v.(*DataRef); ok {
			return dr.h, true
		}
	}
	for i := len(a) - 1; i >= 0; i-- {
		if dr, ok := a[i].(*DataRef); ok {
			return dr.h, true
		}
	}
	return nil, false
}

func getVarStr(h Host, name string) (string, bool) {
	return h.GetVar(name, true)
}

// wordSet converts a string (split on blanks) or an iterable to a set of
// strings.
func (in *Interp) wordSet(v Value) (map[string]bool, error) {
	m := map[string]bool{}
	if s, ok := v.(Str); ok {
		for _, w := range strings.Fields(string(s)) {
			m[w] = true
		}
		return m, nil
	}
	items, err := in.iterate(v)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		m[strOf(it)] = true
	}
	return m, nil
}

func fieldsSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func kwOr(a []Value, i int, kw map[string]Value, name string, def Value) Value {
	if v, ok := kw[name]; ok {
		return v
	}
	if i < len(a) {
		return a[i]
	}
	return def
}

func init() {
	modules = map[string]*Module{}
	reg := func(m *Module) *Module {
		modules[m.Name] = m
		return m
	}

	// bb.utils
	contains := func(any bool) nativeFn {
		return func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if u := firstUnknown(a); u != nil {
				return u, nil
			}
			h, ok := dataArg(a, kw)
			name, ok2 := argStr(a, 0)
			if !ok || !ok2 || len(a) < 4 {
				return unknownf("bb.utils.contains arguments"), nil
			}
			val, _ := getVarStr(h, name)
			if val == "" {
				return kwOr(a, 3, kw, "falsevalue", None), nil
			}
			want, err := in.wordSet(a[1])
			if err != nil {
				return nil, err
			}
			// The value (DISTRO_FEATURES and the like, tested again and
			// again) is scanned for the few wanted words rather than
			// made into a set.
			found := 0
			if len(want) > 0 {
				for w := range strings.FieldsSeq(val) {
					if want[w] {
						want[w] = false
						found++
						if any || found == len(want) {
							break
						}
					}
				}
			}
			hit := found == len(want)
			if any {
				hit = found > 0
			}
			if hit {
				return kwOr(a, 2, kw, "truevalue", None), nil
			}
			return kwOr(a, 3, kw, "falsevalue", None), nil
		}
	}
	bbUtils := reg(mod("bb.utils", map[string]Value{
		"contains":     fn("contains", contains(false)),
		"contains_any": fn("contains_any", contains(true)),
		"filter": fn("filter", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if u := firstUnknown(a); u != nil {
				return u, nil
			}
			h, ok := dataArg(a, kw)
			name, ok2 := argStr(a, 0)
			if !ok || !ok2 || len(a) < 2 {
				return unknownf("bb.utils.filter arguments"), nil
			}
			val, _ := getVarStr(h, name)
			if val == "" {
				return Str(""), nil
			}
			have := fieldsSet(val)
			want, err := in.wordSet(a[1])
			if err != nil {
				return nil, err
			}
			var out []string
			for w := range want {
				if have[w] {
					out = append(out, w)
				}
			}
			sort.Strings(out)
			return Str(strings.Join(out, " ")), nil
		}),
		"filter_string": fn("filter_string", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			// filter_string(string, allow): words of string that are in allow.
			if u := firstUnknown(a); u != nil {
				return u, nil
			}
			s, _ := argStr(a, 0)
			allow, _ := argStr(a, 1)
			al := fieldsSet(allow)
			var out []string
			for _, w := range strings.Fields(s) {
				if al[w] {
					out = append(out, w)
				}
			}
			return Str(strings.Join(out, " ")), nil
		}),
		"to_boolean": fn("to_boolean", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if len(a) < 1 {
				return nil, argErr("to_boolean", 1, 0)
			}
			def := kwOr(a, 1, kw, "default", None)
			v := a[0]
			if u, ok := v.(*Unknown); ok {
				return u, nil
			}
			if t, _ := truth(v); !t {
				return def, nil
			}
			switch x := v.(type) {
			case Bool:
				return x, nil
			case Int:
				return Bool(x != 0), nil
			case Str:
				switch strings.ToLower(string(x)) {
				case "y", "yes", "1", "true":
					return True, nil
				case "n", "no", "0", "false":
					return False, nil
				}
				return nil, newExc(excValueError, "Invalid value for to_boolean: %s", x)
			}
			return unknownf("to_boolean of %s", typeName(v)), nil
		}),
		"explode_deps": fn("explode_deps", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			s, ok := argStr(a, 0)
			if !ok {
				return unknownf("explode_deps argument"), nil
			}
			return StrList(ExplodeDeps(s)), nil
		}),
		"explode_dep_versions2": fn("explode_dep_versions2", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			s, ok := argStr(a, 0)
			if !ok {
				return unknownf("explode_dep_versions2 argument"), nil
			}
			deps, order, err := ExplodeDepVersions(s, boolArg(nil, 0, kw, "sort", true))
			if err != nil {
				return nil, newExc(excValueError, "%v", err)
			}
			d := NewDict()
			for _, k := range order {
				d.SetStr(k, StrList(deps[k]))
			}
			return d, nil
		}),
		"join_deps": fn("join_deps", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if len(a) < 1 {
				return nil, argErr("join_deps", 1, 0)
			}
			d, ok := a[0].(*Dict)
			if !ok {
				return unknownf("join_deps argument"), nil
			}
			commasep := boolArg(a, 1, kw, "commasep", true)
			var out []string
			for i, k := range d.keys {
				dep := strOf(k)
				switch v := d.vals[i].(type) {
				case *List:
					if len(v.items) == 0 {
						out = append(out, dep)
					}
					for _, it := range v.items {
						out = append(out, dep+" ("+strOf(it)+")")
					}
				case *noneType:
					out = append(out, dep)
				default:
					if t, _ := truth(v); t {
						out = append(out, dep+" ("+strOf(v)+")")
					} else {
						out = append(out, dep)
					}
				}
			}
			if commasep {
				return Str(strings.Join(out, ", ")), nil
			}
			return Str(strings.Join(out, " ")), nil
		}),
		"vercmp_string": fn("vercmp_string", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			x, ok1 := argStr(a, 0)
			y, ok2 := argStr(a, 1)
			if !ok1 || !ok2 {
				return unknownf("vercmp_string arguments"), nil
			}
			return Int(VercmpString(x, y)), nil
		}),
		"vercmp_string_op": fn("vercmp_string_op", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			x, ok1 := argStr(a, 0)
			y, ok2 := argStr(a, 1)
			op, ok3 := argStr(a, 2)
			if !ok1 || !ok2 || !ok3 {
				return unknownf("vercmp_string_op arguments"), nil
			}
			r := VercmpString(x, y)
			switch op {
			case "=", "==":
				return Bool(r == 0), nil
			case "<=":
				return Bool(r <= 0), nil
			case ">=":
				return Bool(r >= 0), nil
			case ">", ">>":
				return Bool(r > 0), nil
			case "<", "<<":
				return Bool(r < 0), nil
			case "!=":
				return Bool(r != 0), nil
			}
			return nil, newExc(excValueError, "Unsupported comparison operator %s", op)
		}),
		"which": fn("which", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			// bb.utils.which(path, item, direction=0, history=False): the
			// first existing path/item. Directories outside the layers
			// make the answer unknown unless an earlier one matched.
			if u := firstUnknown(a); u != nil {
				return u, nil
			}
			p, ok1 := argStr(a, 0)
			item, ok2 := argStr(a, 1)
			if !ok2 {
				return unknownf("bb.utils.which arguments"), nil
			}
			if !ok1 {
				p = ""
			}
			dirs := strings.Split(p, ":")
			if t, _ := truth(kwOr(a, 2, kw, "direction", Int(0))); t {
				for i, j := 0, len(dirs)-1; i < j; i, j = i+1, j-1 {
					dirs[i], dirs[j] = dirs[j], dirs[i]
				}
			}
			history := boolArg(a, 3, kw, "history", false)
			var tried []Value
			found := ""
			for _, dir := range dirs {
				cand := dir + "/" + item
				if dir == "" {
					cand = item
				} else if strings.HasSuffix(dir, "/") {
					cand = dir + item
				}
				tried = append(tried, Str(cand))
				in.recipeIO()
				if !in.Host.InLayers(cand) {
					return unknownf("bb.utils.which outside the layers"), nil
				}
				if e, _ := in.Host.FileExists(cand); e {
					found = cand
					break
				}
			}
			if history {
				return NewTuple(Str(found), &List{items: tried}), nil
			}
			return Str(found), nil
		}),
		"cpu_count": fn("cpu_count", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			return Int(2), nil
		}),
	}))
	_ = bbUtils

	reg(mod("bb.data", map[string]Value{
		"inherits_class": fn("inherits_class", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			c, ok := argStr(a, 0)
			h, ok2 := dataArg(a, kw)
			if !ok || !ok2 {
				return unknownf("inherits_class arguments"), nil
			}
			return Bool(h.Inherits(c)), nil
		}),
		"createCopy": fn("createCopy", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			h, ok := dataArg(a, kw)
			if !ok {
				return unknownf("createCopy argument"), nil
			}
			return &DataRef{h.CreateCopy()}, nil
		}),
		"expand": fn("expand", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			s, ok := argStr(a, 0)
			h, ok2 := dataArg(a, kw)
			if !ok || !ok2 {
				return unknownf("bb.data.expand arguments"), nil
			}
			v, err := h.Expand(s)
			return Str(v), err
		}),
		"getVar": fn("getVar", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			s, ok := argStr(a, 0)
			h, ok2 := dataArg(a, kw)
			if !ok || !ok2 {
				return unknownf("bb.data.getVar arguments"), nil
			}
			return optStr(h.GetVar(s, true)), nil
		}),
	}))

	reg(mod("bb.parse", map[string]Value{
		"vars_from_file": fn("vars_from_file", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if len(a) < 1 {
				return nil, argErr("vars_from_file", 2, len(a))
			}
			if u, ok := a[0].(*Unknown); ok {
				return u, nil
			}
			s, _ := a[0].(Str)
			parts, err := VarsFromFile(string(s))
			if err != nil {
				return nil, &Exception{Class: excParseError, Args: []Value{Str(err.Error())}}
			}
			out := make([]Value, 3)
			for i := range out {
				if parts[i] == nil {
					out[i] = None
				} else {
					out[i] = Str(*parts[i])
				}
			}
			return &List{items: out}, nil
		}),
		"SkipRecipe":         ExcSkipRecipe,
		"SkipPackage":        excSkipPackage,
		"ParseError":         excParseError,
		"BBHandledException": ExcFatal,
		"mark_dependency": fn("mark_dependency", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if p, ok := argStr(a, 1); ok {
				if h, ok := dataArg(a, kw); ok {
					h.MarkDependency(p)
				}
			}
			return None, nil
		}),
		"handle":    fn("handle", parseHandle),
		"BBHandler": reg(mod("bb.parse.BBHandler", map[string]Value{"handle": fn("handle", parseHandle), "inherit": fn("inherit", bbhandlerInherit)})),
	}))

	noop := fn("noop", func(in *Interp, a []Value, kw map[string]Value) (Value, error) { return None, nil })
	reg(mod("bb", map[string]Value{
		"utils":     modules["bb.utils"],
		"data":      modules["bb.data"],
		"parse":     modules["bb.parse"],
		"note":      noop,
		"plain":     noop,
		"warn":      noop,
		"debug":     noop,
		"verbnote":  noop,
		"error":     noop,
		"erroronce": noop,
		"warnonce":  noop,
		"fatal": fn("fatal", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			msg := ""
			if len(a) > 0 {
				msg = strOf(a[0])
			}
			return nil, &Exception{Class: ExcFatal, Args: []Value{Str(msg)}}
		}),
		"BBHandledException": ExcFatal,
		"__version__":        Str(BitBakeVersion),
	}))
	reg(mod("bb.fetch2", map[string]Value{
		"get_autorev": fn("get_autorev", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if h, ok := dataArg(a, kw); ok {
				h.SetVar("__BBAUTOREV_SEEN", "True")
			}
			return Str("AUTOINC"), nil
		}),
		"FetchError":       excFetchError,
		"BBFetchException": excFetchError,
		"MalformedUrl":     excFetchError,
	}))
	modules["bb"].Attrs["fetch2"] = modules["bb.fetch2"]
	modules["bb"].Attrs["fetch"] = modules["bb.fetch2"]
	modules["bb.fetch"] = modules["bb.fetch2"]

	// os and os.path
	osPath := reg(mod("os.path", map[string]Value{
		"join": fn("join", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if u := firstUnknown(a); u != nil {
				return u, nil
			}
			out := ""
			for i := range a {
				s, ok := argStr(a, i)
				if !ok {
					return nil, newExc(excTypeError, "join() argument must be str")
				}
				if isAbsPath(s) || out == "" {
					out = s
				} else if strings.HasSuffix(out, "/") {
					out += s
				} else {
					out += "/" + s
				}
			}
			return Str(out), nil
		}),
		"dirname": strFn("dirname", func(s string) string {
			i := strings.LastIndexByte(s, '/') + 1
			head := s[:i]
			if head != "" && strings.Trim(head, "/") != "" {
				head = strings.TrimRight(head, "/")
			}
			return head
		}),
		"basename":   strFn("basename", func(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }),
		"normpath":   strFn("normpath", normpath),
		"abspath":    strFn("abspath", normpath),
		"realpath":   strFn("realpath", normpath),
		"expanduser": strFn("expanduser", func(s string) string { return s }),
		"isabs": fn("isabs", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			s, ok := argStr(a, 0)
			if !ok {
				return unknownf("isabs argument"), nil
			}
			return Bool(isAbsPath(s)), nil
		}),
		"splitext": fn("splitext", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			s, ok := argStr(a, 0)
			if !ok {
				return unknownf("splitext argument"), nil
			}
			base := s[strings.LastIndexByte(s, '/')+1:]
			i := strings.LastIndexByte(base, '.')
			// Leading dots of the basename do not start an extension.
			lead := len(base) - len(strings.TrimLeft(base, "."))
			if i <= lead-1 || i < lead {
				return NewTuple(Str(s), Str("")), nil
			}
			cut := len(s) - len(base) + i
			return NewTuple(Str(s[:cut]), Str(s[cut:])), nil
		}),
		"split": fn("split", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			s, ok := argStr(a, 0)
			if !ok {
				return unknownf("split argument"), nil
			}
			i := strings.LastIndexByte(s, '/') + 1
			head, tail := s[:i], s[i:]
			if head != "" && strings.Trim(head, "/") != "" {
				head = strings.TrimRight(head, "/")
			}
			return NewTuple(Str(head), Str(tail)), nil
		}),
		"relpath": fn("relpath", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			p, ok := argStr(a, 0)
			start, ok2 := argStr(a, 1)
			if !ok || !ok2 {
				return unknownf("relpath arguments"), nil
			}
			return Str(relpath(p, start)), nil
		}),
		"exists":  existsFn("exists", func(e, d bool) bool { return e }),
		"lexists": existsFn("lexists", func(e, d bool) bool { return e }),
		"isfile":  existsFn("isfile", func(e, d bool) bool { return e && !d }),
		"isdir":   existsFn("isdir", func(e, d bool) bool { return d }),
		"islink":  existsFn("islink", func(e, d bool) bool { return false }),
		"sep":     Str("/"),
	}))
	reg(mod("os", map[string]Value{
		"path": osPath,
		"uname": fn("uname", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			return &Tuple{items: StrList(HostUname).items}, nil
		}),
		"getuid":  fn("getuid", func(in *Interp, a []Value, kw map[string]Value) (Value, error) { return Int(0), nil }),
		"getgid":  fn("getgid", func(in *Interp, a []Value, kw map[string]Value) (Value, error) { return Int(0), nil }),
		"getcwd":  fn("getcwd", func(in *Interp, a []Value, kw map[string]Value) (Value, error) { return unknownf("os.getcwd"), nil }),
		"getpid":  fn("getpid", func(in *Interp, a []Value, kw map[string]Value) (Value, error) { return unknownf("os.getpid"), nil }),
		"listdir": fn("listdir", osListdir),
		"access": fn("access", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if u := firstUnknown(a); u != nil {
				return u, nil
			}
			p, ok := argStr(a, 0)
			if !ok {
				return unknownf("os.access argument"), nil
			}
			in.recipeIO()
			if in.Host.InLayers(p) {
				e, _ := in.Host.FileExists(p)
				return Bool(e), nil
			}
			return unknownf("os.access outside the layers"), nil
		}),
		"F_OK": Int(0), "R_OK": Int(4), "W_OK": Int(2), "X_OK": Int(1),
		"getenv": fn("getenv", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			return kwOr(a, 1, kw, "default", None), nil
		}),
		"environ": NewDict(),
		"sep":     Str("/"),
		"pathsep": Str(":"),
		"linesep": Str("\n"),
		"curdir":  Str("."),
		"name":    Str("posix"),
	}))

	reg(mod("sys", map[string]Value{
		"platform":  Str("linux"),
		"maxsize":   Int(1<<63 - 1),
		"byteorder": Str("little"),
	}))
	reg(mod("time", map[string]Value{}))
	reg(mod("string", map[string]Value{
		"ascii_letters":   Str("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
		"ascii_lowercase": Str("abcdefghijklmnopqrstuvwxyz"),
		"ascii_uppercase": Str("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
		"digits":          Str("0123456789"),
		"hexdigits":       Str("0123456789abcdefABCDEF"),
		"punctuation":     Str("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
		"whitespace":      Str(" \t\n\r\x0b\x0c"),
	}))
	reg(mod("errno", map[string]Value{"ENOENT": Int(2), "EEXIST": Int(17)}))
	globFn := fn("glob", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if u := firstUnknown(a); u != nil {
			return u, nil
		}
		p, ok := argStr(a, 0)
		if !ok {
			return nil, newExc(excTypeError, "glob() needs a string pattern")
		}
		in.recipeIO()
		return StrList(in.Host.Glob(p)), nil
	})
	reg(mod("glob", map[string]Value{"glob": globFn, "iglob": globFn}))
	reg(mod("collections", map[string]Value{
		"OrderedDict": builtins["dict"].(*Builtin),
		"defaultdict": fn("defaultdict", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			return unknownf("collections.defaultdict"), nil
		}),
	}))
	reg(mod("oe", map[string]Value{}))
	registerOE(reg)
	registerRe(reg)
	registerEvents()
	registerFetch()
	registerJSON()
	registerOEData()
}

func strFn(name string, f func(string) string) *Builtin {
	return fn(name, func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if u := firstUnknown(a); u != nil {
			return u, nil
		}
		s, ok := argStr(a, 0)
		if !ok {
			return nil, newExc(excTypeError, "%s() argument must be str, not %s", name, typeNameAt(a, 0))
		}
		return Str(f(s)), nil
	})
}

func typeNameAt(a []Value, i int) string {
	if i < len(a) {
		return typeName(a[i])
	}
	return "nothing"
}

func existsFn(name string, pick func(exists, isDir bool) bool) *Builtin {
	return fn(name, func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if u := firstUnknown(a); u != nil {
			return u, nil
		}
		s, ok := argStr(a, 0)
		if !ok {
			return False, nil
		}
		in.recipeIO()
		e, d := in.Host.FileExists(s)
		return Bool(pick(e, d)), nil
	})
}

// normpath is os.path.normpath.
func normpath(s string) string {
	if s == "" {
		return "."
	}
	lead := ""
	if strings.HasPrefix(s, "//") && !strings.HasPrefix(s, "///") {
		lead = "/"
	}
	c := path.Clean(s)
	return lead + c
}

// relpath is os.path.relpath for absolute or same-rooted paths.
func relpath(p, start string) string {
	p, start = normpath(p), normpath(start)
	ps := strings.Split(strings.Trim(p, "/"), "/")
	ss := strings.Split(strings.Trim(start, "/"), "/")
	if p == "/" || p == "." {
		ps = nil
	}
	if start == "/" || start == "." {
		ss = nil
	}
	i := 0
	for i < len(ps) && i < len(ss) && ps[i] == ss[i] {
		i++
	}
	var out []string
	for j := i; j < len(ss); j++ {
		out = append(out, "..")
	}
	out = append(out, ps[i:]...)
	if len(out) == 0 {
		return "."
	}
	return strings.Join(out, "/")
}

// ExplodeDeps is bb.utils.explode_deps: dependency names without
// version constraints.
func ExplodeDeps(s string) []string {
	var r []string
	flag := false
	for _, i := range strings.Fields(s) {
		if i[0] == '(' {
			flag = true
		}
		if !flag {
			r = append(r, i)
		}
		if flag && strings.HasSuffix(i, ")") {
			flag = false
		}
	}
	return r
}

// ExplodeDepVersions is bb.utils.explode_dep_versions2: each dependency
// with its list of version constraints ("op version"), and the key order.
func ExplodeDepVersions(s string, sorted bool) (map[string][]string, []string, error) {
	r := map[string][]string{}
	var order []string
	l := strings.Fields(strings.ReplaceAll(s, ",", ""))
	lastdep, lastcmp, lastver := "", "", ""
	incmp, inversion := false, false
	for _, i := range l {
		if i[0] == '(' {
			incmp = true
			i = strings.TrimSpace(i[1:])
			if i == "" {
				continue
			}
		}
		if incmp {
			incmp = false
			inversion = true
			switch {
			case hasAnyPrefix(i, "<=", "=<", "<<", "==", "!=", ">=", "=>", ">>"):
				lastcmp, i = i[:2], i[2:]
			case hasAnyPrefix(i, "<", ">", "="):
				lastcmp, i = i[:1], i[1:]
			default:
				return nil, nil, &versionError{i}
			}
			if i == "" {
				continue
			}
		}
		if inversion {
			if strings.HasSuffix(i, ")") {
				i = i[:len(i)-1]
				inversion = false
				if lastver != "" && i != "" {
					lastver += " "
				}
			}
			if i != "" {
				lastver += i
				if _, ok := r[lastdep]; !ok {
					order = append(order, lastdep)
				}
				r[lastdep] = append(r[lastdep], lastcmp+" "+lastver)
			}
			continue
		}
		lastdep, lastver, lastcmp = i, "", ""
		if v, ok := r[i]; !ok || len(v) == 0 {
			if !ok {
				order = append(order, i)
			}
			r[i] = []string{}
		}
	}
	if sorted {
		sort.Strings(order)
	}
	return r, order, nil
}

type versionError struct{ s string }

func (e *versionError) Error() string {
	return "Invalid version specification in \"(" + e.s + "\" - invalid or missing operator"
}

func hasAnyPrefix(s string, ps ...string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// VarsFromFile is bb.parse.vars_from_file: PN, PV, PR from a recipe file
// name (nil where absent).
func VarsFromFile(fn string) ([3]*string, error) {
	var out [3]*string
	if fn == "" || !(strings.HasSuffix(fn, ".bb") || strings.HasSuffix(fn, ".bbappend")) {
		return out, nil
	}
	base := fn[strings.LastIndexByte(fn, '/')+1:]
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	parts := strings.Split(base, "_")
	if len(parts) > 3 {
		return out, &versionError{"too many underscores in " + base}
	}
	for i := range parts {
		p := parts[i]
		out[i] = &p
	}
	return out, nil
}

// VercmpString is bb.utils.vercmp_string.
func VercmpString(a, b string) int {
	ea, va, ra := splitVersion(a)
	eb, vb, rb := splitVersion(b)
	if r := vercmpPart(strconv.Itoa(ea), strconv.Itoa(eb)); ea != eb {
		_ = r
		if ea < eb {
			return -1
		}
		return 1
	}
	if r := vercmpPart(va, vb); r != 0 {
		return r
	}
	return vercmpPart(ra, rb)
}

func splitVersion(s string) (int, string, string) {
	s = strings.TrimSpace(s)
	e := 0
	if i := strings.IndexByte(s, ':'); i >= 0 {
		e, _ = strconv.Atoi(s[:i])
		s = s[i+1:]
	}
	r := ""
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		r = s[i+1:]
		s = s[:i]
	}
	return e, s, r
}

// vercmpPart is bb.utils.vercmp_part (dpkg-like ordering).
func vercmpPart(a, b string) int {
	va, vb := a, b
	for {
		if va == "" && vb == "" {
			return 0
		}
		// Non-digit prefix.
		ia := 0
		for ia < len(va) && !isDigit(va[ia]) {
			ia++
		}
		ib := 0
		for ib < len(vb) && !isDigit(vb[ib]) {
			ib++
		}
		sa, sb := va[:ia], vb[:ib]
		if sa != sb {
			return lexOrder(sa, sb)
		}
		va, vb = va[ia:], vb[ib:]
		ia = 0
		for ia < len(va) && isDigit(va[ia]) {
			ia++
		}
		ib = 0
		for ib < len(vb) && isDigit(vb[ib]) {
			ib++
		}
		na, _ := strconv.ParseInt(va[:ia], 10, 64)
		nb, _ := strconv.ParseInt(vb[:ib], 10, 64)
		if na != nb {
			if na < nb {
				return -1
			}
			return 1
		}
		va, vb = va[ia:], vb[ib:]
		if ia == 0 && ib == 0 && sa == "" && sb == "" {
			// Neither digits nor letters advanced: avoid looping.
			return strings.Compare(va, vb)
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func lexOrder(a, b string) int {
	ord := func(s string, i int) int {
		if i >= len(s) {
			return 0
		}
		c := s[i]
		switch {
		case c == '~':
			return -1
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			return int(c)
		}
		return int(c) + 256
	}
	n := len(a)
	if len(b) > n {
		n = len(b)
	}
	for i := 0; i < n; i++ {
		x, y := ord(a, i), ord(b, i)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

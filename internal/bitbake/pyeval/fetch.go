package pyeval

import (
	"net/url"
	"strconv"
	"strings"
)

var uriClass = &ExcClass{Name: "bb.fetch2.URI"}

// newURI parses a SRC_URI entry like bb.fetch2.URI: scheme, userinfo,
// hostname, port, path, params (after ";") and query.
func newURI(s string) *Object {
	attrs := map[string]Value{
		"scheme": Str(""), "userinfo": Str(""), "username": Str(""), "password": Str(""),
		"hostname": Str(""), "port": None, "hostport": Str(""), "path": Str(""),
		"params": NewDict(), "query": NewDict(), "relative": False, "uri": Str(s),
	}
	o := &Object{Class: uriClass, Attrs: attrs}
	if s == "" {
		return o
	}
	uri, paramStr, _ := strings.Cut(s, ";")
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/?#") {
		attrs["path"] = Str(uri)
		return o
	}
	attrs["scheme"] = Str(scheme)
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		attrs["query"] = paramSplit(rest[q+1:], "&")
		rest = rest[:q]
	}
	switch {
	case scheme == "file" && strings.HasPrefix(rest, "//") && !strings.HasPrefix(rest, "///"):
		// file://relative/path is relative in BitBake's reading.
		attrs["relative"] = True
		rest = rest[2:]
	case !strings.HasPrefix(rest, "//"):
		if scheme == "file" || scheme == "git" {
			attrs["relative"] = True
		}
	default:
		rest = rest[2:]
		host := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			host, rest = rest[:i], rest[i:]
		} else {
			rest = ""
		}
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			ui := host[:at]
			host = host[at+1:]
			attrs["userinfo"] = Str(ui)
			user, pass, _ := strings.Cut(ui, ":")
			attrs["username"], attrs["password"] = Str(user), Str(pass)
		}
		attrs["hostport"] = Str(host)
		if h, p, ok := strings.Cut(host, ":"); ok {
			if n, err := strconv.Atoi(p); err == nil {
				attrs["port"] = Int(n)
			}
			host = h
		}
		attrs["hostname"] = Str(strings.ToLower(host))
	}
	if p, err := url.PathUnescape(rest); err == nil {
		rest = p
	}
	attrs["path"] = Str(rest)
	if paramStr != "" {
		attrs["params"] = paramSplit(paramStr, ";")
	}
	return o
}

func paramSplit(s, sep string) *Dict {
	d := NewDict()
	for _, kv := range strings.Split(s, sep) {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		d.SetStr(k, Str(v))
	}
	return d
}

func registerFetch() {
	m := modules["bb.fetch2"]
	m.Attrs["get_srcrev"] = fn("get_srcrev", getSrcrev)
	m.Attrs["URI"] = fn("URI", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if u := firstUnknown(a); u != nil {
			return u, nil
		}
		s, _ := argStr(a, 0)
		return newURI(s), nil
	})
	m.Attrs["decodeurl"] = fn("decodeurl", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if u := firstUnknown(a); u != nil {
			return u, nil
		}
		s, ok := argStr(a, 0)
		if !ok {
			return unknownf("decodeurl argument"), nil
		}
		return NewTuple(decodeURL(s)...), nil
	})
	registerFetchData(m)
}

// decodeURL is bb.fetch2.decodeurl: scheme, host[:port], path ("/" when
// empty), user, password and the parameters (a dict).
func decodeURL(s string) []Value {
	o := newURI(s)
	at := o.Attrs
	user := at["username"]
	host := at["hostname"]
	if hp, ok := at["hostport"].(Str); ok && hp != "" {
		host = hp
	}
	path := at["path"]
	if at["relative"] == True {
		host, path = Str(""), Str(strings.TrimPrefix(strings.SplitN(strings.SplitN(s, ";", 2)[0], ":", 2)[1], "//"))
	}
	if path == Str("") {
		path = Str("/")
	}
	return []Value{at["scheme"], host, path, user, at["password"], at["params"]}
}

// scmSchemes are the fetchers that support SRCREV.
var scmSchemes = map[string]bool{"git": true, "gitsm": true, "gitannex": true, "svn": true, "hg": true,
	"bzr": true, "repo": true, "p4": true, "cvs": true}

// getSrcrev is bb.fetch2.get_srcrev for fixed revisions: "AUTOINC+" and
// the first ten characters of SRCREV (or SRCREV_FORMAT with every name
// replaced by its revision). A revision that needs the network (AUTOREV)
// is Unknown.
func getSrcrev(in *Interp, a []Value, kw map[string]Value) (Value, error) {
	h, ok := dataArg(a, kw)
	if !ok {
		return unknownf("get_srcrev without datastore"), nil
	}
	src, _ := h.GetVar("SRC_URI", true)
	type scm struct{ names []string }
	var scms []scm
	for _, u := range strings.Fields(src) {
		scheme, _, _ := strings.Cut(u, ":")
		if !scmSchemes[scheme] {
			continue
		}
		names := []string{"default"}
		if _, params, ok := strings.Cut(u, ";"); ok {
			for _, p := range strings.Split(params, ";") {
				if k, v, _ := strings.Cut(p, "="); k == "name" && v != "" {
					names = strings.Split(v, ",")
				}
			}
		}
		scms = append(scms, scm{names})
	}
	if len(scms) == 0 {
		return nil, &Exception{Class: excFetchError, Args: []Value{Str("SRCREV was used yet no valid SCM was found in SRC_URI")}}
	}
	rev := func(name string) (string, bool) {
		var r string
		var set bool
		if name != "default" {
			r, set = h.GetVar("SRCREV_"+name, true)
		}
		if !set || r == "" {
			r, set = h.GetVar("SRCREV", true)
		}
		if !set || r == "" || r == "INVALID" || r == "AUTOINC" || strings.Contains(r, "${") {
			return "", false
		}
		if len(r) > 10 {
			r = r[:10]
		}
		return r, true
	}
	if len(scms) == 1 && len(scms[0].names) == 1 {
		r, ok := rev(scms[0].names[0])
		if !ok {
			return unknownf("get_srcrev needs the network"), nil
		}
		return Str("AUTOINC+" + r), nil
	}
	format, _ := h.GetVar("SRCREV_FORMAT", true)
	if format == "" {
		return nil, &Exception{Class: excFetchError, Args: []Value{Str("The SRCREV_FORMAT variable must be set when multiple SCMs are used.")}}
	}
	revs := map[string]string{}
	var names []string
	for _, s := range scms {
		for _, n := range s.names {
			r, ok := rev(n)
			if !ok {
				return unknownf("get_srcrev needs the network"), nil
			}
			if _, dup := revs[n]; !dup {
				names = append(names, n)
			}
			revs[n] = r
		}
	}
	// Longest names first, left to right, as BitBake's alternation does.
	sortByLenDesc(names)
	var b strings.Builder
	for i := 0; i < len(format); {
		matched := false
		for _, n := range names {
			if strings.HasPrefix(format[i:], n) {
				b.WriteString(revs[n])
				i += len(n)
				matched = true
				break
			}
		}
		if !matched {
			b.WriteByte(format[i])
			i++
		}
	}
	return Str("AUTOINC+" + b.String()), nil
}

func sortByLenDesc(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && len(s[j]) > len(s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

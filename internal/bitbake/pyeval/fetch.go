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
		return NewTuple(at["scheme"], host, path, user, at["password"], at["params"]), nil
	})
}

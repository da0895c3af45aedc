package pyeval

import (
	"encoding/json"
	"io"
	"strings"
	"sync"
)

// fileObj is a read-only file opened from the layers' file systems.
type fileObj struct {
	data string
	pos  int
}

func (f *fileObj) method(in *Interp, name string, a []Value) (Value, error) {
	switch name {
	case "read":
		n, _ := intArg(a, 0, -1)
		rest := f.data[f.pos:]
		if n >= 0 && int(n) < len(rest) {
			rest = rest[:n]
		}
		f.pos += len(rest)
		return Str(rest), nil
	case "readline":
		rest := f.data[f.pos:]
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			rest = rest[:i+1]
		}
		f.pos += len(rest)
		return Str(rest), nil
	case "readlines":
		lines := splitKeepNL(f.data[f.pos:])
		f.pos = len(f.data)
		return StrList(lines), in.checkItems(len(lines), len(lines))
	case "seek":
		n, ok := intArg(a, 0, 0)
		if !ok || n < 0 {
			return nil, newExc(excValueError, "negative seek position")
		}
		if int(n) > len(f.data) {
			n = int64(len(f.data))
		}
		f.pos = int(n)
		return Int(n), nil
	case "tell":
		return Int(f.pos), nil
	case "close", "__exit__":
		return None, nil
	case "__enter__":
		return f, nil
	}
	return unknownf("file.%s", name), nil
}

func splitKeepNL(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// open is the builtin open(): reading files of the layers only. Writing,
// or reading outside the layers, gives Unknown.
func builtinOpen(in *Interp, a []Value, kw map[string]Value) (Value, error) {
	if u := firstUnknown(a); u != nil {
		return u, nil
	}
	p, ok := argStr(a, 0)
	if !ok {
		return unknownf("open() of a non-string path"), nil
	}
	mode, _ := argStr(a, 1)
	if m, ok := kw["mode"].(Str); ok {
		mode = string(m)
	}
	if strings.ContainsAny(mode, "wax+") {
		return unknownf("open() for writing"), nil
	}
	in.recipeIO()
	data, found, inLayers := in.Host.ReadFile(p)
	if !inLayers {
		return unknownf("open() outside the layers"), nil
	}
	if !found {
		return nil, &Exception{Class: excFileNotFound, Args: []Value{Int(2), Str("No such file or directory"), Str(p)}}
	}
	if err := in.checkSize(len(data)); err != nil {
		return nil, err
	}
	return &fileObj{data: data}, nil
}

// jsonCache holds decoded JSON documents (as templates never handed out
// directly): layers' data files are read by many recipes. It keeps at
// most maxJSONCached documents of at most 1 MiB.
var jsonCache struct {
	sync.Mutex
	m map[string]jsonEntry
}

const maxJSONCached = 64

type jsonEntry struct {
	v     Value
	items int
}

// decodeJSON converts JSON text to Python values, keeping object key
// order as Python's json module does. Results are copies of a cached
// decoding.
func (in *Interp) decodeJSON(s string) (Value, error) {
	jsonCache.Lock()
	en, ok := jsonCache.m[s]
	jsonCache.Unlock()
	if ok {
		if err := in.charge(len(s)); err != nil {
			return nil, err
		}
		return deepCopy(en.v), nil
	}
	v, items, err := in.decodeJSONText(s)
	if err != nil {
		return nil, err
	}
	if len(s) <= 1<<20 {
		jsonCache.Lock()
		if jsonCache.m == nil || len(jsonCache.m) >= maxJSONCached {
			jsonCache.m = map[string]jsonEntry{}
		}
		jsonCache.m[s] = jsonEntry{v, items}
		jsonCache.Unlock()
	}
	return deepCopy(v), nil
}

// deepCopy copies the mutable containers of a value.
func deepCopy(v Value) Value {
	switch x := v.(type) {
	case *List:
		items := make([]Value, len(x.items))
		for i, it := range x.items {
			items[i] = deepCopy(it)
		}
		return &List{items: items}
	case *Dict:
		n := &Dict{keys: x.keys, vals: make([]Value, len(x.vals)), index: x.index}
		for i, it := range x.vals {
			n.vals[i] = deepCopy(it)
		}
		// keys and index are shared until the dict is changed.
		n.sharedIndex = true
		return n
	}
	return v
}

func (in *Interp) decodeJSONText(s string) (Value, int, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	items := 0
	var parse func() (Value, error)
	parse = func() (Value, error) {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		items++
		if items*itemCost > in.Limits.MaxBytes*4 {
			return nil, &errBudget{"JSON size"}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				d := NewDict()
				for dec.More() {
					kt, err := dec.Token()
					if err != nil {
						return nil, err
					}
					k, _ := kt.(string)
					v, err := parse()
					if err != nil {
						return nil, err
					}
					d.SetStr(k, v)
				}
				_, err := dec.Token()
				return d, err
			case '[':
				l := &List{}
				for dec.More() {
					v, err := parse()
					if err != nil {
						return nil, err
					}
					l.items = append(l.items, v)
				}
				_, err := dec.Token()
				return l, err
			}
		case string:
			return Str(t), nil
		case json.Number:
			if i, err := t.Int64(); err == nil {
				return Int(i), nil
			}
			f, err := t.Float64()
			return Float(f), err
		case bool:
			return Bool(t), nil
		case nil:
			return None, nil
		}
		return nil, io.ErrUnexpectedEOF
	}
	v, err := parse()
	if err != nil {
		if IsBudget(err) {
			return nil, 0, err
		}
		return nil, 0, newExc(excValueError, "JSON decode error: %v", err)
	}
	return v, items, in.charge(len(s))
}

func registerJSON() {
	modules["json"] = mod("json", map[string]Value{
		"loads": fn("loads", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if u := firstUnknown(a); u != nil {
				return u, nil
			}
			s, ok := argStr(a, 0)
			if !ok {
				return unknownf("json.loads of a non-string"), nil
			}
			return in.decodeJSON(s)
		}),
		"load": fn("load", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if u := firstUnknown(a); u != nil {
				return u, nil
			}
			f, ok := a[0].(*fileObj)
			if len(a) < 1 || !ok {
				return unknownf("json.load of a non-file"), nil
			}
			s := f.data[f.pos:]
			f.pos = len(f.data)
			return in.decodeJSON(s)
		}),
		"JSONDecodeError": excValueError,
	})
}

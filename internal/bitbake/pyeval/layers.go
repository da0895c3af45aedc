package pyeval

import (
	"errors"
	"sort"
	"strings"
	"unicode/utf8"
)

// DirLister is implemented by Hosts that can list directories of the
// layers, read-only (os.listdir). Python in metadata reads the layers at
// parse time, e.g. to take a version from the name of a recipe in another
// layer; a Host without it leaves such code unknown.
type DirLister interface {
	// ListDir returns the names in a directory of the layers. inLayers
	// is false for paths outside every layer (the answer is unknown);
	// found is false when the path is not a directory.
	ListDir(path string) (names []string, found, inLayers bool)
}

// MetadataParser is implemented by Hosts whose datastore belongs to a
// recipe being parsed: it lets Python parse further metadata into the
// datastore, as bb.parse.handle(fn, d, True) and
// bb.parse.BBHandler.inherit(...) do from anonymous functions.
type MetadataParser interface {
	// ParseFile parses an .inc, .bbclass or .conf file into the
	// datastore (a relative path is searched along BBPATH, recording the
	// paths tried as file dependencies). It returns ErrFileNotFound when
	// the file does not exist and a *Exception for SkipRecipe.
	ParseFile(path string) error
	// Inherit inherits classes as the inherit statement of file does.
	Inherit(classes, file string, line int) error
}

// isAbsPath is os.path.isabs for the parser's paths: absolute paths
// start with "/" or with a virtual root such as "<COREBASE>/".
func isAbsPath(p string) bool {
	if strings.HasPrefix(p, "/") {
		return true
	}
	if strings.HasPrefix(p, "<") {
		i := strings.IndexByte(p, '>')
		return i > 1 && (i == len(p)-1 || p[i+1] == '/')
	}
	return false
}

var excNotADirectory = &ExcClass{Name: "NotADirectoryError", Parent: excOSError}

// KeyLister is implemented by Hosts that can list the names of their
// variables (iterating over d, d.keys(), d.localkeys()).
type KeyLister interface {
	// Keys returns the names of the variables set in the datastore (only
	// those set in this copy when local is true).
	Keys(local bool) []string
}

// dataKeys is d.keys() / d.localkeys(), sorted (BitBake returns a set).
func dataKeys(in *Interp, h Host, local bool) (Value, error) {
	kl, ok := h.(KeyLister)
	if !ok {
		return unknownf("d.keys"), nil
	}
	keys := kl.Keys(local)
	sort.Strings(keys)
	size := 0
	for _, k := range keys {
		size += len(k)
	}
	if err := in.charge(size); err != nil {
		return nil, err
	}
	if err := in.checkItems(len(keys), len(keys)); err != nil {
		return nil, err
	}
	return StrList(keys), nil
}

// ErrFileNotFound is returned by MetadataParser.ParseFile for a file
// that does not exist.
var ErrFileNotFound = errors.New("file not found")

// osListdir is os.listdir over the layers. Python lists a directory in
// the file system's order; the names here are sorted, which code that
// looks for one match (the common case) cannot tell apart.
func osListdir(in *Interp, a []Value, kw map[string]Value) (Value, error) {
	if u := firstUnknown(a); u != nil {
		return u, nil
	}
	p, ok := argStr(a, 0)
	if !ok {
		if len(a) == 0 {
			p = "."
		} else {
			return unknownf("os.listdir argument"), nil
		}
	}
	in.recipeIO()
	dl, ok := in.Host.(DirLister)
	if !ok {
		return unknownf("os.listdir"), nil
	}
	names, found, inLayers := dl.ListDir(p)
	if !inLayers {
		return unknownf("os.listdir outside the layers"), nil
	}
	if !found {
		if e, _ := in.Host.FileExists(p); e {
			return nil, &Exception{Class: excNotADirectory, Args: []Value{Int(20), Str("Not a directory"), Str(p)}}
		}
		return nil, &Exception{Class: excFileNotFound, Args: []Value{Int(2), Str("No such file or directory"), Str(p)}}
	}
	size := 0
	for _, n := range names {
		size += len(n)
	}
	if err := in.charge(size); err != nil {
		return nil, err
	}
	if err := in.checkItems(len(names), len(names)); err != nil {
		return nil, err
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	return StrList(sorted), nil
}

// parseHandle is bb.parse.handle(fn, d, include) and
// bb.parse.BBHandler.handle: only the include form (parsing into the
// datastore) is modelled; parsing a recipe afresh is unknown.
func parseHandle(in *Interp, a []Value, kw map[string]Value) (Value, error) {
	if u := firstUnknown(a); u != nil {
		return u, nil
	}
	fn, ok := argStr(a, 0)
	if !ok {
		return nil, newExc(excTypeError, "bb.parse.handle() needs a file name")
	}
	h, ok := dataArg(a, kw)
	if !ok {
		return unknownf("bb.parse.handle without datastore"), nil
	}
	include := kwOr(a, 2, kw, "include", Int(0))
	if inc, err := truth(include); err != nil || !inc {
		return unknownf("bb.parse.handle of a recipe"), nil
	}
	mp, ok := h.(MetadataParser)
	if !ok {
		return unknownf("bb.parse.handle"), nil
	}
	if err := mp.ParseFile(fn); err != nil {
		if errors.Is(err, ErrFileNotFound) {
			return nil, &Exception{Class: excFileNotFound, Args: []Value{Int(2), Str("No such file or directory"), Str(fn)}}
		}
		var exc *Exception
		if errors.As(err, &exc) {
			return nil, exc
		}
		return nil, &Exception{Class: excParseError, Args: []Value{Str(err.Error())}}
	}
	return &DataRef{h}, nil
}

// bbhandlerInherit is bb.parse.BBHandler.inherit(files, fn, lineno, d).
func bbhandlerInherit(in *Interp, a []Value, kw map[string]Value) (Value, error) {
	if u := firstUnknown(a); u != nil {
		return u, nil
	}
	classes, ok := argStr(a, 0)
	if !ok {
		return nil, newExc(excTypeError, "inherit() needs class names")
	}
	file, _ := argStr(a, 1)
	line, _ := intArg(a, 2, 0)
	h, ok := dataArg(a, kw)
	if !ok {
		return unknownf("BBHandler.inherit without datastore"), nil
	}
	mp, ok := h.(MetadataParser)
	if !ok {
		return unknownf("BBHandler.inherit"), nil
	}
	if err := mp.Inherit(classes, file, int(line)); err != nil {
		var exc *Exception
		if errors.As(err, &exc) {
			return nil, exc
		}
		return nil, &Exception{Class: excParseError, Args: []Value{Str(err.Error())}}
	}
	return None, nil
}

// splitLines is str.splitlines(keepends): lines end at \n, \r, \r\n,
// \v, \f, \x1c-\x1e, \x85, \u2028 and \u2029.
func splitLines(s string, keepends bool) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		end := i + size
		switch r {
		case '\r':
			if end < len(s) && s[end] == '\n' {
				end++
			}
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		default:
			i = end
			continue
		}
		if keepends {
			out = append(out, s[start:end])
		} else {
			out = append(out, s[start:i])
		}
		start, i = end, end
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

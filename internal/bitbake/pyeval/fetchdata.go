package pyeval

import (
	"path"
	"regexp"
	"strings"
)

// The fetcher's exception classes (bb.fetch2): FetchError and the others
// derive from BBFetchException, so "except FetchError" does not catch a
// ParameterError.
var (
	excParameterError = &ExcClass{Name: "ParameterError", Parent: excBBFetch}
	excNoMethodError  = &ExcClass{Name: "NoMethodError", Parent: excBBFetch}
	excMalformedURL   = &ExcClass{Name: "MalformedUrl", Parent: excBBFetch}

	fetchClass     = &ExcClass{Name: "bb.fetch2.Fetch"}
	fetchDataClass = &ExcClass{Name: "bb.fetch2.FetchData"}
)

// registerFetchData adds bb.fetch2.Fetch, FetchData and localpath: the
// fetcher's view of SRC_URI that metadata reads at parse time (where a
// local file or a download would be), never fetching anything. The local
// (file://), wget (http, https, ftp, ftps) and git fetchers are modelled;
// the URL data of other fetchers, and of a git URL whose revision would
// need the network, is Unknown.
func registerFetchData(m *Module) {
	m.Attrs["BBFetchException"] = excBBFetch
	m.Attrs["ParameterError"] = excParameterError
	m.Attrs["NoMethodError"] = excNoMethodError
	m.Attrs["MalformedUrl"] = excMalformedURL
	m.Attrs["Fetch"] = fn("Fetch", newFetch)
	m.Attrs["FetchData"] = fn("FetchData", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if u := firstUnknown(a); u != nil {
			return u, nil
		}
		url, ok := argStr(a, 0)
		h, okd := dataArg(a, kw)
		if !ok || !okd {
			return unknownf("FetchData arguments"), nil
		}
		return fetchData(in, h, url)
	})
	m.Attrs["localpath"] = fn("localpath", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if u := firstUnknown(a); u != nil {
			return u, nil
		}
		url, ok := argStr(a, 0)
		h, okd := dataArg(a, kw)
		if !ok || !okd {
			return unknownf("localpath arguments"), nil
		}
		f, err := fetchFor(in, h, []string{url})
		if err != nil {
			return nil, err
		}
		return fetchLocalpath(in, h, f, url)
	})
}

// newFetch is bb.fetch2.Fetch(urls, d, ...): the URL data of urls (of
// SRC_URI when urls is empty).
func newFetch(in *Interp, a []Value, kw map[string]Value) (Value, error) {
	h, ok := dataArg(a, kw)
	if !ok {
		return unknownf("Fetch without datastore"), nil
	}
	urlsArg := kwOr(a, 0, kw, "urls", None)
	if u, isU := urlsArg.(*Unknown); isU {
		return u, nil
	}
	items, err := in.iterate(urlsArg)
	if urlsArg == None {
		items, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	var urls []string
	for _, it := range items {
		if u, isU := it.(*Unknown); isU {
			return u, nil
		}
		s, ok := it.(Str)
		if !ok {
			return nil, newExc(excTypeError, "Fetch() needs a list of URLs")
		}
		urls = append(urls, string(s))
	}
	if len(urls) == 0 {
		src, _ := h.GetVar("SRC_URI", true)
		urls = strings.Fields(src)
	}
	return fetchFor(in, h, urls)
}

func fetchFor(in *Interp, h Host, urls []string) (*Object, error) {
	if err := in.checkItems(len(urls), len(urls)); err != nil {
		return nil, err
	}
	ud := NewDict()
	list := make([]Value, len(urls))
	for i, u := range urls {
		list[i] = Str(u)
		if _, ok, _ := ud.get(Str(u)); ok {
			continue
		}
		fd, err := fetchData(in, h, u)
		if err != nil {
			return nil, err
		}
		ud.SetStr(u, fd)
	}
	f := &Object{Class: fetchClass, Attrs: map[string]Value{"urls": &List{items: list}, "ud": ud, "d": &DataRef{h}}}
	f.Attrs["localpath"] = fn("localpath", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		if u := firstUnknown(a); u != nil {
			return u, nil
		}
		url, ok := argStr(a, 0)
		if !ok {
			return nil, newExc(excTypeError, "localpath() needs a URL")
		}
		return fetchLocalpath(in, h, f, url)
	})
	f.Attrs["localpaths"] = fn("localpaths", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		out := make([]Value, 0, len(urls))
		for _, u := range urls {
			p, err := fetchLocalpath(in, h, f, u)
			if err != nil {
				return nil, err
			}
			if uk, isU := p.(*Unknown); isU {
				return uk, nil
			}
			out = append(out, p)
		}
		return &List{items: out}, nil
	})
	return f, nil
}

// fetchLocalpath is Fetch.localpath(url): where the URL's file is (or
// would be once downloaded).
func fetchLocalpath(in *Interp, h Host, f *Object, url string) (Value, error) {
	ud := f.Attrs["ud"].(*Dict)
	v, ok, _ := ud.get(Str(url))
	if !ok {
		fd, err := fetchData(in, h, url)
		if err != nil {
			return nil, err
		}
		ud.SetStr(url, fd)
		v = fd
	}
	fd, isObj := v.(*Object)
	if !isObj {
		return unknownf("localpath of %s", url), nil
	}
	if lp := fd.Attrs["localpath"]; lp != None && lp != nil {
		return lp, nil
	}
	if fd.Attrs["type"] != Str("file") {
		return unknownf("localpath of %s", url), nil
	}
	// Local.localpath: the last path tried along FILESPATH (the file
	// found, or the last candidate).
	p, _ := fd.Attrs["path"].(Str)
	if isAbsPath(string(p)) {
		fd.Attrs["localpath"] = p
		return p, nil
	}
	filespath, _ := h.GetVar("FILESPATH", true)
	if filespath == "" {
		return nil, newExc(excIndexError, "list index out of range")
	}
	var last string
	for _, dir := range strings.Split(filespath, ":") {
		last = pathJoin(dir, string(p))
		if !h.InLayers(last) {
			return unknownf("FILESPATH entry outside the layers"), nil
		}
		if e, _ := h.FileExists(last); e {
			break
		}
	}
	fd.Attrs["localpath"] = Str(last)
	return Str(last), nil
}

// pathJoin is os.path.join for two components.
func pathJoin(a, b string) string {
	if isAbsPath(b) || a == "" {
		return b
	}
	if strings.HasSuffix(a, "/") {
		return a + b
	}
	return a + "/" + b
}

var gitHashRe = regexp.MustCompile(`^[0-9a-f]{40,64}$`)

// fetchData is FetchData(url, d): the URL decoded, its fetcher's
// urldata_init, and its localpath where the fetcher knows it up front.
func fetchData(in *Interp, h Host, url string) (Value, error) {
	exp, err := h.Expand(url)
	if err != nil {
		return unknownf("expanding %s", url), nil
	}
	dec := decodeURL(exp)
	typ, _ := dec[0].(Str)
	host, _ := dec[1].(Str)
	p, _ := dec[2].(Str)
	parm, _ := dec[5].(*Dict)
	if parm == nil {
		parm = NewDict()
	}
	param := func(k string) (string, bool) {
		v, ok, _ := parm.get(Str(k))
		if !ok {
			return "", false
		}
		s, isStr := v.(Str)
		return string(s), isStr
	}
	user, pswd := dec[3], dec[4]
	if s, _ := user.(Str); s == "" {
		if v, ok := param("user"); ok {
			user = Str(v)
		}
	}
	if s, _ := pswd.(Str); s == "" {
		if v, ok := param("pswd"); ok {
			pswd = Str(v)
		}
	}
	name, ok := param("name")
	if !ok {
		name = "default"
	}
	if strings.Contains(name, ",") {
		return nil, &Exception{Class: excParameterError, Args: []Value{Str("The fetcher no longer supports multiple name parameters in a single url"), Str(url)}}
	}
	at := map[string]Value{
		"url": Str(url), "type": typ, "host": host, "path": p, "user": user, "pswd": pswd, "parm": parm,
		"name": Str(name), "localfile": Str(""), "localpath": None, "basename": None, "basepath": None,
		"mirrortarballs": &List{}, "needdonestamp": True,
	}
	if v, ok := param("proto"); ok && v != "" {
		if _, has := param("protocol"); !has {
			parm.SetStr("protocol", Str(v))
		}
	}
	dlDir, _ := h.GetVar("DL_DIR", true)
	switch typ {
	case "file":
		if strings.Contains(string(p), "*") {
			return nil, &Exception{Class: excParameterError, Args: []Value{Str("file:// urls using globbing are no longer supported. Please place the files in a directory and reference that instead."), Str(url)}}
		}
		at["basename"] = Str(path.Base(string(p)))
		at["basepath"] = p
		at["needdonestamp"] = False
	case "http", "https", "ftp", "ftps":
		if v, _ := param("protocol"); v == "git" {
			return nil, &Exception{Class: excParameterError, Args: []Value{Str("Invalid protocol - if you wish to fetch from a git repository using http, you need to instead use the git:// prefix with protocol=http"), Str(url)}}
		}
		base := path.Base(string(p))
		if string(p) == "/" {
			base = ""
		}
		if v, ok := param("downloadfilename"); ok {
			base = v
		}
		at["basename"] = Str(base)
		local := base
		if local == "" {
			local = string(host) + strings.ReplaceAll(string(p), "/", ".")
		}
		at["localfile"] = Str(local)
	case "git":
		v, err := gitUrldata(h, at, param, url)
		if v != nil || err != nil {
			return v, err
		}
	default:
		return unknownf("fetcher for %s URLs", typ), nil
	}
	if lp, ok := param("localpath"); ok {
		at["localpath"] = Str(lp)
		at["basename"] = Str(path.Base(lp))
	} else if lf, _ := at["localfile"].(Str); lf != "" {
		at["localpath"] = Str(pathJoin(dlDir, string(lf)))
	}
	return &Object{Class: fetchDataClass, Attrs: at}, nil
}

// gitUrldata is the git fetcher's urldata_init for a URL whose revision
// is known without the network. It returns a value (Unknown) or an error
// to use instead of the URL data, or nil, nil when at is complete.
func gitUrldata(h Host, at map[string]Value, param func(string) (string, bool), url string) (Value, error) {
	host := string(at["host"].(Str))
	proto, ok := param("protocol")
	switch {
	case ok:
	case host == "":
		proto = "file"
	default:
		proto = "git"
	}
	if host == "github.com" && proto == "git" {
		proto = "https"
	}
	switch proto {
	case "git", "file", "ssh", "http", "https", "rsync":
	default:
		return nil, &Exception{Class: excParameterError, Args: []Value{Str("Invalid protocol type: '" + proto + "'"), Str(url)}}
	}
	at["proto"] = Str(proto)
	flag := func(k string) bool { v, _ := param(k); return v == "1" }
	nobranch := flag("nobranch")
	if flag("usehead") {
		if proto != "file" {
			return nil, &Exception{Class: excParameterError, Args: []Value{Str("The usehead option is only for use with local ('protocol=file') git repositories"), Str(url)}}
		}
		// usehead resolves HEAD: a revision from the repository.
		return unknownf("git usehead revision"), nil
	}
	branch, _ := param("branch")
	if branch == "" && !nobranch {
		return nil, &Exception{Class: excParameterError, Args: []Value{Str("The url does not set any branch parameter or set nobranch=1."), Str(url)}}
	}
	at["branch"] = Str(branch)
	at["nobranch"] = Bool(nobranch)
	rebaseable := flag("rebaseable")
	at["rebaseable"] = Bool(rebaseable)

	// srcrev_internal_helper
	name := string(at["name"].(Str))
	pn, _ := h.GetVar("PN", true)
	var attempts []string
	if name != "" && pn != "" {
		attempts = append(attempts, "SRCREV_"+name+":pn-"+pn)
	}
	if name != "" {
		attempts = append(attempts, "SRCREV_"+name)
	}
	if pn != "" {
		attempts = append(attempts, "SRCREV:pn-"+pn)
	}
	attempts = append(attempts, "SRCREV")
	var srcrev string
	for _, a := range attempts {
		srcrev, _ = h.GetVar(a, true)
		if srcrev != "" && srcrev != "INVALID" {
			break
		}
	}
	rev := srcrev
	if parmrev, ok := param("rev"); ok {
		if srcrev != "" && srcrev != "INVALID" && srcrev != parmrev {
			return nil, &Exception{Class: excFetchError, Args: []Value{Str("Conflicting revisions (" + srcrev + " from SRCREV and " + parmrev + " from the url) found, please specify one valid value")}}
		}
		rev = parmrev
	} else if tag, ok := param("tag"); ok && (srcrev == "" || srcrev == "INVALID") {
		rev = tag
	} else if srcrev == "" || srcrev == "INVALID" {
		return nil, &Exception{Class: excFetchError, Args: []Value{Str("Please set a valid SRCREV for url " + url)}}
	}
	if !gitHashRe.MatchString(rev) {
		// AUTOINC, a tag or a branch: latest_revision asks the remote.
		return unknownf("git revision %s needs the network", rev), nil
	}
	at["revision"] = Str(rev)
	path := string(at["path"].(Str))
	src := strings.ReplaceAll(host, ":", ".") + strings.NewReplacer("/", ".", "*", ".", " ", "_", "(", "_", ")", "_").Replace(path)
	src = strings.TrimPrefix(src, ".")
	if rebaseable {
		src += "_" + rev
	}
	dlDir, _ := h.GetVar("DL_DIR", true)
	gitdir, _ := h.GetVar("GITDIR", true)
	if gitdir == "" {
		gitdir = dlDir + "/git2"
	}
	clonedir := pathJoin(gitdir, src)
	at["clonedir"] = Str(clonedir)
	at["localfile"] = Str(clonedir)
	at["fullmirror"] = Str(pathJoin(dlDir, "git2_"+src+".tar.gz"))
	if shallow, _ := h.GetVar("BB_GIT_SHALLOW", true); shallow == "1" {
		// Shallow tarball names depend on settings not modelled.
		at["mirrortarballs"] = unknownf("shallow git mirror tarballs")
	} else {
		at["mirrortarballs"] = StrList([]string{"git2_" + src + ".tar.gz"})
	}
	return nil, nil
}

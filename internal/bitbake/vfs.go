package bitbake

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
)

// MaxFileSize bounds the metadata files read (recipes, classes, confs).
const MaxFileSize = 4 << 20

// mount places one fs.FS at a virtual absolute path.
type mount struct {
	root string
	fsys fs.FS
}

// vfs resolves BitBake's absolute paths onto the layers' file systems.
// Paths are virtual ("<COREBASE>/meta/classes/base.bbclass"): nothing
// outside the mounted file systems can be reached, and ".." cannot climb
// out of a mount.
type vfs struct {
	mounts []mount // longest root first
	mu     sync.Mutex
	stats  map[string]statEntry
}

type statEntry struct{ exists, dir bool }

func newVFS() *vfs { return &vfs{stats: map[string]statEntry{}} }

// add mounts fsys at root.
func (v *vfs) add(root string, fsys fs.FS) {
	v.mounts = append(v.mounts, mount{root: cleanPath(root), fsys: fsys})
	sort.SliceStable(v.mounts, func(i, j int) bool { return len(v.mounts[i].root) > len(v.mounts[j].root) })
}

// cleanPath cleans a virtual path, keeping placeholder roots intact.
func cleanPath(p string) string {
	if p == "" {
		return ""
	}
	c := path.Clean(p)
	return c
}

// isAbs reports whether p is an absolute virtual path: "/..." or a
// placeholder root such as "<COREBASE>/...".
func isAbs(p string) bool {
	return strings.HasPrefix(p, "/") || strings.HasPrefix(p, "<")
}

// resolve maps a virtual path to a file system and a path inside it.
func (v *vfs) resolve(p string) (fs.FS, string, bool) {
	p = cleanPath(p)
	for _, m := range v.mounts {
		if p == m.root {
			return m.fsys, ".", true
		}
		if strings.HasPrefix(p, m.root) && len(p) > len(m.root) && p[len(m.root)] == '/' {
			rel := p[len(m.root)+1:]
			if !fs.ValidPath(rel) {
				return nil, "", false
			}
			return m.fsys, rel, true
		}
	}
	return nil, "", false
}

// stat reports whether p exists and is a directory (cached).
func (v *vfs) stat(p string) (exists, dir bool) {
	p = cleanPath(p)
	v.mu.Lock()
	if e, ok := v.stats[p]; ok {
		v.mu.Unlock()
		return e.exists, e.dir
	}
	v.mu.Unlock()
	var e statEntry
	if fsys, rel, ok := v.resolve(p); ok {
		if st, err := fs.Stat(fsys, rel); err == nil {
			e = statEntry{exists: true, dir: st.IsDir()}
		}
	}
	v.mu.Lock()
	v.stats[p] = e
	v.mu.Unlock()
	return e.exists, e.dir
}

func (v *vfs) isFile(p string) bool {
	e, d := v.stat(p)
	return e && !d
}

var errTooLarge = errors.New("file too large")

// readFile reads a regular file of at most MaxFileSize bytes.
func (v *vfs) readFile(p string) ([]byte, error) {
	fsys, rel, ok := v.resolve(p)
	if !ok {
		return nil, fs.ErrNotExist
	}
	f, err := fsys.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fs.ErrNotExist
	}
	if st.Size() > MaxFileSize {
		return nil, errTooLarge
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, errTooLarge
	}
	return b, nil
}

// which is bb.utils.which: the first "dir/item" that exists along a
// colon-separated path, with every candidate tried.
func (v *vfs) which(searchPath, item string) (string, []string) {
	var tried []string
	for _, dir := range strings.Split(searchPath, ":") {
		cand := joinPath(dir, item)
		tried = append(tried, cand)
		if e, _ := v.stat(cand); e {
			return cleanPath(cand), tried
		}
	}
	return "", tried
}

// joinPath is os.path.join for two components.
func joinPath(a, b string) string {
	if isAbs(b) || a == "" {
		return b
	}
	if strings.HasSuffix(a, "/") {
		return a + b
	}
	return a + "/" + b
}

func dirName(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	if i == 0 {
		return "/"
	}
	return p[:i]
}

func baseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// glob expands a shell pattern over the mounted file systems (glob.glob);
// the directory part up to the first wildcard must lie in one mount.
func (v *vfs) glob(pattern string) []string {
	pattern = cleanPath(pattern)
	for _, m := range v.mounts {
		if !strings.HasPrefix(pattern, m.root+"/") {
			continue
		}
		rel := pattern[len(m.root)+1:]
		matches, err := fs.Glob(m.fsys, rel)
		if err != nil {
			return nil
		}
		out := make([]string, len(matches))
		for i, x := range matches {
			out[i] = m.root + "/" + x
		}
		return out
	}
	return nil
}

// inMount reports whether p lies under one of the mounted roots.
func (v *vfs) inMount(p string) bool {
	p = cleanPath(p)
	for _, m := range v.mounts {
		if p == m.root || strings.HasPrefix(p, m.root+"/") {
			return true
		}
	}
	return false
}

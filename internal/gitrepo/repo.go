package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/utils/merkletrie"
)

// Repo is an opened clone. Reads are safe for concurrent use.
type Repo struct {
	r      *git.Repository
	dir    string
	limits Limits
	mu     sync.Mutex // go-git's object storage is not documented as concurrency-safe
	trees  []*TreeFS  // recently used trees, most recent last
}

// Open opens a bare clone already in the cache (or any git directory).
func Open(dir string, l Limits) (*Repo, error) {
	r, err := git.PlainOpen(dir)
	if err != nil {
		return nil, err
	}
	return &Repo{r: r, dir: dir, limits: l}, nil
}

// Dir is the clone's directory: another process (the isolated parser)
// opens the repository there.
func (r *Repo) Dir() string { return r.dir }

// Limits are the limits the clone was opened with.
func (r *Repo) Limits() Limits { return r.limits }

// keepTrees hands the cached trees to the Repo that replaces this one
// after a fetch: objects already read stay valid.
func (r *Repo) keepTrees() []*TreeFS {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*TreeFS(nil), r.trees...)
}

// treeCacheSize bounds the trees a Repo keeps: a commit's tree never
// changes, and dependency layers (openembedded-core for every other layer)
// are read again and again.
const treeCacheSize = 3

// Commit identifies a commit.
type Commit struct {
	Hash string
	Time time.Time // committer time
}

// Branch resolves a branch to its head commit.
func (r *Repo) Branch(name string) (Commit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, err := r.r.Reference(BranchRef(name), true)
	if err != nil {
		return Commit{}, &Permanent{fmt.Errorf("%w: %q", ErrBranchNotFound, name)}
	}
	c, err := r.r.CommitObject(ref.Hash())
	if err != nil {
		return Commit{}, err
	}
	return Commit{Hash: c.Hash.String(), Time: c.Committer.When}, nil
}

// Branches lists the repository's branches.
func (r *Repo) Branches() ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	it, err := r.r.Branches()
	if err != nil {
		return nil, err
	}
	var out []string
	err = it.ForEach(func(ref *plumbing.Reference) error {
		out = append(out, ref.Name().Short())
		return nil
	})
	sort.Strings(out)
	return out, err
}

// HasCommit reports whether the clone holds the commit (a force-push can
// make the last indexed commit disappear).
func (r *Repo) HasCommit(hash string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.r.CommitObject(plumbing.NewHash(hash))
	return err == nil
}

// ErrNoSubdir is wrapped when a layer's subdirectory is missing at a commit.
var ErrNoSubdir = errors.New("subdirectory not found")

// subtree returns the tree at subdir of commit ("" is the root).
func (r *Repo) subtree(commit, subdir string) (*object.Tree, error) {
	_, st, err := r.commitTrees(commit, subdir)
	return st, err
}

// commitTrees returns commit's root tree and the tree at subdir of it, with
// subdir cleaned ("" for the root).
func (r *Repo) commitTrees(commit, subdir string) (root, sub *object.Tree, err error) {
	c, err := r.r.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		return nil, nil, fmt.Errorf("commit %s: %w", short(commit), err)
	}
	root, err = c.Tree()
	if err != nil {
		return nil, nil, fmt.Errorf("commit %s: %w", short(commit), err)
	}
	subdir = cleanSubdir(subdir)
	if subdir == "" {
		return root, root, nil
	}
	sub, err = root.Tree(subdir)
	if err != nil {
		return nil, nil, &Permanent{fmt.Errorf("%w: %q at commit %s", ErrNoSubdir, subdir, short(commit))}
	}
	return root, sub, nil
}

// cleanSubdir is subdir as a clean path relative to the repository's
// root, "" for the root itself.
func cleanSubdir(subdir string) string {
	return strings.Trim(path.Clean("/"+subdir), "/")
}

// TreeHash is the hash of subdir's tree at commit: equal hashes mean equal
// contents, whatever the commits.
func (r *Repo) TreeHash(commit, subdir string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, err := r.subtree(commit, subdir)
	if err != nil {
		return "", err
	}
	return t.Hash.String(), nil
}

// ChangeAction is what happened to a file between two commits.
type ChangeAction string

const (
	Added    ChangeAction = "A"
	Deleted  ChangeAction = "D"
	Modified ChangeAction = "M"
	Renamed  ChangeAction = "R"
)

// Change is one changed file, with paths relative to the subdirectory.
type Change struct {
	Action   ChangeAction
	From, To string // From is empty for additions, To for deletions
}

// Diff lists the files that changed below subdir between two commits, with
// renames detected.
func (r *Repo) Diff(ctx context.Context, from, to, subdir string) ([]Change, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, err := r.subtree(from, subdir)
	if err != nil {
		return nil, err
	}
	b, err := r.subtree(to, subdir)
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTreeWithOptions(ctx, a, b, &object.DiffTreeOptions{DetectRenames: true, RenameScore: 60})
	if err != nil {
		return nil, err
	}
	out := make([]Change, 0, len(changes))
	for _, ch := range changes {
		act, err := ch.Action()
		if err != nil {
			return nil, err
		}
		c := Change{From: ch.From.Name, To: ch.To.Name}
		switch {
		case act == merkletrie.Insert:
			c.Action = Added
		case act == merkletrie.Delete:
			c.Action = Deleted
		case c.From != c.To:
			c.Action = Renamed
		default:
			c.Action = Modified
		}
		out = append(out, c)
	}
	return out, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Tree returns the files below subdir at commit as a read-only fs.FS. Only
// regular files and directories are visible. A symbolic link to a regular
// file of the same commit's repository tree (relative, and staying inside
// the repository: layers link conf/layer.conf to a shared copy) shows as
// that file; any other symbolic link, and submodules, are left out
// (Skipped; Refused says why of a link), so nothing can point outside the
// repository. It fails when the tree holds more entries than the file
// limit.
//
// A followed link's target may lie outside subdir, where TreeHash and Diff
// do not look: a change to it alone is seen with the next change below
// subdir.
func (r *Repo) Tree(commit, subdir string) (*TreeFS, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	root, t, err := r.commitTrees(commit, subdir)
	if err != nil {
		return nil, err
	}
	for i, c := range r.trees {
		// A tree with links is the same only in the same repository tree.
		if c.hash == t.Hash && (!c.links || c.root == root.Hash) {
			r.trees = append(append(r.trees[:i:i], r.trees[i+1:]...), c)
			return c, nil
		}
	}
	fsys := &TreeFS{repo: r, hash: t.Hash, root: root.Hash, entries: map[string]*entry{".": {dir: true}}}
	ix := &indexer{fs: fsys, root: root, prefix: cleanSubdir(subdir)}
	if err := ix.index(t, "."); err != nil {
		return nil, err
	}
	for _, e := range fsys.entries {
		if e.dir {
			sort.Slice(e.children, func(i, j int) bool { return e.children[i] < e.children[j] })
		}
	}
	r.trees = append(r.trees, fsys)
	if len(r.trees) > treeCacheSize {
		r.trees = r.trees[1:]
	}
	return fsys, nil
}

// TreeFS is a git tree as an fs.FS. Blobs are read on demand and kept: the
// parser stats a file, then reads it, often from several recipes.
type TreeFS struct {
	repo    *Repo
	hash    plumbing.Hash
	root    plumbing.Hash // the repository's tree, which followed links depend on
	links   bool          // some entry is a followed symbolic link
	entries map[string]*entry
	refused map[string]*LinkError
	// Skipped lists symlinks and submodules that were left out.
	Skipped []string
}

// LinkError is why a symbolic link was not followed. For the fs.FS
// methods the link does not exist (errors.Is fs.ErrNotExist), with this
// reason.
type LinkError struct {
	Target string // what the link points to
	Why    string
}

func (e *LinkError) Error() string {
	return fmt.Sprintf("a symbolic link to %q, not followed: %s", e.Target, e.Why)
}

// Is makes a refused link a file that does not exist.
func (e *LinkError) Is(target error) bool { return target == fs.ErrNotExist }

// Refused returns why the symbolic link at name was not followed, or nil
// when name is no refused link.
func (t *TreeFS) Refused(name string) error {
	if e, ok := t.refused[name]; ok {
		return e
	}
	return nil
}

// notFound is the error of a lookup of name, which is not in the tree.
func (t *TreeFS) notFound(op, name string) error {
	if e, ok := t.refused[name]; ok {
		return &fs.PathError{Op: op, Path: name, Err: e}
	}
	return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
}

type entry struct {
	dir      bool
	hash     plumbing.Hash
	children []string // base names, for directories
	data     []byte   // contents, once read
	err      error    // why the contents cannot be read
	read     bool
}

// indexer builds a TreeFS's entries from the tree at prefix of the
// repository tree root.
type indexer struct {
	fs     *TreeFS
	root   *object.Tree
	prefix string
}

func (ix *indexer) index(tree *object.Tree, dir string) error {
	t := ix.fs
	for _, e := range tree.Entries {
		p := path.Join(dir, e.Name)
		if len(t.entries) >= t.repo.limits.MaxFiles && t.repo.limits.MaxFiles > 0 {
			return &Permanent{fmt.Errorf("%w: more than %d files", ErrTooLarge, t.repo.limits.MaxFiles)}
		}
		switch e.Mode {
		case filemode.Dir:
			sub, err := tree.Tree(e.Name)
			if err != nil {
				return err
			}
			t.entries[p] = &entry{dir: true}
			t.entries[dir].children = append(t.entries[dir].children, e.Name)
			if err := ix.index(sub, p); err != nil {
				return err
			}
		case filemode.Regular, filemode.Executable, filemode.Deprecated:
			t.entries[p] = &entry{hash: e.Hash}
			t.entries[dir].children = append(t.entries[dir].children, e.Name)
		case filemode.Symlink:
			h, err := ix.follow(path.Join(ix.prefix, p), e.Hash)
			var le *LinkError
			switch {
			case err == nil:
				t.entries[p] = &entry{hash: h}
				t.entries[dir].children = append(t.entries[dir].children, e.Name)
				t.links = true
			case errors.As(err, &le):
				if t.refused == nil {
					t.refused = map[string]*LinkError{}
				}
				t.refused[p] = le
				t.Skipped = append(t.Skipped, p)
			default:
				return fmt.Errorf("symbolic link %s: %w", p, err)
			}
		default: // submodules
			t.Skipped = append(t.Skipped, p)
		}
	}
	return nil
}

// maxLinkHops bounds a chain of symbolic links, as the kernel's ELOOP
// does.
const maxLinkHops = 8

// maxLinkTarget bounds the length of a link's target.
const maxLinkTarget = 4096

// follow resolves the symbolic link at p (relative to the repository's
// root; its blob h holds the target) to the blob of a regular file of the
// repository tree. A target that is absolute, leaves the repository, is
// missing, is not a regular file (a directory, a submodule) or is reached
// through too many links is refused with a *LinkError.
func (ix *indexer) follow(p string, h plumbing.Hash) (plumbing.Hash, error) {
	for hop := 0; hop < maxLinkHops; hop++ {
		blob, err := ix.fs.repo.r.BlobObject(h)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if blob.Size > maxLinkTarget {
			return plumbing.ZeroHash, &LinkError{Target: "…", Why: "the target is too long"}
		}
		rd, err := blob.Reader()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		b, err := io.ReadAll(rd)
		rd.Close()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		target := string(b)
		if path.IsAbs(target) {
			return plumbing.ZeroHash, &LinkError{Target: target, Why: "an absolute path, outside the repository"}
		}
		// Relative to the link's directory, as the file system resolves it.
		j := path.Join(path.Dir(p), target)
		if j == ".." || strings.HasPrefix(j, "../") {
			return plumbing.ZeroHash, &LinkError{Target: target, Why: "it leaves the repository"}
		}
		if j == "." {
			return plumbing.ZeroHash, &LinkError{Target: target, Why: "not a regular file"}
		}
		e, err := ix.root.FindEntry(j)
		if err != nil {
			return plumbing.ZeroHash, &LinkError{Target: target, Why: "no such file in the repository"}
		}
		switch e.Mode {
		case filemode.Regular, filemode.Executable, filemode.Deprecated:
			return e.Hash, nil
		case filemode.Symlink:
			p, h = j, e.Hash
		default:
			return plumbing.ZeroHash, &LinkError{Target: target, Why: "not a regular file"}
		}
	}
	return plumbing.ZeroHash, &LinkError{Target: p, Why: "too many levels of symbolic links"}
}

// Open implements fs.FS.
func (t *TreeFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	e, ok := t.entries[name]
	if !ok {
		return nil, t.notFound("open", name)
	}
	if e.dir {
		return &dirFile{fs: t, name: name, e: e}, nil
	}
	b, err := t.load(e)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &blobFile{info: fileInfo{name: path.Base(name), size: int64(len(b))}, r: bytes.NewReader(b)}, nil
}

// ReadFile implements fs.ReadFileFS, enforcing the file size limit.
func (t *TreeFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	e, ok := t.entries[name]
	if !ok {
		return nil, t.notFound("read", name)
	}
	if e.dir {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	b, err := t.load(e)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return append([]byte(nil), b...), nil
}

// load reads a blob once; its bytes must not be modified.
func (t *TreeFS) load(e *entry) ([]byte, error) {
	t.repo.mu.Lock()
	defer t.repo.mu.Unlock()
	if e.read {
		return e.data, e.err
	}
	e.read = true
	blob, err := t.repo.r.BlobObject(e.hash)
	if err != nil {
		e.err = err
		return nil, err
	}
	if max := t.repo.limits.MaxFileSize; max > 0 && blob.Size > max {
		e.err = fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, blob.Size, max)
		return nil, e.err
	}
	rd, err := blob.Reader()
	if err != nil {
		e.err = err
		return nil, err
	}
	defer rd.Close()
	e.data, e.err = io.ReadAll(rd)
	return e.data, e.err
}

// Stat implements fs.StatFS. The size of a file is that of its contents,
// which are read (and kept) for it.
func (t *TreeFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	e, ok := t.entries[name]
	if !ok {
		return nil, t.notFound("stat", name)
	}
	return fileInfo{name: path.Base(name), dir: e.dir, size: t.size(e)}, nil
}

func (t *TreeFS) size(e *entry) int64 {
	if e.dir {
		return 0
	}
	b, _ := t.load(e)
	return int64(len(b))
}

// ReadDir implements fs.ReadDirFS, in name order.
func (t *TreeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	e, ok := t.entries[name]
	if !ok || !e.dir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	out := make([]fs.DirEntry, len(e.children))
	for i, c := range e.children {
		out[i] = dirEntry{t: t, name: c, e: t.entries[path.Join(name, c)]}
	}
	return out, nil
}

// Hash is the blob hash of a file, for change detection without reading it.
func (t *TreeFS) Hash(name string) (string, bool) {
	e, ok := t.entries[name]
	if !ok || e.dir {
		return "", false
	}
	return e.hash.String(), true
}

// Len is the number of files and directories in the tree.
func (t *TreeFS) Len() int { return len(t.entries) }

// dirEntry defers the size lookup until Info is called.
type dirEntry struct {
	t    *TreeFS
	name string
	e    *entry
}

func (d dirEntry) Name() string { return d.name }
func (d dirEntry) IsDir() bool  { return d.e.dir }
func (d dirEntry) Type() fs.FileMode {
	if d.e.dir {
		return fs.ModeDir
	}
	return 0
}
func (d dirEntry) Info() (fs.FileInfo, error) {
	return fileInfo{name: d.name, dir: d.e.dir, size: d.t.size(d.e)}, nil
}

type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (f fileInfo) Name() string { return f.name }
func (f fileInfo) Size() int64  { return f.size }
func (f fileInfo) Mode() fs.FileMode {
	if f.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (f fileInfo) ModTime() time.Time { return time.Time{} }
func (f fileInfo) IsDir() bool        { return f.dir }
func (f fileInfo) Sys() any           { return nil }

type blobFile struct {
	info fileInfo
	r    *bytes.Reader
}

func (f *blobFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *blobFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *blobFile) Close() error               { return nil }

type dirFile struct {
	fs   *TreeFS
	name string
	e    *entry
	pos  int
}

func (d *dirFile) Stat() (fs.FileInfo, error) {
	return fileInfo{name: path.Base(d.name), dir: true}, nil
}
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}
func (d *dirFile) Close() error { return nil }
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	all, err := d.fs.ReadDir(d.name)
	if err != nil {
		return nil, err
	}
	rest := all[d.pos:]
	if n <= 0 {
		d.pos = len(all)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.pos += n
	return rest[:n], nil
}

package gitrepo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
)

// Limits cap what a repository may cost.
type Limits struct {
	MaxTransferBytes int64         // bytes received by one fetch
	MaxFiles         int           // entries in a layer's tree
	MaxFileSize      int64         // size of one file read from a tree
	FetchTimeout     time.Duration // one clone or fetch
	// SSHHandshakeTimeout bounds an ssh connection from the dial to the
	// server's answer to the signed authentication (0: 30 s), so that a
	// server that accepts the connection and never answers fails in
	// seconds, not at FetchTimeout.
	SSHHandshakeTimeout time.Duration
}

// DefaultLimits fit the largest real layer repositories (openembedded-core:
// ~220 MB packed with full history, ~5,000 files at a commit) with room.
var DefaultLimits = Limits{
	MaxTransferBytes: 1 << 30,
	MaxFiles:         50_000,
	MaxFileSize:      8 << 20,
	FetchTimeout:     10 * time.Minute,
}

// Cache holds one bare clone per repository URL under Dir, shared by every
// layer and branch in that repository.
type Cache struct {
	Dir    string
	Policy Policy
	Limits Limits
	// Credentials, when set, authenticates fetches of private
	// repositories (package repocreds); URLs never carry credentials.
	Credentials Credentials

	mu    sync.Mutex
	locks map[string]*sync.Mutex
	open  []openRepo // recently used clones, most recent last; replaced after each fetch
}

type openRepo struct {
	dir  string
	repo *Repo
}

// openCacheSize bounds the clones kept open, with their cached trees, so a
// worker that updates hundreds of layers keeps a few repositories' worth of
// memory, not all of them.
const openCacheSize = 6

// remember records repo as the most recently used clone of dir; it
// returns the previous Repo for dir, if any. c.mu must be held.
func (c *Cache) remember(dir string, repo *Repo) *Repo {
	var old *Repo
	for i, o := range c.open {
		if o.dir == dir {
			old = o.repo
			c.open = append(c.open[:i:i], c.open[i+1:]...)
			break
		}
	}
	c.open = append(c.open, openRepo{dir, repo})
	if len(c.open) > openCacheSize {
		c.open = c.open[1:]
	}
	return old
}

// NewCache returns a cache rooted at dir.
func NewCache(dir string, p Policy, l Limits) *Cache {
	return &Cache{Dir: dir, Policy: p, Limits: l, locks: map[string]*sync.Mutex{}}
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// pathFor names the clone of a URL: readable, and unique through a hash.
func (c *Cache) pathFor(u string) string {
	sum := sha256.Sum256([]byte(u))
	name := strings.Trim(unsafeChars.ReplaceAllString(strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://"), "_"), "_.")
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	return filepath.Join(c.Dir, name+"-"+hex.EncodeToString(sum[:6])+".git")
}

// lock serialises work on one clone: within the process with a mutex, and
// between processes sharing the data directory with flock.
func (c *Cache) lock(ctx context.Context, dir string) (func(), error) {
	c.mu.Lock()
	m, ok := c.locks[dir]
	if !ok {
		m = &sync.Mutex{}
		c.locks[dir] = m
	}
	c.mu.Unlock()
	m.Lock()
	f, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		m.Unlock()
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			m.Unlock()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			m.Unlock()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
		m.Unlock()
	}, nil
}

// refSpec mirrors the remote's branches as local branches, so a fetch moves
// refs/heads/<branch> and pruning removes deleted branches.
var refSpec = config.RefSpec("+refs/heads/*:refs/heads/*")

// Credentials gives the authentication for a repository URL; nil when the
// repository needs none.
type Credentials interface {
	AuthFor(ctx context.Context, url string) (transport.AuthMethod, error)
}

// Fetch brings the clone of rawURL up to date (cloning it on first use) and
// opens it. The URL is checked against the policy before any connection.
func (c *Cache) Fetch(ctx context.Context, rawURL string) (*Repo, error) {
	return c.FetchSince(ctx, rawURL, time.Time{})
}

// FetchSince is Fetch, except that a clone whose last fetch began at or
// after since (by any process sharing the cache) is opened as it is: that
// fetch already saw everything pushed before since. The update runs of one
// request (the periodic refresh: every branch of every layer of a
// repository) so share one fetch of each repository instead of making one
// each. A zero since always fetches.
func (c *Cache) FetchSince(ctx context.Context, rawURL string, since time.Time) (_ *Repo, err error) {
	u, err := c.Policy.CheckURL(rawURL)
	if err != nil {
		return nil, err
	}
	installTransports()
	if err := os.MkdirAll(c.Dir, 0o750); err != nil {
		return nil, err
	}
	dir := c.pathFor(u)
	unlock, err := c.lock(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if !since.IsZero() {
		if at, ok := lastFetch(dir); ok && !at.Before(since) {
			if _, err := os.Stat(dir); err == nil {
				return c.openFetched(dir)
			}
		}
	}
	began := time.Now()
	defer func() {
		if err == nil {
			noteFetch(dir, began)
		}
	}()

	if c.Limits.FetchTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Limits.FetchTimeout)
		defer cancel()
	}
	ctx = withPolicy(ctx, c.Policy)
	ctx, spent := withBudget(ctx, c.Limits.MaxTransferBytes)
	var auth transport.AuthMethod
	if c.Credentials != nil {
		if auth, err = c.Credentials.AuthFor(ctx, u); err != nil {
			return nil, err
		}
	}
	var proxyOpts transport.ProxyOptions
	if strings.HasPrefix(u, "ssh://") {
		// Only with a deploy key and its pinned host key: go-git would
		// otherwise fall back to an ssh agent and ~/.ssh/known_hosts.
		if _, ok := auth.(*SSHKey); !ok {
			return nil, refuse("no ssh deploy key is configured for %s (an administrator sets one per host or URL prefix)", rawURL)
		}
		var forget func()
		ctx, auth = withSSHHandshake(ctx, auth.(*SSHKey), c.Limits.SSHHandshakeTimeout)
		proxyOpts.URL, forget = withSSHDialer(ctx)
		defer forget()
	}
	fetch := func(r *git.Repository) error {
		err := fetchRemote(ctx, r, auth, proxyOpts)
		if err != nil && spent.limit > 0 && spent.used.Load() > spent.limit {
			return fmt.Errorf("%w: more than %d MB transferred", ErrTooLarge, spent.limit>>20)
		}
		if hs := handshakeOf(ctx); hs != nil {
			// Stop the timer of a handshake that ended with the fetch.
			if !hs.finish(handshakeDone) && hs.expired() && err != nil {
				return fmt.Errorf("%w: no answer within %s", ErrSSHHandshake, hs.timeout)
			}
		}
		return err
	}

	if _, err := os.Stat(dir); err == nil {
		// An update of the clone killed half-way (go-git writes ref files
		// in place) leaves it unreadable, and every later fetch would fail
		// the same way: the clone is a cache, so it is made again.
		err := updateClone(dir, fetch)
		if !damagedClone(err) {
			if err != nil {
				return nil, classify(err, rawURL)
			}
			return c.reopen(dir)
		}
		if rerr := os.RemoveAll(dir); rerr != nil {
			return nil, fmt.Errorf("removing the damaged clone of %s (%v): %w", rawURL, err, rerr)
		}
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		// Clone into a temporary directory and rename it into place, so a
		// failed or killed clone leaves nothing half-made in the cache.
		tmp, err := os.MkdirTemp(c.Dir, ".clone-*")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		r, err := git.PlainInit(tmp, true)
		if err != nil {
			return nil, err
		}
		if _, err := r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{u}, Fetch: []config.RefSpec{refSpec}}); err != nil {
			return nil, err
		}
		if err := fetch(r); err != nil {
			return nil, classify(err, rawURL)
		}
		if err := os.Rename(tmp, dir); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	return c.reopen(dir)
}

// lastFetch is when the last successful fetch into the clone at dir began
// (recorded beside it, so every process sharing the cache sees it).
func lastFetch(dir string) (time.Time, bool) {
	b, err := os.ReadFile(dir + ".fetched")
	if err != nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
	return t, err == nil
}

// noteFetch records that a successful fetch into the clone at dir began at
// began. Written in place under the clone's lock; a torn file reads as no
// record, which only costs a fetch.
func noteFetch(dir string, began time.Time) {
	_ = os.WriteFile(dir+".fetched", []byte(began.UTC().Format(time.RFC3339Nano)+"\n"), 0o600)
}

// openFetched opens the clone at dir without fetching: the open Repo
// with its cached trees if there is one.
func (c *Cache) openFetched(dir string) (*Repo, error) {
	c.mu.Lock()
	for _, o := range c.open {
		if o.dir == dir {
			c.remember(dir, o.repo)
			c.mu.Unlock()
			return o.repo, nil
		}
	}
	c.mu.Unlock()
	return c.reopen(dir)
}

// updateClone fetches into the existing clone at dir.
func updateClone(dir string, fetch func(*git.Repository) error) error {
	r, err := git.PlainOpen(dir)
	if err != nil {
		return fmt.Errorf("opening the cached clone: %w", err)
	}
	return fetch(r)
}

// damagedClone reports whether err says the clone's own files are broken
// (as a process killed while writing them leaves them), not the remote.
func damagedClone(err error) bool {
	return errors.Is(err, dotgit.ErrEmptyRefFile) || errors.Is(err, dotgit.ErrPackedRefsBadFormat) ||
		errors.Is(err, dotgit.ErrPackedRefsDuplicatedRef) || errors.Is(err, git.ErrRepositoryNotExists)
}

// reopen opens the clone at dir after a fetch: go-git reads the pack list
// when a repository is opened, and the fetch may have added a pack.
func (c *Cache) reopen(dir string) (*Repo, error) {
	repo, err := Open(dir, c.Limits)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if old := c.remember(dir, repo); old != nil {
		repo.trees = old.keepTrees()
	}
	c.mu.Unlock()
	return repo, nil
}

func fetchRemote(ctx context.Context, r *git.Repository, auth transport.AuthMethod, proxyOpts transport.ProxyOptions) error {
	err := r.FetchContext(ctx, &git.FetchOptions{
		Auth:         auth,
		ProxyOptions: proxyOpts,
		RemoteName:   "origin",
		RefSpecs:     []config.RefSpec{refSpec},
		Tags:         git.NoTags,
		Force:        true,
		Prune:        true,
	})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}

// Permanent errors are not worth retrying: the repository is gone, private,
// refused by policy, too big, or lacks what was asked for.
type Permanent struct{ Err error }

func (p *Permanent) Error() string { return p.Err.Error() }
func (p *Permanent) Unwrap() error { return p.Err }

// ErrRepoNotFound is matched (errors.Is) by a fetch error saying that the
// repository does not exist at its URL, or is private: a layer whose
// repository is gone.
var ErrRepoNotFound = errors.New("repository not found")

// notFound marks a fetch error as ErrRepoNotFound, keeping its message.
type notFound struct{ error }

func (e notFound) Unwrap() error        { return e.error }
func (e notFound) Is(target error) bool { return target == ErrRepoNotFound }

// IsPermanent reports whether err will not go away by retrying.
func IsPermanent(err error) bool {
	var p *Permanent
	return errors.As(err, &p) || errors.Is(err, ErrURLRefused) || errors.Is(err, ErrTooLarge)
}

// classify turns go-git's fetch errors into readable ones, marking those
// that retrying cannot fix.
func classify(err error, url string) error {
	switch {
	case errors.Is(err, ErrURLRefused), errors.Is(err, ErrTooLarge):
		return err
	case errors.Is(err, ErrHostKeyMismatch):
		return &Permanent{fmt.Errorf("fetching %s: %w", url, err)}
	case errors.Is(err, transport.ErrRepositoryNotFound), errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed):
		return &Permanent{notFound{fmt.Errorf("repository %s not found (or it is private)", url)}}
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return &Permanent{fmt.Errorf("repository %s is empty", url)}
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("fetching %s timed out: %w", url, err)
	}
	if strings.Contains(err.Error(), "ssh: unable to authenticate") {
		return &Permanent{fmt.Errorf("repository %s refused the deploy key (it is not authorised for it)", url)}
	}
	if strings.Contains(err.Error(), "does not appear to be a git repository") || strings.Contains(err.Error(), "No such file or directory") {
		return &Permanent{notFound{fmt.Errorf("repository %s not found: %v", url, firstLine(err.Error()))}}
	}
	return fmt.Errorf("fetching %s: %w", url, err)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// ErrBranchNotFound is wrapped when a branch does not exist.
var ErrBranchNotFound = errors.New("branch not found")

// BranchRef is the local reference of a mirrored branch.
func BranchRef(name string) plumbing.ReferenceName { return plumbing.NewBranchReferenceName(name) }

// Cached opens the existing clone of rawURL without fetching, or fetches it
// when there is none yet. Dependency layers are read this way: at the
// commit that was indexed, which the clone already holds.
func (c *Cache) Cached(ctx context.Context, rawURL string) (*Repo, error) {
	u, err := c.Policy.CheckURL(rawURL)
	if err != nil {
		return nil, err
	}
	dir := c.pathFor(u)
	c.mu.Lock()
	for _, o := range c.open {
		if o.dir == dir {
			c.remember(dir, o.repo)
			c.mu.Unlock()
			return o.repo, nil
		}
	}
	c.mu.Unlock()
	if _, err := os.Stat(dir); err == nil {
		repo, err := Open(dir, c.Limits)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.remember(dir, repo)
		c.mu.Unlock()
		return repo, nil
	}
	return c.Fetch(ctx, rawURL)
}

// Package ingest updates the index of one layer branch: it fetches the
// layer's repository, resolves its dependencies on the same release branch,
// parses what changed since the last successful run with the static parser,
// and replaces the stored index in one transaction, writing a readable log.
// Nothing from a repository is ever executed.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"layerindex/internal/bitbake"
	"layerindex/internal/db"
	"layerindex/internal/gitrepo"
	"layerindex/internal/isolate"
	"layerindex/internal/store"
)

// ParserVersion names the parser's output format and semantics; a change
// forces a full re-parse of every layer branch on its next update.
const ParserVersion = "bitbake-static-" + bitbake.Version

// Indexer updates layer branches.
type Indexer struct {
	db    *gorm.DB
	store *store.Store
	repos *gitrepo.Cache
	log   *slog.Logger
	// Jobs bounds parallel recipe parsing (0: GOMAXPROCS).
	Jobs int
	// Isolation, if set, runs the parser in a child process under these
	// limits (see isolated.go); the program must call isolate.Child
	// first in main. Nil parses in this process.
	Isolation *isolate.Limits
}

// New returns an Indexer writing to db and fetching through repos.
func New(db *gorm.DB, repos *gitrepo.Cache, log *slog.Logger) *Indexer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Indexer{db: db, store: store.New(db), repos: repos, log: log}
}

// Request asks for one layer branch to be updated.
type Request struct {
	LayerBranchID int64
	// Force re-parses everything even if nothing changed.
	Force bool
	// FetchedSince, if set, lets the update use the repository as a fetch
	// begun at or after it left it (gitrepo.Cache.FetchSince): when the
	// update was requested, so that the runs of one request share a fetch.
	FetchedSince time.Time
	// Sink receives each log line as it is written (when Log is nil).
	Sink func(line string)
	// Log, if set, is the run's log to write to (internal/catalog keeps
	// one log across a run's attempts); nil starts a new one.
	Log *Log
	// Commit, if set, is called inside the transaction that stores a new
	// index, after it is written: the caller records the run's outcome
	// there, so a run is shown succeeded exactly when its index is stored.
	// An error rolls the index back.
	Commit func(ctx context.Context, tx *store.Store, res *Result) error
}

// Result is the outcome of an update.
type Result struct {
	Status    string // store.UpdateSucceeded, UpdateUnchanged, UpdateFailed or UpdateCancelled
	BeforeRev string // the revision the layer branch was indexed at before
	AfterRev  string // the revision fetched (empty if the fetch failed)
	Stats     store.IndexStats
	Log       string
}

// Permanent marks failures that retrying cannot fix (a missing branch, a
// broken layer.conf, an unresolvable dependency); jobs cancel instead of
// retrying them.
type Permanent struct{ Err error }

func (p *Permanent) Error() string { return p.Err.Error() }
func (p *Permanent) Unwrap() error { return p.Err }

// IsPermanent reports whether err will not go away by retrying.
func IsPermanent(err error) bool {
	var p *Permanent
	return errors.As(err, &p) || gitrepo.IsPermanent(err)
}

func permanent(format string, a ...any) error { return &Permanent{fmt.Errorf(format, a...)} }

// ErrStale is returned when the layer branch was indexed by someone else
// while this update ran: its plan was built on a state that is gone, so
// nothing is stored.
var ErrStale = errors.New("the layer branch was indexed by another update meanwhile; nothing was stored")

// UpdateLayerBranch brings one layer branch's index up to date. It records
// nothing about the run itself (internal/catalog owns runs); it writes the
// new index, the layer branch's indexed state and its dependencies in one
// transaction, conditional on the layer branch still being at the revision
// it started from. On failure the previous index is left untouched.
func (ix *Indexer) UpdateLayerBranch(ctx context.Context, req Request) (*Result, error) {
	log := req.Log
	if log == nil {
		log = NewLog(req.Sink)
	}
	res := &Result{Status: store.UpdateFailed}
	lb, err := ix.store.LayerBranchByID(ctx, req.LayerBranchID)
	if err != nil {
		err = permanent("layer branch %d: %w", req.LayerBranchID, err)
		log.error("%v", err)
		res.Log = log.String()
		return res, err
	}
	res.BeforeRev = lb.VCSLastRev
	log.info("updating layer %s on branch %s (git branch %s, subdirectory %q)", lb.Layer.Name, lb.Branch.Name, lb.GitBranch(), lb.VCSSubdir)

	u := &update{ix: ix, lb: lb, req: req, log: log, res: res}
	runErr := u.run(ctx)
	res.Stats = u.stats
	if u.committed {
		return res, nil // the log was completed inside the transaction
	}
	switch {
	case runErr == nil && u.skipped:
		res.Status = store.UpdateUnchanged
	case runErr == nil:
		res.Status = store.UpdateSucceeded
	case errors.Is(runErr, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		log.error("cancelled: the update was stopped before it finished; the previous index is unchanged")
		res.Status = store.UpdateCancelled
	default:
		log.error("%v", runErr)
	}
	log.info("finished in %s", log.Elapsed().Round(time.Millisecond))
	res.Log = log.String()
	return res, runErr
}

// update is the state of one run.
type update struct {
	ix  *Indexer
	lb  *store.LayerBranch
	req Request
	log *Log
	res *Result

	skipped   bool
	committed bool // the index transaction completed the log and committed
	stats     store.IndexStats
}

func (u *update) run(ctx context.Context) error {
	lb, log := u.lb, u.log
	repo, err := u.ix.repos.FetchSince(ctx, lb.Layer.VCSURL, u.req.FetchedSince)
	if err != nil {
		return err
	}
	head, err := repo.Branch(lb.GitBranch())
	if err != nil && !u.req.FetchedSince.IsZero() {
		// A shared fetch may predate the branch: only a fetch of its own
		// can say it does not exist.
		if repo, err = u.ix.repos.Fetch(ctx, lb.Layer.VCSURL); err != nil {
			return err
		}
		head, err = repo.Branch(lb.GitBranch())
	}
	if err != nil {
		return permanent("branch %q does not exist in %s", lb.GitBranch(), lb.Layer.VCSURL)
	}
	u.res.AfterRev = head.Hash
	log.info("fetched %s: %s is at %s (%s)", lb.Layer.VCSURL, lb.GitBranch(), head.Hash[:12], head.Time.UTC().Format(time.RFC3339))
	headTree, err := repo.TreeHash(head.Hash, lb.VCSSubdir)
	if err != nil {
		headTree = "" // the full path below reports a missing subdirectory
	}
	if headTree != "" && u.quickUnchanged(ctx, repo, headTree) {
		return nil
	}

	tree, err := repo.Tree(head.Hash, lb.VCSSubdir)
	if err != nil {
		return err
	}
	for _, s := range tree.Skipped {
		if err := tree.Refused(s); err != nil {
			log.warn("%s: %v", path.Join(lb.VCSSubdir, s), err)
			continue
		}
		log.warn("%s: symbolic link or submodule ignored", path.Join(lb.VCSSubdir, s))
	}
	facts, err := u.ix.readFacts(ctx, log, layerDirName(lb), repo, head.Hash, lb.VCSSubdir, tree)
	var killed *isolate.Killed
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &killed):
		return fmt.Errorf("conf/layer.conf: %w", err) // permanent, with the reason
	default:
		return permanent("conf/layer.conf: %v", err)
	}
	makeStorable(facts)
	if facts.Collection == "" {
		for _, d := range facts.Diags {
			log.warn("%s", d)
		}
		return permanent("conf/layer.conf does not set BBFILE_COLLECTIONS")
	}
	logFacts(log, facts)
	stored := storedFacts(facts, headTree)

	deps, depRows, err := u.dependencies(ctx, facts, facts.Collection == "core" || bitbake.IsCoreLayer(tree), false)
	if err != nil {
		return err
	}
	oldSyntax := OldOverrideSyntax(lb.Branch)
	digest := configDigest(deps, oldSyntax)

	// Unchanged since the last successful run: nothing to parse.
	unchangedTree := false
	if lb.VCSLastRev != "" && repo.HasCommit(lb.VCSLastRev) {
		oldHash, err1 := repo.TreeHash(lb.VCSLastRev, lb.VCSSubdir)
		newHash, err2 := repo.TreeHash(head.Hash, lb.VCSSubdir)
		unchangedTree = err1 == nil && err2 == nil && oldHash == newHash
	}
	sameConfig := lb.ParserVersion == ParserVersion && lb.ConfigDigest == digest
	if !u.req.Force && unchangedTree && sameConfig {
		log.info("already up to date: layer contents, dependencies and parser unchanged since %s", short(lb.VCSLastRev))
		u.skipped = true
		// Layer branches indexed before release compatibility was stored
		// get it here, without a re-parse.
		if err := u.ix.store.SetLayerConfInfo(ctx, lb.ID, layerConfInfo(facts, stored)); err != nil {
			return fmt.Errorf("storing LAYERSERIES_COMPAT: %w", err)
		}
		return nil
	}

	files, err := bitbake.WalkLayer(tree)
	if err != nil {
		return err
	}
	pl, err := u.plan(ctx, repo, head.Hash, files, sameConfig && !u.req.Force)
	if err != nil {
		return err
	}

	began := time.Now()
	cfgDiags, parsed, cfgErr, err := u.parseLayer(ctx, repo, head.Hash, tree, deps, oldSyntax, pl.parse)
	if err != nil {
		return err
	}
	if cfgErr != nil {
		return permanent("configuration: %v", cfgErr)
	}
	for _, d := range cfgDiags {
		log.warn("configuration: %s", d)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	log.info("parsed %d recipe(s) in %s", len(pl.parse), time.Since(began).Round(time.Millisecond))

	ch := &store.IndexChange{Full: pl.full, Deletes: pl.deletes, Renames: pl.renames}
	patches := patchIndex(files)
	skipped, uncertain := 0, 0
	for i, r := range parsed {
		if r == nil {
			continue
		}
		for _, d := range r.Diags {
			log.warn("%s", d)
		}
		if r.Skipped {
			skipped++
		}
		if r.Uncertain() {
			uncertain++
		}
		// A recipe can be uncertain for its parse errors alone, which the
		// diagnostics above already report: the Python warning is only
		// for Python that was not evaluated.
		if n := r.PythonFailed + len(r.Failed); n > 0 {
			log.warn("%s: %d Python expression(s) could not be evaluated statically; some values may differ from BitBake's%s",
				pl.parse[i], n, firstFailed(r.Failed))
		}
		ch.Upserts = append(ch.Upserts, recipeData(r, lb.VCSSubdir, patches))
	}
	if skipped > 0 {
		log.info("%d recipe(s) would be skipped by BitBake in this configuration (their reasons are on the recipe pages)", skipped)
	}
	ch.Machines, ch.Distros, ch.Classes, ch.Appends, ch.IncFiles = layerContents(files)

	makeStorable(&ch)
	makeStorable(&depRows)
	// One transaction: the new index, the layer branch's state, its
	// dependencies and the log become visible together or not at all.
	err = u.ix.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		st := store.Tx(tx)
		stats, err := st.ApplyIndex(ctx, lb.ID, ch)
		if db.DataRejected(err) {
			// The same layer content would be refused again.
			return &Permanent{Err: fmt.Errorf("storing the index: %w", err)}
		} else if err != nil {
			return fmt.Errorf("storing the index: %w", err)
		}
		u.stats = stats
		if err := st.SetDependencies(ctx, lb.ID, depRows); err != nil {
			return err
		}
		err = st.SetIndexedStateFrom(ctx, lb.ID, lb.VCSLastRev, store.IndexedState{Collection: facts.Collection, Version: facts.Version,
			Rev: head.Hash, CommitTime: head.Time, ParserVersion: ParserVersion, ConfigDigest: digest,
			LayerConf: layerConfInfo(facts, stored)})
		if errors.Is(err, store.ErrStale) {
			return ErrStale
		} else if err != nil {
			return err
		}
		log.info("recipes: %d added, %d changed, %d removed, %d unchanged; %d machine(s), %d distro(s), %d class(es), %d bbappend(s), %d inc file(s)",
			stats.Added, stats.Changed, stats.Removed, stats.Unchanged, len(ch.Machines), len(ch.Distros), len(ch.Classes), len(ch.Appends), len(ch.IncFiles))
		log.info("finished in %s", log.Elapsed().Round(time.Millisecond))
		u.res.Status, u.res.Stats, u.res.Log = store.UpdateSucceeded, stats, log.String()
		if u.req.Commit != nil {
			return u.req.Commit(ctx, st, u.res)
		}
		return nil
	})
	u.committed = err == nil
	return err
}

// layerConfInfo is what the index keeps of layer.conf beyond the
// collection and version.
func layerConfInfo(f *bitbake.LayerFacts, stored string) store.LayerConfInfo {
	names := func(ds []bitbake.Dependency) []string {
		var out []string
		for _, d := range ds {
			if d.Name != f.Collection {
				out = append(out, d.Name)
			}
		}
		return out
	}
	return store.LayerConfInfo{SeriesCompat: f.SeriesCompat, CoreNames: f.CoreNames,
		Depends: names(f.Depends), Recommends: names(f.Recommends), Facts: stored}
}

func depList(ds []bitbake.Dependency) string {
	var parts []string
	for _, d := range ds {
		s := d.Name
		if len(d.Constraints) > 0 {
			s += " (" + strings.Join(d.Constraints, ", ") + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func firstFailed(failed []string) string {
	if len(failed) == 0 {
		return ""
	}
	f := failed[0]
	if len(f) > 120 {
		f = f[:120] + "…"
	}
	return ", e.g. " + strconv.Quote(f)
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// layerDirName names the layer's directory for the parser (its messages and
// virtual paths): the subdirectory's base name, or the layer's name.
func layerDirName(lb *store.LayerBranch) string {
	if lb.VCSSubdir != "" {
		return path.Base(strings.Trim(lb.VCSSubdir, "/"))
	}
	return lb.Layer.Name
}

// OldOverrideSyntax tells whether a branch's BitBake uses the old
// VAR_append/VAR_override syntax (BitBake <= 1.50, Yocto releases up to
// hardknott) rather than the ":" syntax.
func OldOverrideSyntax(b *store.Branch) bool {
	if b == nil {
		return false
	}
	if v := strings.TrimPrefix(b.BitbakeBranch, "origin/"); v != "" {
		parts := strings.SplitN(v, ".", 3)
		if len(parts) >= 2 {
			major, err1 := strconv.Atoi(parts[0])
			minor, err2 := strconv.Atoi(parts[1])
			if err1 == nil && err2 == nil {
				return major < 1 || (major == 1 && minor <= 50)
			}
		}
	}
	switch strings.ToLower(b.Name) {
	case "hardknott", "gatesgarth", "dunfell", "zeus", "warrior", "thud", "sumo", "rocko", "pyro", "morty",
		"krogoth", "jethro", "fido", "dizzy", "daisy", "dora", "dylan", "danny":
		return true
	}
	return false
}

// configDigest identifies what the configuration of a parse is built from:
// the parser version, the syntax, and the exact trees of the dependency
// layers. When it changes every recipe must be re-parsed.
func configDigest(deps []depLayer, oldSyntax bool) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%v\n", ParserVersion, oldSyntax)
	keys := make([]string, len(deps))
	for i, d := range deps {
		keys[i] = d.collection + " " + d.treeHash
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintln(h, k)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// UpdateAll updates several layer branches one after another. A layer whose
// required dependency is not indexed yet is tried again after the others,
// so adding a set of layers at once (a fresh site, a mirror) indexes each on
// top of its dependencies whatever the order given. done is called after
// every attempt that is final (success or failure); it returns how many
// updates failed.
func (ix *Indexer) UpdateAll(ctx context.Context, reqs []Request, done func(Request, *Result, error)) int {
	failed := 0
	for pending := reqs; len(pending) > 0; {
		var later []Request
		for _, req := range pending {
			res, err := ix.UpdateLayerBranch(ctx, req)
			if ctx.Err() != nil {
				return failed + 1
			}
			if errors.Is(err, ErrMissingDependency) && len(pending) > 1 {
				later = append(later, req)
				continue
			}
			if err != nil {
				failed++
			}
			if done != nil {
				done(req, res, err)
			}
		}
		if len(later) == len(pending) {
			// No progress: the dependencies are really missing. One more
			// attempt each records why.
			for _, req := range later {
				res, err := ix.UpdateLayerBranch(ctx, req)
				failed++
				if done != nil {
					done(req, res, err)
				}
			}
			break
		}
		pending = later
	}
	return failed
}

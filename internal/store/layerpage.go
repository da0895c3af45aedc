package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// The layer pages (the layer list and a layer's page) and the recipe page
// are read on every page-cache miss, so their queries skip GORM (its
// statement building and callbacks cost more than the small queries
// themselves) and scan their columns by position instead of by reflection.
// On SQLite each query text is also prepared once (stmtCache): compiling the
// SQL was a third of a layer page's CPU, and the driver keeps a prepared
// statement compiled on each connection. pgx already caches each
// connection's statements by text on PostgreSQL.

// pageRows runs one of the pages' read queries, written with ? for each
// argument (dollarPlaceholders numbers them for PostgreSQL). Inside a
// transaction (Tx) it runs through GORM.
func (s *Store) pageRows(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	sqlDB, ok := s.db.Statement.ConnPool.(*sql.DB)
	if !ok {
		return s.with(ctx).Raw(query, args...).Rows()
	}
	if s.db.Dialector.Name() == "postgres" {
		return sqlDB.QueryContext(ctx, dollarPlaceholders(query), args...)
	}
	if st := s.stmts.get(ctx, sqlDB, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return sqlDB.QueryContext(ctx, query, args...)
}

// pageRow is pageRows for a query of one row, scanned into dest; no row is
// sql.ErrNoRows.
func (s *Store) pageRow(ctx context.Context, query string, args []any, dest ...any) error {
	rows, err := s.pageRows(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

// maxCachedStmts bounds stmtCache: the pages' query texts are a few dozen
// (a handful per page, times the layer list's filter and sort variants),
// and past the bound a query simply runs unprepared.
const maxCachedStmts = 128

// stmtCache holds the prepared statements of the pages' queries on SQLite,
// by query text, for the life of the Store. A *sql.Stmt prepares itself
// again on each connection of the pool that runs it, so a connection opened
// later is no trouble, and SQLite recompiles a statement by itself when the
// schema changes under it.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// get returns query's prepared statement, preparing it on first use; nil
// when the cache is full or preparing failed (the query then runs
// unprepared and reports its own error).
func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	st, ok := c.m[query]
	full := len(c.m) >= maxCachedStmts
	c.mu.Unlock()
	if ok || full {
		return st
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[query]; ok { // prepared meanwhile by another request
		st.Close()
		return prev
	}
	if c.m == nil {
		c.m = make(map[string]*sql.Stmt)
	}
	c.m[query] = st
	return st
}

// scanAll runs a page query and scans each row with scan.
func scanAll[T any](ctx context.Context, s *Store, out *[]T, scan func(*sql.Rows, *T) error, query string, args ...any) error {
	rows, err := s.pageRows(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var t T
		if err := scan(rows, &t); err != nil {
			return err
		}
		*out = append(*out, t)
	}
	return rows.Err()
}

// publishedIn is publishedStatuses as an SQL list, so the pages' queries
// bind no list.
const publishedIn = `('` + StatusPublished + `', '` + StatusNoUpdate + `')`

// layerColumns are the columns of a Layer in the order scanLayer reads
// them, prefixed by the alias l.
const layerColumns = `l.id, l.name, l.status, l.layer_type, l.summary, l.description, l.vcs_url, l.vcs_web_url,
  l.vcs_web_tree_base_url, l.vcs_web_file_base_url, l.vcs_web_commit_url, l.usage_url, l.mailing_list_url,
  l.index_preference, l.comparison, l.master_for_compatible, l.submitted_by_id, l.validation_status,
  l.validation_log, l.validated_at, l.created_at, l.updated_at`

func layerDest(l *Layer) []any {
	return []any{&l.ID, &l.Name, &l.Status, &l.LayerType, &l.Summary, &l.Description, &l.VCSURL, &l.VCSWebURL,
		&l.VCSWebTreeBaseURL, &l.VCSWebFileBaseURL, &l.VCSWebCommitURL, &l.UsageURL, &l.MailingListURL,
		&l.IndexPreference, &l.Comparison, &l.MasterForCompatible, &l.SubmittedByID, &l.ValidationStatus,
		&l.ValidationLog, &l.ValidatedAt, &l.CreatedAt, &l.UpdatedAt}
}

// layerBranchColumns are the columns of a LayerBranch (alias lb) in the
// order nullLayerBranch reads them.
const layerBranchColumns = `lb.id, lb.layer_id, lb.branch_id, lb.collection, lb.version, lb.vcs_subdir, lb.actual_branch,
  lb.local_path, lb.updates_enabled, lb.yp_compatible_version_id, lb.vcs_last_fetch, lb.vcs_last_rev,
  lb.vcs_last_commit, lb.parser_version, lb.config_digest, lb.updated_at, lb.series_compat, lb.series_corenames,
  lb.declared_depends, lb.declared_recommends, lb.follows_master, lb.layer_facts`

// nullLayerBranch receives a LayerBranch from an outer join, where every
// column may be NULL.
type nullLayerBranch struct {
	ID, LayerID, BranchID, YPID                                                sql.NullInt64
	Collection, Version, Subdir, ActualBranch, LocalPath, LastRev              sql.NullString
	ParserVersion, ConfigDigest, Compat, Corenames, Depends, Recommends, Facts sql.NullString
	UpdatesEnabled, FollowsMaster                                              sql.NullBool
	LastFetch, LastCommit, UpdatedAt                                           sql.NullTime
}

func (n *nullLayerBranch) dest() []any {
	return []any{&n.ID, &n.LayerID, &n.BranchID, &n.Collection, &n.Version, &n.Subdir, &n.ActualBranch,
		&n.LocalPath, &n.UpdatesEnabled, &n.YPID, &n.LastFetch, &n.LastRev,
		&n.LastCommit, &n.ParserVersion, &n.ConfigDigest, &n.UpdatedAt, &n.Compat, &n.Corenames,
		&n.Depends, &n.Recommends, &n.FollowsMaster, &n.Facts}
}

func (n *nullLayerBranch) layerBranch() *LayerBranch {
	if !n.ID.Valid {
		return nil
	}
	lb := &LayerBranch{ID: n.ID.Int64, LayerID: n.LayerID.Int64, BranchID: n.BranchID.Int64,
		Collection: n.Collection.String, Version: n.Version.String, VCSSubdir: n.Subdir.String,
		ActualBranch: n.ActualBranch.String, LocalPath: n.LocalPath.String, UpdatesEnabled: n.UpdatesEnabled.Bool,
		VCSLastRev: n.LastRev.String, ParserVersion: n.ParserVersion.String, ConfigDigest: n.ConfigDigest.String,
		UpdatedAt: n.UpdatedAt.Time, SeriesCompat: n.Compat.String, SeriesCorenames: n.Corenames.String,
		DeclaredDepends: n.Depends.String, DeclaredRecommends: n.Recommends.String, FollowsMaster: n.FollowsMaster.Bool,
		LayerFacts: n.Facts.String}
	if n.YPID.Valid {
		lb.YPCompatibleVersionID = &n.YPID.Int64
	}
	if n.LastFetch.Valid {
		lb.VCSLastFetch = &n.LastFetch.Time
	}
	if n.LastCommit.Valid {
		lb.VCSLastCommit = &n.LastCommit.Time
	}
	return lb
}

// layerHeadQuery reads, in one statement, the published layer, its layer
// branch on the branch (NULLs when it is not on it), whether that is
// stale, its Yocto Project compatibility and how much each tab holds.
const layerHeadQuery = `SELECT ` + layerColumns + `, ` + layerBranchColumns + `,
  ` + staleExpr + `, yp.id, yp.name, yp.description, yp.image_url, yp.link_url,
  CASE WHEN lb.id IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM recipes WHERE layer_branch_id = lb.id) END,
  CASE WHEN lb.id IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM machines WHERE layer_branch_id = lb.id) END,
  CASE WHEN lb.id IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM distros WHERE layer_branch_id = lb.id) END,
  CASE WHEN lb.id IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM bbclasses WHERE layer_branch_id = lb.id) END,
  CASE WHEN lb.id IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM bbappends WHERE layer_branch_id = lb.id) END,
  CASE WHEN lb.id IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM layer_updates u WHERE u.layer_id = l.id AND u.branch_id = lb.branch_id) END
FROM layers l
LEFT JOIN layer_branches lb ON lb.layer_id = l.id AND lb.branch_id = ?
LEFT JOIN layer_branch_alerts a ON a.layer_branch_id = lb.id
LEFT JOIN yp_compatible_versions yp ON yp.id = lb.yp_compatible_version_id
WHERE l.name = ? AND l.status IN ` + publishedIn + ` AND NOT l.comparison`

// LayerOverview loads a published layer's page on a branch: one statement
// for the layer, its layer branch and the tab counts, and one each for
// what is listed beside (notes, maintainers, dependencies; the branches
// the layer is on only when it is not on this one, the only time the page
// shows them).
func (s *Store) LayerOverview(ctx context.Context, name string, branch *Branch, staleCutoff time.Time) (*LayerOverview, error) {
	l := &Layer{}
	var nlb nullLayerBranch
	var stale sql.NullBool
	var yp struct {
		ID                                sql.NullInt64
		Name, Description, Image, LinkURL sql.NullString
	}
	o := &LayerOverview{Layer: l}
	dest := append(layerDest(l), nlb.dest()...)
	dest = append(dest, &stale, &yp.ID, &yp.Name, &yp.Description, &yp.Image, &yp.LinkURL,
		&o.Counts.Recipes, &o.Counts.Machines, &o.Counts.Distros, &o.Counts.Classes, &o.Counts.Appends, &o.Counts.Updates)
	rows, err := s.pageRows(ctx, layerHeadQuery, staleCutoff.UTC(), branch.ID, name)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", name, err)
	}
	found := rows.Next()
	if found {
		err = rows.Scan(dest...)
	}
	if cerr := rows.Close(); err == nil {
		err = cmpErr(rows.Err(), cerr)
	}
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", name, err)
	} else if !found {
		return nil, ErrNotFound
	}
	if err := scanAll(ctx, s, &o.Notes, func(r *sql.Rows, n *LayerNote) error {
		return r.Scan(&n.ID, &n.LayerID, &n.Text, &n.CreatedAt, &n.UpdatedAt)
	}, `SELECT id, layer_id, text, created_at, updated_at FROM layer_notes WHERE layer_id = ? ORDER BY id`, l.ID); err != nil {
		return nil, fmt.Errorf("notes of layer %s: %w", name, err)
	}
	lb := nlb.layerBranch()
	if lb == nil {
		o.Counts = LayerCounts{}
		err := scanAll(ctx, s, &o.Branches, func(r *sql.Rows, b *Branch) error {
			return r.Scan(&b.ID, &b.Name, &b.BitbakeBranch, &b.ShortDescription, &b.SortPriority, &b.UpdatesEnabled,
				&b.Comparison, &b.Hidden, &b.UpdatedAt)
		}, `SELECT b.id, b.name, b.bitbake_branch, b.short_description, b.sort_priority, b.updates_enabled,
  b.comparison, b.hidden, b.updated_at
FROM branches b JOIN layer_branches lb ON lb.branch_id = b.id
WHERE lb.layer_id = ? AND NOT b.hidden AND NOT b.comparison
ORDER BY b.sort_priority IS NULL, b.sort_priority, b.name`, l.ID)
		if err != nil {
			return nil, fmt.Errorf("branches of layer %s: %w", name, err)
		}
		return o, nil
	}
	o.Stale = stale.Bool
	lb.Layer, lb.Branch = l, branch
	o.LayerBranch = lb
	if yp.ID.Valid {
		o.YP = &YPCompatibleVersion{ID: yp.ID.Int64, Name: yp.Name.String, Description: yp.Description.String,
			ImageURL: yp.Image.String, LinkURL: yp.LinkURL.String}
	}
	if err := scanAll(ctx, s, &o.Maintainers, func(r *sql.Rows, m *LayerMaintainer) error {
		return r.Scan(&m.ID, &m.LayerBranchID, &m.Name, &m.Email, &m.Responsibility, &m.Status)
	}, `SELECT id, layer_branch_id, name, email, responsibility, status FROM layer_maintainers
WHERE layer_branch_id = ? AND status = 'A' ORDER BY id`, lb.ID); err != nil {
		return nil, fmt.Errorf("maintainers of layer %s: %w", name, err)
	}
	if err := scanAll(ctx, s, &o.Deps, func(r *sql.Rows, d *LayerDep) error {
		return r.Scan(&d.Name, &d.Summary, &d.Required, &d.VersionConstraint, &d.OnBranch)
	}, `SELECT l.name, l.summary, d.required, d.version_constraint,
       EXISTS (SELECT 1 FROM layer_branches x WHERE x.layer_id = l.id AND x.branch_id = ?) AS on_branch
FROM layer_dependencies d JOIN layers l ON l.id = d.dependency_id
WHERE d.layer_branch_id = ? AND l.status IN `+publishedIn+`
ORDER BY d.required DESC, l.name`, branch.ID, lb.ID); err != nil {
		return nil, fmt.Errorf("dependencies of layer %s: %w", name, err)
	}
	return o, nil
}

// cmpErr is the first non-nil error.
func cmpErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
)

// The API's large flat lists (a branch's recipes: 3,500 rows on the real
// master branch, 45,000 at the size of the public index) are read with one
// query whose rows are handed over one at a time as the database returns
// them: no list of ids, no lookups by chunk, nothing kept but the row being
// written. The query's connection is held while the response is written;
// the server's write timeout bounds how long a stalled client can hold it.
//
// On PostgreSQL the query runs on the pgx connection itself rather than
// through database/sql, whose driver interface makes a new string of every
// text value of every row (most of the dump's cost): text columns are read
// as views of the driver's buffer (see pgText).

// apiEach runs q on model with one query selecting cols and calls fn with
// each row, scanned into the same *T through the pointers fields returns
// (fn must not keep the row or its strings: they change with the next), in
// the order the rows are served. An error from fn stops the iteration and
// is returned as it is. Mistakes in q are *APIQueryError, returned before
// the query runs.
func apiEach[T any](ctx context.Context, s *Store, model string, q *APIQuery, cols string,
	fields func(*T) []any, fn func(*T) error) error {
	query, args, err := s.apiSelect(model, q, cols)
	if err != nil {
		return err
	}
	return eachRow(ctx, s, query, args, fields, fn)
}

// eachRow runs query (built by apiSelect) and calls fn with each row as
// apiEach does.
func eachRow[T any](ctx context.Context, s *Store, query string, args []any, fields func(*T) []any, fn func(*T) error) error {
	var x T
	targets := fields(&x)
	if sqlDB, err := s.db.DB(); err == nil && s.db.Dialector.Name() == "postgres" {
		byID := strings.HasSuffix(query, " ORDER BY t0.id")
		return eachPG(ctx, sqlDB, s.verdicts, query, args, targets, byID, func() error { return fn(&x) })
	}
	rows, err := s.with(ctx).Raw(query, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(targets...); err != nil {
			return err
		}
		if err := fn(&x); err != nil {
			return err
		}
	}
	return rows.Err()
}

// eachPG runs query (with ? placeholders) on a pgx connection of db,
// scanning each row into targets before calling row. A *string target
// receives a view of the driver's buffer, valid until the next row. byID
// says the query is ordered by the primary key of its table t0 alone (see
// sortsTable, whose verdicts are kept in verdicts; nil keeps none).
func eachPG(ctx context.Context, db *sql.DB, verdicts *verdictCache, query string, args []any, targets []any, byID bool, row func() error) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	scan := make([]any, len(targets))
	var texts []pgText
	for i, t := range targets {
		if p, ok := t.(*string); ok {
			texts = append(texts, pgText{dst: p})
		} else {
			scan[i] = t
		}
	}
	for i, j := 0, 0; i < len(targets); i++ {
		if scan[i] == nil {
			scan[i] = &texts[j].raw
			j++
		}
	}
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection: %T", dc)
		}
		pc := c.Conn()
		stmt := dollarPlaceholders(query)
		if byID && verdicts.sortsTable(ctx, pc, stmt, args) {
			// In a transaction of its own, so the setting ends with it
			// whatever happens; a connection left in one is closed (the
			// pool then drops it).
			if err := pc.PgConn().Exec(ctx, "BEGIN READ ONLY; SET LOCAL enable_sort = off").Close(); err != nil {
				pc.Close(context.WithoutCancel(ctx))
				return err
			}
			defer func() {
				if rerr := pc.PgConn().Exec(context.WithoutCancel(ctx), "ROLLBACK").Close(); rerr != nil {
					pc.Close(context.WithoutCancel(ctx))
					err = cmp.Or(err, rerr)
				}
			}()
			// A text of its own: pgx prepares statements, and after five
			// runs PostgreSQL keeps a generic plan per statement, which a
			// setting changed later does not replan.
			stmt = noSortMark + stmt
		}
		rows, err := pc.Query(ctx, stmt, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(scan...); err != nil {
				return err
			}
			for i := range texts {
				texts[i].set()
			}
			if err := row(); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// noSortMark starts the text of a query run without sorts.
const noSortMark = "/* enable_sort off */ "

// sortRowsMin is the number of rows from which a sort of whole rows is
// worth avoiding (see sortsTable).
var sortRowsMin = 1000

// sortsTable reports whether PostgreSQL plans to read all of table t0 and
// sort at least sortRowsMin of its rows by id: a branch's recipe dump. Its
// planner costs a sort by its comparisons, not by the rows it copies, and
// picks a sequential scan and a sort of the full rows over a scan of the
// primary key, which reads the same rows already in order: the sort was
// 70–80% of the dump's execution time in the database (9–15 ms of 11–17 ms
// for the corpus's 3,451 master recipes, 2 KB each, under load), and the
// database's CPU bounded the dump's rate. A plan that reaches t0 through
// another index (a selective filter) is left as it is: without its sort it
// would scan the whole table. The check costs a plan (under a millisecond)
// before each streamed list whose order is by id alone.
func sortsTable(ctx context.Context, c *pgx.Conn, query string, args []any) bool {
	var raw []byte
	if err := c.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&raw); err != nil {
		return false // the query itself reports what is wrong
	}
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if json.Unmarshal(raw, &plans) != nil || len(plans) != 1 {
		return false
	}
	top := plans[0].Plan
	return top.NodeType == "Sort" && top.Rows >= float64(sortRowsMin) && top.scans("t0")
}

// verdictCache keeps sortsTable's verdicts by statement and arguments for
// verdictTTL. The plan a verdict reads changes with the table's statistics
// (an ANALYZE, a branch indexed for the first time), not from one request
// to the next, and asking for it each time cost the database a planning of
// the query: for a list of the public index's 400 layers as much as
// serving the list itself. A stale verdict costs
// speed, never correctness: the query's ORDER BY holds either way.
type verdictCache struct {
	mu     sync.Mutex
	m      map[string]verdict
	checks int // verdicts asked of the database (tests)
}

type verdict struct {
	sorts bool
	at    time.Time
}

const (
	verdictTTL  = time.Minute
	maxVerdicts = 1024 // past it the kept verdicts start again
)

// sortsTable is sortsTable's verdict on query with args, from c when it
// holds a recent one.
func (c *verdictCache) sortsTable(ctx context.Context, conn *pgx.Conn, query string, args []any) bool {
	if c == nil {
		return sortsTable(ctx, conn, query, args)
	}
	var k strings.Builder
	k.WriteString(query)
	for _, a := range args {
		fmt.Fprintf(&k, "\x00%#v", a)
	}
	key := k.String()
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if ok && time.Since(v.at) < verdictTTL {
		return v.sorts
	}
	sorts := sortsTable(ctx, conn, query, args)
	if ctx.Err() != nil {
		return sorts // a verdict of a cancelled request is no verdict
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checks++
	if c.m == nil || len(c.m) >= maxVerdicts {
		c.m = make(map[string]verdict)
	}
	c.m[key] = verdict{sorts, time.Now()}
	return sorts
}

// planNode is what sortsTable reads of a node of EXPLAIN (FORMAT JSON).
type planNode struct {
	NodeType string     `json:"Node Type"`
	Alias    string     `json:"Alias"`
	Rows     float64    `json:"Plan Rows"`
	Plans    []planNode `json:"Plans"`
}

// scans reports whether the plan reads the table aliased alias with a
// sequential scan.
func (n *planNode) scans(alias string) bool {
	if n.NodeType == "Seq Scan" && n.Alias == alias {
		return true
	}
	for i := range n.Plans {
		if n.Plans[i].scans(alias) {
			return true
		}
	}
	return false
}

// pgText reads a text column without a copy: raw refers to the driver's
// buffer for the current row only, and set makes *dst a string over it.
// The API encodes the row at once and keeps nothing of it.
type pgText struct {
	raw pgtype.DriverBytes
	dst *string
}

func (t *pgText) set() {
	if len(t.raw) == 0 {
		*t.dst = ""
		return
	}
	*t.dst = unsafe.String(unsafe.SliceData(t.raw), len(t.raw))
}

// dollarPlaceholders numbers the ? placeholders of query ($1, $2, …) as
// PostgreSQL wants them; a ? inside a quoted literal or identifier is
// left alone.
func dollarPlaceholders(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// qualify prefixes each column of a comma-separated list with the alias
// t0 of apiSelect's main table (filters add subqueries with their own).
func qualify(cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = "t0." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

var (
	branchCols = qualify(`id, name, bitbake_branch, short_description, sort_priority, updates_enabled,
		comparison, hidden, updated_at`)
	layerCols = qualify(`id, name, status, layer_type, summary, description, vcs_url, vcs_web_url,
		vcs_web_tree_base_url, vcs_web_file_base_url, vcs_web_commit_url, usage_url, mailing_list_url,
		index_preference, comparison, updated_at, master_for_compatible`)
	layerBranchCols = qualify(`id, layer_id, branch_id, collection, version, vcs_subdir, actual_branch,
		local_path, updates_enabled, yp_compatible_version_id, vcs_last_fetch, vcs_last_rev, vcs_last_commit,
		updated_at, series_compat, series_corenames, follows_master`)
	layerDependencyCols = qualify(`id, layer_branch_id, dependency_id, required`)
	layerMaintainerCols = qualify(`id, layer_branch_id, name, email, responsibility, status`)
	layerNoteCols       = qualify(`id, layer_id, text`)
	recipeStreamCols    = qualify(recipeColumns)
	machineCols         = qualify(`id, layer_branch_id, name, description, updated_at`)
	bbclassCols         = qualify(`id, layer_branch_id, name, bbclass_type`)
	bbappendCols        = qualify(`id, layer_branch_id, filename, filepath`)
	incFileCols         = qualify(`id, layer_branch_id, path`)
)

func branchFields(b *Branch) []any {
	return []any{&b.ID, &b.Name, &b.BitbakeBranch, &b.ShortDescription, &b.SortPriority, &b.UpdatesEnabled,
		&b.Comparison, &b.Hidden, &b.UpdatedAt}
}

func scanBranch(r *sql.Rows, b *Branch) error { return r.Scan(branchFields(b)...) }

func layerFields(l *Layer) []any {
	return []any{&l.ID, &l.Name, &l.Status, &l.LayerType, &l.Summary, &l.Description, &l.VCSURL, &l.VCSWebURL,
		&l.VCSWebTreeBaseURL, &l.VCSWebFileBaseURL, &l.VCSWebCommitURL, &l.UsageURL, &l.MailingListURL,
		&l.IndexPreference, &l.Comparison, &l.UpdatedAt, &l.MasterForCompatible}
}

func scanLayer(r *sql.Rows, l *Layer) error { return r.Scan(layerFields(l)...) }

func layerBranchFields(lb *LayerBranch) []any {
	return []any{&lb.ID, &lb.LayerID, &lb.BranchID, &lb.Collection, &lb.Version, &lb.VCSSubdir, &lb.ActualBranch,
		&lb.LocalPath, &lb.UpdatesEnabled, &lb.YPCompatibleVersionID, &lb.VCSLastFetch, &lb.VCSLastRev,
		&lb.VCSLastCommit, &lb.UpdatedAt, &lb.SeriesCompat, &lb.SeriesCorenames, &lb.FollowsMaster}
}

func scanLayerBranch(r *sql.Rows, lb *LayerBranch) error { return r.Scan(layerBranchFields(lb)...) }

func layerDependencyFields(d *LayerDependency) []any {
	return []any{&d.ID, &d.LayerBranchID, &d.DependencyID, &d.Required}
}

func scanLayerDependency(r *sql.Rows, d *LayerDependency) error {
	return r.Scan(layerDependencyFields(d)...)
}

func layerMaintainerFields(m *LayerMaintainer) []any {
	return []any{&m.ID, &m.LayerBranchID, &m.Name, &m.Email, &m.Responsibility, &m.Status}
}

func scanLayerMaintainer(r *sql.Rows, m *LayerMaintainer) error {
	return r.Scan(layerMaintainerFields(m)...)
}

func layerNoteFields(n *LayerNote) []any {
	return []any{&n.ID, &n.LayerID, &n.Text}
}

func scanLayerNote(r *sql.Rows, n *LayerNote) error { return r.Scan(layerNoteFields(n)...) }

func machineFields(m *Machine) []any {
	return []any{&m.ID, &m.LayerBranchID, &m.Name, &m.Description, &m.UpdatedAt}
}

func recipeFields(x *Recipe) []any {
	return []any{&x.ID, &x.LayerBranchID, &x.Filename, &x.Filepath, &x.PN, &x.PV, &x.PR, &x.PE, &x.Summary,
		&x.Description, &x.Section, &x.License, &x.Homepage, &x.Bugtracker, &x.Provides, &x.BBClassExtend,
		&x.Inherits, &x.Blacklisted, &x.ConfigOpts, &x.SrcRev, &x.UpdatedAt}
}

func scanMachine(r *sql.Rows, m *Machine) error { return r.Scan(machineFields(m)...) }

func distroFields(m *Distro) []any {
	return []any{&m.ID, &m.LayerBranchID, &m.Name, &m.Description, &m.UpdatedAt}
}

func scanDistro(r *sql.Rows, m *Distro) error { return r.Scan(distroFields(m)...) }

func bbclassFields(c *BBClass) []any {
	return []any{&c.ID, &c.LayerBranchID, &c.Name, &c.BBClassType}
}

func scanBBClass(r *sql.Rows, c *BBClass) error { return r.Scan(bbclassFields(c)...) }

func bbappendFields(a *BBAppend) []any {
	return []any{&a.ID, &a.LayerBranchID, &a.Filename, &a.Filepath}
}

func scanBBAppend(r *sql.Rows, a *BBAppend) error { return r.Scan(bbappendFields(a)...) }

func incFileFields(f *IncFile) []any {
	return []any{&f.ID, &f.LayerBranchID, &f.Path}
}

func scanIncFile(r *sql.Rows, f *IncFile) error { return r.Scan(incFileFields(f)...) }

// APIEachBranch calls fn with each branch q selects (see apiEach).
func (s *Store) APIEachBranch(ctx context.Context, q *APIQuery, fn func(*Branch) error) error {
	return apiEach(ctx, s, "Branch", q, branchCols, branchFields, fn)
}

// APIEachLayer calls fn with each layer q selects (see apiEach).
func (s *Store) APIEachLayer(ctx context.Context, q *APIQuery, fn func(*Layer) error) error {
	return apiEach(ctx, s, "LayerItem", q, layerCols, layerFields, fn)
}

// APIEachLayerBranch calls fn with each layer branch q selects, without
// Layer and Branch (see apiEach).
func (s *Store) APIEachLayerBranch(ctx context.Context, q *APIQuery, fn func(*LayerBranch) error) error {
	return apiEach(ctx, s, "LayerBranch", q, layerBranchCols, layerBranchFields, fn)
}

// APIEachLayerDependency calls fn with each layer dependency q selects.
func (s *Store) APIEachLayerDependency(ctx context.Context, q *APIQuery, fn func(*LayerDependency) error) error {
	return apiEach(ctx, s, "LayerDependency", q, layerDependencyCols, layerDependencyFields, fn)
}

// APIEachLayerMaintainer calls fn with each layer maintainer q selects.
func (s *Store) APIEachLayerMaintainer(ctx context.Context, q *APIQuery, fn func(*LayerMaintainer) error) error {
	return apiEach(ctx, s, "LayerMaintainer", q, layerMaintainerCols, layerMaintainerFields, fn)
}

// APIEachLayerNote calls fn with each layer note q selects.
func (s *Store) APIEachLayerNote(ctx context.Context, q *APIQuery, fn func(*LayerNote) error) error {
	return apiEach(ctx, s, "LayerNote", q, layerNoteCols, layerNoteFields, fn)
}

// APIEachMachine calls fn with each machine q selects.
func (s *Store) APIEachMachine(ctx context.Context, q *APIQuery, fn func(*Machine) error) error {
	return apiEach(ctx, s, "Machine", q, machineCols, machineFields, fn)
}

// APIEachDistro calls fn with each distro q selects.
func (s *Store) APIEachDistro(ctx context.Context, q *APIQuery, fn func(*Distro) error) error {
	return apiEach(ctx, s, "Distro", q, machineCols, distroFields, fn)
}

// APIEachClass calls fn with each class q selects.
func (s *Store) APIEachClass(ctx context.Context, q *APIQuery, fn func(*BBClass) error) error {
	return apiEach(ctx, s, "BBClass", q, bbclassCols, bbclassFields, fn)
}

// APIEachAppend calls fn with each bbappend q selects.
func (s *Store) APIEachAppend(ctx context.Context, q *APIQuery, fn func(*BBAppend) error) error {
	return apiEach(ctx, s, "BBAppend", q, bbappendCols, bbappendFields, fn)
}

// APIEachIncFile calls fn with each inc file q selects.
func (s *Store) APIEachIncFile(ctx context.Context, q *APIQuery, fn func(*IncFile) error) error {
	return apiEach(ctx, s, "IncFile", q, incFileCols, incFileFields, fn)
}

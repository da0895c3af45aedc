package store

import (
	"context"
	"database/sql"
	"strings"
)

// The API's large flat lists (a branch's recipes: 3,500 rows on the real
// master branch, 45,000 at the size of the public index) are read with one
// query whose rows are handed over one at a time as the database returns
// them: no list of ids, no lookups by chunk, nothing kept but the row being
// written. The query's connection is held while the response is written;
// the server's write timeout bounds how long a stalled client can hold it.

// apiEach runs q on model with one query selecting cols and calls fn with
// each row, scanned into the same *T (fn must not keep it), in the order
// the rows are served. An error from fn stops the iteration and is
// returned as it is. Mistakes in q are *APIQueryError, returned before the
// query runs.
func apiEach[T any](ctx context.Context, s *Store, model string, q *APIQuery, cols string,
	scan func(*sql.Rows, *T) error, fn func(*T) error) error {
	query, args, err := s.apiSelect(model, q, cols)
	if err != nil {
		return err
	}
	rows, err := s.with(ctx).Raw(query, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	var x T
	for rows.Next() {
		if err := scan(rows, &x); err != nil {
			return err
		}
		if err := fn(&x); err != nil {
			return err
		}
	}
	return rows.Err()
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

func scanBranch(r *sql.Rows, b *Branch) error {
	return r.Scan(&b.ID, &b.Name, &b.BitbakeBranch, &b.ShortDescription, &b.SortPriority, &b.UpdatesEnabled,
		&b.Comparison, &b.Hidden, &b.UpdatedAt)
}

func scanLayer(r *sql.Rows, l *Layer) error {
	return r.Scan(&l.ID, &l.Name, &l.Status, &l.LayerType, &l.Summary, &l.Description, &l.VCSURL, &l.VCSWebURL,
		&l.VCSWebTreeBaseURL, &l.VCSWebFileBaseURL, &l.VCSWebCommitURL, &l.UsageURL, &l.MailingListURL,
		&l.IndexPreference, &l.Comparison, &l.UpdatedAt, &l.MasterForCompatible)
}

func scanLayerBranch(r *sql.Rows, lb *LayerBranch) error {
	return r.Scan(&lb.ID, &lb.LayerID, &lb.BranchID, &lb.Collection, &lb.Version, &lb.VCSSubdir, &lb.ActualBranch,
		&lb.LocalPath, &lb.UpdatesEnabled, &lb.YPCompatibleVersionID, &lb.VCSLastFetch, &lb.VCSLastRev,
		&lb.VCSLastCommit, &lb.UpdatedAt, &lb.SeriesCompat, &lb.SeriesCorenames, &lb.FollowsMaster)
}

func scanLayerDependency(r *sql.Rows, d *LayerDependency) error {
	return r.Scan(&d.ID, &d.LayerBranchID, &d.DependencyID, &d.Required)
}

func scanLayerMaintainer(r *sql.Rows, m *LayerMaintainer) error {
	return r.Scan(&m.ID, &m.LayerBranchID, &m.Name, &m.Email, &m.Responsibility, &m.Status)
}

func scanLayerNote(r *sql.Rows, n *LayerNote) error { return r.Scan(&n.ID, &n.LayerID, &n.Text) }

func scanMachine(r *sql.Rows, m *Machine) error {
	return r.Scan(&m.ID, &m.LayerBranchID, &m.Name, &m.Description, &m.UpdatedAt)
}

func scanDistro(r *sql.Rows, m *Distro) error {
	return r.Scan(&m.ID, &m.LayerBranchID, &m.Name, &m.Description, &m.UpdatedAt)
}

func scanBBClass(r *sql.Rows, c *BBClass) error {
	return r.Scan(&c.ID, &c.LayerBranchID, &c.Name, &c.BBClassType)
}

func scanBBAppend(r *sql.Rows, a *BBAppend) error {
	return r.Scan(&a.ID, &a.LayerBranchID, &a.Filename, &a.Filepath)
}

func scanIncFile(r *sql.Rows, f *IncFile) error { return r.Scan(&f.ID, &f.LayerBranchID, &f.Path) }

// APIEachBranch calls fn with each branch q selects (see apiEach).
func (s *Store) APIEachBranch(ctx context.Context, q *APIQuery, fn func(*Branch) error) error {
	return apiEach(ctx, s, "Branch", q, branchCols, scanBranch, fn)
}

// APIEachLayer calls fn with each layer q selects (see apiEach).
func (s *Store) APIEachLayer(ctx context.Context, q *APIQuery, fn func(*Layer) error) error {
	return apiEach(ctx, s, "LayerItem", q, layerCols, scanLayer, fn)
}

// APIEachLayerBranch calls fn with each layer branch q selects, without
// Layer and Branch (see apiEach).
func (s *Store) APIEachLayerBranch(ctx context.Context, q *APIQuery, fn func(*LayerBranch) error) error {
	return apiEach(ctx, s, "LayerBranch", q, layerBranchCols, scanLayerBranch, fn)
}

// APIEachLayerDependency calls fn with each layer dependency q selects.
func (s *Store) APIEachLayerDependency(ctx context.Context, q *APIQuery, fn func(*LayerDependency) error) error {
	return apiEach(ctx, s, "LayerDependency", q, layerDependencyCols, scanLayerDependency, fn)
}

// APIEachLayerMaintainer calls fn with each layer maintainer q selects.
func (s *Store) APIEachLayerMaintainer(ctx context.Context, q *APIQuery, fn func(*LayerMaintainer) error) error {
	return apiEach(ctx, s, "LayerMaintainer", q, layerMaintainerCols, scanLayerMaintainer, fn)
}

// APIEachLayerNote calls fn with each layer note q selects.
func (s *Store) APIEachLayerNote(ctx context.Context, q *APIQuery, fn func(*LayerNote) error) error {
	return apiEach(ctx, s, "LayerNote", q, layerNoteCols, scanLayerNote, fn)
}

// APIEachRecipe calls fn with each recipe q selects (see apiEach).
func (s *Store) APIEachRecipe(ctx context.Context, q *APIQuery, fn func(*Recipe) error) error {
	return apiEach(ctx, s, "Recipe", q, recipeStreamCols, scanRecipe, fn)
}

// APIEachMachine calls fn with each machine q selects.
func (s *Store) APIEachMachine(ctx context.Context, q *APIQuery, fn func(*Machine) error) error {
	return apiEach(ctx, s, "Machine", q, machineCols, scanMachine, fn)
}

// APIEachDistro calls fn with each distro q selects.
func (s *Store) APIEachDistro(ctx context.Context, q *APIQuery, fn func(*Distro) error) error {
	return apiEach(ctx, s, "Distro", q, machineCols, scanDistro, fn)
}

// APIEachClass calls fn with each class q selects.
func (s *Store) APIEachClass(ctx context.Context, q *APIQuery, fn func(*BBClass) error) error {
	return apiEach(ctx, s, "BBClass", q, bbclassCols, scanBBClass, fn)
}

// APIEachAppend calls fn with each bbappend q selects.
func (s *Store) APIEachAppend(ctx context.Context, q *APIQuery, fn func(*BBAppend) error) error {
	return apiEach(ctx, s, "BBAppend", q, bbappendCols, scanBBAppend, fn)
}

// APIEachIncFile calls fn with each inc file q selects.
func (s *Store) APIEachIncFile(ctx context.Context, q *APIQuery, fn func(*IncFile) error) error {
	return apiEach(ctx, s, "IncFile", q, incFileCols, scanIncFile, fn)
}

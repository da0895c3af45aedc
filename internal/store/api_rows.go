package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The API streams a list by first selecting the matching ids
// (APIMatchIDs) and then reading rows a chunk of ids at a time with the
// functions below. Each call is one short query: no database connection is
// held while a response is written to a slow client, and memory stays
// bounded by the chunk, whatever the size of the list.

// inIDs is a condition "IN ids" with the ids bound as one parameter (an
// array on PostgreSQL, a JSON array on SQLite): binding hundreds of
// separate parameters costs more than the query itself.
func (s *Store) inIDs(ids []int64) (cond string, arg string) {
	b := make([]byte, 0, 8*len(ids)+2)
	pg := s.db.Dialector.Name() == "postgres"
	if pg {
		b = append(b, '{')
	} else {
		b = append(b, '[')
	}
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	if pg {
		return "= ANY(CAST(? AS bigint[]))", string(append(b, '}'))
	}
	return "IN (SELECT value FROM json_each(?))", string(append(b, ']'))
}

// fetchByIDs runs query, whose "%s" is completed with a condition on the
// ids, and returns the scanned rows in the order of ids; ids whose rows
// vanished meanwhile are skipped.
func fetchByIDs[T any](ctx context.Context, s *Store, query string, ids []int64, id func(*T) int64, scan func(*sql.Rows, *T) error) ([]T, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cond, arg := s.inIDs(ids)
	rows, err := s.with(ctx).Raw(fmt.Sprintf(query, cond), arg).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	got := make(map[int64]T, len(ids))
	for rows.Next() {
		var t T
		if err := scan(rows, &t); err != nil {
			return nil, err
		}
		got[id(&t)] = t
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]T, 0, len(got))
	for _, i := range ids {
		if t, ok := got[i]; ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// APIBranches reads branches by id.
func (s *Store) APIBranches(ctx context.Context, ids []int64) ([]Branch, error) {
	return fetchByIDs(ctx, s, `SELECT id, name, bitbake_branch, short_description, sort_priority, updates_enabled,
		comparison, hidden, updated_at FROM branches WHERE id %s`, ids, func(b *Branch) int64 { return b.ID }, scanBranch)
}

// APILayers reads layers by id.
func (s *Store) APILayers(ctx context.Context, ids []int64) ([]Layer, error) {
	return fetchByIDs(ctx, s, `SELECT id, name, status, layer_type, summary, description, vcs_url, vcs_web_url,
		vcs_web_tree_base_url, vcs_web_file_base_url, vcs_web_commit_url, usage_url, mailing_list_url,
		index_preference, comparison, updated_at, master_for_compatible FROM layers WHERE id %s`, ids, func(l *Layer) int64 { return l.ID }, scanLayer)
}

// APILayerBranches reads layer branches by id (without Layer and Branch).
func (s *Store) APILayerBranches(ctx context.Context, ids []int64) ([]LayerBranch, error) {
	return fetchByIDs(ctx, s, `SELECT id, layer_id, branch_id, collection, version, vcs_subdir, actual_branch,
		local_path, updates_enabled, yp_compatible_version_id, vcs_last_fetch, vcs_last_rev, vcs_last_commit,
		updated_at, series_compat, series_corenames, follows_master FROM layer_branches WHERE id %s`, ids, func(lb *LayerBranch) int64 { return lb.ID }, scanLayerBranch)
}

// APILayerDependencies reads layer dependencies by id.
func (s *Store) APILayerDependencies(ctx context.Context, ids []int64) ([]LayerDependency, error) {
	return fetchByIDs(ctx, s, `SELECT id, layer_branch_id, dependency_id, required FROM layer_dependencies WHERE id %s`,
		ids, func(d *LayerDependency) int64 { return d.ID }, scanLayerDependency)
}

// APILayerMaintainers reads layer maintainers by id.
func (s *Store) APILayerMaintainers(ctx context.Context, ids []int64) ([]LayerMaintainer, error) {
	return fetchByIDs(ctx, s, `SELECT id, layer_branch_id, name, email, responsibility, status FROM layer_maintainers WHERE id %s`,
		ids, func(m *LayerMaintainer) int64 { return m.ID }, scanLayerMaintainer)
}

// APILayerNotes reads layer notes by id.
func (s *Store) APILayerNotes(ctx context.Context, ids []int64) ([]LayerNote, error) {
	return fetchByIDs(ctx, s, `SELECT id, layer_id, text FROM layer_notes WHERE id %s`,
		ids, func(n *LayerNote) int64 { return n.ID }, scanLayerNote)
}

const recipeColumns = `id, layer_branch_id, filename, filepath, pn, pv, pr, pe, summary, description, section,
	license, homepage, bugtracker, provides, bbclassextend, inherits, blacklisted, configopts, srcrev, updated_at`

func scanRecipe(r *sql.Rows, x *Recipe) error { return r.Scan(recipeFields(x)...) }

// APIRecipes reads recipes by id.
func (s *Store) APIRecipes(ctx context.Context, ids []int64) ([]Recipe, error) {
	return fetchByIDs(ctx, s, `SELECT `+recipeColumns+` FROM recipes WHERE id %s`, ids,
		func(x *Recipe) int64 { return x.ID }, scanRecipe)
}

// RecipeExtended is a recipe with its child rows, for recipesExtended.
type RecipeExtended struct {
	Recipe
	Sources        []RecipeSource
	Patches        []RecipePatch
	PackageConfigs []RecipePackageConfig
	BuildDeps      []string
	FileDeps       []RecipeFileDep
}

// APIRecipesExtended reads recipes by id with their sources, patches,
// PACKAGECONFIGs, build dependencies and file dependencies.
func (s *Store) APIRecipesExtended(ctx context.Context, ids []int64) ([]RecipeExtended, error) {
	rs, err := s.APIRecipes(ctx, ids)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	out := make([]RecipeExtended, len(rs))
	byID := make(map[int64]*RecipeExtended, len(rs))
	for i := range rs {
		out[i].Recipe = rs[i]
		byID[rs[i].ID] = &out[i]
	}
	db := s.with(ctx)
	in, arg := s.inIDs(ids)
	in = "recipe_id " + in
	var sources []RecipeSource
	if err := db.Where(in, arg).Order("id").Find(&sources).Error; err != nil {
		return nil, err
	}
	for _, x := range sources {
		if r := byID[x.RecipeID]; r != nil {
			r.Sources = append(r.Sources, x)
		}
	}
	var patches []RecipePatch
	if err := db.Where(in, arg).Order("apply_order IS NULL, apply_order, id").Find(&patches).Error; err != nil {
		return nil, err
	}
	for _, x := range patches {
		if r := byID[x.RecipeID]; r != nil {
			r.Patches = append(r.Patches, x)
		}
	}
	var pcs []RecipePackageConfig
	if err := db.Where(in, arg).Order("id").Find(&pcs).Error; err != nil {
		return nil, err
	}
	for _, x := range pcs {
		if r := byID[x.RecipeID]; r != nil {
			r.PackageConfigs = append(r.PackageConfigs, x)
		}
	}
	var deps []RecipeBuildDep
	if err := db.Where(in, arg).Order("id").Find(&deps).Error; err != nil {
		return nil, err
	}
	for _, x := range deps {
		if r := byID[x.RecipeID]; r != nil {
			r.BuildDeps = append(r.BuildDeps, x.Name)
		}
	}
	var fds []RecipeFileDep
	if err := db.Where(in, arg).Order("id").Find(&fds).Error; err != nil {
		return nil, err
	}
	for _, x := range fds {
		if r := byID[x.RecipeID]; r != nil {
			r.FileDeps = append(r.FileDeps, x)
		}
	}
	return out, nil
}

// APIMachines reads machines by id.
func (s *Store) APIMachines(ctx context.Context, ids []int64) ([]Machine, error) {
	return fetchByIDs(ctx, s, `SELECT id, layer_branch_id, name, description, updated_at FROM machines WHERE id %s`,
		ids, func(m *Machine) int64 { return m.ID }, scanMachine)
}

// APIDistros reads distros by id.
func (s *Store) APIDistros(ctx context.Context, ids []int64) ([]Distro, error) {
	return fetchByIDs(ctx, s, `SELECT id, layer_branch_id, name, description, updated_at FROM distros WHERE id %s`,
		ids, func(m *Distro) int64 { return m.ID }, scanDistro)
}

// APIClasses reads classes by id.
func (s *Store) APIClasses(ctx context.Context, ids []int64) ([]BBClass, error) {
	return fetchByIDs(ctx, s, `SELECT id, layer_branch_id, name, bbclass_type FROM bbclasses WHERE id %s`,
		ids, func(c *BBClass) int64 { return c.ID }, scanBBClass)
}

// APIAppends reads bbappends by id.
func (s *Store) APIAppends(ctx context.Context, ids []int64) ([]BBAppend, error) {
	return fetchByIDs(ctx, s, `SELECT id, layer_branch_id, filename, filepath FROM bbappends WHERE id %s`,
		ids, func(a *BBAppend) int64 { return a.ID }, scanBBAppend)
}

// APIIncFiles reads inc files by id.
func (s *Store) APIIncFiles(ctx context.Context, ids []int64) ([]IncFile, error) {
	return fetchByIDs(ctx, s, `SELECT id, layer_branch_id, path FROM inc_files WHERE id %s`,
		ids, func(f *IncFile) int64 { return f.ID }, scanIncFile)
}

// LayerView is a layer branch with its layer, branch, Yocto Project
// Compatible version and active maintainers: upstream's "layers" resource.
type LayerView struct {
	LayerBranch
	Layer       Layer
	Branch      Branch
	YPVersion   *YPCompatibleVersion
	Maintainers []LayerMaintainer
}

// APILayerViews reads layer branches by id with what LayerView holds.
func (s *Store) APILayerViews(ctx context.Context, ids []int64) ([]LayerView, error) {
	lbs, err := s.APILayerBranches(ctx, ids)
	if err != nil || len(lbs) == 0 {
		return nil, err
	}
	var layerIDs, branchIDs, ypIDs []int64
	for _, lb := range lbs {
		layerIDs = append(layerIDs, lb.LayerID)
		branchIDs = append(branchIDs, lb.BranchID)
		if lb.YPCompatibleVersionID != nil {
			ypIDs = append(ypIDs, *lb.YPCompatibleVersionID)
		}
	}
	layers, err := s.APILayers(ctx, dedupe(layerIDs))
	if err != nil {
		return nil, err
	}
	branches, err := s.APIBranches(ctx, dedupe(branchIDs))
	if err != nil {
		return nil, err
	}
	var yps []YPCompatibleVersion
	if len(ypIDs) > 0 {
		in, arg := s.inIDs(dedupe(ypIDs))
		if err := s.with(ctx).Where("id "+in, arg).Find(&yps).Error; err != nil {
			return nil, err
		}
	}
	var ms []LayerMaintainer
	in, arg := s.inIDs(ids)
	if err := s.with(ctx).Where("layer_branch_id "+in+" AND status = 'A'", arg).Order("id").Find(&ms).Error; err != nil {
		return nil, err
	}
	layerBy := map[int64]Layer{}
	for _, l := range layers {
		layerBy[l.ID] = l
	}
	branchBy := map[int64]Branch{}
	for _, b := range branches {
		branchBy[b.ID] = b
	}
	ypBy := map[int64]*YPCompatibleVersion{}
	for i := range yps {
		ypBy[yps[i].ID] = &yps[i]
	}
	msBy := map[int64][]LayerMaintainer{}
	for _, m := range ms {
		msBy[m.LayerBranchID] = append(msBy[m.LayerBranchID], m)
	}
	out := make([]LayerView, len(lbs))
	for i, lb := range lbs {
		out[i] = LayerView{LayerBranch: lb, Layer: layerBy[lb.LayerID], Branch: branchBy[lb.BranchID], Maintainers: msBy[lb.ID]}
		if lb.YPCompatibleVersionID != nil {
			out[i].YPVersion = ypBy[*lb.YPCompatibleVersionID]
		}
	}
	return out, nil
}

func dedupe(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// IndexVersion is the state of the indexed data as the API reports it.
type IndexVersion struct {
	Version   int64
	ChangedAt time.Time
	// Settled is true when the last change is over two seconds old (by the
	// database's clock), so a one-second Last-Modified cannot hide a
	// second change within the same second.
	Settled bool
}

// APIIndexVersion reads the index_state row, which database triggers
// change with every commit that touches indexed data.
func (s *Store) APIIndexVersion(ctx context.Context) (IndexVersion, error) {
	var v IndexVersion
	if s.db.Dialector.Name() == "postgres" {
		err := s.with(ctx).Raw(`SELECT version, changed_at, changed_at < clock_timestamp() - interval '2 seconds'
			FROM index_state WHERE id = 1`).Row().Scan(&v.Version, &v.ChangedAt, &v.Settled)
		return v, translate(err)
	}
	// Every page-cache miss and API request asks: a prepared statement
	// (pageRows), not GORM.
	var now string
	err := s.pageRow(ctx, `SELECT version, changed_at, strftime('%Y-%m-%d %H:%M:%f', 'now') FROM index_state WHERE id = 1`,
		nil, &v.Version, &v.ChangedAt, &now)
	if err != nil {
		return v, translate(err)
	}
	if t, err := time.Parse("2006-01-02 15:04:05.000", strings.TrimSpace(now)); err == nil {
		v.Settled = v.ChangedAt.Before(t.Add(-2 * time.Second))
	}
	return v, nil
}

// APILayerSets reads layer sets by id, with the ids of their layers in
// order.
func (s *Store) APILayerSets(ctx context.Context, ids []int64) ([]LayerSet, error) {
	sets, err := fetchByIDs(ctx, s, `SELECT id, name, description, branch_id, machine, distro, recommends, updated_at
		FROM layer_sets WHERE id %s`, ids, func(ls *LayerSet) int64 { return ls.ID },
		func(r *sql.Rows, ls *LayerSet) error {
			return r.Scan(&ls.ID, &ls.Name, &ls.Description, &ls.BranchID, &ls.Machine, &ls.Distro, &ls.Recommends, &ls.UpdatedAt)
		})
	if err != nil || len(sets) == 0 {
		return sets, err
	}
	in, arg := s.inIDs(ids)
	var members []LayerSetLayer
	if err := s.with(ctx).Where("layer_set_id "+in, arg).Order("layer_set_id, position, id").Find(&members).Error; err != nil {
		return nil, err
	}
	at := map[int64]int{}
	for i := range sets {
		at[sets[i].ID] = i
		sets[i].LayerIDs = []int64{}
	}
	for _, m := range members {
		if i, ok := at[m.LayerSetID]; ok {
			sets[i].LayerIDs = append(sets[i].LayerIDs, m.LayerID)
		}
	}
	return sets, nil
}

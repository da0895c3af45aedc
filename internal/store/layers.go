package store

import (
	"context"
	"database/sql"
	"maps"
	"path"
	"strings"
	"time"

	"gorm.io/gorm"
)

// VisibleBranches lists the branches shown in menus, in display order.
func (s *Store) VisibleBranches(ctx context.Context) ([]Branch, error) {
	var bs []Branch
	err := s.with(ctx).Where("NOT hidden AND NOT comparison").
		Order("sort_priority IS NULL, sort_priority, name").Find(&bs).Error
	return bs, err
}

// PublishedLayerCount counts layers visible to the public.
func (s *Store) PublishedLayerCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.with(ctx).Model(&Layer{}).Where("status IN ?", []string{StatusPublished, StatusNoUpdate}).Count(&n).Error
	return n, err
}

// CreateBranch inserts a release branch; a taken name gives ErrConflict.
func (s *Store) CreateBranch(ctx context.Context, b *Branch) error {
	return translate(s.with(ctx).Create(b).Error)
}

// BranchByName finds a branch.
func (s *Store) BranchByName(ctx context.Context, name string) (*Branch, error) {
	var b Branch
	return &b, translate(s.with(ctx).Where("name = ?", name).Take(&b).Error)
}

// CreateLayer inserts a layer; a taken name gives ErrConflict.
func (s *Store) CreateLayer(ctx context.Context, l *Layer) error {
	return translate(s.with(ctx).Create(l).Error)
}

// LayerByName finds a layer.
func (s *Store) LayerByName(ctx context.Context, name string) (*Layer, error) {
	var l Layer
	return &l, translate(s.with(ctx).Where("name = ?", name).Take(&l).Error)
}

// CreateLayerBranch inserts a layer branch; one per layer and branch.
func (s *Store) CreateLayerBranch(ctx context.Context, lb *LayerBranch) error {
	return translate(s.with(ctx).Omit("Layer", "Branch").Create(lb).Error)
}

// LayerBranch finds the layer branch of a layer on a branch, with both.
func (s *Store) LayerBranch(ctx context.Context, layerID, branchID int64) (*LayerBranch, error) {
	return s.oneLayerBranch(ctx, `lb.layer_id = ? AND lb.branch_id = ?`, layerID, branchID)
}

// LayerBranchByID finds a layer branch with its layer and branch.
func (s *Store) LayerBranchByID(ctx context.Context, id int64) (*LayerBranch, error) {
	return s.oneLayerBranch(ctx, `lb.id = ?`, id)
}

// joinedLayerBranchQuery reads layer branches with their layer and branch
// in one statement (GORM's Preload took three: every update run and every
// dependency it resolves reads a few), scanned by position (scanJoined).
// The caller appends the WHERE clause.
const joinedLayerBranchQuery = `SELECT ` + layerBranchColumns + `, ` + layerColumns + `,
  b.id, b.name, b.bitbake_branch, b.short_description, b.sort_priority, b.updates_enabled, b.comparison, b.hidden,
  b.updated_at
FROM layer_branches lb JOIN layers l ON l.id = lb.layer_id JOIN branches b ON b.id = lb.branch_id
WHERE `

// scanJoined scans a row of joinedLayerBranchQuery.
func scanJoined(r *sql.Rows, lb *LayerBranch) error {
	var n nullLayerBranch
	l, b := &Layer{}, &Branch{}
	dest := append(n.dest(), layerDest(l)...)
	dest = append(dest, &b.ID, &b.Name, &b.BitbakeBranch, &b.ShortDescription, &b.SortPriority, &b.UpdatesEnabled,
		&b.Comparison, &b.Hidden, &b.UpdatedAt)
	if err := r.Scan(dest...); err != nil {
		return err
	}
	*lb = *n.layerBranch()
	lb.Layer, lb.Branch = l, b
	return nil
}

// oneLayerBranch is the layer branch where says (of alias lb), with its
// layer and branch; ErrNotFound when there is none.
func (s *Store) oneLayerBranch(ctx context.Context, where string, args ...any) (*LayerBranch, error) {
	var lbs []LayerBranch
	if err := scanAll(ctx, s, &lbs, scanJoined, joinedLayerBranchQuery+where, args...); err != nil {
		return nil, err
	}
	if len(lbs) == 0 {
		return nil, ErrNotFound
	}
	return &lbs[0], nil
}

// IndexedState is what an update run records on a layer branch.
type IndexedState struct {
	Collection    string
	Version       string
	Rev           string
	CommitTime    time.Time
	ParserVersion string
	ConfigDigest  string
	LayerConf     LayerConfInfo
}

// LayerConfInfo is what the index keeps of a layer.conf beyond its
// collection and version: LAYERSERIES_COMPAT, LAYERSERIES_CORENAMES and the
// collection names LAYERDEPENDS and LAYERRECOMMENDS declare.
type LayerConfInfo struct {
	SeriesCompat, CoreNames, Depends, Recommends []string
	// Facts is the layer branch's LayerFacts column: what was read from
	// conf/layer.conf, for the next update to reuse ("" when unknown).
	Facts string
}

func (i LayerConfInfo) columns() map[string]any {
	return map[string]any{
		"series_compat":       strings.Join(i.SeriesCompat, " "),
		"series_corenames":    strings.Join(i.CoreNames, " "),
		"declared_depends":    strings.Join(i.Depends, " "),
		"declared_recommends": strings.Join(i.Recommends, " "),
		"layer_facts":         i.Facts,
	}
}

// SetIndexedState records a successful index of a layer branch.
func (s *Store) SetIndexedState(ctx context.Context, lbID int64, st IndexedState) error {
	now := time.Now().UTC()
	commit := st.CommitTime.UTC()
	cols := st.LayerConf.columns()
	maps.Copy(cols, map[string]any{
		"collection":      st.Collection,
		"version":         st.Version,
		"vcs_last_rev":    st.Rev,
		"vcs_last_commit": &commit,
		"vcs_last_fetch":  &now,
		"parser_version":  st.ParserVersion,
		"config_digest":   st.ConfigDigest,
		"updated_at":      now,
	})
	return s.with(ctx).Model(&LayerBranch{}).Where("id = ?", lbID).Updates(cols).Error
}

// SetLayerConfInfo stores a layer branch's LayerConfInfo when an update
// finds its layer unchanged (layer branches indexed before these were
// stored get them without a re-parse). An equal row is not written.
func (s *Store) SetLayerConfInfo(ctx context.Context, lbID int64, info LayerConfInfo) error {
	cols := info.columns()
	return s.with(ctx).Model(&LayerBranch{}).
		Where("id = ? AND (series_compat <> ? OR series_corenames <> ? OR declared_depends <> ? OR declared_recommends <> ? OR layer_facts <> ?)", lbID,
			cols["series_compat"], cols["series_corenames"], cols["declared_depends"], cols["declared_recommends"], cols["layer_facts"]).
		Updates(cols).Error
}

// SetMaintainers replaces the maintainers of a layer branch.
func (s *Store) SetMaintainers(ctx context.Context, lbID int64, ms []LayerMaintainer) error {
	return s.with(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("layer_branch_id = ?", lbID).Delete(&LayerMaintainer{}).Error; err != nil {
			return err
		}
		for i := range ms {
			ms[i].ID, ms[i].LayerBranchID = 0, lbID
			if ms[i].Status == "" {
				ms[i].Status = "A"
			}
		}
		return createAll(tx, ms)
	})
}

// SetDependencies replaces the dependencies of a layer branch.
func (s *Store) SetDependencies(ctx context.Context, lbID int64, deps []LayerDependency) error {
	return s.with(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("layer_branch_id = ?", lbID).Delete(&LayerDependency{}).Error; err != nil {
			return err
		}
		for i := range deps {
			deps[i].ID, deps[i].LayerBranchID = 0, lbID
		}
		return createAll(tx, deps)
	})
}

// LayerBranchesOnBranch lists the layer branches of published layers on a
// branch whose collection or layer name is name, with their layers and
// branch, the layer of highest index preference first (then by name): how
// an update resolves a LAYERDEPENDS entry.
//
// The two matches are two indexed lookups (layer_branches by collection,
// layers by their unique name then the layer branch by layer and branch)
// joined by UNION: an OR across the two tables is served by no index, and
// the refresh resolves every dependency of every layer branch this way.
func (s *Store) LayerBranchesOnBranch(ctx context.Context, branchID int64, name string) ([]LayerBranch, error) {
	var lbs []LayerBranch
	err := scanAll(ctx, s, &lbs, scanJoined, joinedLayerBranchQuery+`lb.id IN (
    SELECT x.id FROM layer_branches x WHERE x.collection = ? AND x.branch_id = ?
    UNION ALL
    SELECT x.id FROM layers y JOIN layer_branches x ON x.layer_id = y.id WHERE y.name = ? AND x.branch_id = ?)
  AND l.status IN `+publishedIn+`
ORDER BY l.index_preference DESC, l.name`, name, branchID, name, branchID)
	return lbs, err
}

// Dependencies lists a layer branch's dependency rows.
func (s *Store) Dependencies(ctx context.Context, lbID int64) ([]LayerDependency, error) {
	var deps []LayerDependency
	err := s.with(ctx).Where("layer_branch_id = ?", lbID).Order("id").Find(&deps).Error
	return deps, err
}

// RecipesUsingFiles returns the layer-relative paths of a layer branch's
// recipes that read any of the given repository-relative files: as file
// dependencies (BitBake's, probed paths included), or from Python (a file
// read or tested, or a directory listed, that is the file or one of its
// directories).
func (s *Store) RecipesUsingFiles(ctx context.Context, lbID int64, paths []string) ([]string, error) {
	var rs []Recipe
	if len(paths) == 0 {
		return nil, nil
	}
	reads := map[string]bool{}
	for _, p := range paths {
		reads[p] = true
		for d := path.Dir(p); d != "." && d != "/" && d != ""; d = path.Dir(d) {
			reads[d], reads[d+"/"] = true, true
		}
	}
	readPaths := make([]string, 0, len(reads))
	for p := range reads {
		readPaths = append(readPaths, p)
	}
	err := s.with(ctx).Where("id IN (?) OR id IN (?)",
		s.db.Model(&RecipeFileDep{}).Select("recipe_id").Where("layer_branch_id = ? AND path IN ?", lbID, paths),
		s.db.Model(&RecipeReadDep{}).Select("recipe_id").Where("layer_branch_id = ? AND path IN ?", lbID, readPaths)).
		Find(&rs).Error
	out := make([]string, len(rs))
	for i := range rs {
		out[i] = rs[i].Path()
	}
	return out, err
}

// RecipePaths lists the layer-relative paths of a layer branch's recipes.
func (s *Store) RecipePaths(ctx context.Context, lbID int64) ([]string, error) {
	var rs []Recipe
	err := s.with(ctx).Select("filepath", "filename").Where("layer_branch_id = ?", lbID).Find(&rs).Error
	out := make([]string, len(rs))
	for i := range rs {
		out[i] = rs[i].Path()
	}
	return out, err
}

// LayerByID finds a layer.
func (s *Store) LayerByID(ctx context.Context, id int64) (*Layer, error) {
	var l Layer
	return &l, translate(s.with(ctx).Where("id = ?", id).Take(&l).Error)
}

// UpdatableBranches lists the branches whose layers are kept up to date.
func (s *Store) UpdatableBranches(ctx context.Context) ([]Branch, error) {
	var bs []Branch
	err := s.with(ctx).Where("updates_enabled AND NOT comparison").Order("sort_priority IS NULL, sort_priority, name").Find(&bs).Error
	return bs, err
}

// LayerBranchesOfLayer lists a layer's layer branches with their branches.
func (s *Store) LayerBranchesOfLayer(ctx context.Context, layerID int64) ([]LayerBranch, error) {
	var lbs []LayerBranch
	err := s.with(ctx).Preload("Layer").Preload("Branch").Where("layer_id = ?", layerID).Order("id").Find(&lbs).Error
	return lbs, err
}

// CopyLayerBranch creates the layer branch of from's layer on another
// branch, with from's subdirectory and maintainers (upstream does the same
// when it finds a new release branch in a repository).
func (s *Store) CopyLayerBranch(ctx context.Context, from *LayerBranch, branchID int64) (*LayerBranch, error) {
	lb := &LayerBranch{LayerID: from.LayerID, BranchID: branchID, VCSSubdir: from.VCSSubdir, UpdatesEnabled: true}
	err := s.with(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Omit("Layer", "Branch").Create(lb).Error; err != nil {
			return translate(err)
		}
		var ms []LayerMaintainer
		if err := tx.Where("layer_branch_id = ?", from.ID).Order("id").Find(&ms).Error; err != nil {
			return err
		}
		for i := range ms {
			ms[i].ID, ms[i].LayerBranchID = 0, lb.ID
		}
		return createAll(tx, ms)
	})
	if err != nil {
		return nil, err
	}
	return s.LayerBranchByID(ctx, lb.ID)
}

// LayersToRefresh lists the layers the periodic refresh updates: published
// ones (status X layers are published but excluded from updates).
func (s *Store) LayersToRefresh(ctx context.Context) ([]Layer, error) {
	var ls []Layer
	err := s.with(ctx).Where("status = ? AND NOT comparison", StatusPublished).Order("id").Find(&ls).Error
	return ls, err
}

// SetValidation records the result of checking a submitted layer's
// repository.
func (s *Store) SetValidation(ctx context.Context, layerID int64, status, log string) error {
	now := time.Now().UTC()
	return s.with(ctx).Model(&Layer{}).Where("id = ?", layerID).
		Updates(map[string]any{"validation_status": status, "validation_log": log, "validated_at": &now}).Error
}

// LayerBranchesToUpdate lists the layer branches an update run covers:
// those of published layers (also no-update ones when the layer is named)
// with updates enabled, on branches with updates enabled, optionally
// narrowed to one layer and one branch.
func (s *Store) LayerBranchesToUpdate(ctx context.Context, layer, branch string) ([]LayerBranch, error) {
	statuses := []string{StatusPublished}
	if layer != "" {
		statuses = append(statuses, StatusNoUpdate)
	}
	q := s.with(ctx).Preload("Layer").Preload("Branch").
		Joins("JOIN layers ON layers.id = layer_branches.layer_id").
		Joins("JOIN branches ON branches.id = layer_branches.branch_id").
		Where("layers.status IN ? AND layer_branches.updates_enabled AND branches.updates_enabled", statuses)
	if layer != "" {
		q = q.Where("layers.name = ?", layer)
	}
	if branch != "" {
		q = q.Where("branches.name = ?", branch)
	}
	var lbs []LayerBranch
	err := q.Order("branches.sort_priority, branches.name, layers.name").Find(&lbs).Error
	return lbs, err
}

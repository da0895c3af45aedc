package store

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// RecipeData is one parsed recipe with its child rows, as ingestion writes
// it. IDs inside are ignored.
type RecipeData struct {
	Recipe         Recipe
	Sources        []RecipeSource
	BuildDeps      []string
	PackageConfigs []RecipePackageConfig
	FileDeps       []string // paths relative to the repository root
	ReadDeps       []string // likewise; directories end with "/"
	Patches        []RecipePatch
}

// Path is the recipe's path relative to the layer directory.
func (r *Recipe) Path() string { return path.Join(r.Filepath, r.Filename) }

// IndexChange is a new state of a layer branch's index, relative to what is
// stored. Only what changed needs to be listed unless Full is set.
type IndexChange struct {
	// Full means Upserts is the complete recipe set: stored recipes not in
	// it are removed.
	Full bool
	// Upserts are new or re-parsed recipes, matched to stored ones by path.
	Upserts []RecipeData
	// Deletes are paths of removed recipes.
	Deletes []string
	// Renames maps old recipe paths to new ones; a renamed recipe keeps its
	// id (and is normally also in Upserts under its new path).
	Renames map[string]string
	// KeepUpdated means the recipes, machines and distros carry the date
	// they last changed elsewhere (an import from another index, whose
	// "updated" its own importers compare): it is stored as given, and a
	// different date alone counts as a change. Otherwise written rows are
	// dated now.
	KeepUpdated bool

	// The other contents are complete lists when non-nil (nil: unchanged).
	// They are matched by name or path, so unchanged rows keep their ids.
	Machines []Machine
	Distros  []Distro
	Classes  []BBClass
	Appends  []BBAppend
	IncFiles []IncFile
}

// IndexStats counts what ApplyIndex did to recipes.
type IndexStats struct {
	Added, Changed, Removed, Unchanged int
	// Events says by recipe name what was added, removed and upgraded
	// (its PV changed), for the feeds; a re-parse that keeps PV is none.
	Events []RecipeEvent
}

// ApplyIndex writes ch into the index of layer branch lbID, in one
// transaction: readers see the old index or the new one, never a mixture.
//
// Recipe ids are stable: a recipe keeps its id when re-parsed, renamed, or
// replaced by a file with the same PN in the same change (a version upgrade
// deletes foo_1.0.bb and adds foo_1.1.bb), so links to recipes survive.
func (s *Store) ApplyIndex(ctx context.Context, lbID int64, ch *IndexChange) (IndexStats, error) {
	var st IndexStats
	err := s.with(ctx).Transaction(func(tx *gorm.DB) error {
		if ch.KeepUpdated {
			// No automatic "updated_at = now" on Save.
			tx = tx.Session(&gorm.Session{SkipHooks: true})
		}
		var err error
		st, err = applyRecipes(tx, lbID, ch)
		if err != nil {
			return err
		}
		if err := refreshRecipeDump(tx, lbID, st.Added+st.Changed+st.Removed > 0); err != nil {
			return err
		}
		now := time.Now().UTC()
		dated := func(t *time.Time) {
			if !ch.KeepUpdated || t.IsZero() {
				*t = now
			}
		}
		sameDate := func(a, b time.Time) bool { return !ch.KeepUpdated || a.Equal(b) }
		if ch.Machines != nil {
			err = syncByKey(tx, lbID, ch.Machines, func(m *Machine) string { return m.Name },
				func(m *Machine) *int64 { return &m.ID }, func(m *Machine) { m.LayerBranchID = lbID; dated(&m.UpdatedAt) },
				func(a, b *Machine) bool { return a.Description == b.Description && sameDate(a.UpdatedAt, b.UpdatedAt) })
		}
		if err == nil && ch.Distros != nil {
			err = syncByKey(tx, lbID, ch.Distros, func(m *Distro) string { return m.Name },
				func(m *Distro) *int64 { return &m.ID }, func(m *Distro) { m.LayerBranchID = lbID; dated(&m.UpdatedAt) },
				func(a, b *Distro) bool { return a.Description == b.Description && sameDate(a.UpdatedAt, b.UpdatedAt) })
		}
		if err == nil && ch.Classes != nil {
			err = syncByKey(tx, lbID, ch.Classes, func(c *BBClass) string { return c.BBClassType + "/" + c.Name },
				func(c *BBClass) *int64 { return &c.ID }, func(c *BBClass) { c.LayerBranchID = lbID },
				func(a, b *BBClass) bool { return true })
		}
		if err == nil && ch.Appends != nil {
			err = syncByKey(tx, lbID, ch.Appends, func(a *BBAppend) string { return path.Join(a.Filepath, a.Filename) },
				func(a *BBAppend) *int64 { return &a.ID }, func(a *BBAppend) { a.LayerBranchID = lbID },
				func(a, b *BBAppend) bool { return true })
		}
		if err == nil && ch.IncFiles != nil {
			err = syncByKey(tx, lbID, ch.IncFiles, func(f *IncFile) string { return f.Path },
				func(f *IncFile) *int64 { return &f.ID }, func(f *IncFile) { f.LayerBranchID = lbID },
				func(a, b *IncFile) bool { return true })
		}
		return err
	})
	return st, err
}

// syncByKey makes the rows of one table for a layer branch equal to want,
// matching by key: matching rows keep their ids and are updated only when
// same says they differ; missing rows are inserted and extra ones deleted.
func syncByKey[T any](tx *gorm.DB, lbID int64, want []T, key func(*T) string, id func(*T) *int64, fill func(*T), same func(a, b *T) bool) error {
	var have []T
	if err := tx.Where("layer_branch_id = ?", lbID).Find(&have).Error; err != nil {
		return err
	}
	old := make(map[string]*T, len(have))
	for i := range have {
		old[key(&have[i])] = &have[i]
	}
	var inserts []T
	for i := range want {
		w := &want[i]
		fill(w)
		k := key(w)
		if o, ok := old[k]; ok {
			delete(old, k)
			*id(w) = *id(o)
			if !same(o, w) {
				if err := tx.Save(w).Error; err != nil {
					return err
				}
			}
			continue
		}
		*id(w) = 0
		inserts = append(inserts, *w)
	}
	if len(inserts) > 0 {
		if err := tx.CreateInBatches(inserts, 500).Error; err != nil {
			return err
		}
	}
	if len(old) > 0 {
		ids := make([]int64, 0, len(old))
		for _, o := range old {
			ids = append(ids, *id(o))
		}
		var zero T
		if err := tx.Where("id IN ?", ids).Delete(&zero).Error; err != nil {
			return err
		}
	}
	return nil
}

func applyRecipes(tx *gorm.DB, lbID int64, ch *IndexChange) (IndexStats, error) {
	var st IndexStats
	stored, err := loadRecipes(tx, lbID)
	if err != nil {
		return st, err
	}
	changed := map[int64]bool{} // a renamed and re-parsed recipe counts once
	byPath := make(map[string]*RecipeData, len(stored))
	for _, r := range stored {
		byPath[r.Recipe.Path()] = r
	}

	// Renames first: the row moves to its new path and keeps its id.
	for from, to := range ch.Renames {
		r, ok := byPath[from]
		if !ok || from == to {
			continue
		}
		if _, clash := byPath[to]; clash {
			continue // the new path is already indexed; treat as delete + update
		}
		r.Recipe.Filepath, r.Recipe.Filename = path.Dir(to), path.Base(to)
		if r.Recipe.Filepath == "." {
			r.Recipe.Filepath = ""
		}
		if err := tx.Model(&Recipe{}).Where("id = ?", r.Recipe.ID).
			Updates(map[string]any{"filepath": r.Recipe.Filepath, "filename": r.Recipe.Filename}).Error; err != nil {
			return st, err
		}
		delete(byPath, from)
		byPath[to] = r
		changed[r.Recipe.ID] = true
	}

	deleted := map[string]bool{}
	for _, p := range ch.Deletes {
		if _, ok := byPath[p]; ok {
			deleted[p] = true
		}
	}
	upserted := make(map[string]bool, len(ch.Upserts))
	for i := range ch.Upserts {
		upserted[ch.Upserts[i].Recipe.Path()] = true
	}
	if ch.Full {
		for p := range byPath {
			if !upserted[p] {
				deleted[p] = true
			}
		}
	}
	// Rows about to be deleted can be reclaimed by a new recipe of the same
	// PN (a version upgrade), keeping the recipe's id.
	reclaim := map[string][]*RecipeData{}
	for p := range deleted {
		r := byPath[p]
		reclaim[r.Recipe.PN] = append(reclaim[r.Recipe.PN], r)
	}

	now := time.Now().UTC()
	var inserts []*RecipeData
	for i := range ch.Upserts {
		u := &ch.Upserts[i]
		u.Recipe.LayerBranchID = lbID
		keepDate := ch.KeepUpdated && !u.Recipe.UpdatedAt.IsZero()
		if !keepDate {
			u.Recipe.UpdatedAt = now
		}
		p := u.Recipe.Path()
		old, exists := byPath[p]
		if !exists {
			if rs := reclaim[u.Recipe.PN]; len(rs) > 0 {
				old = rs[0]
				reclaim[u.Recipe.PN] = rs[1:]
				delete(deleted, old.Recipe.Path())
				exists = true
			}
		}
		if !exists {
			u.Recipe.ID = 0
			inserts = append(inserts, u)
			continue
		}
		u.Recipe.ID = old.Recipe.ID
		if old.Recipe.PV != u.Recipe.PV {
			id := u.Recipe.ID
			st.Events = append(st.Events, RecipeEvent{RecipeID: &id, PN: u.Recipe.PN, Kind: RecipeUpgraded,
				OldPV: old.Recipe.PV, NewPV: u.Recipe.PV})
		}
		if sameRecipe(old, u) && (!keepDate || old.Recipe.UpdatedAt.Equal(u.Recipe.UpdatedAt)) {
			if !changed[u.Recipe.ID] {
				st.Unchanged++
			}
			continue
		}
		changed[u.Recipe.ID] = true
		if err := tx.Save(&u.Recipe).Error; err != nil {
			return st, err
		}
		if err := deleteChildren(tx, []int64{u.Recipe.ID}); err != nil {
			return st, err
		}
		if err := insertChildren(tx, lbID, []*RecipeData{u}); err != nil {
			return st, err
		}
	}

	if len(deleted) > 0 {
		ids := make([]int64, 0, len(deleted))
		for p := range deleted {
			r := byPath[p].Recipe
			ids = append(ids, r.ID)
			st.Events = append(st.Events, RecipeEvent{PN: r.PN, Kind: RecipeRemoved, OldPV: r.PV})
		}
		for chunk := range slices.Chunk(ids, 500) {
			if err := tx.Where("id IN ?", chunk).Delete(&Recipe{}).Error; err != nil {
				return st, err
			}
		}
		st.Removed = len(ids)
	}

	st.Changed = len(changed)
	if len(inserts) > 0 {
		rows := make([]Recipe, len(inserts))
		for i, u := range inserts {
			rows[i] = u.Recipe
		}
		if err := tx.CreateInBatches(rows, 200).Error; err != nil {
			return st, err
		}
		for i, u := range inserts {
			u.Recipe.ID = rows[i].ID
			id := rows[i].ID
			st.Events = append(st.Events, RecipeEvent{RecipeID: &id, PN: u.Recipe.PN, Kind: RecipeAdded, NewPV: u.Recipe.PV})
		}
		if err := insertChildren(tx, lbID, inserts); err != nil {
			return st, err
		}
		st.Added = len(inserts)
	}
	// The rows written above get their API objects from what they now
	// hold, in this transaction (see recipejson.go).
	written := make([]int64, 0, len(changed)+len(inserts))
	for id := range changed {
		written = append(written, id)
	}
	for _, u := range inserts {
		written = append(written, u.Recipe.ID)
	}
	if err := refreshRecipeJSON(tx, written); err != nil {
		return st, err
	}
	return st, nil
}

// sameRecipe reports whether a re-parse produced exactly what is stored, so
// an unchanged recipe costs no writes.
func sameRecipe(old, nu *RecipeData) bool {
	a, b := old.Recipe, nu.Recipe
	a.ID, b.ID, a.UpdatedAt, b.UpdatedAt, a.LayerBranchID, b.LayerBranchID = 0, 0, time.Time{}, time.Time{}, 0, 0
	a.BranchID, b.BranchID = 0, 0
	if a != b || !slices.Equal(old.BuildDeps, nu.BuildDeps) || !slices.Equal(old.FileDeps, nu.FileDeps) ||
		!slices.Equal(old.ReadDeps, nu.ReadDeps) {
		return false
	}
	if len(old.Sources) != len(nu.Sources) || len(old.PackageConfigs) != len(nu.PackageConfigs) || len(old.Patches) != len(nu.Patches) {
		return false
	}
	for i := range old.Sources {
		if old.Sources[i].URL != nu.Sources[i].URL || old.Sources[i].SHA256Sum != nu.Sources[i].SHA256Sum {
			return false
		}
	}
	for i := range old.PackageConfigs {
		x, y := old.PackageConfigs[i], nu.PackageConfigs[i]
		x.ID, y.ID, x.RecipeID, y.RecipeID = 0, 0, 0, 0
		if x != y {
			return false
		}
	}
	for i := range old.Patches {
		x, y := old.Patches[i], nu.Patches[i]
		x.ID, y.ID, x.RecipeID, y.RecipeID = 0, 0, 0, 0
		if x.Path != y.Path || x.SrcPath != y.SrcPath || x.Status != y.Status || x.StatusExtra != y.StatusExtra ||
			x.Applied != y.Applied || x.Striplevel != y.Striplevel || !equalIntPtr(x.ApplyOrder, y.ApplyOrder) {
			return false
		}
	}
	return true
}

func equalIntPtr(a, b *int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// loadRecipes reads a layer branch's recipes and their children, in the
// order they were written (by id), so comparisons are stable.
func loadRecipes(tx *gorm.DB, lbID int64) ([]*RecipeData, error) {
	var recipes []Recipe
	if err := tx.Where("layer_branch_id = ?", lbID).Order("id").Find(&recipes).Error; err != nil {
		return nil, err
	}
	byID := make(map[int64]*RecipeData, len(recipes))
	out := make([]*RecipeData, len(recipes))
	for i := range recipes {
		out[i] = &RecipeData{Recipe: recipes[i]}
		byID[recipes[i].ID] = out[i]
	}
	sub := tx.Model(&Recipe{}).Select("id").Where("layer_branch_id = ?", lbID)
	var sources []RecipeSource
	if err := tx.Where("recipe_id IN (?)", sub).Order("id").Find(&sources).Error; err != nil {
		return nil, err
	}
	for _, s := range sources {
		byID[s.RecipeID].Sources = append(byID[s.RecipeID].Sources, s)
	}
	var deps []RecipeBuildDep
	if err := tx.Where("recipe_id IN (?)", sub).Order("id").Find(&deps).Error; err != nil {
		return nil, err
	}
	for _, d := range deps {
		byID[d.RecipeID].BuildDeps = append(byID[d.RecipeID].BuildDeps, d.Name)
	}
	var pcs []RecipePackageConfig
	if err := tx.Where("recipe_id IN (?)", sub).Order("id").Find(&pcs).Error; err != nil {
		return nil, err
	}
	for _, p := range pcs {
		byID[p.RecipeID].PackageConfigs = append(byID[p.RecipeID].PackageConfigs, p)
	}
	var fds []RecipeFileDep
	if err := tx.Where("layer_branch_id = ?", lbID).Order("id").Find(&fds).Error; err != nil {
		return nil, err
	}
	for _, f := range fds {
		if r := byID[f.RecipeID]; r != nil {
			r.FileDeps = append(r.FileDeps, f.Path)
		}
	}
	var rds []RecipeReadDep
	if err := tx.Where("layer_branch_id = ?", lbID).Order("id").Find(&rds).Error; err != nil {
		return nil, err
	}
	for _, f := range rds {
		if r := byID[f.RecipeID]; r != nil {
			r.ReadDeps = append(r.ReadDeps, f.Path)
		}
	}
	var patches []RecipePatch
	if err := tx.Where("recipe_id IN (?)", sub).Order("id").Find(&patches).Error; err != nil {
		return nil, err
	}
	for _, p := range patches {
		byID[p.RecipeID].Patches = append(byID[p.RecipeID].Patches, p)
	}
	return out, nil
}

func deleteChildren(tx *gorm.DB, ids []int64) error {
	for _, m := range []any{&RecipeSource{}, &RecipeBuildDep{}, &RecipePackageConfig{}, &RecipePackageConfigDep{}, &RecipeInherit{}, &RecipeFileDep{}, &RecipeReadDep{}, &RecipePatch{}} {
		if err := tx.Where("recipe_id IN ?", ids).Delete(m).Error; err != nil {
			return err
		}
	}
	return nil
}

func insertChildren(tx *gorm.DB, lbID int64, rs []*RecipeData) error {
	var (
		sources []RecipeSource
		deps    []RecipeBuildDep
		pcs     []RecipePackageConfig
		pcDeps  []RecipePackageConfigDep
		inh     []RecipeInherit
		fds     []RecipeFileDep
		rds     []RecipeReadDep
		patches []RecipePatch
	)
	var branchID int64
	if err := tx.Model(&LayerBranch{}).Select("branch_id").Where("id = ?", lbID).Scan(&branchID).Error; err != nil {
		return fmt.Errorf("reading the branch of layer branch %d: %w", lbID, err)
	}
	for _, r := range rs {
		id := r.Recipe.ID
		for _, s := range r.Sources {
			s.ID, s.RecipeID = 0, id
			sources = append(sources, s)
		}
		for _, d := range r.BuildDeps {
			deps = append(deps, RecipeBuildDep{RecipeID: id, Name: d, BranchID: branchID})
		}
		seen := map[string]bool{}
		for _, p := range r.PackageConfigs {
			p.ID, p.RecipeID = 0, id
			pcs = append(pcs, p)
			for _, d := range strings.Fields(p.BuildDeps) {
				if !seen[d] {
					seen[d] = true
					pcDeps = append(pcDeps, RecipePackageConfigDep{RecipeID: id, Name: d, BranchID: branchID})
				}
			}
		}
		seenClass := map[string]bool{}
		for _, c := range strings.Fields(r.Recipe.Inherits) {
			if !seenClass[c] {
				seenClass[c] = true
				inh = append(inh, RecipeInherit{RecipeID: id, Name: c, BranchID: branchID})
			}
		}
		for _, f := range r.FileDeps {
			fds = append(fds, RecipeFileDep{RecipeID: id, LayerBranchID: lbID, Path: f})
		}
		for _, f := range r.ReadDeps {
			rds = append(rds, RecipeReadDep{RecipeID: id, LayerBranchID: lbID, Path: f})
		}
		for _, p := range r.Patches {
			p.ID, p.RecipeID = 0, id
			patches = append(patches, p)
		}
	}
	if err := createAll(tx, sources); err != nil {
		return err
	}
	if err := createAll(tx, deps); err != nil {
		return err
	}
	if err := createAll(tx, pcs); err != nil {
		return err
	}
	if err := createAll(tx, pcDeps); err != nil {
		return err
	}
	if err := createAll(tx, inh); err != nil {
		return err
	}
	if err := createAll(tx, fds); err != nil {
		return err
	}
	if err := createAll(tx, rds); err != nil {
		return err
	}
	return createAll(tx, patches)
}

func createAll[T any](tx *gorm.DB, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	return tx.CreateInBatches(rows, 500).Error
}

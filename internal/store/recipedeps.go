package store

import (
	"context"
	"slices"
	"strings"
)

// The recipe dependency report (upstream's RecipeDependenciesView) and its
// reverse, the recipes that depend on one recipe. Both resolve dependency
// names to recipes as the recipe page does (BranchIndex): a recipe
// provides its PN, the words of its PROVIDES (virtual/… included) and, when
// BBCLASSEXTEND names them, PN-native and nativesdk-PN.

// DepRecipe is a recipe that provides a dependency.
type DepRecipe struct {
	ID        int64
	PN        string
	PV        string
	License   string
	LayerID   int64
	LayerName string
}

// ReportDep is one build dependency of a recipe with its providers; none
// when no recipe on the branch (outside the excluded layers) provides it.
type ReportDep struct {
	Name      string
	Dynamic   bool // from a PACKAGECONFIG option, not DEPENDS
	Providers []DepRecipe
}

// ReportRecipe is one recipe of the layer with its dependencies.
type ReportRecipe struct {
	ID        int64
	PN        string
	PV        string
	ShortDesc string
	License   string
	Deps      []ReportDep
}

// DepReportOptions are the report's options.
type DepReportOptions struct {
	// CrossLayer keeps only the dependencies that no recipe of the layer
	// itself provides: what the layer needs from others.
	CrossLayer bool
	// ExcludeLayers are layers whose recipes never count as providers.
	ExcludeLayers []int64
}

// providedNames is what a recipe provides to dependency names.
func providedNames(pn, provides, bbclassextend string) []string {
	names := []string{pn}
	for _, w := range strings.Fields(provides) {
		if !slices.Contains(names, w) {
			names = append(names, w)
		}
	}
	if hasWord(bbclassextend, "native") && baseName(pn+"-native") == pn {
		names = append(names, pn+"-native")
	}
	if hasWord(bbclassextend, "nativesdk") && baseName("nativesdk-"+pn) == pn {
		names = append(names, "nativesdk-"+pn)
	}
	return names
}

// RecipeDependencyReport lists the recipes of a layer branch with their
// DEPENDS and PACKAGECONFIG build dependencies resolved to the recipes of
// the branch that provide them, by layer index preference.
func (s *Store) RecipeDependencyReport(ctx context.Context, lb *LayerBranch, o DepReportOptions) ([]ReportRecipe, error) {
	db := s.with(ctx)
	var cands []struct {
		ID                     int64
		PN                     string `gorm:"column:pn"`
		PV                     string `gorm:"column:pv"`
		License, Provides      string
		BBClassExtend          string `gorm:"column:bbclassextend"`
		LayerBranchID, LayerID int64
		LayerName              string
	}
	err := db.Raw(`SELECT r.id, r.pn, r.pv, r.license, r.provides, r.bbclassextend, r.layer_branch_id, l.id AS layer_id, l.name AS layer_name
FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id JOIN layers l ON l.id = lb.layer_id
WHERE lb.branch_id = ? AND l.status IN ? AND NOT l.comparison
ORDER BY l.index_preference DESC, l.name, r.pn, r.id`, lb.BranchID, publishedStatuses).Scan(&cands).Error
	if err != nil {
		return nil, err
	}
	providers := map[string][]DepRecipe{}
	own := map[string]bool{} // names the layer itself provides
	for _, c := range cands {
		names := providedNames(c.PN, c.Provides, c.BBClassExtend)
		if c.LayerBranchID == lb.ID {
			for _, n := range names {
				own[n] = true
			}
		}
		if slices.Contains(o.ExcludeLayers, c.LayerID) {
			continue
		}
		for _, n := range names {
			providers[n] = append(providers[n], DepRecipe{ID: c.ID, PN: c.PN, PV: c.PV, License: c.License, LayerID: c.LayerID, LayerName: c.LayerName})
		}
	}

	var recipes []struct {
		ID                            int64
		PN                            string `gorm:"column:pn"`
		PV                            string `gorm:"column:pv"`
		Summary, Description, License string
	}
	if err := db.Raw(`SELECT id, pn, pv, summary, description, license FROM recipes WHERE layer_branch_id = ? ORDER BY pn, pv, id`, lb.ID).
		Scan(&recipes).Error; err != nil {
		return nil, err
	}
	var deps []struct {
		RecipeID int64
		Name     string
		Dynamic  bool
	}
	err = db.Raw(`SELECT d.recipe_id, d.name, d.dynamic FROM (
  SELECT recipe_id, name, FALSE AS dynamic FROM recipe_build_deps
  UNION SELECT recipe_id, name, TRUE AS dynamic FROM recipe_package_config_deps) d
JOIN recipes r ON r.id = d.recipe_id WHERE r.layer_branch_id = ?
ORDER BY d.recipe_id, d.dynamic, d.name`, lb.ID).Scan(&deps).Error
	if err != nil {
		return nil, err
	}
	byRecipe := map[int64][]ReportDep{}
	for _, d := range deps {
		if o.CrossLayer && own[d.Name] {
			continue
		}
		byRecipe[d.RecipeID] = append(byRecipe[d.RecipeID], ReportDep{Name: d.Name, Dynamic: d.Dynamic, Providers: providers[d.Name]})
	}
	out := make([]ReportRecipe, len(recipes))
	for i, r := range recipes {
		desc := r.Summary
		if desc == "" {
			desc = r.Description
		}
		out[i] = ReportRecipe{ID: r.ID, PN: r.PN, PV: r.PV, ShortDesc: desc, License: r.License, Deps: byRecipe[r.ID]}
	}
	return out, nil
}

// Dependent is a recipe that depends on another through one of the names
// that one provides.
type Dependent struct {
	ID        int64
	PN        string
	PV        string
	LayerName string
	Via       []string // the dependency names, "(PACKAGECONFIG)" marked
	pref      int
}

// maxDependents bounds the reverse list: a C library has most of the
// branch as dependents.
const maxDependents = 500

// DependentsIndex is every build dependency of a branch's published
// recipes by name, read in one query; callers keep one per branch and index
// version, as they do BranchIndex, so a recipe page does not query it.
type DependentsIndex struct {
	byName map[string][]dependentRow
}

type dependentRow struct {
	ID              int64
	PN              string `gorm:"column:pn"`
	PV              string `gorm:"column:pv"`
	LayerName       string
	IndexPreference int
	Name            string
	Dynamic         bool
}

// LoadDependentsIndex reads the DEPENDS and PACKAGECONFIG dependencies of
// the published recipes on a branch.
//
// Each dependency table is joined with the branch's recipes on its own and
// the two appended (UNION ALL): a UNION of the whole tables first sorted
// every branch's dependencies to remove duplicates (850,000 rows, on disk,
// at the size of the public index: 2 s of PostgreSQL alone, 15–30 s under
// load, while every recipe page waited for it after each index change).
// Duplicates change nothing here: Dependents keeps each recipe and name
// once. The rows are scanned by position (pageRows), not by GORM.
func (s *Store) LoadDependentsIndex(ctx context.Context, branchID int64) (*DependentsIndex, error) {
	rows, err := s.pageRows(ctx, dependentsQuery, branchID, branchID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	x := &DependentsIndex{byName: map[string][]dependentRow{}}
	for rows.Next() {
		var r dependentRow
		var dynamic int
		if err := rows.Scan(&r.ID, &r.PN, &r.PV, &r.LayerName, &r.IndexPreference, &r.Name, &dynamic); err != nil {
			return nil, err
		}
		r.Dynamic = dynamic == 1
		x.byName[r.Name] = append(x.byName[r.Name], r)
	}
	return x, rows.Err()
}

// dependentsArm joins a dependency table d with the published recipes of
// a branch; dependentsQuery appends both tables' rows.
const dependentsArm = ` d JOIN recipes r ON r.id = d.recipe_id JOIN layer_branches lb ON lb.id = r.layer_branch_id
JOIN layers l ON l.id = lb.layer_id
WHERE lb.branch_id = ? AND l.status IN ` + publishedIn + ` AND NOT l.comparison`

const dependentsQuery = `SELECT r.id, r.pn, r.pv, l.name, l.index_preference, d.name, 0 FROM recipe_build_deps` +
	dependentsArm + `
UNION ALL SELECT r.id, r.pn, r.pv, l.name, l.index_preference, d.name, 1 FROM recipe_package_config_deps` + dependentsArm

// Dependents lists the recipes whose DEPENDS or PACKAGECONFIG options name
// something r provides, by layer preference, layer and name (at most
// maxDependents), and how many there are in all.
func (x *DependentsIndex) Dependents(r *Recipe) ([]Dependent, int) {
	byID := map[int64]*Dependent{}
	var all []*Dependent
	for _, name := range providedNames(r.PN, r.Provides, r.BBClassExtend) {
		for _, row := range x.byName[name] {
			if row.ID == r.ID {
				continue
			}
			via := row.Name
			if row.Dynamic {
				via += " (PACKAGECONFIG)"
			}
			d := byID[row.ID]
			if d == nil {
				d = &Dependent{ID: row.ID, PN: row.PN, PV: row.PV, LayerName: row.LayerName, pref: row.IndexPreference}
				byID[row.ID] = d
				all = append(all, d)
			}
			if !slices.Contains(d.Via, via) {
				d.Via = append(d.Via, via)
			}
		}
	}
	slices.SortFunc(all, func(a, b *Dependent) int {
		if a.pref != b.pref {
			return b.pref - a.pref
		}
		if c := strings.Compare(a.LayerName, b.LayerName); c != 0 {
			return c
		}
		if c := strings.Compare(a.PN, b.PN); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	out := make([]Dependent, 0, min(len(all), maxDependents))
	for _, d := range all[:min(len(all), maxDependents)] {
		slices.Sort(d.Via)
		out = append(out, *d)
	}
	return out, len(all)
}

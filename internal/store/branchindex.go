package store

import (
	"context"
	"database/sql"
	"path"
	"strings"
)

// BranchIndex holds what a recipe page looks up across its whole branch —
// which recipes provide a dependency, which bbappends are named for a
// recipe — read in two scans of the branch. Resolving them per page took
// two queries whose text changed with every recipe (one LIKE per
// dependency), so the database parsed and planned them each time: a third
// of a recipe page's cost. Callers keep one BranchIndex per branch and
// index version (the web server does), so it is built once per change.
type BranchIndex struct {
	BranchID  int64
	providers map[string][]Provider
	appends   map[string][]branchAppend // by the stems a recipe prefix can match
}

// branchAppend is a bbappend of the branch with what its URL needs.
type branchAppend struct {
	AppendRow
	stem string // file name without .bbappend
}

// LoadBranchIndex reads the recipes and bbappends of the published layers
// on the branch.
func (s *Store) LoadBranchIndex(ctx context.Context, branchID int64) (*BranchIndex, error) {
	// Every recipe of the branch (44,797 on the public index's master),
	// scanned by position: GORM's reflective Scan was most of the build's
	// CPU, which every new index version pays again.
	var rows []providerRow
	err := scanAll(ctx, s, &rows, func(r *sql.Rows, p *providerRow) error {
		return r.Scan(&p.ID, &p.PN, &p.PV, &p.Provides, &p.BBClassExtend, &p.LayerName, &p.IndexPreference)
	}, `
SELECT r.id, r.pn, r.pv, r.provides, r.bbclassextend, l.name, l.index_preference
FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id JOIN layers l ON l.id = lb.layer_id
WHERE lb.branch_id = ? AND l.status IN `+publishedIn+` AND NOT l.comparison
ORDER BY l.index_preference DESC, l.name, r.pn, r.id`, branchID)
	if err != nil {
		return nil, err
	}
	x := &BranchIndex{BranchID: branchID, providers: make(map[string][]Provider, len(rows)), appends: map[string][]branchAppend{}}
	add := func(name string, r *providerRow) {
		list := x.providers[name]
		if n := len(list); n > 0 && list[n-1].RecipeID == r.ID {
			return // the same recipe by PN and by PROVIDES
		}
		x.providers[name] = append(list, Provider{RecipeID: r.ID, PN: r.PN, PV: r.PV, LayerName: r.LayerName})
	}
	for i := range rows {
		r := &rows[i]
		add(r.PN, r)
		for _, w := range strings.Fields(r.Provides) {
			add(w, r)
		}
		// BBCLASSEXTEND's variants: foo-native and nativesdk-foo are foo.
		if hasWord(r.BBClassExtend, "native") && baseName(r.PN+"-native") == r.PN {
			add(r.PN+"-native", r)
		}
		if hasWord(r.BBClassExtend, "nativesdk") && baseName("nativesdk-"+r.PN) == r.PN {
			add("nativesdk-"+r.PN, r)
		}
	}

	var apps []struct {
		Filename, Filepath, LayerName         string
		VCSSubdir                             string `gorm:"column:vcs_subdir"`
		ActualBranch, BranchName, FileURLTmpl string
	}
	err = s.with(ctx).Raw(`
SELECT a.filename, a.filepath, l.name AS layer_name, lb.vcs_subdir, lb.actual_branch, b.name AS branch_name,
       l.vcs_web_file_base_url AS file_url_tmpl
FROM bbappends a JOIN layer_branches lb ON lb.id = a.layer_branch_id JOIN layers l ON l.id = lb.layer_id
JOIN branches b ON b.id = lb.branch_id
WHERE lb.branch_id = ? AND l.status IN ? AND NOT l.comparison
ORDER BY l.index_preference DESC, l.name, a.filepath, a.filename`, branchID, publishedStatuses).Scan(&apps).Error
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		stem, ok := strings.CutSuffix(a.Filename, ".bbappend")
		if !ok {
			continue
		}
		lb := LayerBranch{VCSSubdir: a.VCSSubdir, ActualBranch: a.ActualBranch, Branch: &Branch{Name: a.BranchName}}
		ba := branchAppend{stem: stem, AppendRow: AppendRow{Filename: a.Filename, Filepath: a.Filepath, LayerName: a.LayerName,
			URL: lb.FileURL(&Layer{VCSWebFileBaseURL: a.FileURLTmpl}, path.Join(a.Filepath, a.Filename))}}
		// A recipe prefix P matches P.bbappend and P_X.bbappend where X
		// has no underscore: the whole stem, or the stem before its last _.
		x.appends[stem] = append(x.appends[stem], ba)
		if i := strings.LastIndexByte(stem, '_'); i > 0 {
			x.appends[stem[:i]] = append(x.appends[stem[:i]], ba)
		}
	}
	return x, nil
}

// Providers is the recipes of the branch that provide name, in the order
// of the layers' index preference.
func (x *BranchIndex) Providers(name string) []Provider { return x.providers[name] }

// Appends is the bbappends of the branch named for the recipe file, marked
// with whether they apply to its version.
func (x *BranchIndex) Appends(recipeFilename string) []AppendRow {
	prefix, _, _ := strings.Cut(strings.TrimSuffix(recipeFilename, ".bb"), "_")
	list := x.appends[prefix]
	if len(list) == 0 {
		return nil
	}
	out := make([]AppendRow, 0, len(list))
	for _, a := range list {
		// Keep the order of the branch's list (both keys hold it sorted,
		// and one append is under one key per prefix).
		r := a.AppendRow
		r.Applies = appendApplies(a.Filename, recipeFilename)
		out = append(out, r)
	}
	return out
}

package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Provider is a recipe on the same branch that provides a dependency.
type Provider struct {
	RecipeID  int64
	PN        string
	PV        string
	LayerName string
}

// DepProviders is one dependency name with the recipes that provide it.
type DepProviders struct {
	Name      string
	Providers []Provider
}

// PackageConfigRow is one PACKAGECONFIG flag with its build dependencies
// resolved.
type PackageConfigRow struct {
	RecipePackageConfig
	Deps []DepProviders
}

// FileRef is a file of the layer's repository a recipe read.
type FileRef struct {
	Path string // relative to the layer when inside it, else to the repository
	URL  string
}

// AppendRow is a bbappend on the same branch whose name matches the recipe.
type AppendRow struct {
	Filename  string
	Filepath  string
	LayerName string
	URL       string
	Applies   bool // it applies to this recipe's version (not only the name)
}

// OtherBranchRecipe is the same recipe (layer and PN) on another branch.
type OtherBranchRecipe struct {
	ID         int64
	PV         string `gorm:"column:pv"`
	BranchName string
}

// RecipePage is everything the recipe page shows.
type RecipePage struct {
	Recipe         Recipe
	LayerBranch    LayerBranch // with Layer and Branch
	Sources        []RecipeSource
	Depends        []DepProviders
	PackageConfigs []PackageConfigRow
	Files          []FileRef
	Patches        []RecipePatch
	Appends        []AppendRow
	OtherBranches  []OtherBranchRecipe
}

// RecipeFileURL is the web page of the recipe file, or "".
func (p *RecipePage) RecipeFileURL() string {
	return p.LayerBranch.FileURL(p.LayerBranch.Layer, p.Recipe.Path())
}

// PatchURL is the web page of a patch file, or "".
func (p *RecipePage) PatchURL(pt RecipePatch) string {
	return p.LayerBranch.FileURL(p.LayerBranch.Layer, pt.Path)
}

// childRow is one row of a recipe's child tables, read in one query.
type childRow struct {
	Kind       string
	ID         int64
	A, B, C, D string
	N, M, K    int
}

// RecipePage loads a recipe of a published layer with everything around it.
// branchIndex gives the BranchIndex of the recipe's branch and layerBranch
// the layer branch with its Layer and Branch (both kept by the caller per
// index version, read-only); nil loads them.
//
// It is the page most often rendered on a cache miss, so it runs two
// statements (pageRows), whose rows it scans itself (GORM's reflective Scan
// was a third of the page's CPU): the recipe, then its child rows and the
// same recipe on other branches in one (recipeChildQuery).
func (s *Store) RecipePage(ctx context.Context, id int64, branchIndex func(ctx context.Context, branchID int64) (*BranchIndex, error),
	layerBranch func(ctx context.Context, id int64) (*LayerBranch, error)) (*RecipePage, error) {
	if branchIndex == nil {
		branchIndex = s.LoadBranchIndex
	}
	if layerBranch == nil {
		layerBranch = s.LayerBranchByID
	}
	p := &RecipePage{}
	if err := s.scanRecipe(ctx, id, &p.Recipe); err != nil {
		return nil, err
	}
	lbp, err := layerBranch(ctx, p.Recipe.LayerBranchID)
	if err := translate(err); err != nil {
		return nil, err
	}
	p.LayerBranch = *lbp
	lb := &p.LayerBranch
	if lb.Layer == nil || lb.Branch == nil || !slices.Contains(publishedStatuses, lb.Layer.Status) ||
		lb.Layer.Comparison || lb.Branch.Comparison {
		return nil, ErrNotFound
	}

	rows, err := s.pageRows(ctx, recipeChildQuery, id, id, id, id, id, lb.LayerID, p.Recipe.PN, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var r childRow
	for rows.Next() {
		if err := rows.Scan(&r.Kind, &r.ID, &r.A, &r.B, &r.C, &r.D, &r.N, &r.M, &r.K); err != nil {
			return nil, err
		}
		switch r.Kind {
		case "a_src":
			p.Sources = append(p.Sources, RecipeSource{ID: r.ID, RecipeID: id, URL: r.A, SHA256Sum: r.B})
		case "b_dep":
			p.Depends = append(p.Depends, DepProviders{Name: r.A})
		case "c_pc":
			pc := PackageConfigRow{RecipePackageConfig: RecipePackageConfig{ID: r.ID, RecipeID: id, Feature: r.A,
				WithOption: r.B, WithoutOption: r.C, BuildDeps: r.D}}
			for _, d := range strings.Fields(r.D) {
				pc.Deps = append(pc.Deps, DepProviders{Name: d})
			}
			p.PackageConfigs = append(p.PackageConfigs, pc)
		case "d_file":
			p.Files = append(p.Files, s.fileRef(lb, r.A))
		case "e_patch":
			pt := RecipePatch{ID: r.ID, RecipeID: id, Path: r.A, SrcPath: r.B, Status: r.C, StatusExtra: r.D,
				Striplevel: r.M, Applied: r.K == 1}
			if r.N >= 0 {
				n := r.N
				pt.ApplyOrder = &n
			}
			p.Patches = append(p.Patches, pt)
		case "f_other":
			p.OtherBranches = append(p.OtherBranches, OtherBranchRecipe{ID: r.ID, PV: r.A, BranchName: r.B})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	slices.SortStableFunc(p.PackageConfigs, func(a, b PackageConfigRow) int { return cmp.Compare(a.Feature, b.Feature) })

	x, err := branchIndex(ctx, lb.BranchID)
	if err != nil {
		return nil, err
	}
	for i := range p.Depends {
		p.Depends[i].Providers = x.Providers(p.Depends[i].Name)
	}
	for i := range p.PackageConfigs {
		for j := range p.PackageConfigs[i].Deps {
			p.PackageConfigs[i].Deps[j].Providers = x.Providers(p.PackageConfigs[i].Deps[j].Name)
		}
	}
	p.Appends = x.Appends(p.Recipe.Filename)
	return p, nil
}

// recipeChildQuery reads a recipe's five child tables and the same recipe on
// the other branches in one round trip, told apart by kind; the other
// branches come in branch order (n). Its arguments: the recipe's id five
// times, its layer, its PN and its id.
const recipeChildQuery = `
SELECT 'a_src' AS kind, id, url AS a, sha256sum AS b, '' AS c, '' AS d, 0 AS n, 0 AS m, 0 AS k
  FROM recipe_sources WHERE recipe_id = ?
UNION ALL SELECT 'b_dep', id, name, '', '', '', 0, 0, 0 FROM recipe_build_deps WHERE recipe_id = ?
UNION ALL SELECT 'c_pc', id, feature, with_option, without_option, build_deps, 0, 0, 0
  FROM recipe_package_configs WHERE recipe_id = ?
UNION ALL SELECT 'd_file', id, path, '', '', '', 0, 0, 0 FROM recipe_file_deps WHERE recipe_id = ?
UNION ALL SELECT 'e_patch', id, path, src_path, status, status_extra, COALESCE(apply_order, -1), striplevel,
  CASE WHEN applied THEN 1 ELSE 0 END FROM recipe_patches WHERE recipe_id = ?
UNION ALL SELECT 'f_other', r.id, r.pv, b.name, '', '',
  ROW_NUMBER() OVER (ORDER BY b.sort_priority IS NULL, b.sort_priority, b.name, r.pv), 0, 0
  FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id JOIN branches b ON b.id = lb.branch_id
  WHERE lb.layer_id = ? AND r.pn = ? AND r.id <> ? AND NOT b.comparison AND NOT b.hidden
ORDER BY kind, n, id`

// scanRecipe reads one recipe by id without GORM's reflective scan; the
// columns are Recipe's fields in order. A missing recipe is ErrNotFound.
func (s *Store) scanRecipe(ctx context.Context, id int64, r *Recipe) error {
	var branchID sql.NullInt64
	err := s.pageRow(ctx, `SELECT id, layer_branch_id, filename, filepath, pn, pv, pr, pe, summary, description,
section, license, homepage, bugtracker, provides, bbclassextend, inherits, blacklisted, configopts, srcrev,
skip_reason, unevaluated, updated_at, branch_id FROM recipes WHERE id = ?`, []any{id},
		&r.ID, &r.LayerBranchID, &r.Filename, &r.Filepath, &r.PN, &r.PV, &r.PR, &r.PE, &r.Summary,
		&r.Description, &r.Section, &r.License, &r.Homepage, &r.Bugtracker, &r.Provides, &r.BBClassExtend, &r.Inherits,
		&r.Blacklisted, &r.ConfigOpts, &r.SrcRev, &r.SkipReason, &r.Unevaluated, &r.UpdatedAt, &branchID)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("reading recipe %d: %w", id, err)
	}
	r.BranchID = branchID.Int64
	return nil
}

// fileRef names a repository path relative to the layer when it lies inside
// the layer's subdirectory.
func (s *Store) fileRef(lb *LayerBranch, repoPath string) FileRef {
	if lb.VCSSubdir == "" {
		return FileRef{Path: repoPath, URL: lb.FileURL(lb.Layer, repoPath)}
	}
	if rel, ok := strings.CutPrefix(repoPath, strings.TrimSuffix(lb.VCSSubdir, "/")+"/"); ok {
		return FileRef{Path: rel, URL: lb.FileURL(lb.Layer, rel)}
	}
	top := *lb
	top.VCSSubdir = ""
	return FileRef{Path: repoPath, URL: top.FileURL(lb.Layer, repoPath)}
}

// providerRow is a candidate provider of some dependency.
type providerRow struct {
	ID              int64
	PN              string `gorm:"column:pn"`
	PV              string `gorm:"column:pv"`
	Provides        string
	BBClassExtend   string `gorm:"column:bbclassextend"`
	LayerName       string
	IndexPreference int
}

// baseName strips the variant a BBCLASSEXTEND adds: foo-native, foo-cross,
// nativesdk-foo become foo.
func baseName(n string) string {
	for _, suf := range []string{"-native", "-crosssdk", "-cross"} {
		if b, ok := strings.CutSuffix(n, suf); ok && b != "" {
			return b
		}
	}
	if b, ok := strings.CutPrefix(n, "nativesdk-"); ok && b != "" {
		return b
	}
	return n
}

// appendApplies is upstream's BBAppend.matches_recipe: the same stem, or a
// stem with % matching any run of characters.
func appendApplies(appendFile, recipeFile string) bool {
	recipe := strings.TrimSuffix(recipeFile, ".bb")
	app := strings.TrimSuffix(appendFile, ".bbappend")
	if recipe == app {
		return true
	}
	if !strings.Contains(app, "%") {
		return false
	}
	ok, _ := path.Match(strings.ReplaceAll(globEscape(app), "%", "*"), recipe)
	return ok
}

// globEscape keeps path.Match from reading a file name's own [ ] * ? \.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(s)
}

package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Queries behind the browsing pages: branches, the layer list and a layer's
// page. Only published layers (status P or X) are ever shown.

var publishedStatuses = []string{StatusPublished, StatusNoUpdate}

// BrowseBranch finds a branch that pages may show: comparison branches
// (other distributions) are not part of the index.
func (s *Store) BrowseBranch(ctx context.Context, name string) (*Branch, error) {
	var b Branch
	err := s.with(ctx).Where("name = ? AND NOT comparison", name).Take(&b).Error
	return &b, translate(err)
}

// DefaultBranch is the branch old links without one mean: master when it is
// listed, else the first listed branch.
func (s *Store) DefaultBranch(ctx context.Context) (*Branch, error) {
	bs, err := s.VisibleBranches(ctx)
	if err != nil {
		return nil, err
	}
	if len(bs) == 0 {
		return nil, ErrNotFound
	}
	for i := range bs {
		if bs[i].Name == "master" {
			return &bs[i], nil
		}
	}
	return &bs[0], nil
}

// LayerRow is one line of the layer list.
type LayerRow struct {
	LayerID           int64
	LayerBranchID     int64
	Name              string
	Summary           string
	Description       string // read only when LayerFilter.Query has words (matched, never shown)
	LayerType         string
	VCSURL            string `gorm:"column:vcs_url"`
	VCSWebURL         string `gorm:"column:vcs_web_url"`
	VCSWebTreeBaseURL string `gorm:"column:vcs_web_tree_base_url"`
	VCSSubdir         string `gorm:"column:vcs_subdir"`
	ActualBranch      string
	IndexPreference   int
	VCSLastRev        string `gorm:"column:vcs_last_rev"`
	YPName            string `gorm:"column:yp_name"`
	YPImageURL        string `gorm:"column:yp_image_url"`
	YPLinkURL         string `gorm:"column:yp_link_url"`
	SeriesCompat      string
	BranchName        string
	// Stale: no successful update since LayerFilter.StaleCutoff, or its
	// repository is gone.
	Stale bool
}

// TreeURL is the web page of the layer's directory, or "".
func (r *LayerRow) TreeURL() string {
	lb := LayerBranch{VCSSubdir: r.VCSSubdir, ActualBranch: r.ActualBranch, Branch: &Branch{Name: r.BranchName}}
	return lb.TreeURL(&Layer{VCSWebTreeBaseURL: r.VCSWebTreeBaseURL}, "")
}

// LayerFilter narrows and orders the layer list.
type LayerFilter struct {
	Types []string // layer type codes; none means all
	Query string   // words that must each appear in name, summary or description
	Sort  string   // "" (type, preference, name), "name", "-name", "type", "-type"
	// CompatOnly keeps only the layers compatible with the release whose
	// core provides CompatCoreNames (space-separated; none if empty).
	CompatOnly      bool
	CompatCoreNames string
	Page            Page
	// StaleCutoff marks the layer branches without a successful update
	// since then as stale (LayerRow.Stale).
	StaleCutoff time.Time
}

// LayerList is a page of the layer list and, per type, how many layers
// match the text filter (so the type filters can show counts).
type LayerList struct {
	Paged[LayerRow]
	TypeCounts map[string]int
	All        int // published layers on the branch, before any filter
}

// Layers lists the published layers on a branch. A branch holds at most a
// few hundred layers, so one query fetches them all and filtering, counting
// and paging happen here (FilterLayers).
func (s *Store) Layers(ctx context.Context, branch *Branch, f LayerFilter) (*LayerList, error) {
	rows, err := s.LayerListRows(ctx, branch)
	if err != nil {
		return nil, err
	}
	stale, err := s.StaleLayerBranches(ctx, branch.ID, f.StaleCutoff)
	if err != nil {
		return nil, err
	}
	return FilterLayers(rows, stale, f), nil
}

// LayerListRows is every published layer on the branch as the layer list
// reads it, with its description (matched by LayerFilter.Query, never
// shown) and without Stale (StaleLayerBranches, which changes without the
// index version), in the list's default order (type, index preference
// descending, name). The rows change only with the index: the web server
// keeps them per index version, as reading 400 layers' rows was most of
// the list's CPU at the size of the public index.
func (s *Store) LayerListRows(ctx context.Context, branch *Branch) ([]LayerRow, error) {
	var rows []LayerRow
	err := scanAll(ctx, s, &rows, func(r *sql.Rows, x *LayerRow) error {
		return r.Scan(&x.LayerID, &x.LayerBranchID, &x.Name, &x.Summary, &x.Description, &x.LayerType,
			&x.VCSURL, &x.VCSWebURL, &x.VCSWebTreeBaseURL, &x.VCSSubdir, &x.ActualBranch, &x.IndexPreference,
			&x.VCSLastRev, &x.YPName, &x.YPImageURL, &x.YPLinkURL, &x.SeriesCompat)
	}, `
SELECT l.id, lb.id, l.name, l.summary, l.description, l.layer_type,
       l.vcs_url, l.vcs_web_url, l.vcs_web_tree_base_url, lb.vcs_subdir, lb.actual_branch, l.index_preference,
       lb.vcs_last_rev, COALESCE(yp.name, ''), COALESCE(yp.image_url, ''),
       COALESCE(yp.link_url, ''), lb.series_compat
FROM layer_branches lb
JOIN layers l ON l.id = lb.layer_id
LEFT JOIN yp_compatible_versions yp ON yp.id = lb.yp_compatible_version_id
WHERE lb.branch_id = ? AND l.status IN `+publishedIn+` AND NOT l.comparison`, branch.ID)
	if err != nil {
		return nil, fmt.Errorf("layers on %s: %w", branch.Name, err)
	}
	for i := range rows {
		rows[i].BranchName = branch.Name
	}
	slices.SortFunc(rows, func(a, b LayerRow) int { return layersByType(&a, &b) })
	return rows, nil
}

// StaleLayerBranches is the branch's layer branches that are stale at the
// cutoff (LayerRow.Stale): usually none or a few.
func (s *Store) StaleLayerBranches(ctx context.Context, branchID int64, cutoff time.Time) (map[int64]bool, error) {
	rows, err := s.pageRows(ctx, `SELECT lb.id FROM layer_branches lb
LEFT JOIN layer_branch_alerts a ON a.layer_branch_id = lb.id
WHERE lb.branch_id = ? AND `+staleCond, branchID, cutoff.UTC())
	if err != nil {
		return nil, fmt.Errorf("stale layers: %w", err)
	}
	defer rows.Close()
	stale := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("stale layers: %w", err)
		}
		stale[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stale layers: %w", err)
	}
	return stale, nil
}

// layersByType is the layer list's default order.
func layersByType(a, b *LayerRow) int {
	return cmp.Or(cmp.Compare(typeOrder(a.LayerType), typeOrder(b.LayerType)),
		cmp.Compare(b.IndexPreference, a.IndexPreference), cmp.Compare(a.Name, b.Name))
}

// FilterLayers is the page of the layer list of f from LayerListRows'
// rows (not modified) and the stale layer branches.
func FilterLayers(rows []LayerRow, stale map[int64]bool, f LayerFilter) *LayerList {
	words := strings.Fields(strings.ToLower(f.Query))
	out := &LayerList{TypeCounts: map[string]int{}, All: len(rows)}
	var matched []*LayerRow
	for i := range rows {
		r := &rows[i]
		if len(words) > 0 {
			text := strings.ToLower(r.Name + "\n" + r.Summary + "\n" + r.Description)
			ok := true
			for _, w := range words {
				if !strings.Contains(text, w) {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
		}
		if f.CompatOnly && Compatibility(r.SeriesCompat, f.CompatCoreNames) != CompatYes {
			continue
		}
		out.TypeCounts[r.LayerType]++
		if len(f.Types) > 0 && !slices.Contains(f.Types, r.LayerType) {
			continue
		}
		matched = append(matched, r)
	}
	// Sorted through pointers: a LayerRow is large. The rows are in the
	// default order already.
	byName := func(a, b *LayerRow) int { return cmp.Compare(a.Name, b.Name) }
	switch f.Sort {
	case "name":
		slices.SortFunc(matched, byName)
	case "-name":
		slices.SortFunc(matched, func(a, b *LayerRow) int { return byName(b, a) })
	case "-type":
		slices.SortFunc(matched, func(a, b *LayerRow) int {
			return cmp.Or(cmp.Compare(typeOrder(b.LayerType), typeOrder(a.LayerType)), byName(a, b))
		})
	}
	page := paginate(matched, f.Page)
	out.Paged = Paged[LayerRow]{Total: page.Total, Page: page.Page, More: page.More}
	if len(page.Items) > 0 {
		out.Items = make([]LayerRow, len(page.Items))
		for i, r := range page.Items {
			out.Items[i] = *r
			if len(words) == 0 {
				out.Items[i].Description = "" // read only to match words, never shown
			}
			out.Items[i].Stale = stale[r.LayerBranchID]
		}
	}
	return out
}

// typeOrder is upstream's display order of layer types (A, B, S, D, M).
func typeOrder(code string) int {
	for i, t := range LayerTypes {
		if t.Code == code {
			return i
		}
	}
	return len(LayerTypes)
}

// LayerTypeLabel names a layer type code.
func LayerTypeLabel(code string) string {
	for _, t := range LayerTypes {
		if t.Code == code {
			return t.Label
		}
	}
	return code
}

// ParseLayerType reads a layer type as a person writes it: its label
// ("Machine (BSP)"), a short name (base, bsp, machine, software, distro,
// distribution, misc, miscellaneous) or upstream's code (A, B, S, D, M),
// in any case. ok is false for anything else.
func ParseLayerType(s string) (code string, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "bsp", "machine":
		return TypeBSP, true
	case "distro":
		return TypeDistro, true
	case "misc":
		return TypeMisc, true
	}
	for _, t := range LayerTypes {
		if s == strings.ToLower(t.Code) || s == strings.ToLower(t.Label) {
			return t.Code, true
		}
	}
	return "", false
}

// LayerTypeNames lists the short names ParseLayerType reads, in display
// order, for help texts.
const LayerTypeNames = "base, bsp (machine), software, distro, misc"

// PublishedLayer finds a published layer by name.
func (s *Store) PublishedLayer(ctx context.Context, name string) (*Layer, error) {
	var l Layer
	err := s.with(ctx).Where("name = ? AND status IN ? AND NOT comparison", name, publishedStatuses).Take(&l).Error
	return &l, translate(err)
}

// LayerDep is a dependency or recommendation of a layer branch.
type LayerDep struct {
	Name              string
	Summary           string
	Required          bool
	VersionConstraint string
	OnBranch          bool // the layer exists on the same branch, so it can be linked
}

// LayerCounts counts what each tab of a layer page holds.
type LayerCounts struct {
	Recipes, Machines, Distros, Classes, Appends, Updates int64
}

// LayerOverview is everything on a layer page but the active tab's list.
type LayerOverview struct {
	Layer       *Layer
	LayerBranch *LayerBranch // nil: the layer is not on this branch
	YP          *YPCompatibleVersion
	Branches    []Branch // visible branches the layer is on
	Notes       []LayerNote
	Maintainers []LayerMaintainer // active ones
	Deps        []LayerDep
	Counts      LayerCounts
	// Stale: the layer branch had no successful update since the cutoff
	// LayerOverview was given, or its repository is gone.
	Stale bool
}

// Indexed reports whether an update has indexed the layer branch yet.
func (o *LayerOverview) Indexed() bool {
	return o.LayerBranch != nil && o.LayerBranch.VCSLastRev != ""
}

// RecipeRow is a recipe in a list, with its layer.
type RecipeRow struct {
	ID          int64
	PN          string `gorm:"column:pn"`
	PV          string `gorm:"column:pv"`
	Filename    string
	Filepath    string
	Summary     string
	Description string
	License     string
	Inherits    string
	Blacklisted string
	SkipReason  string
	Unevaluated int
	LayerName   string
}

// IsImage reports whether the recipe builds an image.
func (r *RecipeRow) IsImage() bool {
	return hasWord(r.Inherits, "image") || hasWord(r.Inherits, "core-image")
}

// ShortDesc is the summary, or the description when there is none.
func (r *RecipeRow) ShortDesc() string { return cmp.Or(r.Summary, r.Description) }

func hasWord(list, w string) bool { return slices.Contains(strings.Fields(list), w) }

// recipeSorts are the orders of a layer's recipe list, by ?sort= value.
var recipeSorts = map[string]string{
	"":         "lower(r.pn) %[1]s, r.pv %[1]s, r.id",
	"name":     "lower(r.pn) %[1]s, r.pv %[1]s, r.id",
	"-name":    "lower(r.pn) %[1]s DESC, r.pv %[1]s DESC, r.id",
	"version":  "r.pv %[1]s, lower(r.pn) %[1]s, r.id",
	"-version": "r.pv %[1]s DESC, lower(r.pn) %[1]s, r.id",
}

// LayerRecipes lists a page of a layer branch's recipes, with what a
// layer's page shows of each (no file, license or description apart from
// the summary); query words must each appear in the name or summary. total is the number of the layer
// branch's recipes when the caller knows it (LayerOverview counts them),
// else -1; it spares a count of the unfiltered list.
func (s *Store) LayerRecipes(ctx context.Context, lbID int64, query, sort string, p Page, total int64) (Paged[RecipeRow], error) {
	p = p.norm()
	out := Paged[RecipeRow]{Page: p}
	where, args := "r.layer_branch_id = ?", []any{lbID}
	words := strings.Fields(strings.ToLower(query))
	for _, w := range words {
		where += ` AND (lower(r.pn) LIKE ? ESCAPE '\' OR lower(r.summary) LIKE ? ESCAPE '\')`
		args = append(args, likeContains(w), likeContains(w))
	}
	order, ok := recipeSorts[sort]
	if !ok {
		order = recipeSorts[""]
	}
	// Only what the list shows is read: the summary, or the description
	// when there is none, as Summary (ShortDesc is the same).
	out.Items = make([]RecipeRow, 0, p.Size)
	err := scanAll(ctx, s, &out.Items, func(r *sql.Rows, x *RecipeRow) error {
		return r.Scan(&x.ID, &x.PN, &x.PV, &x.Summary, &x.Inherits, &x.Blacklisted, &x.SkipReason, &x.Unevaluated)
	}, `SELECT r.id, r.pn, r.pv, CASE WHEN r.summary <> '' THEN r.summary ELSE r.description END, r.inherits,
       r.blacklisted, r.skip_reason, r.unevaluated
FROM recipes r WHERE `+where+` ORDER BY `+s.collate(order)+` LIMIT ? OFFSET ?`, append(args, p.Size, p.Offset())...)
	if err != nil {
		return out, fmt.Errorf("recipes of layer branch %d: %w", lbID, err)
	}
	if len(words) == 0 && total >= 0 {
		out.Total = total
		return out, nil
	}
	return out, fillTotal(&out, func(n *int64) error {
		return s.with(ctx).Raw("SELECT COUNT(*) FROM recipes r WHERE "+where, args...).Scan(n).Error
	})
}

// LayerRecipesAll lists every recipe of a layer branch by name, for the CSV
// export.
func (s *Store) LayerRecipesAll(ctx context.Context, lbID int64) ([]Recipe, error) {
	var rs []Recipe
	err := s.with(ctx).Where("layer_branch_id = ?", lbID).Order(s.collate("lower(pn) %[1]s, pv %[1]s DESC, id")).Find(&rs).Error
	return rs, err
}

// LayerMachines, LayerDistros, LayerClasses and LayerAppends list a page of
// what a layer branch holds, by name.
func (s *Store) LayerMachines(ctx context.Context, lbID int64, p Page) (Paged[Machine], error) {
	return pagedBy[Machine](s, ctx, "layer_branch_id = ?", []any{lbID}, "name %[1]s", p)
}

func (s *Store) LayerDistros(ctx context.Context, lbID int64, p Page) (Paged[Distro], error) {
	return pagedBy[Distro](s, ctx, "layer_branch_id = ?", []any{lbID}, "name %[1]s", p)
}

func (s *Store) LayerClasses(ctx context.Context, lbID int64, p Page) (Paged[BBClass], error) {
	return pagedBy[BBClass](s, ctx, "layer_branch_id = ?", []any{lbID}, "name %[1]s, bbclass_type", p)
}

func (s *Store) LayerAppends(ctx context.Context, lbID int64, p Page) (Paged[BBAppend], error) {
	return pagedBy[BBAppend](s, ctx, "layer_branch_id = ?", []any{lbID}, "filename %[1]s, filepath %[1]s", p)
}

// LayerUpdates lists a page of the update runs of a layer on a branch,
// newest first.
func (s *Store) LayerUpdates(ctx context.Context, layerID, branchID int64, p Page) (Paged[LayerUpdate], error) {
	p = p.norm()
	out := Paged[LayerUpdate]{Page: p}
	q := s.with(ctx).Model(&LayerUpdate{}).Where("layer_id = ? AND branch_id = ?", layerID, branchID)
	if err := q.Count(&out.Total).Error; err != nil {
		return out, err
	}
	err := s.with(ctx).Omit("log").Where("layer_id = ? AND branch_id = ?", layerID, branchID).
		Order("started_at DESC, id DESC").Limit(p.Size).Offset(p.Offset()).Find(&out.Items).Error
	return out, err
}

func pagedBy[T any](s *Store, ctx context.Context, where string, args []any, order string, p Page) (Paged[T], error) {
	p = p.norm()
	out := Paged[T]{Page: p}
	err := s.with(ctx).Where(where, args...).Order(s.collate(order) + ", id").Limit(p.Size).Offset(p.Offset()).Find(&out.Items).Error
	if err != nil {
		return out, err
	}
	return out, fillTotal(&out, func(n *int64) error {
		var zero T
		return s.with(ctx).Model(&zero).Where(where, args...).Count(n).Error
	})
}

// collate fills an ORDER BY template: %[1]s becomes a byte-order collation
// on PostgreSQL, so both databases sort text the same way (SQLite compares
// bytes).
func (s *Store) collate(order string) string {
	c := ""
	if s.db.Dialector.Name() == "postgres" {
		c = `COLLATE "C"`
	}
	return strings.TrimSpace(strings.NewReplacer("%[1]s", c).Replace(order))
}

// likeContains is a LIKE pattern matching s anywhere, with LIKE's special
// characters escaped (use with ESCAPE '\').
func likeContains(s string) string {
	return "%" + escapeLike(s) + "%"
}

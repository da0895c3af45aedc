package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Other-distribution comparison (upstream's ClassicRecipe): the rows below
// are written by internal/comparison only; these are its queries.

// Cover statuses, upstream's codes (ClassicRecipe.cover_status).
const (
	CoverUnknown      = "U"
	CoverNotAvailable = "N"
	CoverReplaced     = "R" // covered by a recipe of another name
	CoverBBClassExt   = "P" // provided (BBCLASSEXTEND)
	CoverPackageCfg   = "C" // provided (PACKAGECONFIG)
	CoverDistro       = "S" // distro-specific: not needed
	CoverObsolete     = "O" // not needed
	CoverEquivalent   = "E" // equivalent functionality
	CoverDirect       = "D" // direct match
)

// CoverStatuses lists the statuses in upstream's order with their labels
// and the group each belongs to (covered, provided, notneeded, unknown).
var CoverStatuses = []struct{ Code, Label, Group string }{
	{CoverUnknown, "Unknown", "unknown"},
	{CoverNotAvailable, "Not available", "unknown"},
	{CoverReplaced, "Replaced", "provided"},
	{CoverBBClassExt, "Provided (BBCLASSEXTEND)", "provided"},
	{CoverPackageCfg, "Provided (PACKAGECONFIG)", "provided"},
	{CoverDistro, "Distro-specific", "notneeded"},
	{CoverObsolete, "Obsolete", "notneeded"},
	{CoverEquivalent, "Equivalent functionality", "provided"},
	{CoverDirect, "Direct match", "covered"},
}

// CoverGroups are the four kinds of cover, for filters and statistics.
var CoverGroups = []struct{ Name, Label string }{
	{"covered", "Covered"},
	{"provided", "Provided by another recipe"},
	{"notneeded", "Not needed"},
	{"unknown", "Unknown or not available"},
}

// CoverLabel is a status code's label ("" for an unknown code).
func CoverLabel(code string) string {
	for _, c := range CoverStatuses {
		if c.Code == code {
			return c.Label
		}
	}
	return ""
}

// CoverGroup is the group of a status code.
func CoverGroup(code string) string {
	for _, c := range CoverStatuses {
		if c.Code == code {
			return c.Group
		}
	}
	return ""
}

// groupCodes lists the codes of a group.
func groupCodes(group string) []string {
	var out []string
	for _, c := range CoverStatuses {
		if c.Group == group {
			out = append(out, c.Code)
		}
	}
	return out
}

// ComparisonBranch is what a comparison branch holds beside its Branch row:
// where its packages came from and which release branch they are matched
// against.
type ComparisonBranch struct {
	BranchID      int64 `gorm:"primaryKey;autoIncrement:false"`
	Description   string
	Format        string // deb, rpmspec or csv
	Source        string // the file or directory imported last
	MatchBranchID *int64
	ImportedAt    *time.Time
	ImportedByID  *int64
	MatchedAt     *time.Time
}

// ComparisonPackage is one package of another distribution and its cover.
type ComparisonPackage struct {
	ID                 int64
	BranchID           int64
	Name               string
	Version            string
	Summary            string
	License            string
	Category           string
	Provides           string // space-separated
	Origin             string // where the import read it (file:line)
	CoverStatus        string
	CoverPN            string `gorm:"column:cover_pn"`
	CoverLayerBranchID *int64
	CoverVerified      bool
	CoverComment       string
	MatchRule          string
	NeedsAttention     bool
	Deleted            bool
	UpdatedAt          time.Time
}

// ComparisonCoverChange is one change of a package's cover.
type ComparisonCoverChange struct {
	ID        int64
	PackageID int64
	UserID    *int64
	Origin    string // user, cli or automatic
	OldStatus string
	NewStatus string
	OldCover  string // "pn (layer)"
	NewCover  string
	Verified  bool
	Comment   string
	CreatedAt time.Time
}

// ComparisonEditor is an account that may confirm or change covers.
type ComparisonEditor struct {
	UserID    int64 `gorm:"primaryKey;autoIncrement:false"`
	CreatedAt time.Time
}

func init() {
	Models = append(Models, &ComparisonBranch{}, &ComparisonPackage{}, &ComparisonCoverChange{}, &ComparisonEditor{})
}

// ComparisonInfo is a comparison branch with its figures, for lists.
type ComparisonInfo struct {
	Branch      Branch
	Info        ComparisonBranch
	MatchBranch string // name of the release branch matched against
	Packages    int64
	Covered     int64 // any status but unknown and not available
}

// ComparisonBranches lists the comparison branches by name.
func (s *Store) ComparisonBranches(ctx context.Context) ([]ComparisonInfo, error) {
	var bs []Branch
	if err := s.with(ctx).Where("comparison").Order(s.collate("name %[1]s")).Find(&bs).Error; err != nil {
		return nil, err
	}
	out := make([]ComparisonInfo, 0, len(bs))
	for _, b := range bs {
		ci, err := s.comparisonInfo(ctx, b)
		if err != nil {
			return nil, err
		}
		out = append(out, *ci)
	}
	return out, nil
}

// ComparisonBranchByName finds a comparison branch; a release branch is
// ErrNotFound.
func (s *Store) ComparisonBranchByName(ctx context.Context, name string) (*ComparisonInfo, error) {
	var b Branch
	if err := translate(s.with(ctx).Where("name = ? AND comparison", name).Take(&b).Error); err != nil {
		return nil, err
	}
	return s.comparisonInfo(ctx, b)
}

func (s *Store) comparisonInfo(ctx context.Context, b Branch) (*ComparisonInfo, error) {
	ci := &ComparisonInfo{Branch: b}
	err := s.with(ctx).Where("branch_id = ?", b.ID).Take(&ci.Info).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, err
	}
	if ci.Info.MatchBranchID != nil {
		var mb Branch
		if err := s.with(ctx).Where("id = ?", *ci.Info.MatchBranchID).Take(&mb).Error; err == nil {
			ci.MatchBranch = mb.Name
		}
	}
	var counts struct{ Packages, Covered int64 }
	err = s.with(ctx).Raw(`SELECT COUNT(*) AS packages,
 COALESCE(SUM(CASE WHEN cover_status IN ? THEN 0 ELSE 1 END), 0) AS covered
FROM comparison_packages WHERE branch_id = ? AND NOT deleted`, groupCodes("unknown"), b.ID).Scan(&counts).Error
	ci.Packages, ci.Covered = counts.Packages, counts.Covered
	return ci, err
}

// SaveComparisonBranch inserts or updates a comparison branch's row.
func (s *Store) SaveComparisonBranch(ctx context.Context, cb *ComparisonBranch) error {
	var n int64
	if err := s.with(ctx).Model(&ComparisonBranch{}).Where("branch_id = ?", cb.BranchID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return s.with(ctx).Create(cb).Error
	}
	return s.with(ctx).Model(&ComparisonBranch{}).Where("branch_id = ?", cb.BranchID).Select("*").Updates(cb).Error
}

// ComparisonPackages lists every package of a comparison branch (deleted
// ones too), by name.
func (s *Store) ComparisonPackages(ctx context.Context, branchID int64) ([]ComparisonPackage, error) {
	var out []ComparisonPackage
	err := s.with(ctx).Where("branch_id = ?", branchID).Order(s.collate("name %[1]s")).Find(&out).Error
	return out, err
}

// ComparisonPackage finds a package by id.
func (s *Store) ComparisonPackage(ctx context.Context, id int64) (*ComparisonPackage, error) {
	var p ComparisonPackage
	return &p, translate(s.with(ctx).Where("id = ?", id).Take(&p).Error)
}

// InsertComparisonPackages adds packages in batches.
func (s *Store) InsertComparisonPackages(ctx context.Context, ps []ComparisonPackage) error {
	if len(ps) == 0 {
		return nil
	}
	return s.with(ctx).CreateInBatches(ps, 500).Error
}

// SaveComparisonPackage writes a package's columns.
func (s *Store) SaveComparisonPackage(ctx context.Context, p *ComparisonPackage) error {
	p.UpdatedAt = time.Now().UTC()
	return s.with(ctx).Save(p).Error
}

// AddCoverChange records a change of a cover.
func (s *Store) AddCoverChange(ctx context.Context, c *ComparisonCoverChange) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now().UTC()
	}
	return s.with(ctx).Create(c).Error
}

// AddCoverChanges records changes in batches.
func (s *Store) AddCoverChanges(ctx context.Context, cs []ComparisonCoverChange) error {
	if len(cs) == 0 {
		return nil
	}
	now := time.Now().UTC()
	for i := range cs {
		if cs[i].CreatedAt.IsZero() {
			cs[i].CreatedAt = now
		}
	}
	return s.with(ctx).CreateInBatches(cs, 500).Error
}

// CoverChangeRow is a change with the name of who made it.
type CoverChangeRow struct {
	ComparisonCoverChange
	UserName string
}

// CoverChanges lists a package's cover history, newest first.
func (s *Store) CoverChanges(ctx context.Context, packageID int64) ([]CoverChangeRow, error) {
	var out []CoverChangeRow
	err := s.with(ctx).Raw(`SELECT c.*, COALESCE(NULLIF(u.name, ''), u.email, '') AS user_name
FROM comparison_cover_changes c LEFT JOIN users u ON u.id = c.user_id
WHERE c.package_id = ? ORDER BY c.created_at DESC, c.id DESC`, packageID).Scan(&out).Error
	return out, err
}

// MatchRecipe is what the matcher knows of a recipe of the match branch.
type MatchRecipe struct {
	ID              int64
	PN              string `gorm:"column:pn"`
	PV              string `gorm:"column:pv"`
	Provides        string
	BBClassExtend   string `gorm:"column:bbclassextend"`
	Summary         string
	License         string
	LayerBranchID   int64
	LayerName       string
	IndexPreference int
	LayerType       string
}

// MatchRecipes lists the recipes of a release branch's published layers.
func (s *Store) MatchRecipes(ctx context.Context, branchID int64) ([]MatchRecipe, error) {
	var out []MatchRecipe
	err := s.with(ctx).Raw(`SELECT r.id, r.pn, r.pv, r.provides, r.bbclassextend, r.summary, r.license, r.layer_branch_id,
 l.name AS layer_name, l.index_preference, l.layer_type
FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id JOIN layers l ON l.id = lb.layer_id
WHERE lb.branch_id = ? AND l.status IN ? AND NOT l.comparison ORDER BY r.id`, branchID, publishedStatuses).Scan(&out).Error
	return out, err
}

// CoverRecipe finds the covering recipe of a package: cover_pn in its
// layer branch, else on the layer branch's branch by layer preference.
func (s *Store) CoverRecipe(ctx context.Context, p *ComparisonPackage) (*MatchRecipe, error) {
	if p.CoverPN == "" || p.CoverLayerBranchID == nil {
		return nil, ErrNotFound
	}
	var out []MatchRecipe
	err := s.with(ctx).Raw(`SELECT r.id, r.pn, r.pv, r.provides, r.bbclassextend, r.summary, r.license, r.layer_branch_id,
 l.name AS layer_name, l.index_preference, l.layer_type
FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id JOIN layers l ON l.id = lb.layer_id
WHERE r.layer_branch_id = ? AND r.pn = ? ORDER BY r.id LIMIT 1`, *p.CoverLayerBranchID, p.CoverPN).Scan(&out).Error
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return &out[0], nil
}

// ComparisonFilter selects packages of a comparison branch.
type ComparisonFilter struct {
	Query          string // in the name or summary
	Category       string
	Status         string // a code, a group name, "!" (unknown or not available) or "#" (the others)
	Verified       string // "yes", "no" or ""
	NeedsAttention bool
	Page           Page // Size 0 with Number 0: every row
}

// ComparisonRow is a package with its covering recipe's id and layer.
type ComparisonRow struct {
	ComparisonPackage
	CoverRecipeID *int64
	CoverLayer    string
	CoverPV       string `gorm:"column:cover_pv"`
}

// SearchComparison lists the packages of a comparison branch that match f,
// by name.
func (s *Store) SearchComparison(ctx context.Context, branchID int64, f ComparisonFilter, all bool) (Paged[ComparisonRow], error) {
	where := []string{"p.branch_id = ?", "NOT p.deleted"}
	args := []any{branchID}
	if q := strings.ToLower(strings.TrimSpace(f.Query)); q != "" {
		where = append(where, `(lower(p.name) LIKE ? ESCAPE '\' OR lower(p.summary) LIKE ? ESCAPE '\')`)
		args = append(args, likeContains(q), likeContains(q))
	}
	if f.Category != "" {
		where = append(where, "p.category = ?")
		args = append(args, f.Category)
	}
	switch st := f.Status; {
	case st == "":
	case st == "!":
		where = append(where, "p.cover_status IN ?")
		args = append(args, groupCodes("unknown"))
	case st == "#":
		where = append(where, "p.cover_status NOT IN ?")
		args = append(args, groupCodes("unknown"))
	case CoverLabel(st) != "":
		where = append(where, "p.cover_status = ?")
		args = append(args, st)
	default:
		codes := groupCodes(st)
		if len(codes) == 0 {
			codes = []string{"-"} // no such group: nothing
		}
		where = append(where, "p.cover_status IN ?")
		args = append(args, codes)
	}
	switch f.Verified {
	case "yes":
		where = append(where, "p.cover_verified")
	case "no":
		where = append(where, "NOT p.cover_verified")
	}
	if f.NeedsAttention {
		where = append(where, "p.needs_attention")
	}
	cond := strings.Join(where, " AND ")
	out := Paged[ComparisonRow]{Page: f.Page.norm()}
	if err := s.with(ctx).Raw("SELECT COUNT(*) FROM comparison_packages p WHERE "+cond, args...).Scan(&out.Total).Error; err != nil {
		return out, err
	}
	q := `SELECT p.*, (SELECT MIN(r.id) FROM recipes r WHERE r.layer_branch_id = p.cover_layer_branch_id AND r.pn = p.cover_pn) AS cover_recipe_id,
 (SELECT MIN(r.pv) FROM recipes r WHERE r.layer_branch_id = p.cover_layer_branch_id AND r.pn = p.cover_pn) AS cover_pv,
 COALESCE(l.name, '') AS cover_layer
FROM comparison_packages p LEFT JOIN layer_branches lb ON lb.id = p.cover_layer_branch_id LEFT JOIN layers l ON l.id = lb.layer_id
WHERE ` + cond + " ORDER BY " + s.collate("p.name %[1]s")
	if !all {
		q += " LIMIT ? OFFSET ?"
		args = append(args, out.Page.Size, out.Page.Offset())
	}
	err := s.with(ctx).Raw(q, args...).Scan(&out.Items).Error
	return out, err
}

// ComparisonCategories lists the categories of a comparison branch's
// packages.
func (s *Store) ComparisonCategories(ctx context.Context, branchID int64) ([]string, error) {
	var out []string
	err := s.with(ctx).Raw(`SELECT category FROM comparison_packages WHERE branch_id = ? AND NOT deleted AND category <> ''
GROUP BY category ORDER BY `+s.collate("category %[1]s"), branchID).Scan(&out).Error
	return out, err
}

// ComparisonCount is a value and how many rows have it.
type ComparisonCount struct {
	Value string
	N     int64
}

// ComparisonStatusCounts counts a comparison branch's packages per status.
func (s *Store) ComparisonStatusCounts(ctx context.Context, branchID int64) ([]ComparisonCount, error) {
	var out []ComparisonCount
	err := s.with(ctx).Raw(`SELECT cover_status AS value, COUNT(*) AS n FROM comparison_packages
WHERE branch_id = ? AND NOT deleted GROUP BY cover_status`, branchID).Scan(&out).Error
	return out, err
}

// ComparisonUncoveredCategories counts the packages without a cover
// (unknown or not available) per category, largest first.
func (s *Store) ComparisonUncoveredCategories(ctx context.Context, branchID int64, limit int) ([]ComparisonCount, error) {
	var out []ComparisonCount
	err := s.with(ctx).Raw(`SELECT category AS value, COUNT(*) AS n FROM comparison_packages
WHERE branch_id = ? AND NOT deleted AND cover_status IN ? GROUP BY category ORDER BY n DESC, `+s.collate("category %[1]s")+` LIMIT ?`,
		branchID, groupCodes("unknown"), limit).Scan(&out).Error
	return out, err
}

// IsComparisonEditor reports whether a user was made a comparison editor.
func (s *Store) IsComparisonEditor(ctx context.Context, userID int64) (bool, error) {
	var n int64
	err := s.with(ctx).Model(&ComparisonEditor{}).Where("user_id = ?", userID).Count(&n).Error
	return n > 0, err
}

// SetComparisonEditor grants (on) or takes back the permission.
func (s *Store) SetComparisonEditor(ctx context.Context, userID int64, on bool) error {
	if !on {
		return s.with(ctx).Where("user_id = ?", userID).Delete(&ComparisonEditor{}).Error
	}
	ok, err := s.IsComparisonEditor(ctx, userID)
	if err != nil || ok {
		return err
	}
	return s.with(ctx).Create(&ComparisonEditor{UserID: userID, CreatedAt: time.Now().UTC()}).Error
}

// TouchBranch marks a comparison branch as changed (upstream's
// Branch.updated): the index's version moves with it, so cached pages that
// show covers (a recipe's page, the comparison's) are rendered again.
func (s *Store) TouchBranch(ctx context.Context, branchID int64) error {
	return s.with(ctx).Model(&Branch{}).Where("id = ? AND comparison", branchID).Update("updated_at", time.Now().UTC()).Error
}

// CoveredPackage is a comparison package a recipe covers.
type CoveredPackage struct {
	ID          int64
	Name        string
	Version     string
	CoverStatus string
	Branch      string
}

// AnyCoveredPackages tells whether any comparison package has a cover.
func (s *Store) AnyCoveredPackages(ctx context.Context) (bool, error) {
	var n []int64
	err := s.with(ctx).Raw(`SELECT 1 FROM comparison_packages WHERE cover_layer_branch_id IS NOT NULL AND NOT deleted LIMIT 1`).Scan(&n).Error
	return len(n) > 0, err
}

// PackagesCoveredBy lists the comparison packages (of any comparison) whose
// cover is this recipe, at most limit.
func (s *Store) PackagesCoveredBy(ctx context.Context, layerBranchID int64, pn string, limit int) ([]CoveredPackage, error) {
	// Every recipe page runs this: a prepared statement (pageRows), rows
	// scanned here, not by GORM's reflective Scan.
	rows, err := s.pageRows(ctx, `SELECT p.id, p.name, p.version, p.cover_status, b.name AS branch
FROM comparison_packages p JOIN branches b ON b.id = p.branch_id
WHERE p.cover_layer_branch_id = ? AND p.cover_pn = ? AND NOT p.deleted
ORDER BY `+s.collate("b.name %[1]s")+`, `+s.collate("p.name %[1]s")+` LIMIT ?`, layerBranchID, pn, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CoveredPackage
	for rows.Next() {
		var c CoveredPackage
		if err := rows.Scan(&c.ID, &c.Name, &c.Version, &c.CoverStatus, &c.Branch); err != nil {
			return nil, fmt.Errorf("reading packages covered by %s: %w", pn, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteComparisonBranch removes a comparison branch with its packages,
// covers and history; a release branch is ErrNotFound.
func (s *Store) DeleteComparisonBranch(ctx context.Context, name string) error {
	return s.with(ctx).Transaction(func(tx *gorm.DB) error {
		var b Branch
		if err := translate(tx.Where("name = ? AND comparison", name).Take(&b).Error); err != nil {
			return err
		}
		// Children first: SQLite enforces the cascades only with foreign
		// keys on, and the history is large.
		if err := tx.Exec(`DELETE FROM comparison_cover_changes WHERE package_id IN (SELECT id FROM comparison_packages WHERE branch_id = ?)`, b.ID).Error; err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM comparison_packages WHERE branch_id = ?`, `DELETE FROM comparison_branches WHERE branch_id = ?`,
			`DELETE FROM branches WHERE id = ? AND comparison`} {
			if err := tx.Exec(q, b.ID).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

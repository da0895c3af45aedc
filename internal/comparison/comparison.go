// Package comparison owns the other-distribution comparison (upstream's
// "classic" comparison): importing another distribution's package list (a
// Debian Packages file, RPM spec files, a CSV) into a comparison branch,
// matching each package to the recipe that covers it on a release branch,
// and the covers people confirm or change, with their history. Web
// handlers and the command line parse input, ask the permission policy,
// call one function here and render what it returns; each function is one
// transaction, so both doors have the same effects. Like internal/catalog,
// this package is the only writer of its tables.
package comparison

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"layerindex/internal/catalog"
	"layerindex/internal/store"
)

// Service holds the comparison's rules.
type Service struct {
	db *gorm.DB
	st *store.Store
}

// New makes the service on a database.
func New(db *gorm.DB) *Service { return &Service{db: db, st: store.New(db)} }

// Actor is who changes something: a signed-in user on the web site, or the
// command line (User nil).
type Actor struct {
	User *store.User
}

// CLI is the command line: the operator of the site.
var CLI = Actor{}

func (a Actor) origin() string {
	if a.User == nil {
		return "cli"
	}
	return "user"
}

func (a Actor) userID() *int64 {
	if a.User == nil {
		return nil
	}
	return &a.User.ID
}

// ErrInvalid is input a rule refuses; its message is for the user.
var ErrInvalid = errors.New("invalid")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// ImportRequest is one import of a package list.
type ImportRequest struct {
	Branch      string // comparison branch name: created on first import
	Description string // kept when empty
	MatchBranch string // release branch to match against ("" : the branch's current one, else master)
	Format      string
	Source      string // file or directory name, for the page
	Packages    []Package
}

// ImportResult says what an import did.
type ImportResult struct {
	Branch                    *store.Branch
	Added, Updated, Removed   int
	Unchanged                 int
	Matched                   MatchResult
	VerifiedNeedingAttention  int
	PackagesBefore, PackagesN int
}

// MatchResult counts what a matching run did.
type MatchResult struct {
	Changed   int // covers the matcher changed
	Attention int // verified covers whose recipe is gone
}

// Import stores a parsed package list as a comparison branch, creating the
// branch on the first import, and matches it. A re-import updates the
// packages by name: new ones are added, those no longer listed are marked
// deleted (their covers are kept, should they come back), and a package
// whose version changed while its cover was verified needs attention.
// Covers set by people are never changed by the matcher.
func (s *Service) Import(ctx context.Context, a Actor, req ImportRequest) (*ImportResult, error) {
	req.Branch = strings.TrimSpace(req.Branch)
	if err := checkBranchName(req.Branch); err != nil {
		return nil, err
	}
	switch req.Format {
	case FormatDeb, FormatRPMSpec, FormatCSV:
	default:
		return nil, invalid("unknown format %q (deb, rpmspec or csv)", req.Format)
	}
	if len(req.Packages) == 0 {
		return nil, invalid("the list holds no packages")
	}
	if len(req.Packages) > MaxPackages {
		return nil, invalid("more than %d packages", MaxPackages)
	}
	req.Description = text(req.Description)
	res := &ImportResult{PackagesN: len(req.Packages)}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		st := store.Tx(tx)
		b, info, err := s.branchFor(ctx, st, req)
		if err != nil {
			return err
		}
		res.Branch = b
		now := time.Now().UTC()
		info.Format, info.Source, info.ImportedAt, info.ImportedByID = req.Format, clip(req.Source, 200), &now, a.userID()
		if req.Description != "" {
			info.Description = req.Description
		}
		if err := st.SaveComparisonBranch(ctx, info); err != nil {
			return err
		}
		old, err := st.ComparisonPackages(ctx, b.ID)
		if err != nil {
			return err
		}
		res.PackagesBefore = len(old)
		byName := make(map[string]*store.ComparisonPackage, len(old))
		for i := range old {
			byName[old[i].Name] = &old[i]
		}
		var fresh []store.ComparisonPackage
		listed := make(map[string]bool, len(req.Packages))
		for _, p := range req.Packages {
			listed[p.Name] = true
			prov := strings.Join(p.Provides, " ")
			cur := byName[p.Name]
			if cur == nil {
				fresh = append(fresh, store.ComparisonPackage{BranchID: b.ID, Name: p.Name, Version: p.Version, Summary: p.Summary,
					License: p.License, Category: p.Category, Provides: prov, Origin: p.Origin, CoverStatus: store.CoverUnknown,
					UpdatedAt: now})
				continue
			}
			if cur.Version == p.Version && cur.Summary == p.Summary && cur.License == p.License && cur.Category == p.Category &&
				cur.Provides == prov && cur.Origin == p.Origin && !cur.Deleted {
				res.Unchanged++
				continue
			}
			if cur.Version != p.Version && cur.CoverVerified {
				cur.NeedsAttention = true
				res.VerifiedNeedingAttention++
			}
			cur.Version, cur.Summary, cur.License, cur.Category, cur.Provides, cur.Origin, cur.Deleted =
				p.Version, p.Summary, p.License, p.Category, prov, p.Origin, false
			if err := st.SaveComparisonPackage(ctx, cur); err != nil {
				return err
			}
			res.Updated++
		}
		for i := range old {
			if !listed[old[i].Name] && !old[i].Deleted {
				old[i].Deleted = true
				if err := st.SaveComparisonPackage(ctx, &old[i]); err != nil {
					return err
				}
				res.Removed++
			}
		}
		// New packages are matched before they are stored: one insert
		// each, not an insert and an update.
		ix, err := s.matchIndex(ctx, st, info)
		if err != nil {
			return err
		}
		var changes []store.ComparisonCoverChange
		var changed []int
		for i := range fresh {
			if _, change := ix.decide(&fresh[i]); change != nil {
				changes = append(changes, *change)
				changed = append(changed, i)
			}
		}
		if err := st.InsertComparisonPackages(ctx, fresh); err != nil {
			return err
		}
		skip := make(map[int64]bool, len(fresh))
		for i := range fresh {
			skip[fresh[i].ID] = true
		}
		for j, i := range changed {
			changes[j].PackageID = fresh[i].ID
		}
		if err := st.AddCoverChanges(ctx, changes); err != nil {
			return err
		}
		res.Added = len(fresh)
		res.Matched, err = s.match(ctx, st, b.ID, info, ix, skip)
		res.Matched.Changed += len(changes)
		if err != nil {
			return err
		}
		return st.TouchBranch(ctx, b.ID)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// branchFor finds or creates the comparison branch of an import. A name
// that is a release branch is refused.
func (s *Service) branchFor(ctx context.Context, st *store.Store, req ImportRequest) (*store.Branch, *store.ComparisonBranch, error) {
	b, err := st.BranchByName(ctx, req.Branch)
	switch {
	case errors.Is(err, store.ErrNotFound):
		b = &store.Branch{Name: req.Branch, BitbakeBranch: "", ShortDescription: clip(req.Description, 50), Comparison: true, Hidden: true}
		if err := st.CreateBranch(ctx, b); err != nil {
			return nil, nil, fmt.Errorf("creating comparison branch %s: %w", req.Branch, err)
		}
	case err != nil:
		return nil, nil, err
	case !b.Comparison:
		return nil, nil, invalid("%s is a release branch; choose another name for the comparison", req.Branch)
	}
	ci, err := st.ComparisonBranchByName(ctx, b.Name)
	if err != nil {
		return nil, nil, err
	}
	info := ci.Info
	info.BranchID = b.ID
	if req.MatchBranch != "" || info.MatchBranchID == nil {
		name := req.MatchBranch
		if name == "" {
			name = "master"
		}
		mb, err := st.BranchByName(ctx, name)
		if errors.Is(err, store.ErrNotFound) || (err == nil && mb.Comparison) {
			return nil, nil, invalid("no release branch %s to match against", name)
		} else if err != nil {
			return nil, nil, err
		}
		info.MatchBranchID = &mb.ID
	}
	return b, &info, nil
}

// Match runs the matcher again on a comparison branch (after the index of
// its match branch changed): covers people set are kept.
func (s *Service) Match(ctx context.Context, a Actor, branch string) (MatchResult, error) {
	var res MatchResult
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		st := store.Tx(tx)
		ci, err := st.ComparisonBranchByName(ctx, branch)
		if errors.Is(err, store.ErrNotFound) {
			return invalid("no comparison branch %s", branch)
		} else if err != nil {
			return err
		}
		info := ci.Info
		if res, err = s.match(ctx, st, ci.Branch.ID, &info, nil, nil); err != nil {
			return err
		}
		return st.TouchBranch(ctx, ci.Branch.ID)
	})
	return res, err
}

// matchIndex is what the matcher needs of the match branch.
type matchIndex struct {
	m     *Matcher
	lbOK  map[int64]bool   // layer branches with recipes on the match branch
	names map[int64]string // layer names by layer branch, for history entries
}

func (s *Service) matchIndex(ctx context.Context, st *store.Store, info *store.ComparisonBranch) (*matchIndex, error) {
	if info.MatchBranchID == nil {
		return nil, invalid("the comparison has no release branch to match against")
	}
	recipes, err := st.MatchRecipes(ctx, *info.MatchBranchID)
	if err != nil {
		return nil, err
	}
	ix := &matchIndex{m: NewMatcher(recipes), lbOK: map[int64]bool{}}
	for _, r := range recipes {
		ix.lbOK[r.LayerBranchID] = true
	}
	ix.names, err = s.layerNames(ctx, st)
	return ix, err
}

// decide applies the matcher to a package nobody verified: it returns
// whether the row changed and, when its cover changed, the history entry
// (without the package id for a package not stored yet).
func (ix *matchIndex) decide(p *store.ComparisonPackage) (bool, *store.ComparisonCoverChange) {
	got := ix.m.Match(&Package{Name: p.Name, Provides: strings.Fields(p.Provides), Category: p.Category})
	same := got.Status == p.CoverStatus && got.PN == p.CoverPN && eqID(got.LayerBranchID, p.CoverLayerBranchID) && got.Rule == p.MatchRule
	if same && (got.Category == "" || p.Category != "") {
		return false, nil
	}
	var change *store.ComparisonCoverChange
	if got.Status != p.CoverStatus || got.PN != p.CoverPN || !eqID(got.LayerBranchID, p.CoverLayerBranchID) {
		change = &store.ComparisonCoverChange{PackageID: p.ID, Origin: "automatic", OldStatus: p.CoverStatus, NewStatus: got.Status,
			OldCover: coverText(p.CoverPN, p.CoverLayerBranchID, ix.names), NewCover: coverText(got.PN, got.LayerBranchID, ix.names),
			Comment: got.Rule}
	}
	p.CoverStatus, p.CoverPN, p.CoverLayerBranchID, p.MatchRule = got.Status, got.PN, got.LayerBranchID, got.Rule
	if got.Category != "" && p.Category == "" {
		p.Category = got.Category
	}
	return true, change
}

// match is the matcher over a branch's stored packages (but those in
// skip, matched as they were inserted), inside a transaction: a cover
// nobody verified is replaced by what the matcher finds now (with a
// history entry when it changes); a verified cover whose recipe is no
// longer on the match branch needs attention.
func (s *Service) match(ctx context.Context, st *store.Store, branchID int64, info *store.ComparisonBranch, ix *matchIndex, skip map[int64]bool) (MatchResult, error) {
	var res MatchResult
	if ix == nil {
		var err error
		if ix, err = s.matchIndex(ctx, st, info); err != nil {
			return res, err
		}
	}
	ps, err := st.ComparisonPackages(ctx, branchID)
	if err != nil {
		return res, err
	}
	var changes []store.ComparisonCoverChange
	for i := range ps {
		p := &ps[i]
		if p.Deleted || skip[p.ID] {
			continue
		}
		if p.CoverVerified {
			if p.CoverPN != "" && (p.CoverLayerBranchID == nil || !ix.lbOK[*p.CoverLayerBranchID] || ix.m.Recipe(p.CoverPN) == nil) && !p.NeedsAttention {
				p.NeedsAttention = true
				if err := st.SaveComparisonPackage(ctx, p); err != nil {
					return res, err
				}
				res.Attention++
			}
			continue
		}
		changed, change := ix.decide(p)
		if !changed {
			continue
		}
		if err := st.SaveComparisonPackage(ctx, p); err != nil {
			return res, err
		}
		if change != nil {
			changes = append(changes, *change)
		}
	}
	if err := st.AddCoverChanges(ctx, changes); err != nil {
		return res, err
	}
	res.Changed = len(changes)
	now := time.Now().UTC()
	info.MatchedAt = &now
	return res, st.SaveComparisonBranch(ctx, info)
}

// layerNames maps layer branch ids to layer names, for history entries.
func (s *Service) layerNames(ctx context.Context, st *store.Store) (map[int64]string, error) {
	var rows []struct {
		ID   int64
		Name string
	}
	err := st.DB().WithContext(ctx).Raw(`SELECT lb.id, l.name FROM layer_branches lb JOIN layers l ON l.id = lb.layer_id`).Scan(&rows).Error
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, err
}

func coverText(pn string, lb *int64, names map[int64]string) string {
	if pn == "" {
		return ""
	}
	if lb != nil && names[*lb] != "" {
		return pn + " (" + names[*lb] + ")"
	}
	return pn
}

func eqID(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// Cover is a person's decision on a package's cover.
type Cover struct {
	Status  string
	PN      string // the covering recipe on the match branch ("" for none)
	Layer   string // its layer ("" : the layer the matcher would prefer)
	Comment string
}

// statusNeedsRecipe lists the statuses that name a covering recipe.
func statusNeedsRecipe(code string) bool {
	switch code {
	case store.CoverDirect, store.CoverReplaced, store.CoverBBClassExt, store.CoverPackageCfg:
		return true
	}
	return false
}

// SetCover confirms or changes a package's cover: it becomes verified (the
// matcher leaves it alone), no longer needs attention, and the change is
// kept in the package's history. Statuses D, R, P and C need a recipe of
// the match branch; E may name one; the others name none.
func (s *Service) SetCover(ctx context.Context, a Actor, packageID int64, c Cover) (*store.ComparisonPackage, error) {
	c.Status, c.PN, c.Layer = strings.TrimSpace(c.Status), strings.TrimSpace(c.PN), strings.TrimSpace(c.Layer)
	c.Comment = strings.TrimSpace(strings.ToValidUTF8(c.Comment, "\uFFFD"))
	if store.CoverLabel(c.Status) == "" {
		return nil, invalid("choose one of the cover statuses")
	}
	if len(c.Comment) > 2000 {
		return nil, invalid("the comment is longer than 2000 characters")
	}
	if len(c.PN) > maxName || len(c.Layer) > maxName {
		return nil, invalid("recipe and layer names are at most %d characters", maxName)
	}
	if c.PN == "" && statusNeedsRecipe(c.Status) {
		return nil, invalid("%s needs the covering recipe", store.CoverLabel(c.Status))
	}
	switch c.Status {
	case store.CoverUnknown, store.CoverNotAvailable, store.CoverDistro, store.CoverObsolete:
		if c.PN != "" {
			return nil, invalid("%s names no covering recipe; leave the recipe empty", store.CoverLabel(c.Status))
		}
	}
	var out *store.ComparisonPackage
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		st := store.Tx(tx)
		p, err := st.ComparisonPackage(ctx, packageID)
		if err != nil {
			return err
		}
		var info store.ComparisonBranch
		if err := tx.Where("branch_id = ?", p.BranchID).Take(&info).Error; err != nil {
			return fmt.Errorf("comparison branch of package %d: %w", p.ID, err)
		}
		var lbID *int64
		if c.PN != "" {
			if info.MatchBranchID == nil {
				return invalid("the comparison has no release branch to find %s on", c.PN)
			}
			recipes, err := st.MatchRecipes(ctx, *info.MatchBranchID)
			if err != nil {
				return err
			}
			var best *store.MatchRecipe
			for i := range recipes {
				r := &recipes[i]
				if r.PN != c.PN || (c.Layer != "" && r.LayerName != c.Layer) {
					continue
				}
				if best == nil || better(r, best) {
					best = r
				}
			}
			if best == nil {
				where := ""
				if c.Layer != "" {
					where = " in " + c.Layer
				}
				return invalid("no recipe %s%s on the release branch matched against", c.PN, where)
			}
			lbID = &best.LayerBranchID
		}
		names, err := s.layerNames(ctx, st)
		if err != nil {
			return err
		}
		change := &store.ComparisonCoverChange{PackageID: p.ID, UserID: a.userID(), Origin: a.origin(), OldStatus: p.CoverStatus,
			NewStatus: c.Status, OldCover: coverText(p.CoverPN, p.CoverLayerBranchID, names), NewCover: coverText(c.PN, lbID, names),
			Verified: true, Comment: c.Comment}
		p.CoverStatus, p.CoverPN, p.CoverLayerBranchID, p.CoverComment = c.Status, c.PN, lbID, c.Comment
		p.CoverVerified, p.NeedsAttention, p.MatchRule = true, false, ""
		if err := st.SaveComparisonPackage(ctx, p); err != nil {
			return err
		}
		out = p
		if err := st.AddCoverChange(ctx, change); err != nil {
			return err
		}
		return st.TouchBranch(ctx, p.BranchID)
	})
	return out, err
}

// Delete removes a comparison branch with its packages, covers and their
// history.
func (s *Service) Delete(ctx context.Context, a Actor, branch string) error {
	err := s.st.DeleteComparisonBranch(ctx, branch)
	if errors.Is(err, store.ErrNotFound) {
		return invalid("no comparison branch %s", branch)
	}
	return err
}

// SetEditor grants or takes back the comparison editor permission (the
// command line: the site's operator).
func (s *Service) SetEditor(ctx context.Context, email string, on bool) (*store.User, error) {
	u, err := s.st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalid("no account with email %s", email)
	} else if err != nil {
		return nil, err
	}
	return u, s.st.SetComparisonEditor(ctx, u.ID, on)
}

// checkBranchName applies the release branches' rule for names (they
// share the namespace and the URLs).
func checkBranchName(name string) error {
	if err := catalog.CheckBranchName(name); err != nil {
		return invalid("comparison branch name: %v", err)
	}
	return nil
}

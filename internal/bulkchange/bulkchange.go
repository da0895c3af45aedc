package bulkchange

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"layerindex/internal/gitrepo"
	"layerindex/internal/store"
)

// Service holds the rules of bulk changes: every read and write is scoped
// to the changeset's owner, so another user's changeset is not found.
type Service struct {
	st    *store.Store
	repos *gitrepo.Cache // nil: no patches
}

// New makes the service; repos reads the layers' repositories for patches.
func New(st *store.Store, repos *gitrepo.Cache) *Service { return &Service{st: st, repos: repos} }

// ErrNoRepos means the process has no repository cache to make patches.
var ErrNoRepos = errors.New("this server has no repository cache to make patches from")

// MaxName bounds a changeset's name; MaxRecipes a changeset's size.
const (
	MaxName    = 200
	MaxRecipes = 1000
	maxValue   = 4000
)

// Create makes a changeset for a user.
func (s *Service) Create(ctx context.Context, userID int64, name string) (*store.RecipeChangeset, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > MaxName {
		return nil, fmt.Errorf("%w: a changeset needs a name of at most %d characters", ErrInvalid, MaxName)
	}
	cs := &store.RecipeChangeset{UserID: userID, Name: name}
	return cs, s.st.CreateChangeset(ctx, cs)
}

// ErrInvalid is a refused input; its message is for the user.
var ErrInvalid = errors.New("invalid")

// Get is a user's changeset; another's is store.ErrNotFound.
func (s *Service) Get(ctx context.Context, userID, id int64) (*store.RecipeChangeset, error) {
	return s.st.Changeset(ctx, userID, id)
}

// Add adds recipes to a user's changeset.
func (s *Service) Add(ctx context.Context, userID, id int64, recipeIDs []int64) (int, error) {
	if _, err := s.Get(ctx, userID, id); err != nil {
		return 0, err
	}
	rows, err := s.st.ChangeRows(ctx, id)
	if err != nil {
		return 0, err
	}
	if len(rows)+len(recipeIDs) > MaxRecipes {
		return 0, fmt.Errorf("%w: a changeset holds at most %d recipes", ErrInvalid, MaxRecipes)
	}
	return s.st.AddChanges(ctx, id, recipeIDs)
}

// Remove takes changes out of a user's changeset (all when ids is nil).
func (s *Service) Remove(ctx context.Context, userID, id int64, changeIDs []int64) error {
	if _, err := s.Get(ctx, userID, id); err != nil {
		return err
	}
	return s.st.RemoveChanges(ctx, id, changeIDs)
}

// Save stores edited values in a user's changeset.
func (s *Service) Save(ctx context.Context, userID, id int64, changes []store.RecipeChange) error {
	if _, err := s.Get(ctx, userID, id); err != nil {
		return err
	}
	for i := range changes {
		c := &changes[i]
		for _, v := range []*string{&c.Summary, &c.Description, &c.Section, &c.License, &c.Homepage, &c.Bugtracker} {
			*v = CleanValue(*v)
			if len(*v) > maxValue {
				return fmt.Errorf("%w: values are at most %d characters", ErrInvalid, maxValue)
			}
		}
	}
	return s.st.SaveChanges(ctx, id, changes)
}

// Delete removes a user's changeset.
func (s *Service) Delete(ctx context.Context, userID, id int64) error {
	return s.st.DeleteChangeset(ctx, userID, id)
}

// Value is a change's value of a field; Current the recipe's.
func Value(c *store.RecipeChange, f Field) string {
	switch f.Name {
	case "summary":
		return c.Summary
	case "description":
		return c.Description
	case "section":
		return c.Section
	case "license":
		return c.License
	case "homepage":
		return c.Homepage
	}
	return c.Bugtracker
}

// Current is the indexed value of a field.
func Current(r *store.Recipe, f Field) string {
	return Value(&store.RecipeChange{Summary: r.Summary, Description: r.Description, Section: r.Section,
		License: r.License, Homepage: r.Homepage, Bugtracker: r.Bugtracker}, f)
}

// Changed lists the fields a change alters.
func Changed(row *store.ChangeRow) []Field {
	var out []Field
	for _, f := range Fields {
		if CleanValue(Value(&row.Change, f)) != CleanValue(Current(&row.Recipe, f)) {
			out = append(out, f)
		}
	}
	return out
}

// Note says what the patch does with one field of one recipe.
type Note struct {
	PN, Var, File string
	Done          bool   // the patch changes it
	Message       string // for the user
}

// LayerPatch is the patch of one layer.
type LayerPatch struct {
	Layer, Branch string
	Rev           string // the indexed revision it applies to
	Filename      string
	Patch         string // "" when nothing could be changed
	Notes         []Note
}

// Patches makes one patch per layer of a user's changeset, against each
// layer branch's indexed revision.
func (s *Service) Patches(ctx context.Context, userID, id int64, author Author, now time.Time) (*store.RecipeChangeset, []LayerPatch, error) {
	cs, err := s.Get(ctx, userID, id)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.st.ChangeRows(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	byLB := map[int64][]store.ChangeRow{}
	var order []int64
	for _, r := range rows {
		if len(Changed(&r)) == 0 {
			continue
		}
		if _, ok := byLB[r.LayerBranch.ID]; !ok {
			order = append(order, r.LayerBranch.ID)
		}
		byLB[r.LayerBranch.ID] = append(byLB[r.LayerBranch.ID], r)
	}
	sort.Slice(order, func(i, j int) bool {
		return byLB[order[i]][0].LayerBranch.Layer.Name < byLB[order[j]][0].LayerBranch.Layer.Name
	})
	var out []LayerPatch
	for _, lbID := range order {
		lp, err := s.layerPatch(ctx, byLB[lbID], cs, author, now)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, *lp)
	}
	return cs, out, nil
}

func (s *Service) layerPatch(ctx context.Context, rows []store.ChangeRow, cs *store.RecipeChangeset, author Author, now time.Time) (*LayerPatch, error) {
	lb := rows[0].LayerBranch
	lp := &LayerPatch{Layer: lb.Layer.Name, Branch: lb.Branch.Name, Rev: lb.VCSLastRev,
		Filename: safeName(lb.Layer.Name) + "_" + safeName(lb.Branch.Name) + ".patch"}
	if s.repos == nil {
		return nil, ErrNoRepos
	}
	if lb.VCSLastRev == "" {
		return nil, fmt.Errorf("%w: %s is not indexed on %s yet", ErrInvalid, lb.Layer.Name, lb.Branch.Name)
	}
	repo, err := s.repos.Cached(ctx, lb.Layer.VCSURL)
	if err != nil {
		return nil, fmt.Errorf("opening %s's repository: %w", lb.Layer.Name, err)
	}
	tree, err := repo.Tree(lb.VCSLastRev, "")
	if err != nil {
		return nil, fmt.Errorf("reading %s at %s: %w", lb.Layer.Name, lb.VCSLastRev, err)
	}
	files := map[string]*FileEdit{}
	read := func(p string) (*FileEdit, error) {
		if f := files[p]; f != nil {
			return f, nil
		}
		b, err := tree.ReadFile(p)
		if err != nil {
			return nil, err
		}
		f := &FileEdit{Path: p, Old: string(b), New: string(b)}
		files[p] = f
		return f, nil
	}
	subdir := strings.Trim(lb.VCSSubdir, "/")
	var pns []string
	for _, row := range rows {
		r := row.Recipe
		recipePath := path.Join(subdir, r.Filepath, r.Filename)
		deps, err := s.st.RecipeFileDeps(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		var incs []string
		for _, d := range deps {
			if strings.HasSuffix(d, ".inc") && (subdir == "" || strings.HasPrefix(d, subdir+"/")) {
				incs = append(incs, d)
			}
		}
		pns = append(pns, r.PN)
		for _, f := range Changed(&row) {
			n := Note{PN: r.PN, Var: f.Var}
			value := CleanValue(Value(&row.Change, f))
			rf, err := read(recipePath)
			if err != nil {
				n.Message = "the recipe file could not be read at the indexed revision: " + err.Error()
				lp.Notes = append(lp.Notes, n)
				continue
			}
			nv, outcome := setVar(rf.New, f.Var, value)
			if outcome == Edited {
				rf.New, n.File, n.Done = nv, recipePath, true
				n.Message = "set in the recipe"
				lp.Notes = append(lp.Notes, n)
				continue
			}
			if outcome == Computed {
				n.File = recipePath
				n.Message = "not changed: the recipe computes or appends to " + f.Var + "; edit it by hand"
				lp.Notes = append(lp.Notes, n)
				continue
			}
			found := false
			for _, inc := range incs {
				ifile, err := read(inc)
				if err != nil {
					continue
				}
				nv, outcome := setVar(ifile.New, f.Var, value)
				if outcome == Missing {
					continue
				}
				found, n.File = true, inc
				if outcome == Edited {
					ifile.New, n.Done = nv, true
					n.Message = "set in " + path.Base(inc) + ", which the recipe includes (other recipes including it change too)"
				} else {
					n.Message = "not changed: " + path.Base(inc) + " computes or appends to " + f.Var + "; edit it by hand"
				}
				break
			}
			if !found {
				rf.New, n.File, n.Done = addVar(rf.New, f.Var, value), recipePath, true
				n.Message = "added to the recipe: neither it nor its .inc files set " + f.Var + ", so the current value comes from a class or a default"
			}
			lp.Notes = append(lp.Notes, n)
		}
	}
	var edits []FileEdit
	for _, f := range files {
		if f.New != f.Old {
			edits = append(edits, *f)
		}
	}
	if len(edits) == 0 {
		return lp, nil
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].Path < edits[j].Path })
	sort.Strings(pns)
	subject := "Update recipe metadata"
	if len(pns) <= 3 {
		subject = strings.Join(pns, ", ") + ": update recipe metadata"
	}
	var body strings.Builder
	fmt.Fprintf(&body, "Bulk change %q of the layer index.\n\n", cs.Name)
	for _, n := range lp.Notes {
		if n.Done {
			fmt.Fprintf(&body, "%s: %s %s\n", n.PN, n.Var, n.Message)
		}
	}
	lp.Patch, err = FormatPatch(lb.VCSLastRev, author, now, subject, body.String(), edits)
	return lp, err
}

// safeName keeps file names to letters, digits, dot, dash and underscore.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

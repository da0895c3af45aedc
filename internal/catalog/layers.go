package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"layerindex/internal/jobs"
	"layerindex/internal/store"
)

// LayerInput is a layer as a form or a command gives it: the layer's
// fields, and its settings on the release branch being submitted or edited.
type LayerInput struct {
	Layer        store.Layer // name, type, summary, description, URLs
	Subdir       string
	ActualBranch string
	Maintainers  []store.LayerMaintainer
	DependsOn    []int64 // layer ids
}

// check applies the rules every stored layer obeys.
func (s *Service) check(ctx context.Context, a Actor, in *LayerInput) error {
	if err := checkFields(in); err != nil {
		return err
	}
	return s.CheckRepositoryURL(ctx, a, in.Layer.VCSURL)
}

// checkFields checks a layer's input apart from its repository URL, whose
// rule depends on who sets it and whether it changes.
func checkFields(in *LayerInput) error {
	in.Layer.Name = strings.TrimSpace(in.Layer.Name)
	in.Layer.VCSURL = strings.TrimSpace(in.Layer.VCSURL)
	for _, err := range []error{CheckLayerName(in.Layer.Name), CheckLayerType(in.Layer.LayerType),
		CheckSubdir(in.Subdir), CheckGitBranch(in.ActualBranch)} {
		if err != nil {
			return err
		}
	}
	if in.Layer.VCSURL == "" {
		return invalid("vcs_url", "This field is required.")
	}
	return nil
}

// Submit stores a layer as new (waiting for review) on the given release
// branches and, in the same transaction, queues the check of its
// repository and a mail to every administrator.
func (s *Service) Submit(ctx context.Context, a Actor, branches []store.Branch, in LayerInput) (*store.Layer, error) {
	var l *store.Layer
	err := s.q.InTx(ctx, func(tx *jobs.Tx) error {
		var err error
		l, err = s.submit(ctx, tx, a, branches, in, true)
		return err
	})
	return l, err
}

// AddLayer is the command line's `layer add`: a submission, or with publish
// a layer published at once (no review, so no mail to administrators; its
// maintainers are told and its update is queued, as a web publish does).
func (s *Service) AddLayer(ctx context.Context, a Actor, branches []store.Branch, in LayerInput, publish bool) (*store.Layer, error) {
	var l *store.Layer
	err := s.q.InTx(ctx, func(tx *jobs.Tx) error {
		var err error
		if l, err = s.submit(ctx, tx, a, branches, in, !publish); err != nil || !publish {
			return err
		}
		return s.publish(ctx, tx, a, l)
	})
	return l, err
}

func (s *Service) submit(ctx context.Context, tx *jobs.Tx, a Actor, branches []store.Branch, in LayerInput, notify bool) (*store.Layer, error) {
	if err := s.check(ctx, a, &in); err != nil {
		return nil, err
	}
	if len(branches) == 0 {
		return nil, errors.New("no release branch to add the layer to")
	}
	l := in.Layer
	l.Status = store.StatusNew
	l.SubmittedByID = a.userID()
	if err := tx.CreateLayer(ctx, &l); err != nil {
		return nil, err
	}
	var names []string
	for _, b := range branches {
		lb := &store.LayerBranch{LayerID: l.ID, BranchID: b.ID, VCSSubdir: in.Subdir, ActualBranch: in.ActualBranch, UpdatesEnabled: true}
		if err := tx.CreateLayerBranch(ctx, lb); err != nil {
			return nil, err
		}
		if err := tx.SetMaintainers(ctx, lb.ID, slices.Clone(in.Maintainers)); err != nil {
			return nil, err
		}
		deps := make([]store.LayerDependency, len(in.DependsOn))
		for i, id := range in.DependsOn {
			deps[i] = store.LayerDependency{DependencyID: id, Required: true}
		}
		if err := tx.SetDependencies(ctx, lb.ID, deps); err != nil {
			return nil, err
		}
		names = append(names, b.Name)
	}
	if err := history(ctx, tx.Store, a, &l, "submitted", "on branch "+strings.Join(names, ", ")); err != nil {
		return nil, err
	}
	if _, err := tx.Enqueue(jobs.ValidateLayerArgs{LayerID: l.ID}, nil); err != nil {
		return nil, err
	}
	if !notify {
		return &l, nil
	}
	admins, err := tx.ActiveAdmins(ctx)
	if err != nil {
		return nil, err
	}
	for _, ad := range admins {
		err := s.EnqueueMail(tx, "submitted", []string{ad.Email}, map[string]any{"Name": ad.Name, "Layer": l.Name,
			"Type": store.LayerTypeLabel(l.LayerType), "By": a.email(), "Summary": l.Summary, "Repository": l.VCSURL, "Link": s.URL("/layerindex/review/" + l.Name + "/")})
		if err != nil {
			return nil, err
		}
	}
	return &l, nil
}

// Publish makes a layer waiting for review public: its maintainers are
// told, and every branch is indexed (new release branches in its
// repository are looked for too). A layer already published or rejected
// gives ErrNotWaiting, so a second click sends no second round of mail.
func (s *Service) Publish(ctx context.Context, a Actor, layerID int64) error {
	return s.q.InTx(ctx, func(tx *jobs.Tx) error {
		l, err := tx.LayerByID(ctx, layerID)
		if err != nil {
			return err
		}
		return s.publish(ctx, tx, a, l)
	})
}

func (s *Service) publish(ctx context.Context, tx *jobs.Tx, a Actor, l *store.Layer) error {
	if err := tx.PublishLayer(ctx, l.ID); errors.Is(err, store.ErrNotFound) {
		return ErrNotWaiting
	} else if err != nil {
		return err
	}
	if err := history(ctx, tx.Store, a, l, "published", ""); err != nil {
		return err
	}
	lbs, err := tx.LayerBranchesOfLayer(ctx, l.ID)
	if err != nil {
		return err
	}
	// The first full index of every branch.
	if _, err := s.queueUpdate(ctx, tx, a, l.ID, lbs, true, true); err != nil {
		return err
	}
	ms, err := tx.MaintainersOfLayer(ctx, l.ID, false)
	if err != nil || len(ms) == 0 {
		return err
	}
	var names, to []string
	for _, m := range ms {
		names = append(names, m.Name)
		to = append(to, m.Email)
	}
	return s.EnqueueMail(tx, "published", to, map[string]any{"Names": joinNames(names), "Layer": l.Name,
		"Link": s.URL(layerLink(l.Name, lbs))})
}

// layerLink is a layer's public page on a branch it is on (not always
// master: a site may have none).
func layerLink(name string, lbs []store.LayerBranch) string {
	for _, lb := range lbs {
		if lb.Branch != nil && lb.Branch.Name == "master" {
			return LayerPath("master", name)
		}
	}
	for _, lb := range lbs {
		if lb.Branch != nil {
			return LayerPath(lb.Branch.Name, name)
		}
	}
	return "/layerindex/layer/" + name + "/"
}

// Reject refuses a layer waiting for review: the submitter and maintainers
// are told why, and the submission is removed.
func (s *Service) Reject(ctx context.Context, a Actor, layerID int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return invalid("reason", "This field is required.")
	}
	return s.q.InTx(ctx, func(tx *jobs.Tx) error {
		l, err := tx.LayerByID(ctx, layerID)
		if err != nil {
			return err
		}
		if l.Status != store.StatusNew {
			return ErrNotWaiting
		}
		ms, err := tx.MaintainersOfLayer(ctx, l.ID, true)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		var to []string
		add := func(e string) {
			if k := store.NormalizeEmail(e); k != "" && !seen[k] {
				seen[k] = true
				to = append(to, e)
			}
		}
		if l.SubmittedByID != nil {
			if u, err := tx.UserByID(ctx, *l.SubmittedByID); err == nil {
				add(u.Email)
			}
		}
		for _, m := range ms {
			add(m.Email)
		}
		if err := history(ctx, tx.Store, a, l, "rejected", reason); err != nil {
			return err
		}
		if err := tx.DeleteLayer(ctx, l.ID); err != nil {
			return err
		}
		return s.EnqueueMail(tx, "rejected", to, map[string]any{"Layer": l.Name, "Repository": l.VCSURL, "Reason": reason})
	})
}

// DeleteLayer removes a layer and everything indexed for it.
func (s *Service) DeleteLayer(ctx context.Context, a Actor, layerID int64) error {
	return s.q.InTx(ctx, func(tx *jobs.Tx) error {
		l, err := tx.LayerByID(ctx, layerID)
		if err != nil {
			return err
		}
		if err := history(ctx, tx.Store, a, l, "deleted", ""); err != nil {
			return err
		}
		return tx.DeleteLayer(ctx, l.ID)
	})
}

// Edited says what an edit changed and what it queued.
type Edited struct {
	Changes []string // one line per change, as the history shows them
	// Requeued lists the layer branches whose update the edit queued: a
	// new repository re-indexes every branch; a new subdirectory, git
	// branch or dependency list re-indexes the edited one.
	Requeued []store.LayerUpdate
	UpdateID int64 // the update request they belong to (0: none)
}

// EditLayer saves a maintainer's or administrator's edit of a layer and of
// its layer branch on one release, with the history entry, a mail to each
// maintainer added (other than the editor), and the re-index the change
// makes necessary — queued, so the public page never shows "not indexed
// yet" above stale recipes with nothing on the way.
func (s *Service) EditLayer(ctx context.Context, a Actor, layerID, branchID int64, in LayerInput) (*Edited, error) {
	if err := checkFields(&in); err != nil {
		return nil, err
	}
	out := &Edited{}
	err := s.q.InTx(ctx, func(tx *jobs.Tx) error {
		l, err := tx.LayerByID(ctx, layerID)
		if err != nil {
			return err
		}
		if err := s.CheckRepositoryURLEdit(ctx, a, l.VCSURL, in.Layer.VCSURL); err != nil {
			return err
		}
		lb, err := tx.LayerBranch(ctx, layerID, branchID)
		if err != nil {
			return err
		}
		oldMs, err := tx.LayerMaintainers(ctx, lb.ID)
		if err != nil {
			return err
		}
		oldDeps, err := tx.Dependencies(ctx, lb.ID)
		if err != nil {
			return err
		}
		in.Layer.ID = l.ID
		e := &store.LayerEdit{Layer: in.Layer, BranchID: lb.ID, Subdir: in.Subdir, Actual: in.ActualBranch,
			Maintainers: slices.Clone(in.Maintainers), DependsOn: in.DependsOn}
		out.Changes = changes(l, &in.Layer, lb, &in)
		var oldIDs []int64
		for _, d := range oldDeps {
			oldIDs = append(oldIDs, d.DependencyID)
		}
		slices.Sort(oldIDs)
		newIDs := slices.Clone(in.DependsOn)
		slices.Sort(newIDs)
		depsChanged := !slices.Equal(oldIDs, newIDs)
		if depsChanged {
			out.Changes = append(out.Changes, "dependencies changed")
		}
		// Upstream forgets to rescan when only the subdirectory or branch
		// changes (its defect #10); any of these makes the next update a
		// full scan here, and queues it.
		e.ResetAllRevs = l.VCSURL != in.Layer.VCSURL
		e.ResetRev = depsChanged || lb.VCSSubdir != in.Subdir || lb.ActualBranch != in.ActualBranch

		added, mchanges := maintainerChanges(oldMs, in.Maintainers, a.email())
		out.Changes = append(out.Changes, mchanges...)
		if err := tx.ApplyLayerEdit(ctx, e); err != nil {
			return err
		}
		if len(out.Changes) == 0 {
			return nil
		}
		nl := in.Layer
		if err := history(ctx, tx.Store, a, &nl, "edited", "branch "+lb.Branch.Name+": "+strings.Join(out.Changes, "; ")); err != nil {
			return err
		}
		if e.ResetAllRevs || e.ResetRev {
			lbs := []store.LayerBranch{*lb}
			if e.ResetAllRevs {
				if lbs, err = tx.LayerBranchesOfLayer(ctx, l.ID); err != nil {
					return err
				}
			}
			if l.Status != store.StatusNew {
				req, err := s.queueUpdate(ctx, tx, a, l.ID, lbs, false, false)
				if err != nil {
					return err
				}
				out.UpdateID = req.Update.ID
				for _, r := range req.Runs {
					out.Requeued = append(out.Requeued, r.Run)
				}
			} else if _, err := tx.Enqueue(jobs.ValidateLayerArgs{LayerID: l.ID}, nil); err != nil {
				// A layer still in review has its repository checked again.
				return err
			}
		}
		allLBs, err := tx.LayerBranchesOfLayer(ctx, l.ID)
		if err != nil {
			return err
		}
		for _, m := range added {
			err := s.EnqueueMail(tx, "maintainer_added", []string{m.Email}, map[string]any{"Name": m.Name, "Layer": nl.Name,
				"By": a.email(), "Link": s.URL(layerLink(nl.Name, allLBs))})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// maintainerChanges compares maintainer lists by address: it returns those
// added (except the editor, who knows) and a history line per change.
func maintainerChanges(oldMs, newMs []store.LayerMaintainer, editor string) (added []store.LayerMaintainer, lines []string) {
	old := map[string]store.LayerMaintainer{}
	for _, m := range oldMs {
		old[store.NormalizeEmail(m.Email)] = m
	}
	for _, m := range newMs {
		k := store.NormalizeEmail(m.Email)
		o, had := old[k]
		switch {
		case !had:
			lines = append(lines, "maintainer added: "+m.Name+" <"+m.Email+">")
			if k != store.NormalizeEmail(editor) {
				added = append(added, m)
			}
		case o.Name != m.Name || o.Responsibility != m.Responsibility || o.Status != m.Status:
			lines = append(lines, "maintainer changed: "+m.Name+" <"+m.Email+">")
		}
		delete(old, k)
	}
	for _, m := range oldMs {
		if _, gone := old[store.NormalizeEmail(m.Email)]; gone {
			lines = append(lines, "maintainer removed: "+m.Name+" <"+m.Email+">")
		}
	}
	return added, lines
}

// changes describes what an edit changed, for the history.
func changes(old, nu *store.Layer, oldLB *store.LayerBranch, in *LayerInput) []string {
	var out []string
	add := func(field, a, b string) {
		if a != b {
			out = append(out, fmt.Sprintf("%s: %q → %q", field, clip(a), clip(b)))
		}
	}
	add("name", old.Name, nu.Name)
	add("type", store.LayerTypeLabel(old.LayerType), store.LayerTypeLabel(nu.LayerType))
	add("summary", old.Summary, nu.Summary)
	add("description", old.Description, nu.Description)
	add("repository", old.VCSURL, nu.VCSURL)
	add("web URL", old.VCSWebURL, nu.VCSWebURL)
	add("tree URL", old.VCSWebTreeBaseURL, nu.VCSWebTreeBaseURL)
	add("file URL", old.VCSWebFileBaseURL, nu.VCSWebFileBaseURL)
	add("commit URL", old.VCSWebCommitURL, nu.VCSWebCommitURL)
	add("usage URL", old.UsageURL, nu.UsageURL)
	add("mailing list", old.MailingListURL, nu.MailingListURL)
	if oldLB != nil {
		add("subdirectory", oldLB.VCSSubdir, in.Subdir)
		add("actual branch", oldLB.ActualBranch, in.ActualBranch)
	}
	return out
}

// SaveNote adds a note to a layer (noteID 0) or edits one.
func (s *Service) SaveNote(ctx context.Context, a Actor, layerID, noteID int64, text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return invalid("text", "This field is required.")
	}
	return s.q.InTx(ctx, func(tx *jobs.Tx) error {
		l, err := tx.LayerByID(ctx, layerID)
		if err != nil {
			return err
		}
		n := &store.LayerNote{LayerID: l.ID}
		action := "note added"
		if noteID != 0 {
			if n, err = tx.LayerNote(ctx, l.ID, noteID); err != nil {
				return err
			}
			action = "note edited"
		}
		n.Text = text
		if err := tx.SaveLayerNote(ctx, n); err != nil {
			return err
		}
		return history(ctx, tx.Store, a, l, action, clip(text))
	})
}

// DeleteNote removes a note of a layer.
func (s *Service) DeleteNote(ctx context.Context, a Actor, layerID, noteID int64) error {
	return s.q.InTx(ctx, func(tx *jobs.Tx) error {
		l, err := tx.LayerByID(ctx, layerID)
		if err != nil {
			return err
		}
		n, err := tx.LayerNote(ctx, l.ID, noteID)
		if err != nil {
			return err
		}
		if err := tx.DeleteLayerNote(ctx, l.ID, n.ID); err != nil {
			return err
		}
		return history(ctx, tx.Store, a, l, "note deleted", clip(n.Text))
	})
}

// AddLayerToBranch puts a layer on another release branch, copying the
// subdirectory and maintainers of its first branch, and queues its index
// when the layer is published. A layer already there gives
// store.ErrConflict.
func (s *Service) AddLayerToBranch(ctx context.Context, a Actor, layerID, branchID int64) (*store.LayerBranch, error) {
	var lb *store.LayerBranch
	err := s.q.InTx(ctx, func(tx *jobs.Tx) error {
		l, err := tx.LayerByID(ctx, layerID)
		if err != nil {
			return err
		}
		b, err := tx.BranchByID(ctx, branchID)
		if err != nil {
			return err
		}
		lbs, err := tx.LayerBranchesOfLayer(ctx, l.ID)
		if err != nil {
			return err
		}
		if len(lbs) == 0 {
			lb = &store.LayerBranch{LayerID: l.ID, BranchID: b.ID, UpdatesEnabled: true}
			if err := tx.CreateLayerBranch(ctx, lb); err != nil {
				return err
			}
			if lb, err = tx.LayerBranchByID(ctx, lb.ID); err != nil {
				return err
			}
		} else if lb, err = tx.CopyLayerBranch(ctx, &lbs[0], b.ID); err != nil {
			return err
		}
		if err := history(ctx, tx.Store, a, l, "branch added", b.Name); err != nil {
			return err
		}
		if l.Status == store.StatusNew {
			return nil
		}
		_, err = s.queueUpdate(ctx, tx, a, l.ID, []store.LayerBranch{*lb}, false, false)
		return err
	})
	return lb, err
}

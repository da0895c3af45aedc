package auth

import (
	"context"

	"layerindex/internal/store"
)

// Action is something a person may or may not do. Every route that changes
// anything asks Policy.Allowed first; nothing else grants rights.
type Action string

// The actions.
const (
	SubmitLayer     Action = "submit a layer"
	ManageAccount   Action = "manage your account"
	EditLayer       Action = "edit this layer"         // fields, branches, maintainers, notes, re-index
	SetBaseType     Action = "mark a layer as Base"    // upstream reserves type A for reviewers
	ReviewLayers    Action = "review submitted layers" // list, publish, reject, delete
	ManageBranches  Action = "manage release branches" // also adds a layer to a branch
	ManageLayerSets Action = "manage layer sets"       // the published bitbake-setup configurations
	ViewHistory     Action = "view the change history"
	ViewOutbox      Action = "view outgoing mail"
	BulkChange      Action = "make bulk changes of recipes"   // own changesets only (internal/bulkchange)
	ManageJobs      Action = "see and manage background jobs" // the River UI dashboard; administrators only
	// ManageCredentials sets, replaces and removes private repositories'
	// credentials (never shown again): administrators only.
	ManageCredentials Action = "manage private repositories' credentials"
	// ImportComparison imports and re-matches other distributions' package
	// lists (upstream's update_comparison_branch): administrators only.
	ImportComparison Action = "import comparison package lists"
	// EditComparison confirms or changes a package's cover (upstream's
	// edit_classic): administrators and comparison editors.
	EditComparison Action = "confirm or change comparison covers"
)

// ComparisonEditors answers whether an account was made a comparison editor
// (`layerindex comparison editor --email E`).
type ComparisonEditors interface {
	IsComparisonEditor(ctx context.Context, userID int64) (bool, error)
}

// MaintainerChecker answers whether an email actively maintains a layer.
type MaintainerChecker interface {
	IsMaintainer(ctx context.Context, layerID int64, email string) (bool, error)
}

// Policy is the one place that decides permissions.
//
//   - anonymous: submit a layer (with a challenge, see NeedsChallenge),
//     except on a closed site;
//   - a registered user (active, verified email): also manage their account;
//   - a maintainer of a layer (verified email equal to an active
//     maintainer's email on any branch of the layer, ignoring case): also
//     edit that layer, its notes and branches, and ask for a re-index;
//   - a comparison editor: also confirm or change the covers of other
//     distributions' packages;
//   - an administrator: everything, for every layer.
type Policy struct {
	Maintainers MaintainerChecker
	Editors     ComparisonEditors
	// Closed is a closed site (a company index): nothing is done
	// anonymously, not even submitting a layer.
	Closed bool
}

// Allowed decides whether who (nil when anonymous) may do act; layer is the
// layer concerned, or nil.
func (p Policy) Allowed(ctx context.Context, who *store.User, act Action, layer *store.Layer) (bool, error) {
	if act == SubmitLayer && !p.Closed {
		return true, nil
	}
	if !SignedIn(who) {
		return false, nil
	}
	if who.IsAdmin {
		return true, nil
	}
	switch act {
	case ManageAccount, SubmitLayer, BulkChange:
		return true, nil
	case EditLayer:
		if layer == nil || p.Maintainers == nil {
			return false, nil
		}
		return p.Maintainers.IsMaintainer(ctx, layer.ID, who.Email)
	case EditComparison:
		if p.Editors == nil {
			return false, nil
		}
		return p.Editors.IsComparisonEditor(ctx, who.ID)
	case SetBaseType:
		return layer != nil && layer.ID != 0 && layer.LayerType == store.TypeBase, nil
	}
	return false, nil
}

// SignedIn reports whether who is a usable account: logins are refused to
// inactive accounts and to unverified emails, and a session whose account
// lost either counts as anonymous.
func SignedIn(who *store.User) bool { return who != nil && who.IsActive && who.Verified }

// NeedsChallenge reports whether a submission must answer the anti-bot
// question: only anonymous ones.
func NeedsChallenge(who *store.User) bool { return !SignedIn(who) }

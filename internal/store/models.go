// Package store holds the index's data types and every query on them. The
// schema itself lives in migrations/ (one folder per dialect); these GORM
// models mirror it column for column, which a test checks.
package store

import "time"

// Layer statuses, as upstream stores them (and the API serves them).
const (
	StatusNew       = "N" // submitted, waiting for review; hidden from lists and the API
	StatusPublished = "P"
	StatusNoUpdate  = "X" // published, but skipped by the periodic refresh
)

// Layer types, as upstream stores them.
const (
	TypeBase     = "A"
	TypeBSP      = "B"
	TypeSoftware = "S"
	TypeDistro   = "D"
	TypeMisc     = "M"
)

// LayerTypes lists the types in upstream's display order with their labels.
var LayerTypes = []struct{ Code, Label string }{
	{TypeBase, "Base"},
	{TypeBSP, "Machine (BSP)"},
	{TypeSoftware, "Software"},
	{TypeDistro, "Distribution"},
	{TypeMisc, "Miscellaneous"},
}

// User is an account. Email is unique case-insensitively.
type User struct {
	ID           int64
	Email        string
	Name         string
	PasswordHash string
	Verified     bool
	IsAdmin      bool
	IsActive     bool
	LastLoginAt  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Session is a web session; Token is the hash of the cookie value.
type Session struct {
	Token  string `gorm:"primaryKey"`
	UserID *int64
	Data   []byte
	Expiry time.Time
}

// Branch is a release series (master, scarthgap, …).
type Branch struct {
	ID               int64
	Name             string
	BitbakeBranch    string
	ShortDescription string
	SortPriority     *int
	UpdatesEnabled   bool
	Comparison       bool
	Hidden           bool
	UpdatedAt        time.Time
}

// YPCompatibleVersion is a "Yocto Project Compatible" badge.
type YPCompatibleVersion struct {
	ID          int64
	Name        string
	Description string
	ImageURL    string `gorm:"column:image_url"`
	LinkURL     string `gorm:"column:link_url"`
}

// Layer is a layer independent of branch.
type Layer struct {
	ID                int64
	Name              string
	Status            string
	LayerType         string
	Summary           string
	Description       string
	VCSURL            string `gorm:"column:vcs_url"`
	VCSWebURL         string `gorm:"column:vcs_web_url"`
	VCSWebTreeBaseURL string `gorm:"column:vcs_web_tree_base_url"`
	VCSWebFileBaseURL string `gorm:"column:vcs_web_file_base_url"`
	VCSWebCommitURL   string `gorm:"column:vcs_web_commit_url"`
	UsageURL          string `gorm:"column:usage_url"`
	MailingListURL    string `gorm:"column:mailing_list_url"`
	IndexPreference   int
	Comparison        bool
	// MasterForCompatible is the maintainers' opt-in: the layer's master
	// layer branch is also indexed under every release its
	// LAYERSERIES_COMPAT names (layer branches with FollowsMaster).
	MasterForCompatible bool
	SubmittedByID       *int64
	ValidationStatus    string // "", "ok" or "failed": the check of a submitted repository
	ValidationLog       string
	ValidatedAt         *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// LayerBranch is one layer on one branch: where it lives in git and what was
// last indexed from it.
type LayerBranch struct {
	ID                    int64
	LayerID               int64
	BranchID              int64
	Collection            string
	Version               string
	VCSSubdir             string `gorm:"column:vcs_subdir"`
	ActualBranch          string
	LocalPath             string
	UpdatesEnabled        bool
	YPCompatibleVersionID *int64     `gorm:"column:yp_compatible_version_id"`
	VCSLastFetch          *time.Time `gorm:"column:vcs_last_fetch"`
	VCSLastRev            string     `gorm:"column:vcs_last_rev"`
	VCSLastCommit         *time.Time `gorm:"column:vcs_last_commit"`
	ParserVersion         string
	ConfigDigest          string // what the configuration was built from at the last index
	UpdatedAt             time.Time
	// SeriesCompat is the layer's LAYERSERIES_COMPAT at the last index and
	// SeriesCorenames a core layer's LAYERSERIES_CORENAMES (space-separated
	// release codenames; see Compatibility).
	SeriesCompat    string
	SeriesCorenames string
	// DeclaredDepends and DeclaredRecommends are the collection names of
	// LAYERDEPENDS and LAYERRECOMMENDS as declared (space-separated),
	// including those no layer on the branch provides.
	DeclaredDepends    string
	DeclaredRecommends string
	// LayerFacts is what the last index read from conf/layer.conf, as
	// JSON naming the tree it was read from (internal/ingest): an update
	// that finds that tree unchanged needs neither the tree nor a parser.
	LayerFacts string
	// FollowsMaster marks a layer branch made for a release by the
	// layer's MasterForCompatible opt-in: it reads the git branch of the
	// layer's master layer branch, and goes away with the opt-in or the
	// release's LAYERSERIES_COMPAT declaration.
	FollowsMaster bool

	Layer  *Layer  `gorm:"foreignKey:LayerID"`
	Branch *Branch `gorm:"foreignKey:BranchID"`
}

// GitBranch is the git branch to read for this layer branch.
func (lb *LayerBranch) GitBranch() string {
	if lb.ActualBranch != "" {
		return lb.ActualBranch
	}
	if lb.Branch != nil {
		return lb.Branch.Name
	}
	return ""
}

// LayerMaintainer is a maintainer of a layer on one branch.
type LayerMaintainer struct {
	ID             int64
	LayerBranchID  int64
	Name           string
	Email          string
	Responsibility string
	Status         string // A active, I inactive
}

// LayerDependency links a layer branch to a layer it needs (LAYERDEPENDS) or
// recommends (LAYERRECOMMENDS); the branch is resolved when used.
type LayerDependency struct {
	ID                int64
	LayerBranchID     int64
	DependencyID      int64
	Required          bool
	VersionConstraint string
}

// LayerNote is a remark shown on a layer's page.
type LayerNote struct {
	ID        int64
	LayerID   int64
	Text      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Recipe is one .bb file of a layer branch as the parser read it.
type Recipe struct {
	ID            int64
	LayerBranchID int64
	Filename      string
	Filepath      string
	PN            string `gorm:"column:pn"`
	PV            string `gorm:"column:pv"`
	PR            string `gorm:"column:pr"`
	PE            string `gorm:"column:pe"`
	Summary       string
	Description   string
	Section       string
	License       string
	Homepage      string
	Bugtracker    string
	Provides      string
	BBClassExtend string `gorm:"column:bbclassextend"`
	Inherits      string
	Blacklisted   string
	ConfigOpts    string `gorm:"column:configopts"`
	SrcRev        string `gorm:"column:srcrev"`
	SkipReason    string
	Unevaluated   int // inline Python the parser could not evaluate
	UpdatedAt     time.Time
	// BranchID is the layer branch's, kept by the database (a trigger of
	// migration 00023) for searches that walk one branch; never written.
	BranchID int64 `gorm:"->"`
	// APIJSON is the column api_json, the row's API object (see
	// AppendRecipeJSON): written by refreshRecipeJSON and read by the dump
	// with SQL of their own, never through GORM (so always empty here).
	APIJSON string `gorm:"column:api_json;->:false"`
}

// RecipeSource is a non-file:// SRC_URI entry.
type RecipeSource struct {
	ID        int64
	RecipeID  int64
	URL       string `gorm:"column:url"`
	SHA256Sum string `gorm:"column:sha256sum"`
}

// RecipeBuildDep is one word of a recipe's DEPENDS.
type RecipeBuildDep struct {
	ID       int64
	RecipeID int64
	Name     string
	BranchID int64 // the recipe's branch: searches look names up per branch
}

// RecipePackageConfig is one PACKAGECONFIG flag of a recipe.
type RecipePackageConfig struct {
	ID            int64
	RecipeID      int64
	Feature       string
	WithOption    string
	WithoutOption string
	BuildDeps     string
}

// RecipePackageConfigDep is one build dependency of a recipe's PACKAGECONFIG
// options (derived from RecipePackageConfig.BuildDeps when stored).
type RecipePackageConfigDep struct {
	ID       int64
	RecipeID int64
	Name     string
	BranchID int64 // the recipe's branch: searches look names up per branch
}

// RecipeInherit is one class a recipe inherits (derived from
// Recipe.Inherits when stored), for inherits: searches.
type RecipeInherit struct {
	ID       int64
	RecipeID int64
	Name     string
	BranchID int64 // the recipe's branch: searches look names up per branch
}

// RecipeFileDep is a file of the repository that a recipe read.
type RecipeFileDep struct {
	ID            int64
	RecipeID      int64
	LayerBranchID int64
	Path          string
}

// RecipeReadDep is a path of the repository that a recipe's Python read,
// tested for or listed (a directory listed ends with "/"). BitBake does
// not count these as file dependencies, so they are not shown or served;
// incremental updates re-parse the recipe when one changes.
type RecipeReadDep struct {
	ID            int64
	RecipeID      int64
	LayerBranchID int64
	Path          string
}

// RecipePatch is a patch a recipe applies, with its Upstream-Status.
type RecipePatch struct {
	ID          int64
	RecipeID    int64
	Path        string
	SrcPath     string
	Status      string
	StatusExtra string
	ApplyOrder  *int
	Applied     bool
	Striplevel  int
}

// Machine is a conf/machine/*.conf of a layer branch.
type Machine struct {
	ID            int64
	LayerBranchID int64
	Name          string
	Description   string
	UpdatedAt     time.Time
}

// Distro is a conf/distro/*.conf of a layer branch.
type Distro struct {
	ID            int64
	LayerBranchID int64
	Name          string
	Description   string
	UpdatedAt     time.Time
}

// BBClass is a .bbclass of a layer branch; BBClassType is "", "Global" or
// "Recipe" for classes/, classes-global/ and classes-recipe/.
type BBClass struct {
	ID            int64
	LayerBranchID int64
	Name          string
	BBClassType   string `gorm:"column:bbclass_type"`
}

// TableName keeps GORM from calling it "bb_classes".
func (BBClass) TableName() string { return "bbclasses" }

// BBAppend is a .bbappend of a layer branch.
type BBAppend struct {
	ID            int64
	LayerBranchID int64
	Filename      string
	Filepath      string
}

// TableName keeps GORM from calling it "bb_appends".
func (BBAppend) TableName() string { return "bbappends" }

// IncFile is a .inc file of a layer branch.
type IncFile struct {
	ID            int64
	LayerBranchID int64
	Path          string
}

// Update run statuses: a run is queued, then running, then ends succeeded
// (a new index stored), unchanged (nothing to parse), failed or cancelled; a
// transient failure puts it back to waiting as retrying until its next
// attempt. internal/catalog owns the transitions.
const (
	UpdateQueued    = "queued"
	UpdateRunning   = "running"
	UpdateRetrying  = "retrying"
	UpdateSucceeded = "succeeded"
	UpdateUnchanged = "unchanged"
	UpdateFailed    = "failed"
	UpdateCancelled = "cancelled"
)

// UpdateFinal reports whether a run status is an end state.
func UpdateFinal(status string) bool {
	switch status {
	case UpdateQueued, UpdateRunning, UpdateRetrying:
		return false
	}
	return true
}

// Origins: what asked for an update.
const (
	OriginRefresh       = "refresh"       // the periodic refresh
	OriginMaintainer    = "maintainer"    // a maintainer on the web site
	OriginAdministrator = "administrator" // an administrator on the web site
	OriginAPI           = "api"           // an API token
	OriginWebhook       = "webhook"       // a repository's push notification
	OriginCLI           = "cli"           // the command line
)

// Update is one request for updates (a periodic refresh, an "Index now", a
// command, an API call): it groups the layer branch runs it queued. Its
// status and end are derived from them.
type Update struct {
	ID            int64
	StartedAt     time.Time
	Reload        bool
	Log           string
	JobID         *int64
	TriggeredByID *int64
	Origin        string `gorm:"default:refresh"`
}

// LayerUpdate is one run of one layer branch's update: its state, attempts,
// outcome and readable log. StartedAt is when it started running (while
// queued, when it was queued).
type LayerUpdate struct {
	ID             int64
	UpdateID       int64
	LayerID        int64
	BranchID       int64
	LayerBranchID  *int64
	StartedAt      time.Time
	FinishedAt     *time.Time
	Status         string
	VCSBeforeRev   string `gorm:"column:vcs_before_rev"`
	VCSAfterRev    string `gorm:"column:vcs_after_rev"`
	RecipesAdded   int
	RecipesChanged int
	RecipesRemoved int
	Errors         int
	Warnings       int
	Log            string
	Origin         string `gorm:"default:refresh"`
	TriggeredByID  *int64
	Force          bool
	Attempt        int
	MaxAttempts    int `gorm:"default:5"`
	NextAttemptAt  *time.Time
	JobID          *int64
	// Reason is the one line that explains a failure (or, while retrying,
	// the last attempt's failure), shown on the layer and review pages.
	Reason string
	// RequestedAt is when a request last queued or joined the run (nil for
	// runs queued before it was recorded): a fetch of the repository begun
	// since then sees every push the requests could be about.
	RequestedAt *time.Time
}

// Final reports whether the run has ended.
func (u *LayerUpdate) Final() bool { return UpdateFinal(u.Status) }

// Duration is how long the run took (0 until it ends).
func (u *LayerUpdate) Duration() time.Duration {
	if u.FinishedAt == nil || u.Status == UpdateQueued {
		return 0
	}
	return u.FinishedAt.Sub(u.StartedAt)
}

// IndexState is the one row that database triggers change with every commit
// touching indexed data; the API derives its ETag and Last-Modified from it.
type IndexState struct {
	ID        int64
	Version   int64
	ChangedAt time.Time
}

// TableName keeps GORM from calling it "index_states".
func (IndexState) TableName() string { return "index_state" }

// Models lists every model, for the schema test.
var Models = []any{
	&User{}, &Session{}, &Branch{}, &YPCompatibleVersion{}, &Layer{}, &LayerBranch{},
	&LayerMaintainer{}, &LayerDependency{}, &LayerNote{}, &Recipe{}, &RecipeSource{},
	&RecipeBuildDep{}, &RecipePackageConfig{}, &RecipePackageConfigDep{}, &RecipeInherit{}, &RecipeFileDep{}, &RecipePatch{},
	&Machine{}, &Distro{}, &BBClass{}, &BBAppend{}, &IncFile{}, &Update{}, &LayerUpdate{},
	&IndexState{},
	&UserToken{}, &AuthAttempt{}, &Mail{}, &LayerChange{}, &APIToken{},
	&RecipeChangeset{}, &RecipeChange{},
	&RecipeEvent{}, &LayerHook{}, &HookDelivery{}, &LayerBranchAlert{}, &AlertOptout{},
	&LayerSet{}, &LayerSetLayer{},
}

// RepoCredential is a private repository's credential for every URL that
// starts with URLPrefix; Secret is sealed (internal/repocreds).
type RepoCredential struct {
	ID        int64
	URLPrefix string
	Kind      string // token, basic or ssh
	Username  string
	Secret    string `json:"-"`
	HostKey   string // ssh: the server's pinned known_hosts line (public)
	CreatedAt time.Time
}

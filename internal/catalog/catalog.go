// Package catalog owns every change of state in the index: a layer's
// submission, the check of its repository, its publication or rejection,
// edits, notes and maintainers, release branches, re-index requests and the
// update runs that follow them. Web handlers, CLI commands and the API
// parse input, ask the permission policy, call one function here and render
// what it returns; each function is one transaction that writes the rows,
// the history entry, the jobs and the mails together, so every front door
// has the same effects.
//
// Update runs are a state machine kept in layer_updates: queued → running →
// succeeded / unchanged / failed / cancelled, with "retrying" between
// attempts after a transient failure. One run at a time per layer branch,
// whatever queued it: a lock held for the run (released by the death of its
// process) and a compare-and-set on the indexed revision.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/gitrepo"
	"layerindex/internal/ingest"
	"layerindex/internal/jobs"
	"layerindex/internal/mail"
	"layerindex/internal/store"
	"layerindex/templates"
)

// Options configures a Service.
type Options struct {
	// SiteName and BaseURL are used in mail (links are absolute).
	SiteName string
	BaseURL  string
	// SecretKey seals queued mail bodies (they may carry links).
	SecretKey string
	// RepoPolicy decides which repository URLs may be used at all.
	RepoPolicy gitrepo.Policy
	// SSHKeys says whether an ssh deploy key is set for an ssh repository
	// URL (repocreds.Source): only then is such a URL accepted. Nil: none.
	SSHKeys interface {
		CoversSSH(ctx context.Context, rawURL string) (bool, error)
	}
	// Indexer and Repos do the work of update runs, discovery and
	// validation; processes that only queue work leave them nil.
	Indexer *ingest.Indexer
	Repos   *gitrepo.Cache
	Logger  *slog.Logger
	// Timing spaces update attempts (tests shorten it).
	Timing Timing
	// StaleAfter is how long a layer branch may go without a successful
	// update before it is stale (default DefaultStaleAfter).
	StaleAfter time.Duration
}

// DefaultStaleAfter is Options.StaleAfter's default (--stale-days 30).
const DefaultStaleAfter = 30 * 24 * time.Hour

// Service is the index's domain core.
type Service struct {
	db     *db.DB
	store  *store.Store
	q      *jobs.Queue
	mails  *mail.Templates
	sealer *mail.Sealer
	opts   Options
	log    *slog.Logger
}

// New builds the service on d and q and makes it q's job handler.
func New(d *db.DB, q *jobs.Queue, opts Options) (*Service, error) {
	if opts.SiteName == "" {
		opts.SiteName = "OpenEmbedded Layer Index"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SecretKey == "" {
		return nil, errors.New("catalog: a secret key is needed to seal queued mail")
	}
	sealer, err := mail.NewSealer(opts.SecretKey)
	if err != nil {
		return nil, err
	}
	mails, err := mail.LoadTemplates(templates.FS, mail.Site{Name: opts.SiteName, BaseURL: strings.TrimRight(opts.BaseURL, "/")})
	if err != nil {
		return nil, err
	}
	s := &Service{db: d, store: store.New(d.Gorm), q: q, mails: mails, sealer: sealer, opts: opts, log: opts.Logger}
	q.SetHandler(s)
	return s, nil
}

// Queue is the job queue the service writes to.
func (s *Service) Queue() *jobs.Queue { return s.q }

// Actor is who asks for a change, and through which door.
type Actor struct {
	// User is the signed-in account; nil for an anonymous submission, the
	// command line and the periodic refresh.
	User *store.User
	// Origin is the door: store.OriginMaintainer or OriginAdministrator
	// (the web site), OriginAPI, OriginWebhook, OriginCLI, OriginRefresh.
	Origin string
}

// Web is the actor for a request on the web site by u (nil: anonymous).
func Web(u *store.User) Actor {
	if u != nil && u.IsAdmin {
		return Actor{User: u, Origin: store.OriginAdministrator}
	}
	return Actor{User: u, Origin: store.OriginMaintainer}
}

// API is the actor for a request authenticated by u's API token.
func API(u *store.User) Actor { return Actor{User: u, Origin: store.OriginAPI} }

// CLI is the command line: the operator of the site.
var CLI = Actor{Origin: store.OriginCLI}

// administers tells whether the actor acts as an administrator of the site
// (the command line does).
func (a Actor) administers() bool {
	return a.Origin == store.OriginCLI || (a.User != nil && a.User.IsAdmin)
}

func (a Actor) userID() *int64 {
	if a.User == nil {
		return nil
	}
	return &a.User.ID
}

func (a Actor) email() string {
	if a.User == nil {
		return ""
	}
	return a.User.Email
}

// InvalidError is input a rule refuses; Field names the form field (for a
// front door to show it beside) and Msg says why, as a sentence.
type InvalidError struct {
	Field string
	Msg   string
}

func (e *InvalidError) Error() string { return e.Msg }

func invalid(field, format string, a ...any) error {
	return &InvalidError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// ErrNotWaiting is returned when a layer is no longer waiting for review
// (another administrator published or rejected it first).
var ErrNotWaiting = errors.New("the layer is not waiting for review")

// CheckRepositoryURL applies the repository URL rules for an actor: the
// site's policy (https, no credentials, no private addresses…), and local
// repositories (file:// or paths, which read the server's own disk) only
// for administrators and the command line, whatever the policy allows;
// ssh URLs only where an administrator has set a deploy key for them.
func (s *Service) CheckRepositoryURL(ctx context.Context, a Actor, raw string) error {
	raw = strings.TrimSpace(raw)
	if len(raw) > maxURL {
		return invalid("vcs_url", "At most %d characters, please.", maxURL)
	}
	if gitrepo.IsLocal(raw) && !a.administers() {
		return invalid("vcs_url", "This repository URL cannot be used: local repositories can only be set by administrators.")
	}
	if _, err := s.opts.RepoPolicy.CheckURL(raw); err != nil {
		return invalid("vcs_url", "This repository URL cannot be used: %s.", strings.TrimPrefix(err.Error(), "repository URL refused: "))
	}
	if gitrepo.IsSSH(raw) {
		covered := false
		if s.opts.SSHKeys != nil {
			var err error
			if covered, err = s.opts.SSHKeys.CoversSSH(ctx, raw); err != nil {
				return err
			}
		}
		if !covered {
			return invalid("vcs_url", "This repository URL cannot be used: no ssh deploy key is set for its host; use its https:// URL, or ask an administrator to add a key.")
		}
	}
	return nil
}

// CheckRepositoryURLEdit is CheckRepositoryURL for an edit of a layer
// whose repository URL is old: an unchanged URL passes, so that a
// maintainer may save the other fields of a layer an administrator
// pointed at a local mirror (which only administrators may set). Any
// other URL meets the rules in full.
func (s *Service) CheckRepositoryURLEdit(ctx context.Context, a Actor, old, raw string) error {
	if old != "" && strings.TrimSpace(raw) == old {
		return nil
	}
	return s.CheckRepositoryURL(ctx, a, raw)
}

// CheckImportedURL applies the repository URL rules to a URL another
// index advertises (layerindex import): it is that index's word, not an
// administrator's, so a local repository is refused whatever the policy
// allows, and the site's rules for hosts, ports and credentials apply. Its
// scheme may be one the site does not fetch (upstream lists git:// and
// http:// repositories): such a URL is kept, for the layer's page, and the
// fetch refuses it.
func (s *Service) CheckImportedURL(raw string) error {
	raw = strings.TrimSpace(raw)
	if len(raw) > maxURL {
		return invalid("vcs_url", "longer than %d characters", maxURL)
	}
	if gitrepo.IsLocal(raw) {
		return invalid("vcs_url", "a local repository")
	}
	if gitrepo.IsSSH(raw) {
		return invalid("vcs_url", "an ssh repository (only administrators set those, with a deploy key)")
	}
	check := raw
	for _, scheme := range []string{"git://", "http://"} {
		if len(raw) > len(scheme) && strings.EqualFold(raw[:len(scheme)], scheme) {
			check = "https://" + raw[len(scheme):]
		}
	}
	if _, err := s.opts.RepoPolicy.CheckURL(check); err != nil {
		return invalid("vcs_url", "%s", strings.TrimPrefix(err.Error(), "repository URL refused: "))
	}
	return nil
}

// maxURL is the longest repository URL accepted (the form's limit).
const maxURL = 255

// history records who did what to a layer, in the transaction of the
// change.
func history(ctx context.Context, st *store.Store, a Actor, l *store.Layer, action, details string) error {
	c := &store.LayerChange{LayerID: &l.ID, LayerName: l.Name, Action: action, Details: details}
	if a.User != nil {
		c.UserID, c.UserEmail = &a.User.ID, a.User.Email
	} else if a.Origin == store.OriginCLI {
		c.UserEmail = "(command line)"
	}
	return st.AddLayerChange(ctx, c)
}

// EnqueueMail renders an email and queues it in tx: it is sent only if the
// transaction commits. The account pages use it too.
func (s *Service) EnqueueMail(tx *jobs.Tx, kind string, to []string, values map[string]any) error {
	if len(to) == 0 {
		return nil
	}
	m, err := s.mails.Render(kind, to, values)
	if err != nil {
		return err
	}
	return jobs.EnqueueMail(tx, s.sealer, m)
}

// URL makes a site path absolute, for mail.
func (s *Service) URL(p string) string { return s.mails.URL(p) }

// LayerPath is a layer's public page on a release branch.
func LayerPath(branch, layer string) string {
	return "/layerindex/branch/" + branch + "/layer/" + layer + "/"
}

// joinNames makes "A", "A and B", "A, B and C".
func joinNames(ns []string) string {
	switch len(ns) {
	case 0:
		return ""
	case 1:
		return ns[0]
	}
	return strings.Join(ns[:len(ns)-1], ", ") + " and " + ns[len(ns)-1]
}

// clip shortens a value for a history line.
func clip(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:77]) + "…"
	}
	return s
}

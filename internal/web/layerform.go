package web

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"layerindex/internal/auth"
	"layerindex/internal/store"
)

// maxMaintainers bounds the maintainer rows of the layer form.
const maxMaintainers = 20

// layerInput is a validated layer form.
type layerInput struct {
	Layer       store.Layer
	Subdir      string
	Actual      string
	Maintainers []store.LayerMaintainer
	DependsOn   []int64
}

// maintainerRow is one row of the maintainer table as the template shows it.
type maintainerRow struct {
	Index                      int
	Name, Email, Resp, Status  string
	NameErr, EmailErr, RespErr string
}

// layerFormView is what the layer form template needs besides the values.
type layerFormView struct {
	Types       []struct{ Code, Label string }
	Rows        []maintainerRow
	DepChoices  []store.Layer
	Presets     []string
	Edit        bool   // editing an existing layer (maintainer status column)
	AllowBase   bool   // type Base may be chosen
	BranchName  string // the branch whose subdirectory and maintainers are edited
	Challenge   string // the anti-bot question, for anonymous submissions
	CancelURL   string
	SubmitLabel string
}

// branchRe is the conservative part of git's branch name rules; go-git's
// Validate checks the rest (no "..", no ".lock", …).
var branchRe = regexp.MustCompile(`^[A-Za-z0-9._/+-]+$`)

// layerName is upstream's rule: lowercase letters, digits, '.' and '-'.
var layerName = regexp.MustCompile(`^[a-z0-9.-]+$`)

// subdirRe keeps subdirectories to ordinary relative paths.
var subdirRe = regexp.MustCompile(`^[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*$`)

// layerFormValues fills a form from a stored layer.
func layerFormValues(l *store.Layer, lb *store.LayerBranch, ms []store.LayerMaintainer, deps []store.LayerDependency) *form {
	f := newForm(nil)
	f.set("name", l.Name)
	f.set("layer_type", l.LayerType)
	f.set("summary", l.Summary)
	f.set("description", l.Description)
	f.set("vcs_url", l.VCSURL)
	f.set("vcs_web_url", l.VCSWebURL)
	f.set("vcs_web_tree_base_url", l.VCSWebTreeBaseURL)
	f.set("vcs_web_file_base_url", l.VCSWebFileBaseURL)
	f.set("vcs_web_commit_url", l.VCSWebCommitURL)
	f.set("usage_url", l.UsageURL)
	f.set("mailing_list_url", l.MailingListURL)
	if lb != nil {
		f.set("vcs_subdir", lb.VCSSubdir)
		f.set("actual_branch", lb.ActualBranch)
	}
	for i, m := range ms {
		p := "m-" + strconv.Itoa(i) + "-"
		f.set(p+"name", m.Name)
		f.set(p+"email", m.Email)
		f.set(p+"resp", m.Responsibility)
		f.set(p+"status", m.Status)
	}
	for _, d := range deps {
		f.Values.Add("dep", strconv.FormatInt(d.DependencyID, 10))
	}
	return f
}

// maintainerRows lists the rows to show: those filled in plus a few blank
// ones.
func maintainerRows(f *form) []maintainerRow {
	var rows []maintainerRow
	last := -1
	for i := 0; i < maxMaintainers; i++ {
		p := "m-" + strconv.Itoa(i) + "-"
		r := maintainerRow{Index: i, Name: f.V(p + "name"), Email: f.V(p + "email"), Resp: f.V(p + "resp"),
			Status: f.V(p + "status"), NameErr: f.E(p + "name"), EmailErr: f.E(p + "email"), RespErr: f.E(p + "resp")}
		if r.Status == "" {
			r.Status = "A"
		}
		if r.Name != "" || r.Email != "" || r.Resp != "" {
			last = i
		}
		rows = append(rows, r)
	}
	n := min(max(last+3, 3), maxMaintainers)
	return rows[:n]
}

// validateLayer checks the layer form. existing is the layer being edited
// (nil for a submission); who decides whether type Base may be chosen.
func (s *Server) validateLayer(ctx context.Context, f *form, who *store.User, existing *store.Layer, depChoices []store.Layer) (*layerInput, error) {
	in := &layerInput{}
	l := &in.Layer

	l.Name = strings.TrimSpace(f.V("name"))
	f.set("name", l.Name)
	switch {
	case l.Name == "":
		f.fail("name", "This field is required.")
	case len(l.Name) > 40:
		f.fail("name", "At most 40 characters, please.")
	case !layerName.MatchString(l.Name):
		f.fail("name", "Name must only contain lowercase letters, digits, dashes or periods.")
	case strings.HasPrefix(l.Name, "-") || strings.HasSuffix(l.Name, "-"):
		f.fail("name", "Name must not start or end with a dash.")
	case strings.Contains(l.Name, "--"):
		f.fail("name", "Name must not contain two dashes in a row.")
	case existing == nil || existing.Name != l.Name:
		if _, err := s.store.LayerByName(ctx, l.Name); err == nil {
			f.fail("name", "A layer with this name already exists.")
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}

	l.LayerType = f.V("layer_type")
	known := false
	for _, t := range store.LayerTypes {
		known = known || t.Code == l.LayerType
	}
	switch {
	case l.LayerType == "":
		f.fail("layer_type", "Choose a type.")
	case !known:
		f.fail("layer_type", "Choose one of the listed types.")
	case l.LayerType == store.TypeBase:
		ok, err := s.acct.policy.Allowed(ctx, who, auth.SetBaseType, existing)
		if err != nil {
			return nil, err
		}
		if !ok {
			f.fail("layer_type", "Base type is not allowed, please select a more specific type.")
		}
	}

	l.Summary = f.text("summary", textOpts{required: true, max: 200})
	l.Description = f.text("description", textOpts{required: true, max: 5000, multiline: true})

	l.VCSURL = strings.TrimSpace(f.V("vcs_url"))
	f.set("vcs_url", l.VCSURL)
	switch {
	case l.VCSURL == "":
		f.fail("vcs_url", "This field is required.")
	case len(l.VCSURL) > 255:
		f.fail("vcs_url", "At most 255 characters, please.")
	default:
		// The same check ingestion applies before cloning.
		if _, err := s.opts.RepoPolicy.CheckURL(l.VCSURL); err != nil {
			f.fail("vcs_url", "This repository URL cannot be used: %s.", strings.TrimPrefix(err.Error(), "repository URL refused: "))
		}
	}

	in.Subdir = strings.Trim(strings.TrimSpace(f.V("vcs_subdir")), "/")
	f.set("vcs_subdir", in.Subdir)
	switch {
	case in.Subdir == "":
	case len(in.Subdir) > 60:
		f.fail("vcs_subdir", "At most 60 characters, please.")
	case !subdirRe.MatchString(in.Subdir) || path.Clean(in.Subdir) != in.Subdir || strings.Contains("/"+in.Subdir+"/", "/../") || in.Subdir == "..":
		f.fail("vcs_subdir", "Enter a path inside the repository, like meta-foo or layers/meta-foo.")
	}

	in.Actual = strings.TrimSpace(f.V("actual_branch"))
	f.set("actual_branch", in.Actual)
	if in.Actual != "" {
		if len(in.Actual) > 80 {
			f.fail("actual_branch", "At most 80 characters, please.")
		} else if !branchRe.MatchString(in.Actual) || plumbing.NewBranchReferenceName(in.Actual).Validate() != nil || strings.HasPrefix(in.Actual, "-") {
			f.fail("actual_branch", "This is not a valid git branch name.")
		}
	}

	applyWebPreset(f)
	l.VCSWebURL = f.webURL("vcs_web_url", 255, false)
	l.VCSWebTreeBaseURL = f.webURL("vcs_web_tree_base_url", 255, true)
	l.VCSWebFileBaseURL = f.webURL("vcs_web_file_base_url", 255, true)
	l.VCSWebCommitURL = f.webURL("vcs_web_commit_url", 255, true)

	l.UsageURL = strings.TrimSpace(f.V("usage_url"))
	f.set("usage_url", l.UsageURL)
	switch {
	case l.UsageURL == "":
	case strings.HasPrefix(l.UsageURL, "http:") || strings.HasPrefix(l.UsageURL, "https:"):
		l.UsageURL = f.webURL("usage_url", 255, false)
	case len(l.UsageURL) > 255:
		f.fail("usage_url", "At most 255 characters, please.")
	case !subdirRe.MatchString(strings.TrimPrefix(l.UsageURL, "/")) || strings.Contains("/"+l.UsageURL+"/", "/../"):
		f.fail("usage_url", "Enter an http(s) URL, or the path of a file in the repository (like README.md).")
	}

	l.MailingListURL = strings.TrimSpace(f.V("mailing_list_url"))
	f.set("mailing_list_url", l.MailingListURL)
	if strings.HasPrefix(l.MailingListURL, "mailto:") {
		if err := checkEmail(strings.TrimPrefix(l.MailingListURL, "mailto:")); err != nil {
			f.fail("mailing_list_url", "Enter an http(s) URL or mailto:address.")
		}
	} else {
		l.MailingListURL = f.webURL("mailing_list_url", 255, false)
	}

	allowed := map[int64]bool{}
	for _, d := range depChoices {
		allowed[d.ID] = true
	}
	seen := map[int64]bool{}
	for _, v := range f.Values["dep"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || !allowed[id] || (existing != nil && id == existing.ID) {
			f.fail("dep", "Choose dependencies from the list of published layers.")
			continue
		}
		if !seen[id] {
			seen[id] = true
			in.DependsOn = append(in.DependsOn, id)
		}
	}

	emails := map[string]bool{}
	for i := 0; i < maxMaintainers; i++ {
		p := "m-" + strconv.Itoa(i) + "-"
		if f.V(p+"name") == "" && f.V(p+"email") == "" && f.V(p+"resp") == "" {
			continue
		}
		m := store.LayerMaintainer{
			Name:           f.text(p+"name", textOpts{required: true, max: 255}),
			Email:          f.email(p+"email", true),
			Responsibility: f.text(p+"resp", textOpts{max: 200}),
			Status:         "A",
		}
		if existing != nil && f.V(p+"status") == "I" {
			m.Status = "I"
		}
		if k := store.NormalizeEmail(m.Email); k != "" {
			if emails[k] {
				f.fail(p+"email", "This maintainer is listed twice.")
			}
			emails[k] = true
		}
		in.Maintainers = append(in.Maintainers, m)
	}
	active := 0
	for _, m := range in.Maintainers {
		if m.Status == "A" {
			active++
		}
	}
	if active == 0 {
		f.fail("m-0-name", "At least one active maintainer is required.")
	}
	return in, nil
}

// webPresets are the repository web interfaces whose URL templates the
// form can fill in (as upstream's submission form does in JavaScript; the
// same table is in static/js/layerform.js).
var webPresets = []string{"github", "gitlab", "cgit"}

// applyWebPreset fills the web URL templates from the chosen preset. The
// web URL defaults to the repository URL without ".git".
func applyWebPreset(f *form) {
	preset := f.V("web_preset")
	if preset == "" {
		return
	}
	base := strings.TrimRight(strings.TrimSpace(f.V("vcs_web_url")), "/")
	if base == "" {
		base = strings.TrimSuffix(strings.TrimRight(strings.TrimSpace(f.V("vcs_url")), "/"), ".git")
		if u, err := url.Parse(base); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			f.fail("vcs_web_url", "Enter the web address of the repository to use a preset.")
			return
		}
		f.set("vcs_web_url", base)
	}
	var tree, file, commit string
	switch preset {
	case "github":
		tree, file, commit = base+"/tree/%branch%/%path%", base+"/blob/%branch%/%path%", base+"/commit/%hash%"
	case "gitlab":
		tree, file, commit = base+"/-/tree/%branch%/%path%", base+"/-/blob/%branch%/%path%", base+"/-/commit/%hash%"
	case "cgit":
		tree, file, commit = base+"/tree/%path%?h=%branch%", base+"/tree/%path%?h=%branch%", base+"/commit/?id=%hash%"
	default:
		f.fail("web_preset", "Choose one of the listed web interfaces.")
		return
	}
	f.set("vcs_web_tree_base_url", tree)
	f.set("vcs_web_file_base_url", file)
	f.set("vcs_web_commit_url", commit)
	f.set("web_preset", "")
}

// expandWebURL fills a URL template for a path on a branch (the review
// page's test links).
func expandWebURL(tmpl, branch, subdir, p string) string {
	if tmpl == "" {
		return ""
	}
	full := strings.Trim(path.Join(subdir, p), "/")
	r := strings.NewReplacer("%branch%", url.PathEscape(branch), "%actual_branch%", url.PathEscape(branch), "%path%", full)
	return r.Replace(tmpl)
}

// changes describes what an edit changed, for the history.
func changes(old, nu *store.Layer, oldLB *store.LayerBranch, in *layerInput) []string {
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
		add("actual branch", oldLB.ActualBranch, in.Actual)
	}
	return out
}

func clip(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:77]) + "…"
	}
	return s
}

package web

import (
	"context"
	"errors"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	"layerindex/internal/auth"
	"layerindex/internal/catalog"
	"layerindex/internal/store"
)

// maxMaintainers bounds the maintainer rows of the layer form.
const maxMaintainers = 20

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

// usagePathRe keeps a usage path to an ordinary relative path.
var usagePathRe = regexp.MustCompile(`^[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*$`)

// failWith shows a catalog rule's refusal beside its field.
func (f *form) failWith(err error) {
	var inv *catalog.InvalidError
	if errors.As(err, &inv) {
		f.fail(inv.Field, "%s", inv.Msg)
	}
}

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

// validateLayer checks the layer form with the catalog's rules (the same
// the command line and the stored change apply). existing is the layer
// being edited (nil for a submission); who decides whether type Base may
// be chosen and whether a local repository may be set.
func (s *Server) validateLayer(ctx context.Context, f *form, who *store.User, existing *store.Layer, depChoices []store.Layer) (*catalog.LayerInput, error) {
	in := &catalog.LayerInput{}
	l := &in.Layer

	l.Name = strings.TrimSpace(f.V("name"))
	f.set("name", l.Name)
	if err := catalog.CheckLayerName(l.Name); err != nil {
		f.failWith(err)
	} else if existing == nil || existing.Name != l.Name {
		if _, err := s.store.LayerByName(ctx, l.Name); err == nil {
			f.fail("name", "A layer with this name already exists.")
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}

	l.LayerType = f.V("layer_type")
	if err := catalog.CheckLayerType(l.LayerType); err != nil {
		f.failWith(err)
	} else if l.LayerType == store.TypeBase {
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

	existingURL := "" // a submission's URL is new
	if existing != nil {
		existingURL = existing.VCSURL
	}
	l.VCSURL = strings.TrimSpace(f.V("vcs_url"))
	f.set("vcs_url", l.VCSURL)
	if l.VCSURL == "" {
		f.fail("vcs_url", "This field is required.")
	} else if err := s.cat.CheckRepositoryURLEdit(ctx, catalog.Web(who), existingURL, l.VCSURL); err != nil {
		f.failWith(err)
	}

	in.Subdir = strings.Trim(strings.TrimSpace(f.V("vcs_subdir")), "/")
	f.set("vcs_subdir", in.Subdir)
	f.failWith(catalog.CheckSubdir(in.Subdir))

	in.ActualBranch = strings.TrimSpace(f.V("actual_branch"))
	f.set("actual_branch", in.ActualBranch)
	f.failWith(catalog.CheckGitBranch(in.ActualBranch))

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
	case !usagePathRe.MatchString(strings.TrimPrefix(l.UsageURL, "/")) || strings.Contains("/"+l.UsageURL+"/", "/../"):
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

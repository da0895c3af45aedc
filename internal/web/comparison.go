package web

import (
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"layerindex/internal/auth"
	"layerindex/internal/comparison"
	"layerindex/internal/graphsvg"
	"layerindex/internal/store"
)

// Other-distribution comparison (upstream's /layerindex/comparison/…):
// handlers parse the request, ask the policy and call internal/comparison,
// which owns every change. Every change touches the comparison branch, so
// the index's version moves and cached pages are rendered again.

// comparisonImportPath takes uploads larger than other forms (see the CSRF
// middleware).
const comparisonImportPath = "/layerindex/admin/comparison/"

func (s *Server) comparisonRoutes() {
	e := s.echo
	page := func(path string, h echo.HandlerFunc) {
		e.GET(path, h)
		e.HEAD(path, h)
	}
	page("/layerindex/comparison/", s.cached(s.comparisonList))
	page("/layerindex/comparison/recipes/:branch/", s.cached(s.comparisonSearch))
	page("/layerindex/comparison/search-csv/:branch/", s.comparisonCSV)
	page("/layerindex/comparison/stats/:branch/", s.cached(s.comparisonStats))
	page("/layerindex/comparison/recipe/:id/", s.cached(s.comparisonPackage))
	e.POST("/layerindex/comparison/select/:id/", s.comparisonSetCover)
	// Upstream's OE-Classic URLs: the comparison named oe-classic.
	page("/layerindex/oe-classic/", fixedRedirect("/layerindex/comparison/recipes/oe-classic/"))
	page("/layerindex/oe-classic/recipes/", fixedRedirect("/layerindex/comparison/recipes/oe-classic/"))
	page("/layerindex/oe-classic/stats/", fixedRedirect("/layerindex/comparison/stats/oe-classic/"))
	page("/layerindex/oe-classic/recipe/:id/", func(c echo.Context) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		return c.Redirect(http.StatusFound, fmt.Sprintf("/layerindex/comparison/recipe/%d/", id))
	})
	e.GET(comparisonImportPath, s.comparisonImport)
	e.POST(comparisonImportPath, s.comparisonImport)
	e.POST("/layerindex/admin/comparison/:branch/match/", s.comparisonMatch)
	e.POST("/layerindex/admin/comparison/:branch/delete/", s.comparisonDelete)
}

func fixedRedirect(to string) echo.HandlerFunc {
	return func(c echo.Context) error { return c.Redirect(http.StatusFound, to) }
}

func (s *Server) comparisons() *comparison.Service { return comparison.New(s.store.DB()) }

// comparisonError turns the service's refusals into a 422.
func comparisonError(err error) error {
	var pe *comparison.ParseError
	switch {
	case errors.Is(err, comparison.ErrInvalid):
		return echo.NewHTTPError(http.StatusUnprocessableEntity, strings.TrimPrefix(err.Error(), "invalid: "))
	case errors.As(err, &pe), errors.Is(err, comparison.ErrTooLarge):
		return echo.NewHTTPError(http.StatusUnprocessableEntity, err.Error())
	case errors.Is(err, store.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "Not found.")
	}
	return err
}

func (s *Server) comparisonList(c echo.Context) error {
	list, err := s.store.ComparisonBranches(c.Request().Context())
	if err != nil {
		return err
	}
	pd := s.basePage(c, "")
	pd.Nav = "comparison"
	return s.pages.render(c, http.StatusOK, "comparisons", struct {
		pageData
		Comparisons []store.ComparisonInfo
		CanImport   bool
	}{pd, list, s.allowed(c, auth.ImportComparison, nil)})
}

// userPage is formPage (a CSRF token, the flash message) for a signed-in
// user and basePage for anonymous visitors, whose pages stay cookie-free.
func (s *Server) userPage(c echo.Context) pageData {
	if currentUser(c) != nil {
		return s.formPage(c)
	}
	return s.basePage(c, "")
}

// comparisonBranch loads the :branch of a comparison page.
func (s *Server) comparisonBranch(c echo.Context) (*store.ComparisonInfo, error) {
	ci, err := s.store.ComparisonBranchByName(c.Request().Context(), c.Param("branch"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, echo.NewHTTPError(http.StatusNotFound, "There is no comparison branch of this name.")
	}
	return ci, err
}

// comparisonFilter reads the list's filters (upstream's parameter names).
func comparisonFilter(c echo.Context) (store.ComparisonFilter, error) {
	f := store.ComparisonFilter{Query: strings.TrimSpace(c.QueryParam("q")), Category: c.QueryParam("category"),
		Status: c.QueryParam("cover_status"), Verified: c.QueryParam("cover_verified"), NeedsAttention: c.QueryParam("needs_attention") != ""}
	if len(f.Query) > store.MaxQueryLen || len(f.Category) > store.MaxQueryLen || len(f.Status) > 20 {
		return f, echo.NewHTTPError(http.StatusBadRequest, "A filter is too long.")
	}
	n, _ := strconv.Atoi(c.QueryParam("page"))
	f.Page = store.Page{Number: n, Size: 50}
	return f, nil
}

// statusOption is a choice of the status filter.
type statusOption struct{ Value, Label string }

func statusOptions() []statusOption {
	out := []statusOption{{"", "Any"}}
	for _, g := range store.CoverGroups {
		out = append(out, statusOption{g.Name, g.Label})
	}
	out = append(out, statusOption{"!", "Unknown or not available (upstream's !)"}, statusOption{"#", "Anything but unknown (upstream's #)"})
	for _, st := range store.CoverStatuses {
		out = append(out, statusOption{st.Code, st.Label})
	}
	return out
}

func (s *Server) comparisonSearch(c echo.Context) error {
	ci, err := s.comparisonBranch(c)
	if err != nil {
		return err
	}
	f, err := comparisonFilter(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	res, err := s.store.SearchComparison(ctx, ci.Branch.ID, f, false)
	if err != nil {
		return err
	}
	cats, err := s.store.ComparisonCategories(ctx, ci.Branch.ID)
	if err != nil {
		return err
	}
	pd := s.userPage(c)
	pd.Nav = "comparison"
	q := c.Request().URL.Query()
	q.Del("page")
	return s.pages.render(c, http.StatusOK, "comparisonrecipes", struct {
		pageData
		C          *store.ComparisonInfo
		F          store.ComparisonFilter
		Results    store.Paged[store.ComparisonRow]
		Categories []string
		Statuses   []statusOption
		Params     string
		CanImport  bool
	}{pd, ci, f, res, cats, statusOptions(), q.Encode(), s.allowed(c, auth.ImportComparison, nil)})
}

// csvCell keeps a value a spreadsheet would run as a formula inert: the
// lists come from outside.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func (s *Server) comparisonCSV(c echo.Context) error {
	ci, err := s.comparisonBranch(c)
	if err != nil {
		return err
	}
	f, err := comparisonFilter(c)
	if err != nil {
		return err
	}
	res, err := s.store.SearchComparison(c.Request().Context(), ci.Branch.ID, f, true)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="comparison-%s.csv"`, ci.Branch.Name))
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"name", "version", "summary", "license", "category", "cover_status", "cover_status_label", "cover_pn",
		"cover_layer", "cover_version", "cover_verified", "needs_attention", "cover_comment", "match_rule"})
	for _, r := range res.Items {
		_ = w.Write([]string{csvCell(r.Name), csvCell(r.Version), csvCell(r.Summary), csvCell(r.License), csvCell(r.Category),
			r.CoverStatus, store.CoverLabel(r.CoverStatus), csvCell(r.CoverPN), r.CoverLayer, csvCell(r.CoverPV),
			strconv.FormatBool(r.CoverVerified), strconv.FormatBool(r.NeedsAttention), csvCell(r.CoverComment), r.MatchRule})
	}
	w.Flush()
	return w.Error()
}

// statusColors are the chart's colours per cover group.
var statusColors = map[string]string{"covered": "#2e7d32", "provided": "#66bb6a", "notneeded": "#90a4ae", "unknown": "#ef6c00"}

func (s *Server) comparisonStats(c echo.Context) error {
	ci, err := s.comparisonBranch(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	counts, err := s.store.ComparisonStatusCounts(ctx, ci.Branch.ID)
	if err != nil {
		return err
	}
	byCode := map[string]int64{}
	for _, n := range counts {
		byCode[n.Value] = n.N
	}
	base := "/layerindex/comparison/recipes/" + url.PathEscape(ci.Branch.Name) + "/?cover_status="
	var statusBars, groupBars []graphsvg.Bar
	groups := map[string]int64{}
	for _, st := range store.CoverStatuses {
		statusBars = append(statusBars, graphsvg.Bar{Label: st.Label, Value: byCode[st.Code], Link: base + st.Code, Color: statusColors[st.Group]})
		groups[st.Group] += byCode[st.Code]
	}
	for _, g := range store.CoverGroups {
		groupBars = append(groupBars, graphsvg.Bar{Label: g.Label, Value: groups[g.Name], Link: base + g.Name, Color: statusColors[g.Name]})
	}
	cats, err := s.store.ComparisonUncoveredCategories(ctx, ci.Branch.ID, 20)
	if err != nil {
		return err
	}
	var catBars []graphsvg.Bar
	for _, n := range cats {
		l, link := n.Value, "/layerindex/comparison/recipes/"+url.PathEscape(ci.Branch.Name)+"/?cover_status=!&category="+url.QueryEscape(n.Value)
		if l == "" {
			l = "(none)"
		}
		catBars = append(catBars, graphsvg.Bar{Label: l, Value: n.N, Link: link, Color: statusColors["unknown"]})
	}
	pd := s.basePage(c, "")
	pd.Nav = "comparison"
	// #nosec G203 -- graphsvg escapes every label and link.
	return s.pages.render(c, http.StatusOK, "comparisonstats", struct {
		pageData
		C                                 *store.ComparisonInfo
		GroupChart, StatusChart, CatChart template.HTML
		Groups                            map[string]int64
	}{pd, ci, template.HTML(graphsvg.BarChart("Packages by kind of cover", groupBars)),
		template.HTML(graphsvg.BarChart("Packages by cover status", statusBars)),
		template.HTML(graphsvg.BarChart("Categories of packages without a cover", catBars)), groups})
}

// comparisonPackageData is the package page.
type comparisonPackageData struct {
	pageData
	P        *store.ComparisonPackage
	C        *store.ComparisonInfo
	Cover    *store.MatchRecipe
	Layer    string // the cover's layer name, when its recipe is gone
	History  []store.CoverChangeRow
	Statuses []struct{ Code, Label, Group string }
	CanEdit  bool
	Error    string
	Form     comparison.Cover
}

func (s *Server) comparisonPackageView(c echo.Context, id int64) (*comparisonPackageData, error) {
	ctx := c.Request().Context()
	p, err := s.store.ComparisonPackage(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, echo.NewHTTPError(http.StatusNotFound, "There is no comparison package with this id.")
	} else if err != nil {
		return nil, err
	}
	b, err := s.store.BranchByID(ctx, p.BranchID)
	if err != nil {
		return nil, err
	}
	ci, err := s.store.ComparisonBranchByName(ctx, b.Name)
	if err != nil {
		return nil, err
	}
	d := &comparisonPackageData{pageData: s.userPage(c), P: p, C: ci, Statuses: store.CoverStatuses,
		CanEdit: s.allowed(c, auth.EditComparison, nil)}
	d.Nav = "comparison"
	if d.Cover, err = s.store.CoverRecipe(ctx, p); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if d.History, err = s.store.CoverChanges(ctx, p.ID); err != nil {
		return nil, err
	}
	d.Form = comparison.Cover{Status: p.CoverStatus, PN: p.CoverPN, Comment: p.CoverComment}
	if d.Cover != nil {
		d.Form.Layer = d.Cover.LayerName
	}
	return d, nil
}

func (s *Server) comparisonPackage(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, err := s.comparisonPackageView(c, id)
	if err != nil {
		return err
	}
	return s.pages.render(c, http.StatusOK, "comparisonrecipe", d)
}

// comparisonSetCover confirms or changes a package's cover (upstream's
// comparison/select/<pk>/).
func (s *Server) comparisonSetCover(c echo.Context) error {
	if err := s.require(c, auth.EditComparison, nil); err != nil {
		return err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	cover := comparison.Cover{Status: c.FormValue("cover_status"), PN: c.FormValue("cover_pn"), Layer: c.FormValue("cover_layer"),
		Comment: c.FormValue("cover_comment")}
	_, err = s.comparisons().SetCover(c.Request().Context(), comparison.Actor{User: currentUser(c)}, id, cover)
	if errors.Is(err, comparison.ErrInvalid) {
		d, verr := s.comparisonPackageView(c, id)
		if verr != nil {
			return verr
		}
		d.Error, d.Form = strings.TrimPrefix(err.Error(), "invalid: "), cover
		return s.pages.render(c, http.StatusUnprocessableEntity, "comparisonrecipe", d)
	} else if err != nil {
		return comparisonError(err)
	}
	s.flash(c, "The cover is saved.")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/layerindex/comparison/recipe/%d/", id))
}

// comparisonImport is the administrators' import form: a file upload
// (capped at comparison.MaxUpload) in one of the formats.
func (s *Server) comparisonImport(c echo.Context) error {
	if err := s.require(c, auth.ImportComparison, nil); err != nil {
		return err
	}
	ctx := c.Request().Context()
	status, msg := http.StatusOK, ""
	var warnings []string
	form := url.Values{}
	if c.Request().Method == http.MethodPost {
		for _, k := range []string{"branch", "description", "match_branch", "format"} {
			form.Set(k, c.FormValue(k))
		}
		res, w, err := s.importUpload(c, form)
		warnings = w
		if err == nil {
			s.flash(c, "%s: %d packages read (%d skipped); %d added, %d updated, %d no longer listed; the matcher changed %d covers; %d verified covers need attention.",
				res.Branch.Name, res.PackagesN, len(warnings), res.Added, res.Updated, res.Removed, res.Matched.Changed,
				res.VerifiedNeedingAttention+res.Matched.Attention)
			return c.Redirect(http.StatusSeeOther, "/layerindex/comparison/recipes/"+url.PathEscape(res.Branch.Name)+"/")
		}
		var he *echo.HTTPError
		if !errors.As(comparisonError(err), &he) {
			return err
		}
		status, msg = he.Code, fmt.Sprint(he.Message)
	}
	list, err := s.store.ComparisonBranches(ctx)
	if err != nil {
		return err
	}
	releases, err := s.store.VisibleBranches(ctx)
	if err != nil {
		return err
	}
	if len(warnings) > 20 {
		warnings = warnings[:20]
	}
	return s.pages.render(c, status, "admincomparison", struct {
		pageData
		Comparisons []store.ComparisonInfo
		Releases    []store.Branch
		Form        url.Values
		Error       string
		Warnings    []string
		MaxUploadMB int
	}{s.formPage(c), list, releases, form, msg, warnings, comparison.MaxUpload >> 20})
}

// importUpload reads the uploaded list and imports it.
func (s *Server) importUpload(c echo.Context, form url.Values) (*comparison.ImportResult, []string, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, nil, fmt.Errorf("%w: choose a file to import", comparison.ErrInvalid)
	}
	if fh.Size > comparison.MaxUpload {
		return nil, nil, fmt.Errorf("%w: the file is larger than %d MiB", comparison.ErrInvalid, comparison.MaxUpload>>20)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("opening the upload: %w", err)
	}
	defer f.Close()
	format := form.Get("format")
	switch format {
	case comparison.FormatDeb, comparison.FormatRPMSpec, comparison.FormatCSV:
	default:
		return nil, nil, fmt.Errorf("%w: choose a format", comparison.ErrInvalid)
	}
	name := fh.Filename
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	ps, warnings, err := comparison.ReadList(format, f, name)
	if err != nil {
		var pe *comparison.ParseError
		if errors.As(err, &pe) || errors.Is(err, comparison.ErrTooLarge) {
			return nil, warnings, err
		}
		return nil, warnings, fmt.Errorf("%w: %v", comparison.ErrInvalid, err)
	}
	res, err := s.comparisons().Import(c.Request().Context(), comparison.Actor{User: currentUser(c)}, comparison.ImportRequest{
		Branch: form.Get("branch"), Description: form.Get("description"), MatchBranch: form.Get("match_branch"), Format: format,
		Source: name, Packages: ps})
	return res, warnings, err
}

// comparisonMatch runs the matcher again on a comparison branch.
func (s *Server) comparisonMatch(c echo.Context) error {
	if err := s.require(c, auth.ImportComparison, nil); err != nil {
		return err
	}
	res, err := s.comparisons().Match(c.Request().Context(), comparison.Actor{User: currentUser(c)}, c.Param("branch"))
	if err != nil {
		return comparisonError(err)
	}
	s.flash(c, "The matcher changed %d covers; %d verified covers need attention.", res.Changed, res.Attention)
	return c.Redirect(http.StatusSeeOther, "/layerindex/comparison/recipes/"+url.PathEscape(c.Param("branch"))+"/")
}

// comparisonDelete removes a comparison branch.
func (s *Server) comparisonDelete(c echo.Context) error {
	if err := s.require(c, auth.ImportComparison, nil); err != nil {
		return err
	}
	if err := s.comparisons().Delete(c.Request().Context(), comparison.Actor{User: currentUser(c)}, c.Param("branch")); err != nil {
		return comparisonError(err)
	}
	s.flash(c, "The comparison %s is deleted.", c.Param("branch"))
	return c.Redirect(http.StatusSeeOther, comparisonImportPath)
}

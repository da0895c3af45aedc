package web

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"layerindex/internal/releasediff"
	"layerindex/internal/store"
)

// coreLayerName is upstream's CORE_LAYER_NAME: the layer reports default to.
const coreLayerName = "openembedded-core"

// branchParam resolves a branch named by id (upstream's forms) or by name;
// "" is no branch.
func (s *Server) branchParam(c echo.Context, name string) (*store.Branch, error) {
	v, err := textParam(c, name)
	if err != nil || v == "" {
		return nil, err
	}
	ctx := c.Request().Context()
	var b *store.Branch
	if id, perr := strconv.ParseInt(v, 10, 64); perr == nil {
		b, err = s.store.BrowseBranchByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			b, err = s.store.BrowseBranch(ctx, v)
		}
	} else {
		b, err = s.store.BrowseBranch(ctx, v)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("There is no release branch %q.", truncate(v, 40)))
	}
	return b, err
}

// layerIDsParam reads layer ids given as repeated parameters, comma
// separated (upstream's form), or both.
func layerIDsParam(c echo.Context, name string) ([]int64, error) {
	var ids []int64
	for _, v := range c.QueryParams()[name] {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			id, err := strconv.ParseInt(f, 10, 64)
			if err != nil || id < 1 {
				return nil, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("The %s parameter takes layer ids.", name))
			}
			ids = append(ids, id)
		}
	}
	if len(ids) > 1000 {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "Too many layers.")
	}
	return ids, nil
}

// comparisonData is the branch comparison page.
type comparisonData struct {
	pageData
	From, To   *store.Branch
	AllLayers  []store.Layer
	Selected   map[int64]bool
	LayerNames []string
	Result     *releasediff.Result
	// Query is the comparison's parameters, for the download links.
	Params string
}

// branchComparison is upstream's BranchCompareView: the recipes added,
// changed (PV or SRCREV) and removed between two branches among chosen
// layers (default: the core layer), as a page, plain text (the _plain
// route), CSV or JSON (?format=).
func (s *Server) branchComparison(plain bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		format := c.QueryParam("format")
		if plain {
			format = "text"
		}
		switch format {
		case "", "html", "text", "csv", "json":
		default:
			return echo.NewHTTPError(http.StatusBadRequest, "The format must be html, csv or json.")
		}
		from, err := s.branchParam(c, "from_branch")
		if err != nil {
			return err
		}
		to, err := s.branchParam(c, "to_branch")
		if err != nil {
			return err
		}
		ids, err := layerIDsParam(c, "layers")
		if err != nil {
			return err
		}
		all, err := s.store.PublishedLayers(ctx)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			for _, l := range all {
				if l.Name == coreLayerName {
					ids = []int64{l.ID}
				}
			}
		}
		d := comparisonData{pageData: s.basePage(c, ""), From: from, To: to, AllLayers: all, Selected: map[int64]bool{}}
		d.Nav = "compare"
		for _, id := range ids {
			d.Selected[id] = true
		}
		for _, l := range all {
			if d.Selected[l.ID] {
				d.LayerNames = append(d.LayerNames, l.Name)
			}
		}
		if from != nil && to != nil {
			fr, err := s.store.CompareRecipes(ctx, from.ID, ids)
			if err != nil {
				return err
			}
			tr, err := s.store.CompareRecipes(ctx, to.ID, ids)
			if err != nil {
				return err
			}
			res := releasediff.Compare(fr, tr)
			d.Result = &res
			q := c.QueryParams()
			q.Del("format")
			q.Del("page")
			d.Params = q.Encode()
		} else if format != "" && format != "html" {
			return echo.NewHTTPError(http.StatusBadRequest, "Choose the two branches to compare (from_branch and to_branch).")
		}
		switch format {
		case "text":
			return s.comparisonText(c, &d)
		case "csv":
			return comparisonCSV(c, &d)
		case "json":
			return comparisonJSON(c, &d)
		}
		return s.pages.render(c, http.StatusOK, "branchcompare", d)
	}
}

func comparisonFilename(d *comparisonData, ext string) string {
	return fmt.Sprintf(`attachment; filename="compare_%s_%s.%s"`, safeFilename(d.From.Name), safeFilename(d.To.Name), ext)
}

// versionsText is "1.2 (srcrev abc…), 1.3" for one side of an entry.
func versionsText(vs []releasediff.Version) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.PV
		if v.SrcRev != "" {
			parts[i] += " (" + v.SrcRev[:min(len(v.SrcRev), 12)] + ")"
		}
	}
	return strings.Join(parts, ", ")
}

// comparisonText is the plain-text variant, for pasting into release
// notes.
func (s *Server) comparisonText(c echo.Context, d *comparisonData) error {
	var b strings.Builder
	if d.Result == nil {
		b.WriteString("Choose the two branches to compare: ?from_branch=<id or name>&to_branch=<id or name>&layers=<ids>\n")
	} else {
		fmt.Fprintf(&b, "Recipe changes from %s to %s in %s\n", d.From.Name, d.To.Name, strings.Join(d.LayerNames, ", "))
		section := func(title string, es []releasediff.Entry, line func(e releasediff.Entry) string) {
			fmt.Fprintf(&b, "\n%s (%d)\n%s\n", title, len(es), strings.Repeat("-", len(title)+len(strconv.Itoa(len(es)))+3))
			for _, e := range es {
				b.WriteString(line(e))
				b.WriteByte('\n')
			}
		}
		section("Added", d.Result.Added, func(e releasediff.Entry) string {
			return e.PN + " " + versionsText(e.To)
		})
		section("Changed", d.Result.Changed, func(e releasediff.Entry) string {
			return e.PN + " " + versionsText(e.From) + " -> " + versionsText(e.To)
		})
		section("Removed", d.Result.Removed, func(e releasediff.Entry) string {
			return e.PN + " " + versionsText(e.From)
		})
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(b.String()))
}

// comparisonCSV is one row per recipe: change, name, versions on each side,
// summary.
func comparisonCSV(c echo.Context, d *comparisonData) error {
	h := c.Response().Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", comparisonFilename(d, "csv"))
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"change", "pn", "from_version", "to_version", "summary"})
	for _, sec := range []struct {
		name string
		es   []releasediff.Entry
	}{{"added", d.Result.Added}, {"changed", d.Result.Changed}, {"removed", d.Result.Removed}} {
		for _, e := range sec.es {
			_ = w.Write([]string{sec.name, e.PN, versionsText(e.From), versionsText(e.To), e.ShortDesc})
		}
	}
	w.Flush()
	return w.Error()
}

// comparisonJSON is the result with the branches and layers compared.
func comparisonJSON(c echo.Context, d *comparisonData) error {
	out := struct {
		From    string              `json:"from_branch"`
		To      string              `json:"to_branch"`
		Layers  []string            `json:"layers"`
		Added   []releasediff.Entry `json:"added"`
		Changed []releasediff.Entry `json:"changed"`
		Removed []releasediff.Entry `json:"removed"`
	}{d.From.Name, d.To.Name, d.LayerNames, d.Result.Added, d.Result.Changed, d.Result.Removed}
	for _, p := range []*[]releasediff.Entry{&out.Added, &out.Changed, &out.Removed} {
		if *p == nil {
			*p = []releasediff.Entry{}
		}
	}
	for _, p := range []*[]releasediff.Entry{&out.Added, &out.Changed, &out.Removed} {
		for i := range *p {
			e := &(*p)[i]
			if e.From == nil {
				e.From = []releasediff.Version{}
			}
			if e.To == nil {
				e.To = []releasediff.Version{}
			}
		}
	}
	if out.Layers == nil {
		out.Layers = []string{}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", comparisonFilename(d, "json"))
	return c.Blob(http.StatusOK, "application/json", b)
}

// compareURL is the branch comparison from the release before current (the
// next in the selector's order) to current, for the link on each branch's
// page.
func compareURL(branches []store.Branch, current string) string {
	for i, b := range branches {
		if b.Name != current {
			continue
		}
		q := "to_branch=" + strconv.FormatInt(b.ID, 10)
		if i+1 < len(branches) {
			q = "from_branch=" + strconv.FormatInt(branches[i+1].ID, 10) + "&" + q
		} else if i > 0 {
			q = "from_branch=" + strconv.FormatInt(branches[i-1].ID, 10) + "&" + q
		}
		return "/layerindex/branch_comparison/?" + q
	}
	return "/layerindex/branch_comparison/"
}

package store

import (
	"context"
	"fmt"
	"strings"
)

// Content kinds searchable per branch besides recipes.
const (
	KindMachines = "machines"
	KindDistros  = "distros"
	KindClasses  = "classes"
)

// ContentRow is a machine, distro or class in a search result.
type ContentRow struct {
	ID          int64
	Name        string
	Description string
	BBClassType string `gorm:"column:bbclass_type"`
	LayerName   string
	URL         string `gorm:"-"`

	VCSSubdir    string `gorm:"column:vcs_subdir"`
	ActualBranch string
	FileURLTmpl  string
}

// FilePath is where the item lives inside its layer.
func (r *ContentRow) FilePath(kind string) string {
	switch kind {
	case KindMachines:
		return "conf/machine/" + r.Name + ".conf"
	case KindDistros:
		return "conf/distro/" + r.Name + ".conf"
	}
	return ClassDir(r.BBClassType) + "/" + r.Name + ".bbclass"
}

// ClassDir is the directory of a class of the given type.
func ClassDir(typ string) string {
	switch typ {
	case "Global":
		return "classes-global"
	case "Recipe":
		return "classes-recipe"
	}
	return "classes"
}

var contentTables = map[string]struct{ table, cols, search string }{
	KindMachines: {"machines", "t.id, t.name, t.description, '' AS bbclass_type", "lower(t.name) LIKE ? ESCAPE '\\' OR lower(t.description) LIKE ? ESCAPE '\\'"},
	KindDistros:  {"distros", "t.id, t.name, t.description, '' AS bbclass_type", "lower(t.name) LIKE ? ESCAPE '\\' OR lower(t.description) LIKE ? ESCAPE '\\'"},
	KindClasses:  {"bbclasses", "t.id, t.name, '' AS description, t.bbclass_type", "lower(t.name) LIKE ? ESCAPE '\\'"},
}

var contentSorts = map[string]string{
	"":       "t.name %[1]s, l.name %[1]s, t.id",
	"name":   "t.name %[1]s, l.name %[1]s, t.id",
	"-name":  "t.name %[1]s DESC, l.name %[1]s, t.id",
	"layer":  "l.name %[1]s, t.name %[1]s, t.id",
	"-layer": "l.name %[1]s DESC, t.name %[1]s, t.id",
}

// SearchContent lists the machines, distros or classes of a branch's
// published layers whose name (or description, except for classes)
// contains every word of query; an empty query lists them all.
func (s *Store) SearchContent(ctx context.Context, kind string, branch *Branch, query, sort string, p Page) (Paged[ContentRow], error) {
	p = p.norm()
	out := Paged[ContentRow]{Page: p}
	ct, ok := contentTables[kind]
	if !ok {
		return out, fmt.Errorf("unknown content kind %q", kind)
	}
	where := "lb.branch_id = ? AND l.status IN ? AND NOT l.comparison"
	args := []any{branch.ID, publishedStatuses}
	for _, w := range strings.Fields(strings.ToLower(query)) {
		where += " AND (" + ct.search + ")"
		for range strings.Count(ct.search, "?") {
			args = append(args, likeContains(w))
		}
	}
	from := " FROM " + ct.table + " t JOIN layer_branches lb ON lb.id = t.layer_branch_id JOIN layers l ON l.id = lb.layer_id WHERE " + where
	db := s.with(ctx)
	order, ok := contentSorts[sort]
	if !ok {
		order = contentSorts[""]
	}
	err := db.Raw("SELECT "+ct.cols+`, l.name AS layer_name, lb.vcs_subdir, lb.actual_branch,
       l.vcs_web_file_base_url AS file_url_tmpl`+from+" ORDER BY "+s.collate(order)+" LIMIT ? OFFSET ?",
		append(args, p.Size, p.Offset())...).Scan(&out.Items).Error
	if err != nil {
		return out, err
	}
	if err := fillTotal(&out, func(n *int64) error { return db.Raw("SELECT COUNT(*)"+from, args...).Scan(n).Error }); err != nil {
		return out, err
	}
	for i := range out.Items {
		r := &out.Items[i]
		lb := LayerBranch{VCSSubdir: r.VCSSubdir, ActualBranch: r.ActualBranch, Branch: branch}
		r.URL = lb.FileURL(&Layer{VCSWebFileBaseURL: r.FileURLTmpl}, r.FilePath(kind))
	}
	return out, nil
}

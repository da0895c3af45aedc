package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"regexp"
	"strings"
	"time"

	"layerindex/internal/store"
)

// templateFuncs are the helpers every template may call.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"statusText": statusText,
		"typeLabel":  store.LayerTypeLabel,
		"layerTypes": func() any { return store.LayerTypes },
		"pager":      newPager,
		"withQuery":  withQuery,
		"sortLink":   sortLink,
		"sortMark":   sortMark,
		"ago":        ago,
		"date":       formatDate,
		"dateptr": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"duration": duration,
		"ptr":      func(t time.Time) *time.Time { return &t },
		"between": func(start time.Time, end *time.Time) string {
			if end == nil {
				return ""
			}
			return duration(end.Sub(start))
		},
		"fields":     strings.Fields,
		"sourceURL":  sourceURL,
		"plural":     plural,
		"plural64":   func(n int64) string { return plural(int(min(n, 2))) },
		"coverLabel": store.CoverLabel,
		"coverGroup": store.CoverGroup,
		"percent": func(n, of int64) string {
			if of <= 0 {
				return "0%"
			}
			return fmt.Sprintf("%.0f%%", float64(n)*100/float64(of))
		},
		"hasValue":   func(v url.Values, k, want string) bool { return containsStr(v[k], want) },
		"shortRev":   func(s string) string { return s[:min(len(s), 12)] },
		"logLines":   logLines,
		"logTail":    logTail,
		"patchLabel": patchStatusLabel,
		"classDir":   store.ClassDir,
		"isURL":      func(s string) bool { return strings.Contains(s, "://") },
		"branchPath": func(b string) string { return "/layerindex/branch/" + url.PathEscape(b) + "/" },
		"compareURL": compareURL,
		"runState":   runState,
		"sub64":      func(a int64, b int) int64 { return a - int64(b) },
		"runActive": func(v any) bool {
			lu := asRun(v)
			return lu != nil && !lu.Final()
		},
		"origin":  originLabel,
		"linkify": linkify,
		// A stand-in, so a set parsed with these funcs alone (tests)
		// parses the layout: newRenderer puts its own in its place.
		"partial": func(string, any) (template.HTML, error) { return "", errNoRenderer },
	}
}

// errNoRenderer is what the renderer's funcs say outside a renderer.
var errNoRenderer = errors.New("partial and dep need the renderer (newRenderer)")

// runState says where an update run stands, in one line: what a user
// reading a layer or review page needs (its status, the attempt, when the
// next is due, and why the last one failed).
func runState(v any) string {
	lu := asRun(v)
	if lu == nil {
		return ""
	}
	at := func(t *time.Time) string {
		if t == nil {
			return "soon"
		}
		return t.UTC().Format("15:04 UTC")
	}
	switch lu.Status {
	case store.UpdateQueued:
		return "queued " + ago(&lu.StartedAt) + " (" + originLabel(lu.Origin) + "), waiting for a worker"
	case store.UpdateRunning:
		s := "running since " + ago(&lu.StartedAt)
		if lu.Attempt > 1 {
			s += fmt.Sprintf(", attempt %d of %d", lu.Attempt, lu.MaxAttempts)
		}
		return s
	case store.UpdateRetrying:
		if strings.HasPrefix(lu.Reason, "waiting for") {
			return lu.Reason + "; trying again at " + at(lu.NextAttemptAt)
		}
		return fmt.Sprintf("retrying, attempt %d of %d at %s; the last attempt failed: %s", lu.Attempt+1, lu.MaxAttempts,
			at(lu.NextAttemptAt), lu.Reason)
	case store.UpdateFailed:
		return "failed: " + lu.Reason
	case store.UpdateCancelled:
		return "cancelled: " + lu.Reason
	case store.UpdateUnchanged:
		return "unchanged: nothing to re-index"
	case store.UpdateSucceeded:
		return fmt.Sprintf("succeeded: %d recipe(s) added, %d changed, %d removed", lu.RecipesAdded, lu.RecipesChanged, lu.RecipesRemoved)
	}
	return lu.Status
}

// asRun takes a run as templates hold it: a value or a pointer.
func asRun(v any) *store.LayerUpdate {
	switch r := v.(type) {
	case *store.LayerUpdate:
		return r
	case store.LayerUpdate:
		return &r
	}
	return nil
}

// originLabel says who asked for an update.
func originLabel(o string) string {
	switch o {
	case store.OriginRefresh:
		return "periodic refresh"
	case store.OriginMaintainer:
		return "requested by a maintainer"
	case store.OriginAdministrator:
		return "requested by an administrator"
	case store.OriginAPI:
		return "requested through the API"
	case store.OriginWebhook:
		return "pushed to the repository"
	case store.OriginCLI:
		return "requested on the command line"
	}
	return o
}

// webLink matches an http(s) URL in plain text: up to whitespace or a
// character that cannot be part of a URL in prose.
var webLink = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"'\x60]+`)

// linkify shows plain text (a layer note) with its http and https URLs as
// links: everything is escaped, and only a URL that parses with an http(s)
// scheme and a host becomes an <a>, marked nofollow (the text is anyone's
// input) and noopener. Other schemes (javascript:, data:) stay text.
func linkify(s string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range webLink.FindAllStringIndex(s, -1) {
		start, end := m[0], trimURLEnd(s[m[0]:m[1]])+m[0]
		u, err := url.Parse(s[start:end])
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			continue
		}
		b.WriteString(template.HTMLEscapeString(s[last:start]))
		href := template.HTMLEscapeString(s[start:end])
		b.WriteString(`<a href="` + href + `" rel="nofollow noopener">` + href + `</a>`)
		last = end
	}
	b.WriteString(template.HTMLEscapeString(s[last:]))
	return template.HTML(b.String())
}

// trimURLEnd is the length of u without the punctuation that ends a
// sentence or closes a parenthesis opened before it ("(see https://x.org/a).").
func trimURLEnd(u string) int {
	for len(u) > 0 {
		switch c := u[len(u)-1]; c {
		case '.', ',', ';', ':', '!', '?':
		case ')':
			if strings.Count(u, "(") >= strings.Count(u, ")") {
				return len(u)
			}
		case ']':
			if strings.Count(u, "[") >= strings.Count(u, "]") {
				return len(u)
			}
		default:
			return len(u)
		}
		u = u[:len(u)-1]
	}
	return 0
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// pager is the data of a list's page navigation.
type pager struct {
	Pages      int
	Current    int
	Prev, Next string // URLs, "" at the ends
	Links      []pagerLink
}

type pagerLink struct {
	N       int
	URL     string
	Current bool
	Gap     bool // an ellipsis instead of a link
}

// newPager builds page links for p, keeping the page's other parameters:
// the first and last pages and a window around the current one.
func newPager(p pageInfo, q url.Values) pager {
	pg := pager{Pages: p.Pages(), Current: p.Current()}
	if pg.Pages <= 1 {
		return pg
	}
	link := func(n int) string { return withQuery(q, "page", fmt.Sprint(n)) }
	if pg.Current > 1 {
		pg.Prev = link(pg.Current - 1)
	}
	if pg.Current < pg.Pages {
		pg.Next = link(pg.Current + 1)
	}
	last := 0
	for n := 1; n <= pg.Pages; n++ {
		if n == 1 || n == pg.Pages || (n >= pg.Current-2 && n <= pg.Current+2) {
			if last != 0 && n > last+1 {
				pg.Links = append(pg.Links, pagerLink{Gap: true})
			}
			pg.Links = append(pg.Links, pagerLink{N: n, URL: link(n), Current: n == pg.Current})
			last = n
		}
	}
	return pg
}

// withQuery is the query string of the current page with key set to value
// (removed when value is ""), for links; page resets unless it is the key.
func withQuery(q url.Values, kv ...string) string {
	n := url.Values{}
	for k, v := range q {
		n[k] = v
	}
	if len(kv)%2 == 0 && !containsKey(kv, "page") {
		n.Del("page")
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			n.Del(kv[i])
		} else {
			n.Set(kv[i], kv[i+1])
		}
	}
	if len(n) == 0 {
		return "?"
	}
	return "?" + n.Encode()
}

func containsKey(kv []string, k string) bool {
	for i := 0; i < len(kv); i += 2 {
		if kv[i] == k {
			return true
		}
	}
	return false
}

// sortLink is the link of a sortable column header: ascending first, then
// descending when the column is already sorted ascending.
func sortLink(q url.Values, key string) string {
	if q.Get("sort") == key {
		return withQuery(q, "sort", "-"+key)
	}
	return withQuery(q, "sort", key)
}

// sortMark is the aria-sort value of a column header.
func sortMark(q url.Values, key string) string {
	switch q.Get("sort") {
	case key:
		return "ascending"
	case "-" + key:
		return "descending"
	}
	return "none"
}

// formatDate is how pages show a moment in full (the templates' date).
func formatDate(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// ago says how long ago t was, coarsely.
func ago(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	d := time.Since(*t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return "less than a minute ago"
	case d < time.Hour:
		return count(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return count(int(d/time.Hour), "hour") + " ago"
	case d < 60*24*time.Hour:
		return count(int(d/(24*time.Hour)), "day") + " ago"
	case d < 2*365*24*time.Hour:
		return count(int(d/(30*24*time.Hour)), "month") + " ago"
	}
	return count(int(d/(365*24*time.Hour)), "year") + " ago"
}

func count(n int, unit string) string { return fmt.Sprintf("%d %s%s", n, unit, plural(n)) }

func duration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// sourceURL is a web link for a SRC_URI entry, as upstream's Source.web_url:
// http(s)/ftp as they are, git:// of well-known hosts mapped to https.
func sourceURL(u string) string {
	trim := func(s string) string { return strings.TrimSuffix(s, ".git") }
	switch {
	case strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "https://"), strings.HasPrefix(u, "ftp://"):
		return u
	case strings.HasPrefix(u, "git://github.com/"):
		return trim("https" + u[3:])
	case strings.HasPrefix(u, "git://git.yoctoproject.org/"):
		return trim("https://git.yoctoproject.org/" + u[len("git://git.yoctoproject.org/"):])
	case strings.HasPrefix(u, "git://git.kernel.org/"):
		return "https" + u[3:]
	}
	return ""
}

// logLine is a line of an update log with its severity, for highlighting.
type logLine struct {
	Text, Class string
}

// logTail is logLines of the last n lines of log, after a line saying how
// many were left out.
func logTail(log string, n int) []logLine {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if len(lines) <= n {
		return logLines(log)
	}
	skipped := len(lines) - n
	return append([]logLine{{Text: fmt.Sprintf("… %d earlier line%s", skipped, plural(skipped))}},
		logLines(strings.Join(lines[skipped:], "\n"))...)
}

func logLines(log string) []logLine {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	out := make([]logLine, 0, len(lines))
	for _, l := range lines {
		c := ""
		switch {
		case strings.HasPrefix(l, "ERROR:"):
			c = "log-error"
		case strings.HasPrefix(l, "WARNING:"):
			c = "log-warning"
		}
		out = append(out, logLine{l, c})
	}
	return out
}

var patchStatuses = map[string]string{
	"U": "Unknown", "A": "Accepted", "P": "Pending", "I": "Inappropriate", "B": "Backport",
	"S": "Submitted", "D": "Denied", "N": "Inactive-Upstream",
}

func patchStatusLabel(s string) string {
	if l, ok := patchStatuses[s]; ok {
		return l
	}
	return s
}

package web_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
)

// TestParityOnCorpus checks issue 17's pages on the real oe-core, indexed
// on master and scarthgap, on both databases.
func TestParityOnCorpus(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		s := newCorpusSite(t, d)
		t.Run("BranchComparison", func(t *testing.T) { testBranchComparison(t, s) })
	})
}

// mapName is upstream's name mapping, written out again for the test.
func mapName(pn, pv string) string {
	if strings.HasPrefix(pn, "gcc-source-") {
		return strings.Replace(pn, "-"+pv, "", 1)
	}
	for _, suf := range []string{"-i586", "-i686", "-x86_64-oesdk-linux"} {
		if strings.HasSuffix(pn, suf) {
			return strings.TrimSuffix(pn, suf)
		}
	}
	return pn
}

// testBranchComparison computes the added, changed and removed recipes of
// oe-core from scarthgap to master from the database on its own, and checks
// the page, the plain text, the CSV and the JSON against it.
func testBranchComparison(t *testing.T, s *corpusSite) {
	versions := func(lbID int64) map[string][]string {
		var rows []struct{ PN, PV, SrcRev string }
		if err := s.conn.Gorm.Raw("SELECT pn, pv, srcrev AS src_rev FROM recipes WHERE layer_branch_id = ?", lbID).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, r := range rows {
			n := mapName(r.PN, r.PV)
			out[n] = append(out[n], r.PV+"\x00"+r.SrcRev)
		}
		return out
	}
	from, to := versions(s.coreLB["scarthgap"].ID), versions(s.coreLB["master"].ID)
	sameSet := func(a, b []string) bool {
		if len(a) != len(b) {
			return false
		}
		count := map[string]int{}
		for _, x := range a {
			count[x]++
		}
		for _, x := range b {
			count[x]--
		}
		for _, n := range count {
			if n != 0 {
				return false
			}
		}
		return true
	}
	var added, changed, removed int
	for n, v := range to {
		if _, ok := from[n]; !ok {
			added++
		} else if !sameSet(from[n], v) {
			changed++
		}
	}
	for n := range from {
		if _, ok := to[n]; !ok {
			removed++
		}
	}
	if added == 0 || changed == 0 || removed == 0 {
		t.Fatalf("the corpus should show every kind of change: %d added, %d changed, %d removed", added, changed, removed)
	}
	t.Logf("scarthgap → master: %d added, %d changed, %d removed", added, changed, removed)

	c := s.client()
	q := fmt.Sprintf("from_branch=%d&to_branch=%d", s.scarthgap.ID, s.master.ID)
	// The default is the core layer.
	r := c.get("/layerindex/branch_comparison/?" + q)
	if r.code != 200 {
		t.Fatalf("page: %d %s", r.code, r.body)
	}
	want := fmt.Sprintf("%d added, %d changed, %d removed", added, changed, removed)
	if !strings.Contains(r.body, want) {
		t.Errorf("page lacks %q", want)
	}
	// By name too, and with the layer named explicitly.
	if r2 := c.get(fmt.Sprintf("/layerindex/branch_comparison/?from_branch=scarthgap&to_branch=master&layers=%d", s.core.ID)); !strings.Contains(r2.body, want) {
		t.Errorf("by name: %d, lacks %q", r2.code, want)
	}

	var js struct {
		From, To                string
		Added, Changed, Removed []struct {
			PN   string
			From []struct {
				ID         int64
				PV, SrcRev string
			}
			To []struct {
				ID         int64
				PV, SrcRev string
			}
		}
	}
	r = c.get("/layerindex/branch_comparison/?" + q + "&format=json")
	if err := json.Unmarshal([]byte(r.body), &js); err != nil {
		t.Fatalf("json: %v\n%.300s", err, r.body)
	}
	if len(js.Added) != added || len(js.Changed) != changed || len(js.Removed) != removed {
		t.Errorf("json: %d/%d/%d, want %d/%d/%d", len(js.Added), len(js.Changed), len(js.Removed), added, changed, removed)
	}
	for _, e := range js.Changed {
		var a, b []string
		for _, v := range e.From {
			a = append(a, v.PV+"\x00"+v.SrcRev)
		}
		for _, v := range e.To {
			b = append(b, v.PV+"\x00"+v.SrcRev)
		}
		if sameSet(a, b) || !sameSet(a, from[e.PN]) || !sameSet(b, to[e.PN]) {
			t.Errorf("changed %s: %v → %v", e.PN, e.From, e.To)
		}
	}
	// gcc-source carries its version in its name: one changed entry, not an
	// addition and a removal.
	for _, e := range js.Added {
		if strings.HasPrefix(e.PN, "gcc-source") {
			t.Errorf("gcc-source added: %+v", e)
		}
	}

	r = c.get("/layerindex/branch_comparison/?" + q + "&format=csv")
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil || r.header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("csv: %v %s", err, r.header.Get("Content-Type"))
	}
	if len(rows) != 1+added+changed+removed {
		t.Errorf("csv: %d rows, want %d", len(rows), 1+added+changed+removed)
	}

	r = c.get("/layerindex/branch_comparison_plain/?" + q)
	for _, w := range []string{"Recipe changes from scarthgap to master in openembedded-core",
		fmt.Sprintf("Added (%d)", added), fmt.Sprintf("Changed (%d)", changed), fmt.Sprintf("Removed (%d)", removed)} {
		if !strings.Contains(r.body, w) || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Errorf("plain text lacks %q", w)
		}
	}

	// The layer list of each branch links to the comparison with the release
	// before it.
	r = c.get("/layerindex/branch/master/layers/")
	link := "/layerindex/branch_comparison/?" + strings.ReplaceAll(q, "&", "&amp;")
	if !strings.Contains(r.body, link) {
		t.Errorf("master's layer list does not link to %s", link)
	}
	// Junk is a 400 or 404, never a 500.
	for path, code := range map[string]int{
		"/layerindex/branch_comparison/?from_branch=nowhere&to_branch=master":                             404,
		"/layerindex/branch_comparison/?" + q + "&layers=x":                                               400,
		"/layerindex/branch_comparison/?" + q + "&format=xml":                                             400,
		"/layerindex/branch_comparison/?format=csv":                                                       400,
		"/layerindex/branch_comparison/":                                                                  200,
		"/layerindex/branch_comparison/?" + url.Values{"to_branch": {strings.Repeat("x", 5000)}}.Encode(): 400,
	} {
		if r := c.get(path); r.code != code {
			t.Errorf("%.80s: %d, want %d", path, r.code, code)
		}
	}
}

package web_test

import (
	"net/http"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/mail/mailtest"
)

// TestLayerTypesByName: wherever a person sees a layer's type it is named
// ("Machine (BSP)"), never upstream's one-letter code: the administrators'
// mail, the list of all layers, the public layer page and layer list, and
// the change history.
func TestLayerTypesByName(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newAcctEnv(t, d, envOpts{})
		admin := e.client()
		admin.login("admin@example.org", adminPassword)
		admin.get("/layerindex/submit/")
		form := e.layerForm("meta-board")
		form.Set("layer_type", "B")
		if r := admin.post("/layerindex/submit/", form); r.code != http.StatusSeeOther {
			t.Fatalf("submission: %d %v", r.code, fieldErrors(r.body))
		}
		m := e.sink.Wait(t, mailWait, "to the administrator", mailtest.To("admin@example.org", "layer submission - meta-board"))
		if !strings.Contains(m.Body, "Type:       Machine (BSP)\n") {
			t.Errorf("submission mail without the type's name:\n%s", m.Body)
		}
		r := admin.get("/layerindex/admin/layers/")
		if !strings.Contains(r.body, "<td>Machine (BSP)</td>") || !strings.Contains(r.body, "<td>Base</td>") || strings.Contains(r.body, "<td>B</td>") {
			t.Errorf("the list of all layers does not name the types")
		}
		admin.get("/layerindex/review/meta-board/")
		if r := admin.post("/layerindex/layer/meta-board/publish/", nil); r.code != http.StatusSeeOther {
			t.Fatalf("publish: %d", r.code)
		}
		anon := e.client()
		if r := anon.get("/layerindex/branch/master/layer/meta-board/"); !strings.Contains(r.body, `<span class="badge type-B">Machine (BSP)</span>`) {
			t.Error("the layer page does not name the type")
		}
		if r := anon.get("/layerindex/branch/master/layers/"); !strings.Contains(r.body, `<span class="badge type-B">Machine (BSP)</span>`) ||
			!strings.Contains(r.body, `<span class="badge type-A">Base</span>`) {
			t.Error("the layer list does not name the types")
		}

		admin.get("/layerindex/branch/master/edit/meta-board/")
		edit := e.layerForm("meta-board")
		edit.Set("layer_type", "D")
		edit.Del("web_preset")
		if r := admin.post("/layerindex/branch/master/edit/meta-board/", edit); r.code != http.StatusSeeOther {
			t.Fatalf("edit: %d %v", r.code, fieldErrors(r.body))
		}
		r = admin.get("/layerindex/history/?layer=meta-board")
		if !strings.Contains(r.body, htmlEscape(`type: "Machine (BSP)" → "Distribution"`)) {
			t.Errorf("the history does not name the types:\n%s", r.body)
		}
	})
}

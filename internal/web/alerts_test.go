package web_test

import (
	"strings"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/mail/mailtest"
	"layerindex/internal/store"
)

// TestMaintainerAlerts: across three failing updates the maintainers get
// one email (with the log link), one when updates work again, none from a
// user who opted out on the manage page; through the SMTP sink.
func TestMaintainerAlerts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newAcctEnv(t, d, envOpts{})
		e.layer("meta-alert", store.StatusPublished, "one@example.org", "two@example.org")
		e.user("two@example.org", "two password 1", false)
		e.index("meta-alert")

		// Two opts out on the manage page.
		two := e.client()
		two.login("two@example.org", "two password 1")
		two.get("/layerindex/layer/meta-alert/manage/")
		if r := two.post("/layerindex/layer/meta-alert/alerts/", map[string][]string{"alerts": {"off"}}); r.code != 303 {
			t.Fatalf("opt out: %d", r.code)
		}
		if r := two.get("/layerindex/layer/meta-alert/manage/"); !strings.Contains(r.body, "You opted out") {
			t.Error("the manage page does not say the user opted out")
		}

		about := func(m mailtest.Message, what string) bool {
			return strings.Contains(m.Subject, "meta-alert") && strings.Contains(m.Subject, what)
		}
		count := func(what string) (one, two int) {
			for _, m := range e.sink.Messages() {
				if !about(m, what) {
					continue
				}
				for _, to := range m.To {
					switch to {
					case "one@example.org":
						one++
					case "two@example.org":
						two++
					}
				}
			}
			return
		}

		e.commit("break the layer", nil, "meta-test/conf/layer.conf")
		for range 3 {
			e.indexExpecting("meta-alert", store.UpdateFailed)
		}
		m := e.sink.Wait(t, 20*time.Second, "the failing alert", func(m mailtest.Message) bool { return about(m, "failing") })
		if !strings.Contains(m.Body, "/layerindex/layerupdate/") || !strings.Contains(m.Body, "conf/layer.conf") {
			t.Errorf("the failing alert lacks the log link or the reason:\n%s", m.Body)
		}

		e.commit("fix the layer", map[string]string{"meta-test/conf/layer.conf": `BBPATH .= ":${LAYERDIR}"
BBFILES += "${LAYERDIR}/recipes-*/*/*.bb"
BBFILE_COLLECTIONS += "test-layer"
BBFILE_PATTERN_test-layer = "^${LAYERDIR}/"
LAYERVERSION_test-layer = "1"
LAYERSERIES_COMPAT_test-layer = "walnascar"
LAYERDEPENDS_test-layer = "core"
`})
		e.index("meta-alert")
		e.index("meta-alert")
		e.sink.Wait(t, 20*time.Second, "the recovery alert", func(m mailtest.Message) bool { return about(m, "work again") })
		time.Sleep(time.Second) // any duplicate would be sent by now (the job poll is 50 ms)
		if one, two := count("failing"); one != 1 || two != 0 {
			t.Errorf("failing alerts: %d to the maintainer, %d to the one who opted out; want 1 and 0", one, two)
		}
		if one, two := count("work again"); one != 1 || two != 0 {
			t.Errorf("recovery alerts: %d and %d; want 1 and 0", one, two)
		}
	})
}

package web_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/jobs"
	"layerindex/internal/mail/mailtest"
	"layerindex/internal/store"
)

// TestAdminDigestAndStale: with real updates on both databases — a layer
// that indexes, one whose updates fail, one whose repository is gone, and
// one whose last successful update is older than the stale period (10
// days here, --stale-days) — the weekly digest job (River) mails the
// administrator the broken and the stale ones through the SMTP sink, and
// the layer list and layer page mark the stale ones.
func TestAdminDigestAndStale(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newAcctEnv(t, d, envOpts{staleAfter: 10 * 24 * time.Hour, noStartRefresh: true})
		ctx := context.Background()
		e.layer("meta-fresh", store.StatusPublished)
		e.index("meta-fresh")

		old := e.layer("meta-old", store.StatusPublished)
		e.index("meta-old")
		longAgo := time.Now().Add(-11 * 24 * time.Hour).UTC()
		// Time passes: its last successful update was 11 days ago.
		if err := e.conn.Gorm.Exec(`UPDATE layer_branch_alerts SET last_ok_at = ? WHERE layer_branch_id IN (SELECT id FROM layer_branches WHERE layer_id = ?)`, longAgo, old.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := e.conn.Gorm.Model(&store.LayerBranch{}).Where("layer_id = ?", old.ID).Update("vcs_last_fetch", longAgo).Error; err != nil {
			t.Fatal(err)
		}

		broken := e.layer("meta-broken", store.StatusPublished)
		if err := e.conn.Gorm.Model(&store.LayerBranch{}).Where("layer_id = ?", broken.ID).Update("vcs_subdir", "meta-missing").Error; err != nil {
			t.Fatal(err)
		}
		e.indexExpecting("meta-broken", store.UpdateFailed)

		gone := e.layer("meta-gone", store.StatusPublished)
		if err := e.conn.Gorm.Model(&store.Layer{}).Where("id = ?", gone.ID).Update("vcs_url", strings.TrimSuffix(e.repoURL, "meta-test.git")+"no-such-repo.git").Error; err != nil {
			t.Fatal(err)
		}
		e.indexExpecting("meta-gone", store.UpdateFailed)

		// The weekly job, as River's schedule inserts it.
		if _, err := e.q.Enqueue(ctx, jobs.AdminDigestArgs{}, nil); err != nil {
			t.Fatal(err)
		}
		m := e.sink.Wait(t, 30*time.Second, "the administrators' digest", mailtest.To("admin@example.org", "weekly digest"))
		if !strings.Contains(m.Subject, "2 broken and 2 stale") {
			t.Errorf("digest subject %q", m.Subject)
		}
		part := func(title string) string {
			i := strings.Index(m.Body, title)
			if i < 0 {
				t.Fatalf("the digest has no %q part:\n%s", title, m.Body)
			}
			rest := m.Body[i:]
			if j := strings.Index(rest[1:], "\n\n"+"Stale"); j >= 0 && title != "Stale" {
				rest = rest[:j+1]
			}
			return rest
		}
		brokenPart, stalePart := part("Broken"), part("Stale")
		for _, want := range []string{"meta-broken (master), failing since", "meta-gone (master), failing since", "its repository is gone"} {
			if !strings.Contains(brokenPart, want) {
				t.Errorf("broken part lacks %q:\n%s", want, brokenPart)
			}
		}
		for _, want := range []string{"no successful update in 10 days", "meta-old (master), last successful update " + longAgo.Format("2006-01-02"),
			"meta-gone (master), last successful update never; repository gone", "/layerindex/branch/master/layer/meta-old/"} {
			if !strings.Contains(stalePart, want) {
				t.Errorf("stale part lacks %q:\n%s", want, stalePart)
			}
		}
		if !strings.Contains(m.Body, "/layerindex/status/") {
			t.Errorf("the digest does not link the indexing status page:\n%s", m.Body)
		}
		if strings.Contains(brokenPart, "meta-old") || strings.Contains(m.Body, "meta-fresh") || strings.Contains(stalePart, "meta-broken") {
			t.Errorf("the digest lists layers that are neither broken nor stale:\n%s", m.Body)
		}

		// The "stale" marker.
		c := e.client()
		r := c.get("/layerindex/branch/master/layers/")
		staleRe := regexp.MustCompile(`layer/([a-z-]+)/">[a-z-]+</a>[^<]*(?:<[^t][^<]*)*?<span class="badge stale"`)
		var marked []string
		for _, row := range strings.Split(r.body, "<tr>") {
			if strings.Contains(row, `class="badge stale"`) {
				if m := staleRe.FindStringSubmatch(row); m != nil {
					marked = append(marked, m[1])
				}
			}
		}
		if strings.Join(marked, " ") != "meta-gone meta-old" {
			t.Errorf("layers marked stale in the list: %q", marked)
		}
		for layer, want := range map[string]bool{"meta-old": true, "meta-gone": true, "meta-fresh": false, "meta-broken": false} {
			r := c.get("/layerindex/branch/master/layer/" + layer + "/")
			if got := strings.Contains(r.body, `<span class="badge stale" title="No successful update in 10 days`); got != want {
				t.Errorf("%s page marked stale: %v, want %v", layer, got, want)
			}
		}
	})
}

package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
	"layerindex/internal/webhook"
)

// TestPushWebhooks: a maintainer makes the layer's secret on its page; a
// GitHub push signed with it queues an update of the pushed branch only
// (origin webhook); a replayed delivery, a bad signature and a wrong
// GitLab token are refused and queue nothing; a push of another branch is
// ignored; GitLab and generic pushes work; the page lists the deliveries
// with their outcome.
func TestPushWebhooks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newAcctEnv(t, d, envOpts{})
		ctx := context.Background()
		l := e.layer("meta-hook", store.StatusPublished, "maint@example.org")
		// The layer is also on a second release, read from git branch "stable".
		sc := &store.Branch{Name: "scarthgap", UpdatesEnabled: true}
		if err := e.st.CreateBranch(ctx, sc); err != nil {
			t.Fatal(err)
		}
		if err := e.st.CreateLayerBranch(ctx, &store.LayerBranch{LayerID: l.ID, BranchID: sc.ID, VCSSubdir: "meta-test",
			ActualBranch: "stable", UpdatesEnabled: true}); err != nil {
			t.Fatal(err)
		}
		e.user("maint@example.org", "maint password 1", false)
		e.user("other@example.org", "other password 1", false)
		hook := "/layerindex/hooks/meta-hook/"
		push := []byte(`{"ref":"refs/heads/master","after":"0123456789abcdef0123456789abcdef01234567"}`)

		anon := e.client()
		// No secret yet: nothing is accepted.
		if r := postHook(t, anon, hook, push, map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-0",
			"X-Hub-Signature-256": webhook.Sign(push, "")}); r.code != http.StatusUnauthorized {
			t.Errorf("a layer without a secret: %d", r.code)
		}

		other := e.client()
		other.login("other@example.org", "other password 1")
		other.get("/accounts/profile/")
		if r := other.post("/layerindex/layer/meta-hook/hooksecret/", nil); r.code != http.StatusForbidden {
			t.Errorf("another user makes the secret: %d", r.code)
		}
		m := e.client()
		m.login("maint@example.org", "maint password 1")
		page := m.get("/layerindex/layer/meta-hook/manage/")
		if !strings.Contains(page.body, "none yet") || !strings.Contains(page.body, e.ts.URL+hook) {
			t.Fatalf("the manage page lacks the webhook setup:\n%s", page.body)
		}
		if r := m.post("/layerindex/layer/meta-hook/hooksecret/", nil); r.code != http.StatusSeeOther {
			t.Fatalf("make the secret: %d", r.code)
		}
		sm := regexp.MustCompile(`<dt>Secret</dt><dd><code class="select-all">([0-9a-f]+)</code>`).FindStringSubmatch(m.get("/layerindex/layer/meta-hook/manage/").body)
		if sm == nil {
			t.Fatal("the manage page does not show the secret")
		}
		secret := sm[1]

		webhookUpdates := func() int64 {
			var n int64
			e.conn.Gorm.Model(&store.Update{}).Where("origin = ?", store.OriginWebhook).Count(&n)
			return n
		}
		gh := func(id string, body []byte, sig string) resp {
			return postHook(t, anon, hook, body, map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": id,
				"X-Hub-Signature-256": sig, "Content-Type": "application/json"})
		}
		r := gh("d-1", push, webhook.Sign(push, secret))
		if r.code != http.StatusAccepted || !strings.Contains(r.body, `"queued"`) {
			t.Fatalf("a good GitHub push: %d %s", r.code, r.body)
		}
		if got := hookBranches(t, r.body); got != "master" {
			t.Errorf("the GitHub push of master updates %q, want master only", got)
		}
		if r := gh("d-1", push, webhook.Sign(push, secret)); r.code != http.StatusConflict {
			t.Errorf("a replayed delivery: %d %s", r.code, r.body)
		}
		if r := gh("d-2", push, webhook.Sign(push, "not the secret")); r.code != http.StatusUnauthorized {
			t.Errorf("a bad signature: %d", r.code)
		}
		if r := gh("d-3", push, "sha256=zz"); r.code != http.StatusUnauthorized {
			t.Errorf("a malformed signature: %d", r.code)
		}
		dev := []byte(`{"ref":"refs/heads/dev"}`)
		if r := gh("d-4", dev, webhook.Sign(dev, secret)); r.code != http.StatusAccepted || !strings.Contains(r.body, `"ignored"`) {
			t.Errorf("a push of another branch: %d %s", r.code, r.body)
		}
		if r := postHook(t, anon, hook, []byte(`{"zen":"hi"}`), map[string]string{"X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-5",
			"X-Hub-Signature-256": webhook.Sign([]byte(`{"zen":"hi"}`), secret)}); r.code != http.StatusAccepted || !strings.Contains(r.body, `"ignored"`) {
			t.Errorf("a ping: %d %s", r.code, r.body)
		}
		if n := webhookUpdates(); n != 1 {
			t.Errorf("updates queued after the refused and ignored deliveries: %d, want 1", n)
		}

		// GitLab: the token; the "stable" branch updates scarthgap only.
		stable := []byte(`{"object_kind":"push","ref":"refs/heads/stable"}`)
		gl := func(uuid, token string) resp {
			return postHook(t, anon, hook, stable, map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": token,
				"X-Gitlab-Event-UUID": uuid})
		}
		if r := gl("g-1", secret+"x"); r.code != http.StatusUnauthorized {
			t.Errorf("a wrong GitLab token: %d", r.code)
		}
		if r := gl("g-1", secret); r.code != http.StatusAccepted || hookBranches(t, r.body) != "scarthgap" {
			t.Errorf("a GitLab push of stable: %d %s", r.code, r.body)
		}
		if r := gl("g-1", secret); r.code != http.StatusConflict {
			t.Errorf("a replayed GitLab push: %d", r.code)
		}
		// Generic JSON, signed as GitHub's.
		gen := []byte(`{"branch":"master"}`)
		if r := postHook(t, anon, hook, gen, map[string]string{"X-Layerindex-Delivery": "x-1",
			"X-Layerindex-Signature-256": webhook.Sign(gen, secret)}); r.code != http.StatusAccepted || !strings.Contains(r.body, `"queued"`) {
			t.Errorf("a generic push: %d %s", r.code, r.body)
		}
		if n := webhookUpdates(); n != 3 {
			t.Errorf("webhook updates: %d, want 3", n)
		}
		if r := postHook(t, anon, "/layerindex/hooks/meta-nothing/", push, nil); r.code != http.StatusNotFound {
			t.Errorf("an unknown layer: %d", r.code)
		}

		// The maintainer sees the deliveries; a new secret stops the old one.
		body := html.UnescapeString(m.get("/layerindex/layer/meta-hook/manage/").body)
		for _, want := range []string{">queued<", ">rejected<", ">ignored<", "replayed delivery d-1", "does not match", "no release branch of the layer is read from git branch dev"} {
			if !strings.Contains(body, want) {
				t.Errorf("the deliveries on the manage page lack %q", want)
			}
		}
		m.post("/layerindex/layer/meta-hook/hooksecret/", url.Values{})
		if r := gh("d-9", push, webhook.Sign(push, secret)); r.code != http.StatusUnauthorized {
			t.Errorf("the old secret after rotation: %d", r.code)
		}
	})
}

// hookBranches lists the release branches whose runs a delivery queued.
func hookBranches(t *testing.T, body string) string {
	t.Helper()
	var out struct {
		Runs []struct {
			ID     int64
			Branch string
		}
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var bs []string
	for _, r := range out.Runs {
		if r.ID == 0 {
			t.Errorf("a run without id: %s", body)
		}
		bs = append(bs, r.Branch)
	}
	return strings.Join(bs, ",")
}

func postHook(t *testing.T, c *client, path string, body []byte, headers map[string]string) resp {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.url(path), strings.NewReader(string(body)))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return c.do(req)
}

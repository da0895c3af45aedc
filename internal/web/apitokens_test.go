package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

var newTokenRe = regexp.MustCompile(`id="new-token">(lit_[a-z0-9]+)<`)

// apiPost sends an API request with an optional token, and checks the
// answer against the served OpenAPI document.
func apiPost(t *testing.T, c *client, path, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.url(path), nil)
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	r := c.do(req)
	var body map[string]any
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("POST %s: %d, not JSON: %s", path, r.code, r.body)
	}
	doc, err := openapi3.NewLoader().LoadFromData([]byte(c.get("/layerindex/api/openapi.json").body))
	if err != nil {
		t.Fatal(err)
	}
	op := doc.Paths.Find("/layerItems/{id}/reindex/")
	if op == nil || op.Post == nil {
		t.Fatal("the reindex endpoint is not documented")
	}
	resp := op.Post.Responses.Status(r.code)
	if resp == nil {
		t.Fatalf("POST %s: status %d is not documented", path, r.code)
	}
	var v any
	json.Unmarshal([]byte(r.body), &v)
	if err := resp.Value.Content.Get("application/json").Schema.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		t.Errorf("POST %s (%d) does not match the document: %v", path, r.code, err)
	}
	return r.code, body
}

// TestAPITokens: a maintainer creates a token on their profile page (shown
// once, stored hashed), uses it to queue a re-index of their layer through
// the API, and revokes it; other users' tokens cannot act on the layer.
func TestAPITokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newAcctEnv(t, d, envOpts{})
		// The periodic refresh runs once at start; once it is done it
		// cannot have queued the update this test asks for first.
		waitFor(t, "the start-up refresh", func() bool {
			var n int64
			e.conn.Gorm.Table("river_job").Where("kind = ? AND state = ?", "refresh_all", "completed").Count(&n)
			return n > 0
		})
		e.user("maint@example.org", "maintainer pw 1", false)
		e.user("other@example.org", "other user pw 1", false)
		l := e.layer("meta-tok", store.StatusPublished, "Maint@Example.org")
		e.conn.Gorm.Exec("UPDATE layer_branches SET updates_enabled = ? WHERE layer_id = ?", true, l.ID)

		tokenOf := func(email, pw string) (*client, string) {
			c := e.client()
			c.login(email, pw)
			c.get("/accounts/profile/")
			if r := c.postRaw("/accounts/tokens/", url.Values{"token_name": {"ci"}}); r.code != http.StatusForbidden {
				t.Errorf("token creation without CSRF token: %d", r.code)
			}
			r := c.post("/accounts/tokens/", url.Values{"token_name": {"CI of " + email}})
			m := newTokenRe.FindStringSubmatch(r.body)
			if r.code != http.StatusOK || m == nil {
				t.Fatalf("creating a token: %d %v", r.code, fieldErrors(r.body))
			}
			if again := c.get("/accounts/profile/"); strings.Contains(again.body, m[1]) || !strings.Contains(again.body, m[1][:10]) {
				t.Error("the token is shown again, or its prefix is not listed")
			}
			return c, m[1]
		}
		maint, token := tokenOf("maint@example.org", "maintainer pw 1")
		other, otherToken := tokenOf("other@example.org", "other user pw 1")

		var stored int64
		e.conn.Gorm.Table("api_tokens").Where("token_hash = ? OR prefix = ?", token, token).Count(&stored)
		if stored != 0 {
			t.Error("the token is stored in clear")
		}

		anon := e.client()
		path := "/layerindex/api/layerItems/" + strconv.FormatInt(l.ID, 10) + "/reindex/"
		cases := []struct {
			who   *client
			path  string
			token string
			code  int
		}{
			{anon, path, "", http.StatusUnauthorized},
			{anon, path, "lit_notavalidtoken", http.StatusUnauthorized},
			{anon, path, otherToken, http.StatusForbidden},
			{anon, "/layerindex/api/layerItems/999999/reindex/", token, http.StatusNotFound},
			{anon, path + "?branch=nope", token, http.StatusBadRequest},
		}
		for _, c := range cases {
			if code, body := apiPost(t, c.who, c.path, c.token); code != c.code || body["detail"] == nil {
				t.Errorf("POST %s with %.12q: %d %v, want %d with a detail", c.path, c.token, code, body, c.code)
			}
		}
		code, body := apiPost(t, anon, path+"?branch=master", token)
		queued, _ := body["queued"].([]any)
		if code != http.StatusAccepted || len(queued) != 1 {
			t.Fatalf("re-index with the maintainer's token: %d %v", code, body)
		}
		if q := queued[0].(map[string]any); q["branch"] != "master" || q["already_queued"] != false {
			t.Errorf("queued: %v", q)
		}
		var jobs int64
		e.conn.Gorm.Table("river_job").Where("kind = ?", "update_run").Count(&jobs)
		if jobs == 0 {
			t.Error("no update job queued")
		}
		var history int64
		e.conn.Gorm.Table("layer_changes").Where("layer_id = ? AND action LIKE ?", l.ID, "%through the API%").Count(&history)
		if history != 1 {
			t.Errorf("history rows: %d", history)
		}

		// Another user cannot revoke the maintainer's token; its owner can.
		var id int64
		e.conn.Gorm.Table("api_tokens").Select("id").Where("name = ?", "CI of maint@example.org").Scan(&id)
		revoke := "/accounts/tokens/" + strconv.FormatInt(id, 10) + "/revoke/"
		other.get("/accounts/profile/")
		if r := other.post(revoke, nil); r.code != http.StatusNotFound {
			t.Errorf("revoking another user's token: %d", r.code)
		}
		if r := maint.post(revoke, nil); r.code != http.StatusSeeOther {
			t.Errorf("revoking: %d", r.code)
		}
		if code, _ := apiPost(t, anon, path, token); code != http.StatusUnauthorized {
			t.Errorf("revoked token: %d", code)
		}
	})
}

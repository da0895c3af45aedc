package web_test

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/logtest"
	"layerindex/internal/repocreds/privatetest"
	"layerindex/internal/store"
)

const (
	forgeToken    = "glpat-web-secret-token-5f3a9c"
	basicPassword = "basic-password-never-used-7d1e"
)

// variantRepo copies the test layer repository with its test layer's
// collection renamed, so two layers of it can sit on one branch.
func variantRepo(t *testing.T, src, collection string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), collection+".git")
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if out, err := exec.Command("git", "clone", "-q", src, dir).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	conf := filepath.Join(dir, "meta-test/conf/layer.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, bytes.ReplaceAll(b, []byte("test-layer"), []byte(collection)), 0o644); err != nil {
		t.Fatal(err)
	}
	git("commit", "-qam", "rename the collection")
	return dir
}

// secretsOf are the strings that must never be shown: the token, the
// unused basic password, the private key's marker and every line of its
// body, and the sealed values as stored.
func secretsOf(t *testing.T, e *acctEnv, keyPEM string) []string {
	t.Helper()
	out := []string{forgeToken, basicPassword, "PRIVATE KEY"}
	for _, l := range strings.Split(keyPEM, "\n") {
		if len(l) >= 20 && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	var rows []store.RepoCredential
	if err := e.conn.Gorm.Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		out = append(out, r.Secret)
	}
	return out
}

var (
	hrefRe    = regexp.MustCompile(`(?:href|action|src)="([^"#]*)`)
	jsonURLRe = regexp.MustCompile(`"(https?://127\.0\.0\.1:\d+/[^"]*|/layerindex/[^"]*)"`)
)

// crawl fetches every page of the site reachable from seeds (up to limit),
// as c, and hands each body to check.
func crawl(t *testing.T, c *client, seeds []string, limit int, check func(path string, r resp)) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	queue := append([]string(nil), seeds...)
	for len(queue) > 0 && len(seen) < limit {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		r := c.get(p)
		check(p, r)
		if r.code == http.StatusSeeOther || r.code == http.StatusFound {
			queue = append(queue, r.location)
		}
		var links []string
		for _, m := range hrefRe.FindAllStringSubmatch(r.body, -1) {
			links = append(links, m[1])
		}
		for _, m := range jsonURLRe.FindAllStringSubmatch(r.body, -1) {
			links = append(links, m[1])
		}
		for _, l := range links {
			l = strings.ReplaceAll(l, "&amp;", "&")
			u, err := url.Parse(l)
			if err != nil || (u.Host != "" && c.base != "http://"+u.Host) {
				continue
			}
			path := u.RequestURI()
			if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "/static/") || strings.HasPrefix(path, "/accounts/logout") ||
				strings.HasPrefix(path, "/layerindex/admin/jobs/") || strings.Contains(path, "/delete") {
				continue
			}
			if !seen[path] {
				queue = append(queue, path)
			}
		}
	}
	return seen
}

// TestPrivateRepositorySecretsNeverAppear: an administrator sets an https
// token, an unused password and an ssh deploy key on the credentials page;
// layers from the private repositories are submitted, checked and published
// through the site, and the worker indexes them (https with the token, ssh
// with the key, through the update run path). Then no page (crawled as the
// administrator and anonymously), no API response, no update log, no job
// row and no process log line shows the token, the password or the key.
func TestPrivateRepositorySecretsNeverAppear(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		logs := &logtest.Buffer{}
		e := newAcctEnv(t, d, envOpts{logs: logs})
		ctx := context.Background()
		httpsRepo, sshRepo := variantRepo(t, e.repo, "https-layer"), variantRepo(t, e.repo, "ssh-layer")
		forge := privatetest.Start(t, forgeToken, map[string]string{"bsp/https-layer.git": httpsRepo, "bsp/ssh-layer.git": sshRepo})
		admin := e.client()
		admin.login("admin@example.org", adminPassword)

		// The credentials page: add three, one of them twice (replaced).
		page := admin.get("/layerindex/admin/credentials/")
		if page.code != http.StatusOK || !strings.Contains(page.body, "No credential yet") {
			t.Fatalf("credentials page: %d", page.code)
		}
		for _, f := range []url.Values{
			{"prefix": {forge.HTTPS + "/bsp/"}, "kind": {"token"}, "secret": {"first token, replaced"}},
			{"prefix": {forge.HTTPS + "/bsp/"}, "kind": {"token"}, "secret": {forgeToken}},
			{"prefix": {"https://git.example.com/"}, "kind": {"basic"}, "username": {"ci"}, "secret": {basicPassword}},
			{"prefix": {forge.SSHPrefix() + "bsp/"}, "kind": {"ssh"}, "secret": {forge.KeyPEM}, "known_hosts": {forge.SSH.KnownHosts()}},
		} {
			if r := admin.post("/layerindex/admin/credentials/", f); r.code != http.StatusSeeOther {
				t.Fatalf("saving %s: %d %v", f.Get("prefix"), r.code, fieldErrors(r.body))
			}
		}
		page = admin.get("/layerindex/admin/credentials/")
		page.body = html.UnescapeString(page.body) // html/template writes + as &#43;
		fp := ssh.FingerprintSHA256(forge.SSH.HostKey)
		for _, want := range []string{forge.HTTPS + "/bsp/", "https://git.example.com/", forge.SSHPrefix() + "bsp/", fp, ">ci<", ">ssh<", ">basic<"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the credentials page lacks %q", want)
			}
		}
		if strings.Contains(page.body, "first token") || strings.Count(page.body, ">token<") != 1 {
			t.Error("the replaced token is still listed")
		}

		// A form refused comes back without its secret.
		bad := admin.post("/layerindex/admin/credentials/", url.Values{"prefix": {forge.SSHPrefix()}, "kind": {"ssh"},
			"secret": {forge.KeyPEM}, "known_hosts": {"git.example.com " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(forge.SSH.HostKey)))}})
		if bad.code != http.StatusUnprocessableEntity || !strings.Contains(strings.Join(fieldErrors(bad.body), " "), "not for") {
			t.Errorf("a known_hosts line for another host: %d %v", bad.code, fieldErrors(bad.body))
		}
		// Without the CSRF token, nothing is saved.
		if r := admin.postRaw("/layerindex/admin/credentials/", url.Values{"prefix": {"https://evil.example.com/"}, "kind": {"token"}, "secret": {"x"}}); r.code != http.StatusForbidden {
			t.Errorf("without a CSRF token: %d", r.code)
		}

		// Layers from both, submitted and published through the site.
		for name, u := range map[string]string{"meta-https": forge.HTTPS + "/bsp/https-layer.git", "meta-ssh": forge.SSHURL("bsp/ssh-layer.git")} {
			f := e.layerForm(name)
			f.Set("vcs_url", u)
			if r := admin.post("/layerindex/submit/", f); r.code != http.StatusSeeOther {
				t.Fatalf("submitting %s: %d %v", u, r.code, fieldErrors(r.body))
			}
			if r := admin.post("/layerindex/layer/"+name+"/publish/", nil); r.code != http.StatusSeeOther {
				t.Fatalf("publishing %s: %d", name, r.code)
			}
		}
		// An ssh URL outside the key's prefix is refused by the form.
		f := e.layerForm("meta-elsewhere")
		f.Set("vcs_url", forge.SSHURL("other/x.git"))
		if r := admin.post("/layerindex/submit/", f); r.code != http.StatusUnprocessableEntity || !strings.Contains(strings.Join(fieldErrors(r.body), " "), "no ssh deploy key") {
			t.Errorf("an ssh URL without a key: %d %v", r.code, fieldErrors(r.body))
		}

		for _, name := range []string{"meta-https", "meta-ssh"} {
			l := e.layerByName(name)
			waitFor(t, name+" indexed", func() bool {
				var lus []store.LayerUpdate
				e.conn.Gorm.Where("layer_id = ? AND status = ?", l.ID, store.UpdateSucceeded).Find(&lus)
				return len(lus) > 0
			})
		}
		if forge.Authed.Load() == 0 || forge.SSH.UploadPacks.Load() == 0 {
			t.Fatalf("https authenticated %d times, ssh ran upload-pack %d times", forge.Authed.Load(), forge.SSH.UploadPacks.Load())
		}

		secrets := secretsOf(t, e, forge.KeyPEM)
		leak := func(where, text string) {
			for _, s := range secrets {
				if strings.Contains(text, s) {
					i := strings.Index(text, s)
					t.Errorf("%s shows a secret (%q…)", where, text[max(0, i-40):i])
				}
			}
		}
		seeds := []string{"/", "/layerindex/admin/", "/layerindex/admin/credentials/", "/layerindex/updates/", "/layerindex/review/",
			"/layerindex/history/", "/layerindex/admin/outbox/", "/layerindex/api/", "/layerindex/api/layerItems/?format=json",
			"/layerindex/api/layerBranches/?format=json", "/layerindex/api/openapi.json",
			"/layerindex/layer/meta-https/manage/", "/layerindex/layer/meta-ssh/manage/"}
		var pages []string
		codes := map[string]int{}
		seen := crawl(t, admin, seeds, 600, func(p string, r resp) {
			body := html.UnescapeString(r.body)
			leak("GET "+p+" (administrator)", body+r.body+r.location)
			pages = append(pages, body)
			codes[p] = r.code
		})
		crawl(t, e.client(), seeds, 300, func(p string, r resp) {
			leak("GET "+p+" (anonymous)", html.UnescapeString(r.body)+r.body+r.location)
		})
		all := strings.Join(pages, "\n")
		// The crawl reached what it is meant to check.
		for _, want := range []string{forge.SSHURL("bsp/ssh-layer.git"), forge.HTTPS + "/bsp/https-layer.git", fp, "hello"} {
			if !strings.Contains(all, want) {
				t.Errorf("no page crawled shows %q (%d pages; credentials page %d)", want, len(seen), codes["/layerindex/admin/credentials/"])
			}
		}
		if len(seen) < 50 {
			t.Errorf("only %d pages crawled", len(seen))
		}

		// Update logs, job rows, process logs.
		var lus []store.LayerUpdate
		e.conn.Gorm.Find(&lus)
		for _, lu := range lus {
			leak("the log of layer update "+int64s(lu.ID), lu.Log+lu.Reason)
		}
		var ups []store.Update
		e.conn.Gorm.Find(&ups)
		for _, u := range ups {
			leak("the log of update "+int64s(u.ID), u.Log)
		}
		var jobs []struct{ Args, Errors string }
		e.conn.Gorm.Raw("SELECT CAST(args AS TEXT) AS args, COALESCE(CAST(errors AS TEXT), '') AS errors FROM river_job").Scan(&jobs)
		for _, j := range jobs {
			leak("a job row", j.Args+j.Errors)
		}
		out := logs.String()
		leak("the process log", out)
		for _, want := range []string{"repository credential set", "kind=ssh"} {
			if !strings.Contains(out, want) {
				t.Errorf("the process log lacks %q: the capture is not working", want)
			}
		}

		// Removal, from the page.
		if r := admin.post("/layerindex/admin/credentials/remove/", url.Values{"prefix": {"https://git.example.com/"}}); r.code != http.StatusSeeOther {
			t.Fatalf("remove: %d", r.code)
		}
		if r := admin.post("/layerindex/admin/credentials/remove/", url.Values{"prefix": {"https://git.example.com/"}}); r.code != http.StatusNotFound {
			t.Errorf("remove twice: %d", r.code)
		}
		if list, _ := e.creds.List(ctx); len(list) != 2 {
			t.Errorf("after removal: %+v", list)
		}
	})
}

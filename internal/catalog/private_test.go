package catalog_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"layerindex/internal/catalog"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/gitrepo"
	"layerindex/internal/gitrepo/sshtest"
	"layerindex/internal/repocreds"
	"layerindex/internal/repocreds/privatetest"
	"layerindex/internal/store"
)

const forgeToken = "glpat-catalog-test-token-0123"

func credSource(t *testing.T, e *env) *repocreds.Source {
	t.Helper()
	sealer, err := repocreds.NewSealer(secret)
	if err != nil {
		t.Fatal(err)
	}
	return repocreds.NewSource(e.st, sealer)
}

// TestSSHURLsNeedADeployKey: an ssh repository URL is accepted for a layer
// only under a prefix an administrator set a deploy key for; the address
// rules apply to its host as to https; another index's ssh URLs are not
// imported.
func TestSSHURLsNeedADeployKey(t *testing.T) {
	e := newEnv(t, db.SQLite, envOpts{})
	src := credSource(t, e)
	e.q, e.cat = e.open(e.conn, envOpts{creds: src})
	maint := catalog.Web(&store.User{ID: 7, Email: "m@example.org"})
	url := "git@git.example.com:bsp/meta-board.git"
	var inv *catalog.InvalidError
	for _, a := range []catalog.Actor{maint, catalog.CLI} {
		if err := e.cat.CheckRepositoryURL(e.ctx, a, url); !errors.As(err, &inv) || !strings.Contains(inv.Msg, "no ssh deploy key") {
			t.Fatalf("without a key, by %s: %v", a.Origin, err)
		}
	}
	_, keyPEM := sshtest.NewKey(t)
	host, _ := sshtest.NewKey(t)
	line := "git.example.com " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(host.PublicKey())))
	if err := src.Set(e.ctx, repocreds.Credential{Prefix: "ssh://git.example.com/bsp/", Kind: repocreds.KindSSH, Secret: keyPEM, KnownHosts: line}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{url, "ssh://git@git.example.com/bsp/meta-board.git", "ssh://git.example.com:22/bsp/x.git"} {
		if err := e.cat.CheckRepositoryURL(e.ctx, maint, u); err != nil {
			t.Errorf("%s with a key: %v", u, err)
		}
	}
	for _, u := range []string{"git@git.example.com:other/x.git", "ssh://git@git.example.com:2222/bsp/x.git", "git@10.0.0.1:bsp/x.git",
		"git@git.example.com.evil.org:bsp/x.git", "ssh://git:pw@git.example.com/bsp/x.git"} {
		if err := e.cat.CheckRepositoryURL(e.ctx, maint, u); !errors.As(err, &inv) {
			t.Errorf("%s accepted", u)
		}
	}
	if err := e.cat.CheckImportedURL(url); !errors.As(err, &inv) {
		t.Errorf("imported ssh URL: %v", err)
	}
}

// TestPrivateRepositoryUpdates: layers in private repositories — one over
// https with a token, one over ssh with a deploy key that depends on it —
// are indexed by the worker through the update run path (publishing queues
// the runs, the job worker works them), and their logs name neither
// secret.
func TestPrivateRepositoryUpdates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d, envOpts{})
		forge := privatetest.Start(t, forgeToken, map[string]string{"bsp/layers.git": e.repo.dir})
		src := credSource(t, e)
		loopback := gitrepo.Policy{AllowHTTP: true, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
		e.q, e.cat = e.open(e.conn, envOpts{work: true, creds: src, policy: &loopback})
		if err := src.Set(e.ctx, repocreds.Credential{Prefix: forge.HTTPS + "/bsp/", Kind: repocreds.KindToken, Secret: forgeToken}); err != nil {
			t.Fatal(err)
		}
		if err := src.Set(e.ctx, repocreds.Credential{Prefix: forge.SSHPrefix(), Kind: repocreds.KindSSH, Secret: forge.KeyPEM,
			KnownHosts: forge.SSH.KnownHosts()}); err != nil {
			t.Fatal(err)
		}
		master := e.branch("master")
		add := func(name, subdir, url string) *store.Layer {
			l, err := e.cat.AddLayer(e.ctx, catalog.CLI, []store.Branch{*master}, catalog.LayerInput{
				Layer:  store.Layer{Name: name, LayerType: store.TypeSoftware, Summary: name, Description: name, VCSURL: url},
				Subdir: subdir, Maintainers: []store.LayerMaintainer{{Name: "M", Email: "m@example.org"}},
			}, true)
			if err != nil {
				t.Fatalf("adding %s (%s): %v", name, url, err)
			}
			return l
		}
		core := add("openembedded-core", "meta", forge.HTTPS+"/bsp/layers.git")
		board := add("meta-test", "meta-test", forge.SSHURL("bsp/layers.git"))
		e.start(e.q)
		for _, l := range []*store.Layer{core, board} {
			lb := e.lb(l.ID, master.ID)
			e.waitFor(l.Name+"'s run to end", func() bool {
				rs := e.runs(lb.ID)
				return len(rs) > 0 && rs[0].Final() // not the wait for the core, if meta-test came first
			})
			r := e.runs(lb.ID)[0]
			if r.Status != store.UpdateSucceeded || r.RecipesAdded != 1 {
				t.Fatalf("%s: %s (%s)\n%s", l.Name, r.Status, r.Reason, r.Log)
			}
			for _, s := range []string{forgeToken, "PRIVATE KEY", keyBody(forge.KeyPEM)} {
				if strings.Contains(r.Log+r.Reason, s) {
					t.Errorf("%s's log shows a secret", l.Name)
				}
			}
		}
		if forge.Authed.Load() == 0 || forge.SSH.UploadPacks.Load() == 0 {
			t.Errorf("https authenticated %d times, ssh upload-pack ran %d times", forge.Authed.Load(), forge.SSH.UploadPacks.Load())
		}
		// Without the credentials, the next forced runs fail as needing them.
		for _, p := range []string{forge.HTTPS + "/bsp/", forge.SSHPrefix()} {
			if err := src.Remove(e.ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		for _, l := range []*store.Layer{core, board} {
			req, err := e.cat.RequestUpdate(context.Background(), catalog.CLI, catalog.UpdateRequest{LayerID: l.ID, Force: true})
			if err != nil {
				t.Fatal(err)
			}
			id := req.Runs[0].Run.ID
			e.waitFor(l.Name+"'s second run to end", func() bool { return e.run(id).FinishedAt != nil })
			// At once: a permanent failure, not retried.
			if r := e.run(id); r.Status != store.UpdateFailed || r.Attempt != 1 || !strings.Contains(r.Reason, "private") && !strings.Contains(r.Reason, "deploy key") {
				t.Errorf("%s without its credential: %s, attempt %d (%s)", l.Name, r.Status, r.Attempt, r.Reason)
			}
		}
	})
}

// keyBody is a line from the middle of a PEM key: key material.
func keyBody(pemText string) string {
	lines := strings.Split(strings.TrimSpace(pemText), "\n")
	return lines[len(lines)/2]
}

package repocreds_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/gitrepo"
	"layerindex/internal/gitrepo/sshtest"
	"layerindex/internal/repocreds"
	"layerindex/internal/store"
)

// sshGitServer serves a bare repository with a layer over ssh to the
// holder of the returned deploy key (its private key in PEM).
func sshGitServer(t *testing.T) (*sshtest.Server, string) {
	t.Helper()
	src := t.TempDir()
	run := func(dir string, args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	writeLayer(t, src)
	run(src, "init", "-q", "-b", "master")
	run(src, "add", ".")
	run(src, "commit", "-qm", "private layer")
	root := t.TempDir()
	run(root, "clone", "-q", "--bare", src, filepath.Join(root, "bsp", "meta-board.git"))
	key, keyPEM := sshtest.NewKey(t)
	return sshtest.Start(t, root, key.PublicKey()), keyPEM
}

// TestSSHDeployKey: an ssh repository is cloned with the deploy key an
// administrator set for its prefix, and only while the server shows the
// pinned host key; without a key for its prefix it is refused before any
// connection. The key is sealed, bound to the prefix and host key, and
// listed only by fingerprint.
func TestSSHDeployKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		st := store.New(conn.Gorm)
		srv, keyPEM := sshGitServer(t)
		sealer, err := repocreds.NewSealer(siteSecret)
		if err != nil {
			t.Fatal(err)
		}
		src := repocreds.NewSource(st, sealer)
		pol := gitrepo.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
		fetch := func(u string) (*gitrepo.Repo, error) {
			c := gitrepo.NewCache(t.TempDir(), pol, gitrepo.DefaultLimits)
			c.Credentials = src
			return c.Fetch(ctx, u)
		}
		repoURL := "ssh://git@" + srv.Addr + "/bsp/meta-board.git"
		prefix := "ssh://" + srv.Addr + "/bsp/"

		// No key for the prefix: refused, nothing dialled.
		if _, err := fetch(repoURL); !errors.Is(err, gitrepo.ErrURLRefused) {
			t.Fatalf("without a deploy key: %v", err)
		}
		if ok, err := src.CoversSSH(ctx, repoURL); ok || err != nil {
			t.Fatalf("covered before a key was set: %v %v", ok, err)
		}

		// What Set refuses.
		other, otherPEM := sshtest.NewKey(t)
		otherLine := fmt.Sprintf("[127.0.0.1]:%d %s", srv.Port(), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(other.PublicKey()))))
		_, encPriv, _ := ed25519.GenerateKey(rand.Reader)
		block, _ := ssh.MarshalPrivateKeyWithPassphrase(encPriv, "", []byte("pass"))
		for name, c := range map[string]repocreds.Credential{
			"no known_hosts":      {Prefix: prefix, Kind: repocreds.KindSSH, Secret: keyPEM},
			"another host":        {Prefix: prefix, Kind: repocreds.KindSSH, Secret: keyPEM, KnownHosts: "git.example.com " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(srv.HostKey)))},
			"another port":        {Prefix: prefix, Kind: repocreds.KindSSH, Secret: keyPEM, KnownHosts: "127.0.0.1 " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(srv.HostKey)))},
			"two lines":           {Prefix: prefix, Kind: repocreds.KindSSH, Secret: keyPEM, KnownHosts: srv.KnownHosts() + "\n" + otherLine},
			"cert authority":      {Prefix: prefix, Kind: repocreds.KindSSH, Secret: keyPEM, KnownHosts: "@cert-authority " + srv.KnownHosts()},
			"not a key":           {Prefix: prefix, Kind: repocreds.KindSSH, Secret: "hunter2", KnownHosts: srv.KnownHosts()},
			"passphrase":          {Prefix: prefix, Kind: repocreds.KindSSH, Secret: string(pem.EncodeToMemory(block)), KnownHosts: srv.KnownHosts()},
			"https prefix":        {Prefix: "https://git.example.com/", Kind: repocreds.KindSSH, Secret: keyPEM, KnownHosts: srv.KnownHosts()},
			"token on ssh":        {Prefix: prefix, Kind: repocreds.KindToken, Secret: token},
			"user in prefix":      {Prefix: "ssh://git@" + srv.Addr + "/", Kind: repocreds.KindSSH, Secret: keyPEM, KnownHosts: srv.KnownHosts()},
			"bad user":            {Prefix: prefix, Kind: repocreds.KindSSH, Username: "-oProxyCommand=x", Secret: keyPEM, KnownHosts: srv.KnownHosts()},
			"prefix with a query": {Prefix: prefix + "?x", Kind: repocreds.KindSSH, Secret: keyPEM, KnownHosts: srv.KnownHosts()},
		} {
			err := src.Set(ctx, c)
			var inv *repocreds.InvalidError
			if !errors.As(err, &inv) {
				t.Errorf("%s: accepted (%v)", name, err)
			} else if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("%s: the error quotes the secret: %v", name, err)
			}
		}

		// Another host key pinned: the fetch stops at the host key.
		if err := src.Set(ctx, repocreds.Credential{Prefix: prefix, Kind: repocreds.KindSSH, Secret: keyPEM, KnownHosts: otherLine}); err != nil {
			t.Fatal(err)
		}
		if _, err := fetch(repoURL); !errors.Is(err, gitrepo.ErrHostKeyMismatch) || !gitrepo.IsPermanent(err) {
			t.Fatalf("wrong host key: %v", err)
		}
		if srv.Authorised.Load() != 0 {
			t.Fatal("authenticated to a server whose host key is not pinned")
		}
		// A key the server does not take.
		if err := src.Set(ctx, repocreds.Credential{Prefix: prefix, Kind: repocreds.KindSSH, Secret: otherPEM, KnownHosts: srv.KnownHosts()}); err != nil {
			t.Fatal(err)
		}
		if _, err := fetch(repoURL); err == nil || !gitrepo.IsPermanent(err) {
			t.Fatalf("unauthorised key: %v", err)
		}

		// The deploy key and the host's line, hashed as ssh-keygen -H
		// writes it; the prefix written with the default port.
		hashed := knownhosts.HashHostname(knownhosts.Normalize(srv.Addr)) + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(srv.HostKey)))
		if err := src.Set(ctx, repocreds.Credential{Prefix: prefix, Kind: repocreds.KindSSH, Secret: keyPEM, KnownHosts: hashed}); err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{repoURL, "ssh://" + srv.Addr + "/bsp/meta-board.git"} {
			if ok, err := src.CoversSSH(ctx, u); !ok || err != nil {
				t.Fatalf("%s not covered: %v", u, err)
			}
			repo, err := fetch(u)
			if err != nil {
				t.Fatalf("with the deploy key: %v", err)
			}
			if _, err := repo.Branch("master"); err != nil {
				t.Fatal(err)
			}
		}
		if srv.LastUser() != "git" {
			t.Errorf("ssh user %q, want git (the URL's, then the default)", srv.LastUser())
		}
		// The ssh user: the URL's, else the credential's, else git.
		if err := src.Set(ctx, repocreds.Credential{Prefix: prefix, Kind: repocreds.KindSSH, Username: "deploy", Secret: keyPEM, KnownHosts: srv.KnownHosts()}); err != nil {
			t.Fatal(err)
		}
		for u, user := range map[string]string{"ssh://" + srv.Addr + "/bsp/meta-board.git": "deploy", "ssh://alice@" + srv.Addr + "/bsp/meta-board.git": "alice"} {
			if _, err := fetch(u); err != nil || srv.LastUser() != user {
				t.Errorf("%s: ssh user %q, want %q (%v)", u, srv.LastUser(), user, err)
			}
		}
		for _, u := range []string{"ssh://git@" + srv.Addr + "/bspx/meta.git", "ssh://git@" + srv.Addr + "/other/meta.git", "https://" + srv.Addr + "/bsp/x.git"} {
			if ok, _ := src.CoversSSH(ctx, u); ok {
				t.Errorf("%s covered by %s", u, prefix)
			}
		}

		// Sealed, bound to its prefix and pinned host key; listed by
		// fingerprint only.
		var rows []store.RepoCredential
		conn.Gorm.Find(&rows)
		if len(rows) != 1 || strings.Contains(rows[0].Secret, "PRIVATE") || rows[0].HostKey == "" || rows[0].Username != "deploy" {
			t.Fatalf("stored: %+v", rows)
		}
		list, err := src.List(ctx)
		if err != nil || len(list) != 1 || list[0].Kind != "ssh" || !strings.HasPrefix(list[0].HostKey, "ssh-ed25519 SHA256:") || list[0].SetAt.IsZero() {
			t.Fatalf("list: %+v %v", list, err)
		}
		conn.Gorm.Model(&store.RepoCredential{}).Where("id = ?", rows[0].ID).Update("host_key", strings.TrimSpace(string(ssh.MarshalAuthorizedKey(other.PublicKey()))))
		if _, err := src.AuthFor(ctx, repoURL); err == nil {
			t.Error("a host key changed in the database still opened the key")
		}
		if err := src.Remove(ctx, prefix); err != nil {
			t.Fatal(err)
		}
		if err := src.Remove(ctx, prefix); !errors.Is(err, repocreds.ErrNotFound) {
			t.Errorf("removing twice: %v", err)
		}
	})
}

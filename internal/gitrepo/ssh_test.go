package gitrepo

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/net/proxy"

	"layerindex/internal/gitrepo/sshtest"
	"layerindex/internal/prereq"
)

// fixedAuth gives the same authentication for every URL.
type fixedAuth struct{ auth transport.AuthMethod }

func (f fixedAuth) AuthFor(context.Context, string) (transport.AuthMethod, error) { return f.auth, nil }

// sshRepo serves a bare clone of src over ssh to the holder of a deploy
// key; it returns the server, the URL and the key.
func sshRepo(t *testing.T, src *gitRepo) (*sshtest.Server, string, ssh.Signer) {
	t.Helper()
	root := t.TempDir()
	if out, err := exec.Command("git", "clone", "-q", "--bare", src.dir, filepath.Join(root, "bsp", "meta-board.git")).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	key, _ := sshtest.NewKey(t)
	srv := sshtest.Start(t, root, key.PublicKey())
	return srv, "ssh://git@" + srv.Addr + "/bsp/meta-board.git", key
}

var loopback = Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}

// TestSSHFetch: a repository served over ssh is cloned with its deploy key
// when the server shows the pinned host key; it is refused without a key
// (before any connection), with a key the server does not take, and with
// another pinned host key (before authenticating or running anything).
func TestSSHFetch(t *testing.T) {
	src := newGitRepo(t)
	src.write(map[string]string{"meta/conf/layer.conf": "BBFILE_COLLECTIONS += \"board\"\n"})
	src.commit("one")
	srv, repoURL, key := sshRepo(t, src)
	ctx := context.Background()

	cache := func(auth transport.AuthMethod) *Cache {
		c := NewCache(t.TempDir(), loopback, testLimits())
		if auth != nil {
			c.Credentials = fixedAuth{auth}
		}
		return c
	}
	good := &SSHKey{User: "git", Signer: key, HostKey: srv.HostKey}

	// No key: refused before dialling.
	for _, c := range []*Cache{cache(nil), cache(&githttp.BasicAuth{Username: "git", Password: "x"})} {
		if _, err := c.Fetch(ctx, repoURL); !errors.Is(err, ErrURLRefused) || !IsPermanent(err) {
			t.Fatalf("no deploy key: %v", err)
		}
	}
	if n := srv.Accepted.Load(); n != 0 {
		t.Fatalf("%d connections without a deploy key", n)
	}

	// Another host key pinned: refused before authenticating.
	other, _ := sshtest.NewKey(t)
	_, err := cache(&SSHKey{User: "git", Signer: key, HostKey: other.PublicKey()}).Fetch(ctx, repoURL)
	if !errors.Is(err, ErrHostKeyMismatch) || !IsPermanent(err) {
		t.Fatalf("wrong host key: %v", err)
	}
	for _, fp := range []string{ssh.FingerprintSHA256(srv.HostKey), ssh.FingerprintSHA256(other.PublicKey())} {
		if !strings.Contains(err.Error(), fp) {
			t.Errorf("the host key error does not name %s: %v", fp, err)
		}
	}
	if srv.Authorised.Load() != 0 || srv.UploadPacks.Load() != 0 {
		t.Fatal("the client authenticated to a server whose host key is not the pinned one")
	}

	// A key the server does not take.
	stranger, _ := sshtest.NewKey(t)
	_, err = cache(&SSHKey{User: "git", Signer: stranger, HostKey: srv.HostKey}).Fetch(ctx, repoURL)
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "refused the deploy key") {
		t.Fatalf("unauthorised key: %v", err)
	}

	// The deploy key, the pinned host key.
	c := cache(good)
	repo, err := c.Fetch(ctx, repoURL)
	if err != nil {
		t.Fatalf("ssh clone: %v", err)
	}
	head, err := repo.Branch("master")
	if err != nil {
		t.Fatal(err)
	}
	tree, err := repo.Tree(head.Hash, "meta")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := tree.ReadFile("conf/layer.conf"); err != nil || !strings.Contains(string(b), "board") {
		t.Fatalf("layer.conf: %q %v", b, err)
	}
	if srv.UploadPacks.Load() != 1 {
		t.Errorf("upload-pack ran %d times", srv.UploadPacks.Load())
	}
	// A new commit arrives with the next fetch.
	src.write(map[string]string{"meta/README": "two"})
	src.commit("two")
	cmd := exec.Command("git", "push", "-q", filepath.Join(srv.Root(), "bsp", "meta-board.git"), "master")
	cmd.Dir = src.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	repo, err = c.Fetch(ctx, repoURL)
	if err != nil {
		t.Fatalf("ssh fetch: %v", err)
	}
	if h2, _ := repo.Branch("master"); h2 == head {
		t.Error("the second fetch did not bring the new commit")
	}
	if s := good.String(); strings.Contains(s, "PRIVATE") || !strings.Contains(s, "SHA256:") {
		t.Errorf("the key prints as %q", s)
	}
}

// TestSSHTransferCap: the transfer cap holds over ssh too.
func TestSSHTransferCap(t *testing.T) {
	src := newGitRepo(t)
	rnd := make([]byte, 3<<20)
	rand.NewChaCha8([32]byte{2}).Read(rnd)
	src.write(map[string]string{"meta/conf/layer.conf": "x", "meta/blob.bin": string(rnd)})
	src.commit("one")
	srv, repoURL, key := sshRepo(t, src)
	limits := testLimits()
	limits.MaxTransferBytes = 256 << 10
	c := NewCache(t.TempDir(), loopback, limits)
	c.Credentials = fixedAuth{&SSHKey{User: "git", Signer: key, HostKey: srv.HostKey}}
	if _, err := c.Fetch(context.Background(), repoURL); !errors.Is(err, ErrTooLarge) || !IsPermanent(err) {
		t.Fatalf("transfer over the cap: %v", err)
	}
}

// TestSSHDialChecksAddress: the dialer go-git's ssh transport is given
// checks the address it connects to against the fetch's policy (a name
// that resolves to a private address gets no further than this).
func TestSSHDialChecksAddress(t *testing.T) {
	trap := newListener(t, "127.0.0.1:0")
	installTransports()
	for _, pol := range []Policy{{}, loopback} {
		ctx := withPolicy(context.Background(), pol)
		u, forget := withSSHDialer(ctx)
		pu, _ := url.Parse(u)
		d, err := proxy.FromURL(pu, proxy.Direct)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := d.(proxy.ContextDialer).DialContext(ctx, "tcp", trap.Addr().String())
		forget()
		if len(pol.Allow) == 0 {
			if !errors.Is(err, ErrURLRefused) {
				t.Fatalf("dial to loopback: %v", err)
			}
			if n := trap.accepted.Load(); n != 0 {
				t.Fatalf("%d connections reached loopback", n)
			}
			continue
		}
		if err != nil {
			t.Fatalf("dial to an allowed address: %v", err)
		}
		conn.Close()
	}
}

// TestSSHURLs: what ssh URLs are accepted, and as what.
func TestSSHURLs(t *testing.T) {
	ok := map[string]string{
		"ssh://git@git.example.com/bsp/meta-board.git":      "ssh://git@git.example.com/bsp/meta-board.git",
		"git@git.example.com:bsp/meta-board.git":            "ssh://git@git.example.com/bsp/meta-board.git",
		"git.example.com:/srv/git/x.git":                    "ssh://git.example.com/srv/git/x.git",
		"ssh://git@Git.Example.com:22/x.git":                "ssh://git@git.example.com/x.git",
		"ssh://git@git.example.com:7999/bsp/meta-board.git": "ssh://git@git.example.com:7999/bsp/meta-board.git",
		"git+ssh://git@git.example.com/x.git":               "ssh://git@git.example.com/x.git",
	}
	for in, want := range ok {
		got, err := Policy{}.CheckURL(in)
		if err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"ssh://git@127.0.0.1/x.git", "git@10.0.0.1:x.git", "git@[::1]:x.git", "git@localhost:x.git", "ssh://git@127.1/x.git",
		"ssh://git:pw@git.example.com/x.git", "-oProxyCommand=x@h:x", "git@h:-x.git", "ssh://git@h/x.git?y", "git@h:x'y.git",
		"ssh://-oProxyCommand=x@h/x.git", "git@h:", "ssh://git@h/", "git@h:a b",
	} {
		if got, err := (Policy{}).CheckURL(in); !errors.Is(err, ErrURLRefused) {
			t.Errorf("%q accepted as %q", in, got)
		}
	}
	s, err := ParseSSH("git@Git.Example.com:bsp/x.git")
	if err != nil || s.Canonical() != "ssh://git.example.com/bsp/x.git" || s.Address() != "git.example.com:22" {
		t.Errorf("parse: %+v %v", s, err)
	}
}

// TestSSHIgnoresTheUsersSSH: the user's ~/.ssh/known_hosts (which here
// pins another key for the server), ssh agent and ssh configuration play
// no part in a fetch. (go-git reads ~/.ssh/config from the passwd entry's
// home, which a test cannot move: that its reader is off is checked.)
func TestSSHIgnoresTheUsersSSH(t *testing.T) {
	home := t.TempDir()
	other, _ := sshtest.NewKey(t)
	src := newGitRepo(t)
	src.write(map[string]string{"meta/conf/layer.conf": "x"})
	src.commit("one")
	srv, repoURL, key := sshRepo(t, src)
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"config":      "Host *\n  HostName 203.0.113.7\n  Port 2\n",
		"known_hosts": strings.Replace(srv.KnownHosts(), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(srv.HostKey))), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(other.PublicKey()))), 1) + "\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(home, ".ssh", name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HOME", home)
	t.Setenv("SSH_KNOWN_HOSTS", filepath.Join(home, ".ssh", "known_hosts"))
	t.Setenv("SSH_AUTH_SOCK", filepath.Join(home, "no-agent"))
	c := NewCache(t.TempDir(), loopback, testLimits())
	c.Credentials = fixedAuth{&SSHKey{User: "git", Signer: key, HostKey: srv.HostKey}}
	if _, err := c.Fetch(context.Background(), repoURL); err != nil {
		t.Fatalf("with the user's ~/.ssh in the way: %v", err)
	}
	if gitssh.DefaultSSHConfig != nil {
		t.Error("go-git's ssh transport reads the user's ssh configuration")
	}
}

// TestSSHSilentServerFailsPromptly: an ssh server that accepts the
// connection and then never answers (or stops after its version line)
// fails the fetch at the handshake bound with a clear error, not at the
// fetch timeout; the bound does not disturb a real server's fetch.
func TestSSHSilentServerFailsPromptly(t *testing.T) {
	key, _ := sshtest.NewKey(t)
	host, _ := sshtest.NewKey(t)
	limits := testLimits()
	limits.FetchTimeout = 20 * time.Second // what a missing bound would end at
	limits.SSHHandshakeTimeout = 500 * time.Millisecond
	for name, greeting := range map[string]string{"silent": "", "version only": "SSH-2.0-OpenSSH_9.6\r\n"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			prereq.Missing(t, "cannot listen on 127.0.0.1: %v", err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				if greeting != "" {
					c.Write([]byte(greeting))
				}
				t.Cleanup(func() { c.Close() }) // held open, never answering
			}
		}()
		c := NewCache(t.TempDir(), loopback, limits)
		c.Credentials = fixedAuth{&SSHKey{User: "git", Signer: key, HostKey: host.PublicKey()}}
		_, err = c.Fetch(context.Background(), "ssh://git@"+ln.Addr().String()+"/bsp/meta-board.git")
		if !errors.Is(err, ErrSSHHandshake) || !strings.Contains(err.Error(), ln.Addr().String()) {
			t.Errorf("%s: %v, want %v naming the server", name, err, ErrSSHHandshake)
		}
	}

	src := newGitRepo(t)
	src.write(map[string]string{"meta/conf/layer.conf": "x"})
	src.commit("one")
	srv, repoURL, k := sshRepo(t, src)
	c := NewCache(t.TempDir(), loopback, limits)
	c.Credentials = fixedAuth{&SSHKey{User: "git", Signer: k, HostKey: srv.HostKey}}
	if _, err := c.Fetch(context.Background(), repoURL); err != nil {
		t.Fatalf("fetch from a real server under the bound: %v", err)
	}
}

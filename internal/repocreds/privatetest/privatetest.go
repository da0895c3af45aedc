// Package privatetest serves git repositories as a company's forge does
// for tests: over smart HTTP (git-http-backend) to requests carrying a
// token as the password of HTTP basic authentication, and over ssh
// (sshtest) to the holder of a deploy key — both on loopback.
package privatetest

import (
	"crypto/subtle"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"layerindex/internal/gitrepo/sshtest"
	"layerindex/internal/prereq"
)

// Forge serves the bare repositories under Root.
type Forge struct {
	Root string
	// HTTPS is the base URL of the HTTP server (http://127.0.0.1:port);
	// Authed counts its requests that carried the token.
	HTTPS  string
	Authed atomic.Int64
	// SSH is the ssh server; KeyPEM the private deploy key it admits.
	SSH    *sshtest.Server
	KeyPEM string
}

// Start serves, under the name given, a bare clone of each repository in
// repos (name → directory of a repository), to token over HTTP and to a
// new deploy key over ssh.
func Start(t testing.TB, token string, repos map[string]string) *Forge {
	t.Helper()
	backend := prereq.File(t, "/usr/lib/git-core/git-http-backend", "Debian's git package")
	git := prereq.Command(t, "git", "Debian's git package")
	f := &Forge{Root: t.TempDir()}
	for name, dir := range repos {
		if out, err := exec.Command(git, "clone", "-q", "--bare", dir, filepath.Join(f.Root, name)).CombinedOutput(); err != nil {
			t.Fatalf("git clone --bare %s: %v\n%s", dir, err, out)
		}
	}
	h := &cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + f.Root, "GIT_HTTP_EXPORT_ALL=1"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pw, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(pw), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		f.Authed.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.HTTPS = srv.URL
	key, keyPEM := sshtest.NewKey(t)
	f.SSH, f.KeyPEM = sshtest.Start(t, f.Root, key.PublicKey()), keyPEM
	return f
}

// SSHURL is the ssh URL of a repository served.
func (f *Forge) SSHURL(name string) string {
	return "ssh://git@" + f.SSH.Addr + "/" + strings.TrimPrefix(name, "/")
}

// SSHPrefix is the ssh:// prefix of every repository served.
func (f *Forge) SSHPrefix() string { return "ssh://" + f.SSH.Addr + "/" }

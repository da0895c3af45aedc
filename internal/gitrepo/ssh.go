package gitrepo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/net/proxy"
)

// SSHURL is a repository reached over ssh, from an ssh:// URL or git's
// scp-like form (user@host:path).
type SSHURL struct {
	User string // may be empty
	Host string // a name, or an address (IPv6 without brackets)
	Port int    // 0: the default, 22
	Path string // without its leading slash
}

// IsSSH reports whether raw is written as an ssh repository URL (ssh://,
// git+ssh://, ssh+git:// or scp-like), valid or not.
func IsSSH(raw string) bool {
	raw = strings.TrimSpace(raw)
	if isLocalPath(raw) {
		return false
	}
	if i := strings.Index(raw, "://"); i >= 0 {
		switch strings.ToLower(raw[:i]) {
		case "ssh", "git+ssh", "ssh+git":
			return true
		}
		return false
	}
	return strings.Contains(raw, ":")
}

// userChars are those allowed in an ssh user name: nothing that a shell or
// ssh's option parser could read as more than a name.
func validSSHUser(u string) bool {
	if u == "" || len(u) > 64 || u[0] == '-' {
		return false
	}
	for _, c := range []byte(u) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ParseSSH reads an ssh repository URL. The scp-like form's path is read
// as from the root (git@host:bsp/x.git is ssh://git@host/bsp/x.git), as
// forges serve it; it has no port. Nothing is resolved or dialled.
func ParseSSH(raw string) (SSHURL, error) {
	raw = strings.TrimSpace(raw)
	var s SSHURL
	if i := strings.Index(raw, "://"); i >= 0 {
		u, err := url.Parse("ssh" + raw[i:])
		if err != nil {
			return s, refuse("not an ssh URL: %v", err)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			return s, refuse("ssh URL with a query or fragment")
		}
		if u.User != nil {
			if _, has := u.User.Password(); has {
				return s, refuse("credentials in URLs are not allowed")
			}
			s.User = u.User.Username()
		}
		s.Host = u.Hostname()
		if p := u.Port(); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return s, refuse("bad port %q", p)
			}
			s.Port = n
		}
		if strings.HasPrefix(u.Host, "[") && !strings.Contains(s.Host, ":") {
			return s, refuse("bad IPv6 address %q", s.Host)
		}
		s.Path = strings.TrimPrefix(u.Path, "/")
	} else {
		colon := strings.Index(raw, ":")
		if at := strings.Index(raw, "@"); at >= 0 && at < colon {
			s.User, raw = raw[:at], raw[at+1:]
		}
		if strings.HasPrefix(raw, "[") {
			end := strings.Index(raw, "]:")
			if end < 0 {
				return s, refuse("bad scp-like ssh URL")
			}
			s.Host, s.Path = raw[1:end], raw[end+2:]
			if !strings.Contains(s.Host, ":") {
				return s, refuse("bad IPv6 address %q", s.Host)
			}
		} else {
			colon = strings.Index(raw, ":")
			if colon < 0 {
				return s, refuse("bad scp-like ssh URL")
			}
			s.Host, s.Path = raw[:colon], raw[colon+1:]
			if strings.ContainsAny(s.Host, "/@[]") {
				return s, refuse("bad scp-like ssh URL")
			}
		}
		s.Path = strings.TrimPrefix(s.Path, "/")
	}
	if s.User != "" && !validSSHUser(s.User) {
		return s, refuse("bad ssh user name %q", s.User)
	}
	s.Host = strings.ToLower(s.Host)
	if s.Host == "" {
		return s, refuse("URL has no host")
	}
	if s.Path == "" || strings.HasPrefix(s.Path, "-") {
		return s, refuse("ssh URL without a repository path")
	}
	for _, c := range []byte(s.Path) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._-/~+@", c) >= 0) {
			return s, refuse("character %q in an ssh repository path", c)
		}
	}
	if s.Port == 22 {
		s.Port = 0
	}
	return s, nil
}

// hostPort is the host and port as in a URL's authority.
func (s SSHURL) hostPort() string {
	h := s.Host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if s.Port != 0 {
		h += ":" + strconv.Itoa(s.Port)
	}
	return h
}

// Canonical is the URL without its user name, with a lower-case host and
// no default port: what credentials' prefixes are matched against.
func (s SSHURL) Canonical() string { return "ssh://" + s.hostPort() + "/" + s.Path }

// String is the ssh:// URL handed to go-git.
func (s SSHURL) String() string {
	u := "ssh://"
	if s.User != "" {
		u += s.User + "@"
	}
	return u + s.hostPort() + "/" + s.Path
}

// Address is host:port, as dialled and as known_hosts names it.
func (s SSHURL) Address() string {
	p := s.Port
	if p == 0 {
		p = 22
	}
	return net.JoinHostPort(s.Host, strconv.Itoa(p))
}

// checkSSH applies the policy's host rules to an ssh URL: the same as for
// https (no private, loopback or reserved address, in any spelling, unless
// allowed), except the port, which any credential that covers the URL
// names (an ssh URL is fetched only with one).
func (p Policy) checkSSH(raw string) (string, error) {
	s, err := ParseSSH(raw)
	if err != nil {
		return "", err
	}
	// checkHost refuses odd ports for https; for ssh the credential names
	// the port, so the host is checked as if on the default one.
	u := &url.URL{Scheme: "ssh", Host: (SSHURL{Host: s.Host}).hostPort()}
	if err := p.checkHost(u); err != nil {
		return "", err
	}
	return s.String(), nil
}

// SSHKey authenticates an ssh fetch with a deploy key and accepts only the
// pinned host key: never trust on first use, never ~/.ssh, never an agent.
// Its String names the key by fingerprint only.
type SSHKey struct {
	User    string
	Signer  ssh.Signer
	HostKey ssh.PublicKey
}

// Name implements transport.AuthMethod.
func (k *SSHKey) Name() string { return "ssh-deploy-key" }

// String implements transport.AuthMethod without key material.
func (k *SSHKey) String() string {
	return fmt.Sprintf("user: %s, deploy key %s, host key %s", k.User,
		ssh.FingerprintSHA256(k.Signer.PublicKey()), ssh.FingerprintSHA256(k.HostKey))
}

// ErrHostKeyMismatch is wrapped when a server shows a host key other than
// the pinned one.
var ErrHostKeyMismatch = errors.New("the ssh server's host key is not the pinned one")

// ClientConfig implements go-git's ssh.AuthMethod.
func (k *SSHKey) ClientConfig() (*ssh.ClientConfig, error) {
	pinned := k.HostKey
	return &ssh.ClientConfig{
		User: k.User,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(k.Signer)},
		HostKeyCallback: func(host string, _ net.Addr, key ssh.PublicKey) error {
			if key.Type() != pinned.Type() || string(key.Marshal()) != string(pinned.Marshal()) {
				return fmt.Errorf("%w: %s shows %s, pinned %s", ErrHostKeyMismatch, host,
					ssh.FingerprintSHA256(key), ssh.FingerprintSHA256(pinned))
			}
			return nil
		},
		HostKeyAlgorithms: hostKeyAlgorithms(pinned.Type()),
		Timeout:           15 * time.Second,
	}, nil
}

// hostKeyAlgorithms asks the server for its key of the pinned type (a
// server with several keys would otherwise show whichever it prefers).
func hostKeyAlgorithms(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// sshDialScheme is the "proxy" go-git's ssh transport is given: a dialer
// of ours, found by a one-fetch id, that checks the address actually
// dialled against the fetch's policy, counts the bytes received against
// its budget, and closes the connection when the fetch's context ends.
// (go-git's ssh transport has no other hook for dialling.)
const sshDialScheme = "layerindex-ssh"

var sshDialers sync.Map // id → context.Context of the fetch

// withSSHDialer registers ctx's dialer; the URL goes in the fetch's
// ProxyOptions, and the returned func forgets it.
func withSSHDialer(ctx context.Context) (string, func()) {
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	sshDialers.Store(id, ctx)
	return sshDialScheme + "://" + id, func() { sshDialers.Delete(id) }
}

func registerSSHDialer() {
	proxy.RegisterDialerType(sshDialScheme, func(u *url.URL, _ proxy.Dialer) (proxy.Dialer, error) {
		ctx, ok := sshDialers.Load(u.Host)
		if !ok {
			return nil, errors.New("ssh connection outside a fetch")
		}
		return guardedDialer{ctx.(context.Context)}, nil
	})
}

type guardedDialer struct{ ctx context.Context }

func (d guardedDialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

func (d guardedDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := &net.Dialer{Timeout: 15 * time.Second, ControlContext: func(_ context.Context, _, address string, _ syscall.RawConn) error {
		return checkDial(d.ctx, address)
	}}
	conn, err := nd.DialContext(d.ctx, network, addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(d.ctx, func() { conn.Close() })
	c := &countingConn{Conn: conn, stop: stop, hs: handshakeOf(d.ctx)}
	if c.hs != nil {
		c.hs.arm(conn)
	}
	if b, ok := d.ctx.Value(budgetKey{}).(*budget); ok && b.limit > 0 {
		c.b = b
	}
	return c, nil
}

// countingConn counts the bytes an ssh connection receives against the
// fetch's budget.
type countingConn struct {
	net.Conn
	b    *budget
	hs   *sshHandshake
	stop func() bool
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.hs != nil && c.hs.signed.Load() {
		c.hs.finish(handshakeDone) // the server answered the signed request
	}
	if c.b != nil && c.b.used.Add(int64(n)) > c.b.limit {
		c.Conn.Close()
		return n, fmt.Errorf("%w: more than %d MB transferred", ErrTooLarge, c.b.limit>>20)
	}
	return n, err
}

func (c *countingConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// ErrSSHHandshake is wrapped when an ssh server accepted the connection
// but did not complete the handshake (version, key exchange and
// authentication) within the fetch's SSHHandshakeTimeout.
var ErrSSHHandshake = errors.New("the ssh server did not complete the handshake")

// defaultSSHHandshakeTimeout is SSHHandshakeTimeout's default: a real
// server answers in a second or two.
const defaultSSHHandshakeTimeout = 30 * time.Second

// The states of an sshHandshake.
const (
	handshakeRunning int32 = iota
	handshakeDone
	handshakeExpired
)

// sshHandshake bounds one fetch's ssh handshake. go-git's ssh transport
// gives the handshake no deadline of its own (its config's Timeout covers
// only the dial), so a timer armed at the dial closes the connection
// unless the handshake ends first: when the server's first bytes after
// the deploy key's signature arrive.
type sshHandshake struct {
	timeout time.Duration
	signed  atomic.Bool // the client has signed its authentication
	state   atomic.Int32
	mu      sync.Mutex
	timer   *time.Timer
}

type handshakeKey struct{}

// withSSHHandshake returns ctx carrying a handshake bound for the fetch's
// dialer, and a copy of k whose signer reports the signature to it.
func withSSHHandshake(ctx context.Context, k *SSHKey, timeout time.Duration) (context.Context, *SSHKey) {
	if timeout <= 0 {
		timeout = defaultSSHHandshakeTimeout
	}
	hs := &sshHandshake{timeout: timeout}
	kc := *k
	kc.Signer = markingSigner(k.Signer, func() { hs.signed.Store(true) })
	return context.WithValue(ctx, handshakeKey{}, hs), &kc
}

// handshakeOf returns ctx's handshake bound, or nil.
func handshakeOf(ctx context.Context) *sshHandshake {
	hs, _ := ctx.Value(handshakeKey{}).(*sshHandshake)
	return hs
}

// arm starts the timer for conn, the fetch's connection.
func (hs *sshHandshake) arm(conn net.Conn) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	hs.timer = time.AfterFunc(hs.timeout, func() {
		if hs.finish(handshakeExpired) {
			conn.Close()
		}
	})
}

// finish ends the handshake in state, reporting whether it was still
// running.
func (hs *sshHandshake) finish(state int32) bool {
	if !hs.state.CompareAndSwap(handshakeRunning, state) {
		return false
	}
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if state == handshakeDone && hs.timer != nil {
		hs.timer.Stop()
	}
	return true
}

// expired reports whether the timer closed the connection.
func (hs *sshHandshake) expired() bool { return hs.state.Load() == handshakeExpired }

// markingSigner wraps s to call mark before each signature, keeping the
// signature algorithms s offers (RSA keys sign with SHA-2 only through
// ssh.AlgorithmSigner).
func markingSigner(s ssh.Signer, mark func()) ssh.Signer {
	if as, ok := s.(ssh.AlgorithmSigner); ok {
		return algorithmMarkingSigner{as, mark}
	}
	return plainMarkingSigner{s, mark}
}

type plainMarkingSigner struct {
	ssh.Signer
	mark func()
}

func (s plainMarkingSigner) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	s.mark()
	return s.Signer.Sign(r, data)
}

type algorithmMarkingSigner struct {
	ssh.AlgorithmSigner
	mark func()
}

func (s algorithmMarkingSigner) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	s.mark()
	return s.AlgorithmSigner.Sign(r, data)
}

func (s algorithmMarkingSigner) SignWithAlgorithm(r io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	s.mark()
	return s.AlgorithmSigner.SignWithAlgorithm(r, data, algorithm)
}

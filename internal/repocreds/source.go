package repocreds

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"golang.org/x/crypto/ssh"

	"layerindex/internal/gitrepo"
	"layerindex/internal/store"
)

// Kinds of credential.
const (
	KindToken = "token" // an access token, sent as the password of HTTP basic authentication
	KindBasic = "basic" // a user name and password
	KindSSH   = "ssh"   // an ssh deploy key, with the server's pinned host key
)

// Kinds lists the kinds, in the order forms offer them.
var Kinds = []string{KindToken, KindBasic, KindSSH}

// Source finds the credential of a repository URL for the worker's fetches
// (it implements gitrepo.Credentials), and is the one place credentials are
// set, listed and removed (the command line and the administrators' page
// both call it).
type Source struct {
	st     *store.Store
	sealer *Sealer
}

// NewSource reads and writes credentials in st, sealed by sealer.
func NewSource(st *store.Store, sealer *Sealer) *Source { return &Source{st: st, sealer: sealer} }

// InvalidError is input Set refuses; Field names the form field.
type InvalidError struct {
	Field string
	Msg   string
}

func (e *InvalidError) Error() string { return e.Msg }

func invalid(field, format string, a ...any) error {
	return &InvalidError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// CheckPrefix validates a URL prefix and returns it as stored: an http(s)
// URL with a host, or an ssh:// URL (host, optional port, optional path;
// its host lower-cased and a :22 port dropped, as ssh URLs are matched),
// never with a user name, password, query or fragment (credentials never
// ride in URLs).
func CheckPrefix(prefix string) (string, error) {
	prefix = strings.TrimSpace(prefix)
	u, err := url.Parse(prefix)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "ssh") || u.Host == "" {
		return "", invalid("prefix", "The prefix must be an https:// or ssh:// URL with a host, got %q.", prefix)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", invalid("prefix", "The prefix must not carry a user name, password, query or fragment.")
	}
	if u.Scheme == "ssh" {
		s, err := gitrepo.ParseSSH(strings.TrimSuffix(prefix, "/") + "/x") // a prefix need not name a repository
		if err != nil {
			return "", invalid("prefix", "%s.", strings.TrimPrefix(err.Error(), "repository URL refused: "))
		}
		canon := strings.TrimSuffix(s.Canonical(), "x")
		if !strings.HasSuffix(prefix, "/") {
			canon = strings.TrimSuffix(canon, "/")
		}
		return canon, nil
	}
	return prefix, nil
}

// Credential is what an administrator gives for a URL prefix.
type Credential struct {
	Prefix string
	Kind   string
	// Username: basic, required; token, optional (forges take any);
	// ssh, the user when the repository's URL names none (default git).
	Username string
	// Secret is the token, the password, or the ssh private key (OpenSSH
	// or PEM, without a passphrase).
	Secret string
	// KnownHosts (ssh) is the server's public host key: one known_hosts
	// line for the prefix's host (as `ssh-keyscan -t ed25519 HOST`
	// prints it), or the key alone.
	KnownHosts string
}

// maxSecret bounds a secret (an RSA 16384-bit key in PEM is ~12 kB).
const maxSecret = 16 << 10

// Set stores the credential of c.Prefix, replacing any earlier one. The
// secret is sealed before it reaches the database.
func (s *Source) Set(ctx context.Context, c Credential) error {
	prefix, err := CheckPrefix(c.Prefix)
	if err != nil {
		return err
	}
	c.Username = strings.TrimSpace(c.Username)
	if c.Secret == "" {
		return invalid("secret", "The secret is empty.")
	}
	if len(c.Secret) > maxSecret {
		return invalid("secret", "The secret is longer than %d bytes.", maxSecret)
	}
	row := &store.RepoCredential{URLPrefix: prefix, Kind: c.Kind, Username: c.Username}
	isSSH := strings.HasPrefix(prefix, "ssh://")
	switch c.Kind {
	case KindToken, KindBasic:
		if isSSH {
			return invalid("kind", "An ssh:// prefix takes an ssh deploy key.")
		}
		if c.Kind == KindBasic && c.Username == "" {
			return invalid("username", "A basic credential needs a user name.")
		}
		if strings.ContainsAny(c.Secret, "\r\n") {
			return invalid("secret", "The secret must be one line.")
		}
	case KindSSH:
		if !isSSH {
			return invalid("kind", "An ssh deploy key needs an ssh:// prefix.")
		}
		if c.Username != "" && !validUser(c.Username) {
			return invalid("username", "Enter an ssh user name (letters, digits, '.', '_', '-').")
		}
		if _, err := parsePrivateKey(c.Secret); err != nil {
			return err
		}
		pinned, err := parseKnownHosts(c.KnownHosts, prefix)
		if err != nil {
			return err
		}
		row.HostKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pinned)))
	default:
		return invalid("kind", "The kind must be %s, %s or %s, got %q.", KindToken, KindBasic, KindSSH, c.Kind)
	}
	row.Secret = s.sealer.Seal(c.Secret, sealedFor(row))
	return s.st.SaveRepoCredential(ctx, row)
}

// sealedFor is the additional data a credential's secret is sealed with:
// its prefix, and for ssh its pinned host key, so neither can be changed
// in the database without the secret failing to open.
func sealedFor(c *store.RepoCredential) string {
	if c.Kind == KindSSH {
		return c.URLPrefix + "\x00" + c.HostKey
	}
	return c.URLPrefix
}

// Info describes a stored credential, never its secret.
type Info struct {
	Prefix   string
	Kind     string
	Username string
	// HostKey is the pinned host key's type and SHA-256 fingerprint (ssh).
	HostKey string
	SetAt   time.Time
}

// List describes every credential, by prefix.
func (s *Source) List(ctx context.Context) ([]Info, error) {
	cs, err := s.st.RepoCredentials(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading repository credentials: %w", err)
	}
	out := make([]Info, 0, len(cs))
	for _, c := range cs {
		i := Info{Prefix: c.URLPrefix, Kind: c.Kind, Username: c.Username, SetAt: c.CreatedAt}
		if c.HostKey != "" {
			if k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(c.HostKey)); err == nil {
				i.HostKey = k.Type() + " " + ssh.FingerprintSHA256(k)
			}
		}
		out = append(out, i)
	}
	return out, nil
}

// ErrNotFound is returned by Remove for a prefix without a credential.
var ErrNotFound = errors.New("no credential for this prefix")

// Remove deletes the credential of prefix (written as it was set, or as
// List shows it).
func (s *Source) Remove(ctx context.Context, prefix string) error {
	if p, err := CheckPrefix(prefix); err == nil {
		prefix = p
	}
	err := s.st.DeleteRepoCredential(ctx, strings.TrimSpace(prefix))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNotFound, prefix)
	}
	return err
}

// matches reports whether rawURL lies under prefix, on a path boundary
// (https://git.example.com never matches https://git.example.com.evil.org).
func matches(rawURL, prefix string) bool {
	if !strings.HasPrefix(rawURL, prefix) {
		return false
	}
	rest := rawURL[len(prefix):]
	return rest == "" || strings.HasSuffix(prefix, "/") || rest[0] == '/'
}

// find is the credential of the longest prefix rawURL starts with, or
// nil. An ssh URL is matched without its user name (ssh://host[:port]/path,
// the scp-like form read as that).
func (s *Source) find(ctx context.Context, rawURL string) (*store.RepoCredential, gitrepo.SSHURL, error) {
	var sshURL gitrepo.SSHURL
	isSSH := gitrepo.IsSSH(rawURL)
	key := rawURL
	if isSSH {
		u, err := gitrepo.ParseSSH(rawURL)
		if err != nil {
			return nil, sshURL, nil
		}
		sshURL, key = u, u.Canonical()
	}
	cs, err := s.st.RepoCredentials(ctx)
	if err != nil {
		return nil, sshURL, fmt.Errorf("reading repository credentials: %w", err)
	}
	var best *store.RepoCredential
	for i := range cs {
		if matches(key, cs[i].URLPrefix) && (best == nil || len(cs[i].URLPrefix) > len(best.URLPrefix)) {
			best = &cs[i]
		}
	}
	if best != nil && (best.Kind == KindSSH) != isSSH {
		best = nil
	}
	return best, sshURL, nil
}

// CoversSSH reports whether an ssh deploy key is set for the ssh URL
// rawURL: an ssh repository URL is accepted for a layer only then.
func (s *Source) CoversSSH(ctx context.Context, rawURL string) (bool, error) {
	c, _, err := s.find(ctx, rawURL)
	return c != nil && c.Kind == KindSSH, err
}

// AuthFor is the authentication for rawURL: the credential of the longest
// prefix it starts with, or nil.
func (s *Source) AuthFor(ctx context.Context, rawURL string) (transport.AuthMethod, error) {
	best, sshURL, err := s.find(ctx, rawURL)
	if err != nil || best == nil {
		return nil, err
	}
	secret, err := s.sealer.Open(best.Secret, sealedFor(best))
	if err != nil {
		return nil, err
	}
	if best.Kind == KindSSH {
		signer, err := parsePrivateKey(secret)
		if err != nil {
			return nil, fmt.Errorf("the deploy key for %s: %w", best.URLPrefix, err)
		}
		pinned, _, _, _, err := ssh.ParseAuthorizedKey([]byte(best.HostKey))
		if err != nil {
			return nil, fmt.Errorf("the pinned host key for %s: %w", best.URLPrefix, err)
		}
		user := sshURL.User
		if user == "" {
			user = best.Username
		}
		if user == "" {
			user = "git"
		}
		return &gitrepo.SSHKey{User: user, Signer: signer, HostKey: pinned}, nil
	}
	user := best.Username
	if user == "" {
		user = "git" // forges take any user name with an access token
	}
	// go-git's BasicAuth prints the password masked.
	return &githttp.BasicAuth{Username: user, Password: secret}, nil
}

package repocreds

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"layerindex/internal/store"
)

// Kinds of credential.
const (
	KindToken = "token" // an access token, sent as the password of HTTP basic authentication
	KindBasic = "basic" // a user name and password
)

// Source finds the credential of a repository URL for the worker's fetches
// (it implements gitrepo.Credentials) and saves new ones.
type Source struct {
	st     *store.Store
	sealer *Sealer
}

// NewSource reads and writes credentials in st, sealed by sealer.
func NewSource(st *store.Store, sealer *Sealer) *Source { return &Source{st: st, sealer: sealer} }

// CheckPrefix validates a URL prefix: an http(s) URL with a host, no user
// name, password, query or fragment (credentials never ride in URLs).
func CheckPrefix(prefix string) (string, error) {
	u, err := url.Parse(prefix)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("the prefix must be an https:// URL, got %q", prefix)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("the prefix must not carry a user name, password, query or fragment")
	}
	return prefix, nil
}

// Set stores the credential of prefix, replacing any earlier one. The
// secret is sealed before it reaches the database.
func (s *Source) Set(ctx context.Context, prefix, kind, username, secret string) error {
	prefix, err := CheckPrefix(prefix)
	if err != nil {
		return err
	}
	switch kind {
	case KindToken:
	case KindBasic:
		if username == "" {
			return errors.New("a basic credential needs a user name")
		}
	default:
		return fmt.Errorf("the kind must be %s or %s, got %q", KindToken, KindBasic, kind)
	}
	if secret == "" {
		return errors.New("the secret is empty")
	}
	return s.st.SaveRepoCredential(ctx, &store.RepoCredential{URLPrefix: prefix, Kind: kind, Username: username,
		Secret: s.sealer.Seal(secret, prefix)})
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

// AuthFor is the authentication for rawURL: the credential of the longest
// prefix it starts with, or nil.
func (s *Source) AuthFor(ctx context.Context, rawURL string) (transport.AuthMethod, error) {
	cs, err := s.st.RepoCredentials(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading repository credentials: %w", err)
	}
	var best *store.RepoCredential
	for i := range cs {
		if matches(rawURL, cs[i].URLPrefix) && (best == nil || len(cs[i].URLPrefix) > len(best.URLPrefix)) {
			best = &cs[i]
		}
	}
	if best == nil {
		return nil, nil
	}
	secret, err := s.sealer.Open(best.Secret, best.URLPrefix)
	if err != nil {
		return nil, err
	}
	user := best.Username
	if user == "" {
		user = "git" // forges take any user name with an access token
	}
	// go-git's BasicAuth prints the password masked.
	return &githttp.BasicAuth{Username: user, Password: secret}, nil
}

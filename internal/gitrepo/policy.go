// Package gitrepo fetches layer repositories with go-git into a cache of
// bare clones, one per repository URL, and reads files straight from git
// trees at a commit — never from a checkout, so a symlink in a repository is
// data and is never followed.
//
// Every URL and every byte from a repository is treated as hostile: URLs are
// checked against a policy (https only by default, no credentials, local
// paths only when an administrator allows them), connections are checked at
// dial time against private and reserved address ranges (so DNS tricks and
// redirects cannot reach internal services), and transfers, file counts,
// file sizes and time are capped.
package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
)

// Policy says which repository URLs may be fetched.
type Policy struct {
	// AllowHTTP permits plain http:// in addition to https://.
	AllowHTTP bool
	// AllowLocal permits file:// URLs and plain paths (local mirrors for
	// tests and air-gapped sites).
	AllowLocal bool
	// AllowPrivateNetworks permits connections to loopback, private and
	// other reserved addresses.
	AllowPrivateNetworks bool
	// Allow lists address ranges permitted although private (an internal
	// git server, or a test's loopback server), on any port.
	Allow []netip.Prefix
}

// allowed reports whether ip may be dialled despite being blocked.
func (p Policy) allowed(ip netip.Addr) bool {
	if p.AllowPrivateNetworks {
		return true
	}
	for _, a := range p.Allow {
		if a.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

// ErrURLRefused is wrapped by every policy refusal.
var ErrURLRefused = errors.New("repository URL refused")

func refuse(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrURLRefused, fmt.Sprintf(format, a...))
}

// CheckURL validates a repository URL against the policy before anything is
// fetched. It returns the URL to give go-git (local paths become absolute).
func (p Policy) CheckURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", refuse("empty URL")
	}
	if strings.ContainsAny(raw, "\x00\r\n\t ") {
		return "", refuse("URL contains whitespace or control characters")
	}
	if isLocalPath(raw) {
		if !p.AllowLocal {
			return "", refuse("local paths are not allowed (enable local repositories to use mirrors)")
		}
		abs, err := filepath.Abs(raw)
		if err != nil {
			return "", refuse("bad local path: %v", err)
		}
		return abs, nil
	}
	if strings.HasPrefix(raw, "-") {
		return "", refuse("URL starts with '-'")
	}
	// ssh:// and scp-like (user@host:path) URLs, given to go-git as
	// ssh://; a fetch uses them only with a deploy key (Cache.Fetch).
	if IsSSH(raw) {
		return p.checkSSH(raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", refuse("not a URL: %v", err)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !p.AllowHTTP {
			return "", refuse("http:// is not allowed; use https://")
		}
	case "file":
		if !p.AllowLocal {
			return "", refuse("file:// URLs are not allowed (enable local repositories to use mirrors)")
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", refuse("file:// URL with a host")
		}
		return u.Path, nil
	case "git":
		return "", refuse("git:// URLs are not allowed; use https://")
	default:
		return "", refuse("scheme %q is not allowed; use https://", u.Scheme)
	}
	if u.User != nil {
		return "", refuse("credentials in URLs are not allowed")
	}
	if err := p.checkHost(u); err != nil {
		return "", err
	}
	return u.String(), nil
}

func isLocalPath(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") || s == "." || s == ".."
}

type policyKey struct{}

// withPolicy carries the policy to the dialer through the request context.
func withPolicy(ctx context.Context, p Policy) context.Context {
	return context.WithValue(ctx, policyKey{}, p)
}

func policyFrom(ctx context.Context) Policy {
	p, _ := ctx.Value(policyKey{}).(Policy)
	return p
}

// checkDial runs when a connection is about to be made, after name
// resolution: the address actually dialled is checked, which DNS rebinding
// and redirects cannot get around.
func checkDial(ctx context.Context, address string) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return refuse("bad address %q", address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return refuse("bad address %q", address)
	}
	if reason := blockedAddr(ip); reason != "" && !policyFrom(ctx).allowed(ip) {
		return refuse("connection to %s refused: it is %s", ip, reason)
	}
	return nil
}

// Package webhook reads push notifications from forges: GitHub (signed
// with HMAC-SHA256 of the body, X-Hub-Signature-256), GitLab (the secret
// sent back as X-Gitlab-Token) and a generic JSON form signed as GitHub's
// (X-Layerindex-Signature-256). It only authenticates and parses; what a
// push causes is internal/catalog's. Every comparison with the secret is
// constant-time.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Providers.
const (
	GitHub  = "github"
	GitLab  = "gitlab"
	Generic = "generic"
)

// MaxBody is the largest payload read (GitHub caps its own at 25 MB; the
// push fields needed come first, but a JSON decoder needs the whole).
const MaxBody = 5 << 20

// Delivery is an authenticated request.
type Delivery struct {
	Provider string
	// ID identifies the delivery for replay protection: the forge's
	// delivery id, or a hash of the body when it sends none.
	ID string
	// Event is the forge's event name ("push", "ping", "Push Hook").
	Event string
	// Push tells whether it is a push of a branch; Branch is its name.
	Push   bool
	Branch string
}

// ErrUnauthenticated is a request whose signature or token does not match
// the secret (or that carries none).
var ErrUnauthenticated = errors.New("the signature or token does not match the layer's secret")

// Provider tells which forge sent a request, by its headers.
func Provider(h http.Header) string {
	switch {
	case h.Get("X-GitHub-Event") != "":
		return GitHub
	case h.Get("X-Gitlab-Event") != "":
		return GitLab
	}
	return Generic
}

// Read authenticates a request with the layer's secret and parses it.
func Read(h http.Header, body []byte, secret string) (*Delivery, error) {
	if secret == "" {
		return nil, ErrUnauthenticated
	}
	d := &Delivery{Provider: Provider(h)}
	switch d.Provider {
	case GitHub:
		if !validHMAC(h.Get("X-Hub-Signature-256"), body, secret) {
			return nil, ErrUnauthenticated
		}
		d.ID, d.Event = h.Get("X-GitHub-Delivery"), h.Get("X-GitHub-Event")
	case GitLab:
		if subtle.ConstantTimeCompare([]byte(h.Get("X-Gitlab-Token")), []byte(secret)) != 1 {
			return nil, ErrUnauthenticated
		}
		d.ID, d.Event = h.Get("X-Gitlab-Event-UUID"), h.Get("X-Gitlab-Event")
	default:
		if !validHMAC(h.Get("X-Layerindex-Signature-256"), body, secret) {
			return nil, ErrUnauthenticated
		}
		d.ID, d.Event = h.Get("X-Layerindex-Delivery"), "push"
	}
	if d.ID == "" {
		sum := sha256.Sum256(body)
		d.ID = "sha256:" + hex.EncodeToString(sum[:])
	}
	if len(d.ID) > 200 || len(d.Event) > 100 {
		return nil, errors.New("a delivery id or event name is too long")
	}
	isPush := (d.Provider == GitHub && d.Event == "push") || (d.Provider == GitLab && d.Event == "Push Hook") || d.Provider == Generic
	if !isPush {
		return d, nil
	}
	var p struct {
		Ref    string `json:"ref"`
		Branch string `json:"branch"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("the payload is not JSON: %w", err)
	}
	switch {
	case strings.HasPrefix(p.Ref, "refs/heads/"):
		d.Branch = strings.TrimPrefix(p.Ref, "refs/heads/")
	case d.Provider == Generic && p.Ref == "" && p.Branch != "":
		d.Branch = p.Branch
	default:
		return d, nil // a tag, or no branch: not a push of a branch
	}
	if d.Branch == "" || len(d.Branch) > 255 {
		return nil, errors.New("the pushed branch name is invalid")
	}
	d.Push = true
	return d, nil
}

// Sign is the signature header value of body ("sha256=…"), as GitHub
// sends it; tests and the setup instructions' example use it.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func validHMAC(header string, body []byte, secret string) bool {
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(sig, m.Sum(nil))
}

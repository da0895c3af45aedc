package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDCConfig configures OpenID Connect sign-in with a company's identity
// provider.
type OIDCConfig struct {
	Issuer       string // the provider's issuer URL (discovery at Issuer/.well-known/openid-configuration)
	ClientID     string
	ClientSecret string
	RedirectURL  string   // this site's callback, BaseURL + /accounts/oidc/callback/
	Scopes       []string // besides openid
	// AdminClaim and AdminValue map the identity provider's groups to
	// administrators: an account whose ID token's AdminClaim (a string or
	// a list of strings, such as "groups") holds AdminValue is an
	// administrator, one whose does not is not. Empty: no mapping; the
	// site's own administrator flags stand.
	AdminClaim, AdminValue string
	// HTTPClient talks to the provider (nil: a client with a timeout).
	HTTPClient *http.Client
}

// OIDC signs people in with an OpenID provider: authorization code flow
// with PKCE, state and nonce, the ID token verified against the provider's
// keys (JWKS), issuer, audience and expiry by go-oidc. The provider's
// discovery document is read on first use, and again after a failure, so
// the site starts while the provider is down.
type OIDC struct {
	cfg OIDCConfig

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// NewOIDC returns the sign-in for cfg; nothing is fetched yet.
func NewOIDC(cfg OIDCConfig) *OIDC {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	return &OIDC{cfg: cfg}
}

// OIDCStart is what a sign-in must remember (in the visitor's session)
// between the redirect to the provider and the callback.
type OIDCStart struct {
	State, Nonce, Verifier string
}

// NewOIDCStart makes fresh random state, nonce and PKCE verifier.
func NewOIDCStart() OIDCStart {
	return OIDCStart{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier()}
}

func (o *OIDC) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, o.cfg.HTTPClient)
}

// setup reads the provider's discovery document once it answers.
func (o *OIDC) setup(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.oauth != nil {
		return o.oauth, o.verifier, nil
	}
	// The key set outlives this request: it fetches with a context of its own.
	p, err := oidc.NewProvider(o.ctx(ctx), o.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the identity provider's configuration from %s: %w", o.cfg.Issuer, err)
	}
	keys := oidc.NewRemoteKeySet(o.ctx(context.Background()), jwksURL(p))
	o.verifier = oidc.NewVerifier(o.cfg.Issuer, keys, &oidc.Config{ClientID: o.cfg.ClientID})
	o.oauth = &oauth2.Config{
		ClientID:     o.cfg.ClientID,
		ClientSecret: o.cfg.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  o.cfg.RedirectURL,
		Scopes:       append([]string{oidc.ScopeOpenID}, o.cfg.Scopes...),
	}
	return o.oauth, o.verifier, nil
}

func jwksURL(p *oidc.Provider) string {
	var d struct {
		JWKS string `json:"jwks_uri"`
	}
	p.Claims(&d)
	return d.JWKS
}

// AuthURL is the provider's page to send the visitor to.
func (o *OIDC) AuthURL(ctx context.Context, st OIDCStart) (string, error) {
	oc, _, err := o.setup(ctx)
	if err != nil {
		return "", err
	}
	return oc.AuthCodeURL(st.State, oauth2.S256ChallengeOption(st.Verifier), oidc.Nonce(st.Nonce)), nil
}

// Identity is a person as the identity provider vouches for them.
type Identity struct {
	Subject string
	Email   string // verified by the provider
	Name    string
	// Admin is the administrator mapping's verdict; nil when no mapping
	// is configured.
	Admin *bool
}

// ErrSignIn is wrapped by every refusal of a sign-in, whose message is
// fit to show the person.
var ErrSignIn = errors.New("sign-in refused")

func refuse(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrSignIn, fmt.Sprintf(format, a...))
}

// Finish completes a sign-in from the provider's callback: the state
// returned must be the one sent, the code is exchanged with the PKCE
// verifier, the ID token must verify (signature by the provider's keys,
// issuer, audience, expiry) and carry the nonce sent, and its email must
// be verified by the provider.
func (o *OIDC) Finish(ctx context.Context, st OIDCStart, gotState, code string) (*Identity, error) {
	if st.State == "" || subtle.ConstantTimeCompare([]byte(st.State), []byte(gotState)) != 1 {
		return nil, refuse("the sign-in answer does not belong to this browser's sign-in (state mismatch); start again")
	}
	if code == "" {
		return nil, refuse("the identity provider sent no authorization code")
	}
	oc, verifier, err := o.setup(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := oc.Exchange(o.ctx(ctx), code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return nil, refuse("the identity provider refused the authorization code (%s)", re.ErrorCode)
		}
		return nil, fmt.Errorf("exchanging the authorization code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, refuse("the identity provider sent no ID token")
	}
	idt, err := verifier.Verify(o.ctx(ctx), raw)
	if err != nil {
		return nil, refuse("the ID token is not valid: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return nil, refuse("the ID token was not issued for this sign-in (nonce mismatch)")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, refuse("the ID token's claims are unreadable: %v", err)
	}
	email, _ := claims["email"].(string)
	email = strings.TrimSpace(email)
	if email == "" || !strings.Contains(email, "@") {
		return nil, refuse("the identity provider did not give an email address (ask for the email scope)")
	}
	if !claimTrue(claims["email_verified"]) {
		return nil, refuse("the identity provider has not verified the address %s", email)
	}
	id := &Identity{Subject: idt.Subject, Email: email}
	if n, ok := claims["name"].(string); ok {
		id.Name = n
	} else if n, ok := claims["preferred_username"].(string); ok {
		id.Name = n
	}
	if o.cfg.AdminClaim != "" {
		admin := claimHolds(claims[o.cfg.AdminClaim], o.cfg.AdminValue)
		id.Admin = &admin
	}
	return id, nil
}

// claimTrue reads a boolean claim; some providers send "true".
func claimTrue(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return b == "true"
	}
	return false
}

// claimHolds reports whether a claim (a string or a list) holds want.
func claimHolds(v any, want string) bool {
	switch c := v.(type) {
	case string:
		return c == want
	case bool:
		return want == "true" && c
	case []any:
		return slices.ContainsFunc(c, func(x any) bool { s, ok := x.(string); return ok && s == want })
	}
	return false
}

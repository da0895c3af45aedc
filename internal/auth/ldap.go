package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// LDAPConfig configures sign-in against a company directory (OpenLDAP,
// Active Directory).
type LDAPConfig struct {
	URL      string // ldap://host[:389] or ldaps://host[:636]
	StartTLS bool   // upgrade an ldap:// connection with StartTLS before anything is sent
	CAFile   string // PEM certificates the server's is checked against (empty: the system's)
	// BindDN and BindPassword are the service account that searches the
	// directory (empty: an anonymous search).
	BindDN, BindPassword string
	BaseDN               string
	// UserFilter finds the person; {user} stands for what they typed,
	// escaped (ldap.EscapeFilter), so it can never change the filter.
	UserFilter string
	EmailAttr  string
	NameAttr   string
	// AdminGroup is the DN of a group (groupOfNames member or
	// groupOfUniqueNames uniqueMember) whose members are administrators;
	// empty: no mapping.
	AdminGroup string
	Timeout    time.Duration // connecting and each operation
}

// DefaultLDAPUserFilter finds an inetOrgPerson by uid or mail.
const DefaultLDAPUserFilter = "(&(objectClass=inetOrgPerson)(|(uid={user})(mail={user})))"

// LDAP checks passwords against a directory: bind as the service account,
// search the person by the configured filter, bind as them with the
// password given.
type LDAP struct {
	cfg LDAPConfig
	tls *tls.Config
}

// ErrDirectoryDown is wrapped by failures to reach or use the directory
// (as opposed to a wrong password): the person is told to try later.
var ErrDirectoryDown = errors.New("the directory (LDAP) does not answer")

// NewLDAP checks cfg and loads its CA file.
func NewLDAP(cfg LDAPConfig) (*LDAP, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return nil, fmt.Errorf("LDAP URL must be ldap://host or ldaps://host, got %q", cfg.URL)
	}
	if cfg.UserFilter == "" {
		cfg.UserFilter = DefaultLDAPUserFilter
	}
	if !strings.Contains(cfg.UserFilter, "{user}") {
		return nil, fmt.Errorf("LDAP user filter %q does not contain {user}", cfg.UserFilter)
	}
	if _, err := ldap.CompileFilter(strings.ReplaceAll(cfg.UserFilter, "{user}", "x")); err != nil {
		return nil, fmt.Errorf("LDAP user filter %q: %v", cfg.UserFilter, err)
	}
	if cfg.EmailAttr == "" {
		cfg.EmailAttr = "mail"
	}
	if cfg.NameAttr == "" {
		cfg.NameAttr = "cn"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	host := u.Hostname()
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("LDAP CA file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("LDAP CA file %s holds no PEM certificate", cfg.CAFile)
		}
	}
	return &LDAP{cfg: cfg, tls: tc}, nil
}

// connect dials the directory, with StartTLS when configured, and binds
// as the service account.
func (l *LDAP) connect(ctx context.Context) (*ldap.Conn, error) {
	d := &net.Dialer{Timeout: l.cfg.Timeout}
	if dl, ok := ctx.Deadline(); ok {
		d.Deadline = dl
	}
	c, err := ldap.DialURL(l.cfg.URL, ldap.DialWithDialer(d), ldap.DialWithTLSConfig(l.tls))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDirectoryDown, err)
	}
	c.SetTimeout(l.cfg.Timeout)
	if l.cfg.StartTLS && strings.HasPrefix(l.cfg.URL, "ldap://") {
		if err := c.StartTLS(l.tls); err != nil {
			c.Close()
			return nil, fmt.Errorf("%w: StartTLS: %v", ErrDirectoryDown, err)
		}
	}
	if err := l.serviceBind(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (l *LDAP) serviceBind(c *ldap.Conn) error {
	if l.cfg.BindDN == "" {
		return nil
	}
	if err := c.Bind(l.cfg.BindDN, l.cfg.BindPassword); err != nil {
		return fmt.Errorf("%w: the service account's bind failed: %v", ErrDirectoryDown, err)
	}
	return nil
}

// Authenticate checks login (a user name or address, whatever the filter
// matches) and password. A wrong password, an unknown or ambiguous user
// give ErrBadCredentials; an unreachable or failing directory wraps
// ErrDirectoryDown; a refusal fit to show wraps ErrSignIn.
func (l *LDAP) Authenticate(ctx context.Context, login, password string) (*Identity, error) {
	login = strings.TrimSpace(login)
	// An empty password is an "unauthenticated bind", which directories
	// accept for any DN: never ask.
	if login == "" || password == "" || len(login) > 256 || len(password) > 4*MaxPasswordLen {
		return nil, ErrBadCredentials
	}
	c, err := l.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	filter := strings.ReplaceAll(l.cfg.UserFilter, "{user}", ldap.EscapeFilter(login))
	res, err := c.Search(ldap.NewSearchRequest(l.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		2, int(l.cfg.Timeout/time.Second)+1, false, filter, []string{l.cfg.EmailAttr, l.cfg.NameAttr}, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil, ErrBadCredentials // more than one person matches
	}
	if err != nil {
		return nil, fmt.Errorf("%w: searching the user: %v", ErrDirectoryDown, err)
	}
	if len(res.Entries) != 1 {
		return nil, ErrBadCredentials
	}
	entry := res.Entries[0]
	if err := c.Bind(entry.DN, password); err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			return nil, ErrBadCredentials
		}
		return nil, fmt.Errorf("%w: binding as the user: %v", ErrDirectoryDown, err)
	}
	email := strings.TrimSpace(entry.GetAttributeValue(l.cfg.EmailAttr))
	if !strings.Contains(email, "@") {
		return nil, refuse("the directory has no email address (%s) for you; ask its administrators", l.cfg.EmailAttr)
	}
	id := &Identity{Subject: entry.DN, Email: email, Name: entry.GetAttributeValue(l.cfg.NameAttr)}
	if l.cfg.AdminGroup != "" {
		admin, err := l.inGroup(c, entry.DN)
		if err != nil {
			return nil, err
		}
		id.Admin = &admin
	}
	return id, nil
}

// inGroup reports whether dn is a member of the administrators' group,
// asked as the service account (people may not read groups).
func (l *LDAP) inGroup(c *ldap.Conn, dn string) (bool, error) {
	if err := l.serviceBind(c); err != nil {
		return false, err
	}
	esc := ldap.EscapeFilter(dn)
	res, err := c.Search(ldap.NewSearchRequest(l.cfg.AdminGroup, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, int(l.cfg.Timeout/time.Second)+1, false, "(|(member="+esc+")(uniqueMember="+esc+"))", []string{"dn"}, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%w: reading the administrators' group: %v", ErrDirectoryDown, err)
	}
	return len(res.Entries) == 1, nil
}

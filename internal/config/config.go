// Package config turns flags and environment variables into one typed
// configuration. Every setting has a flag and an environment variable named
// alike (--data-dir and LAYERINDEX_DATA_DIR); a flag wins over the
// environment, which wins over the default. Nothing here touches the disk or
// the network: checking that the values work is the caller's job.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of the application.
type Config struct {
	Listen         string // address of the HTTP server
	DataDir        string // SQLite database, secret key, repository cache
	DatabaseURL    string // postgres://… switches to PostgreSQL; empty means SQLite in DataDir
	BaseURL        string // absolute URL of the site, used in emails and API links
	SecretKey      string // signs sessions and tokens; generated into DataDir when empty
	EmbeddedWorker bool   // serve also works jobs (the default; production runs `worker` separately)
	Workers        int    // concurrent jobs per process
	IngestWorkers  int    // concurrent fetch-and-parse jobs per process
	// PageConcurrency is how many page requests serve handles at once (0:
	// twice the CPUs); see web.Options.PageConcurrency.
	PageConcurrency int
	AllowLocal      bool // accept file:// and path repository URLs (local mirrors)
	AllowHTTP       bool // accept plain http:// repository URLs
	LogLevel        string
	LogFormat       string // text or json
	UpdatePurge     time.Duration
	StaleAfter      time.Duration // a layer branch without a successful update for this long is stale
	JobRescue       time.Duration // a job or update run left running by a process that died is taken over within this
	DebugListen     string        // address of Go's profiler (net/http/pprof); empty: off

	SMTPHost     string
	SMTPPort     int
	SMTPTLS      string // none, starttls or tls
	SMTPUser     string
	SMTPPassword string
	MailFrom     string

	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed (rate limits key on the client address).
	TrustedProxies []netip.Prefix

	// ClosedSite requires sign-in for every page and the API (a company
	// index): only health checks, the login pages and static files stay
	// open, and nobody submits anonymously.
	ClosedSite bool

	// OpenID Connect sign-in (empty issuer: off).
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	OIDCScopes       []string // besides openid
	OIDCAdminClaim   string   // claim (e.g. groups) whose value OIDCAdminValue makes an administrator
	OIDCAdminValue   string
	OIDCLabel        string // the sign-in button's text
	// LocalPasswords allows sign-in with the site's own passwords
	// (registration, password reset); off when single sign-on is the only way.
	LocalPasswords bool

	// LDAP sign-in (empty URL: off); see auth.LDAPConfig.
	LDAPURL          string
	LDAPStartTLS     bool
	LDAPCAFile       string
	LDAPBindDN       string
	LDAPBindPassword string
	LDAPBaseDN       string
	LDAPUserFilter   string
	LDAPEmailAttr    string
	LDAPNameAttr     string
	LDAPAdminGroup   string
}

// setting describes one configuration entry: its flag, environment variable,
// default and where it lands in Config.
type setting struct {
	flag, env, def, usage string
	set                   func(c *Config, v string) error
}

var settings = []setting{
	{"listen", "LAYERINDEX_LISTEN", "127.0.0.1:8080", "address to serve HTTP on", func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("not a host:port address: %q", v)
		}
		c.Listen = v
		return nil
	}},
	{"debug-listen", "LAYERINDEX_DEBUG_LISTEN", "", "address serving Go's profiler at /debug/pprof/ (keep it on loopback); empty: off", func(c *Config, v string) error {
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("not a host:port address: %q", v)
			}
		}
		c.DebugListen = v
		return nil
	}},
	{"data-dir", "LAYERINDEX_DATA_DIR", "data", "directory for the SQLite database, secret key and repository cache", func(c *Config, v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		abs, err := filepath.Abs(v)
		if err != nil {
			return err
		}
		c.DataDir = abs
		return nil
	}},
	{"database-url", "DATABASE_URL", "", "postgres://user@host/db for PostgreSQL; empty for SQLite in the data directory", func(c *Config, v string) error {
		if v != "" {
			if _, err := ParseDatabaseURL(v); err != nil {
				return err
			}
		}
		c.DatabaseURL = v
		return nil
	}},
	{"base-url", "LAYERINDEX_BASE_URL", "", "public URL of the site (default http://<listen>)", func(c *Config, v string) error {
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("not an absolute http(s) URL: %q", v)
			}
			v = strings.TrimRight(v, "/")
		}
		c.BaseURL = v
		return nil
	}},
	{"secret-key", "LAYERINDEX_SECRET_KEY", "", "secret for sessions and tokens (generated into the data directory if empty)", func(c *Config, v string) error {
		if v != "" && len(v) < 32 {
			return errors.New("must be at least 32 characters")
		}
		c.SecretKey = v
		return nil
	}},
	{"embedded-worker", "LAYERINDEX_EMBEDDED_WORKER", "true", "serve also works background jobs (set false when running `layerindex worker` separately)", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		c.EmbeddedWorker = b
		return err
	}},
	{"workers", "LAYERINDEX_WORKERS", "4", "number of jobs a process works at once", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return fmt.Errorf("must be a number from 1 to 1000, got %q", v)
		}
		c.Workers = n
		return nil
	}},
	{"ingest-workers", "LAYERINDEX_INGEST_WORKERS", "1", "number of layer updates (fetch and parse) a process runs at once", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			return fmt.Errorf("must be a number from 1 to 64, got %q", v)
		}
		c.IngestWorkers = n
		return nil
	}},
	{"page-concurrency", "LAYERINDEX_PAGE_CONCURRENCY", "0", "page requests handled at once (pages not served from the page cache; not the API); more wait their turn in arrival order, up to 100 ms; 0: twice the number of CPUs", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 10000 {
			return fmt.Errorf("must be a number from 0 to 10000, got %q", v)
		}
		c.PageConcurrency = n
		return nil
	}},
	{"allow-local-repos", "LAYERINDEX_ALLOW_LOCAL_REPOS", "false", "accept file:// and local path repository URLs (mirrors for tests and air-gapped sites)", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		c.AllowLocal = b
		return err
	}},
	{"allow-http-repos", "LAYERINDEX_ALLOW_HTTP_REPOS", "false", "accept plain http:// repository URLs besides https://", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		c.AllowHTTP = b
		return err
	}},
	{"log-level", "LAYERINDEX_LOG_LEVEL", "info", "debug, info, warn or error", func(c *Config, v string) error {
		switch v {
		case "debug", "info", "warn", "error":
			c.LogLevel = v
			return nil
		}
		return fmt.Errorf("must be debug, info, warn or error, got %q", v)
	}},
	{"log-format", "LAYERINDEX_LOG_FORMAT", "text", "text or json", func(c *Config, v string) error {
		if v != "text" && v != "json" {
			return fmt.Errorf("must be text or json, got %q", v)
		}
		c.LogFormat = v
		return nil
	}},
	{"update-purge-days", "LAYERINDEX_UPDATE_PURGE_DAYS", "30", "days to keep update logs", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("must be a positive number of days, got %q", v)
		}
		c.UpdatePurge = time.Duration(n) * 24 * time.Hour
		return nil
	}},
	{"stale-days", "LAYERINDEX_STALE_DAYS", "30", "days without a successful update after which a layer branch is marked stale (and listed in the administrators' weekly digest)", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("must be a positive number of days, got %q", v)
		}
		c.StaleAfter = time.Duration(n) * 24 * time.Hour
		return nil
	}},
	{"job-rescue-after", "LAYERINDEX_JOB_RESCUE_AFTER", "1m", "a background job or update run left running by a process that died is taken over by another worker within this time", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Second || d > time.Hour {
			return fmt.Errorf("must be a duration from 10s to 1h, got %q", v)
		}
		c.JobRescue = d
		return nil
	}},
	{"smtp-host", "LAYERINDEX_SMTP_HOST", "", "SMTP server for outgoing mail (empty: mail is logged, not sent)", func(c *Config, v string) error {
		c.SMTPHost = v
		return nil
	}},
	{"smtp-port", "LAYERINDEX_SMTP_PORT", "25", "SMTP port", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("not a port number: %q", v)
		}
		c.SMTPPort = n
		return nil
	}},
	{"smtp-tls", "LAYERINDEX_SMTP_TLS", "starttls", "none, starttls or tls", func(c *Config, v string) error {
		switch v {
		case "none", "starttls", "tls":
			c.SMTPTLS = v
			return nil
		}
		return fmt.Errorf("must be none, starttls or tls, got %q", v)
	}},
	{"smtp-user", "LAYERINDEX_SMTP_USER", "", "SMTP user name (empty: no authentication)", func(c *Config, v string) error {
		c.SMTPUser = v
		return nil
	}},
	{"smtp-password", "LAYERINDEX_SMTP_PASSWORD", "", "SMTP password", func(c *Config, v string) error {
		c.SMTPPassword = v
		return nil
	}},
	{"mail-from", "LAYERINDEX_MAIL_FROM", "layerindex@localhost", "sender address of outgoing mail", func(c *Config, v string) error {
		if !strings.Contains(v, "@") {
			return fmt.Errorf("not an email address: %q", v)
		}
		c.MailFrom = v
		return nil
	}},
	{"closed-site", "LAYERINDEX_CLOSED_SITE", "false", "require sign-in for every page and the API (API tokens work); health checks, login pages and static files stay open", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		c.ClosedSite = b
		return err
	}},
	{"oidc-issuer", "LAYERINDEX_OIDC_ISSUER", "", "OpenID Connect provider's issuer URL (empty: no OpenID Connect sign-in)", func(c *Config, v string) error {
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("not an absolute http(s) URL: %q", v)
			}
		}
		c.OIDCIssuer = strings.TrimRight(v, "/")
		return nil
	}},
	{"oidc-client-id", "LAYERINDEX_OIDC_CLIENT_ID", "", "client id registered with the OpenID provider", func(c *Config, v string) error {
		c.OIDCClientID = v
		return nil
	}},
	{"oidc-client-secret", "LAYERINDEX_OIDC_CLIENT_SECRET", "", "client secret registered with the OpenID provider", func(c *Config, v string) error {
		c.OIDCClientSecret = v
		return nil
	}},
	{"oidc-scopes", "LAYERINDEX_OIDC_SCOPES", "email,profile", "scopes asked for besides openid (comma-separated; add groups for a group mapping)", func(c *Config, v string) error {
		c.OIDCScopes = splitList(v)
		return nil
	}},
	{"oidc-admin-claim", "LAYERINDEX_OIDC_ADMIN_CLAIM", "", "ID token claim (e.g. groups) that makes administrators; empty: no mapping", func(c *Config, v string) error {
		c.OIDCAdminClaim = v
		return nil
	}},
	{"oidc-admin-value", "LAYERINDEX_OIDC_ADMIN_VALUE", "", "value of --oidc-admin-claim (or one of its values) that makes an administrator", func(c *Config, v string) error {
		c.OIDCAdminValue = v
		return nil
	}},
	{"oidc-label", "LAYERINDEX_OIDC_LABEL", "single sign-on", "name of the identity provider on the login page's button", func(c *Config, v string) error {
		c.OIDCLabel = v
		return nil
	}},
	{"local-passwords", "LAYERINDEX_LOCAL_PASSWORDS", "true", "allow sign-in with the site's own passwords, registration and password reset (false: single sign-on only)", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		c.LocalPasswords = b
		return err
	}},
	{"ldap-url", "LAYERINDEX_LDAP_URL", "", "LDAP directory to sign in with: ldap://host[:389] or ldaps://host[:636] (empty: no LDAP sign-in)", func(c *Config, v string) error {
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
				return fmt.Errorf("not an ldap:// or ldaps:// URL: %q", v)
			}
		}
		c.LDAPURL = v
		return nil
	}},
	{"ldap-starttls", "LAYERINDEX_LDAP_STARTTLS", "true", "upgrade ldap:// connections with StartTLS (false only for a directory on the same machine)", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		c.LDAPStartTLS = b
		return err
	}},
	{"ldap-ca-file", "LAYERINDEX_LDAP_CA_FILE", "", "PEM file of the certificates the directory's is checked against (empty: the system's)", func(c *Config, v string) error {
		c.LDAPCAFile = v
		return nil
	}},
	{"ldap-bind-dn", "LAYERINDEX_LDAP_BIND_DN", "", "DN of the service account that searches the directory (empty: anonymous search)", func(c *Config, v string) error {
		c.LDAPBindDN = v
		return nil
	}},
	{"ldap-bind-password", "LAYERINDEX_LDAP_BIND_PASSWORD", "", "password of the service account", func(c *Config, v string) error {
		c.LDAPBindPassword = v
		return nil
	}},
	{"ldap-base-dn", "LAYERINDEX_LDAP_BASE_DN", "", "where people are searched, e.g. ou=people,dc=example,dc=com", func(c *Config, v string) error {
		c.LDAPBaseDN = v
		return nil
	}},
	{"ldap-user-filter", "LAYERINDEX_LDAP_USER_FILTER", "(&(objectClass=inetOrgPerson)(|(uid={user})(mail={user})))", "filter finding a person; {user} is what they typed, escaped", func(c *Config, v string) error {
		if !strings.Contains(v, "{user}") {
			return fmt.Errorf("must contain {user}: %q", v)
		}
		c.LDAPUserFilter = v
		return nil
	}},
	{"ldap-email-attr", "LAYERINDEX_LDAP_EMAIL_ATTR", "mail", "attribute holding a person's email address", func(c *Config, v string) error {
		c.LDAPEmailAttr = v
		return nil
	}},
	{"ldap-name-attr", "LAYERINDEX_LDAP_NAME_ATTR", "cn", "attribute holding a person's name", func(c *Config, v string) error {
		c.LDAPNameAttr = v
		return nil
	}},
	{"ldap-admin-group", "LAYERINDEX_LDAP_ADMIN_GROUP", "", "DN of the group whose members are administrators (empty: no mapping)", func(c *Config, v string) error {
		c.LDAPAdminGroup = v
		return nil
	}},
	{"trusted-proxies", "LAYERINDEX_TRUSTED_PROXIES", "", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is trusted", func(c *Config, v string) error {
		c.TrustedProxies = nil
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			p, err := netip.ParsePrefix(f)
			if err != nil {
				a, aerr := netip.ParseAddr(f)
				if aerr != nil {
					return fmt.Errorf("not an address or CIDR range: %q", f)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			c.TrustedProxies = append(c.TrustedProxies, p.Masked())
		}
		return nil
	}},
}

// Parse reads the settings from args (flags) and getenv. extra, if not nil,
// registers command-specific flags on the same flag set. It returns the
// remaining positional arguments. Errors are one line, naming the setting.
func Parse(command string, args []string, getenv func(string) string, extra func(*flag.FlagSet)) (*Config, []string, error) {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	vals := make([]string, len(settings))
	for i, s := range settings {
		if s.boolean() {
			fs.Var(boolFlag{&vals[i]}, s.flag, s.usage)
		} else {
			fs.StringVar(&vals[i], s.flag, "", s.usage)
		}
	}
	if extra != nil {
		extra(fs)
	}
	// Flags may come before or after positional arguments
	// (`branch add master --sort-priority 2`).
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, nil, &HelpError{Usage: commandUsage(command, fs)}
			}
			return nil, nil, fmt.Errorf("%v (see `layerindex %s -h`)", err, command)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			positional = append(positional, args[1:]...)
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	c := &Config{}
	for i, s := range settings {
		v, from := s.def, "default"
		if e := getenv(s.env); e != "" {
			v, from = e, s.env
		}
		if given[s.flag] {
			v, from = vals[i], "--"+s.flag
		}
		if err := s.set(c, v); err != nil {
			return nil, nil, fmt.Errorf("invalid %s: %v", from, err)
		}
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Listen
	}
	if err := c.check(); err != nil {
		return nil, nil, err
	}
	return c, positional, nil
}

// check verifies the settings that depend on each other.
func (c *Config) check() error {
	if c.OIDCIssuer != "" && (c.OIDCClientID == "" || c.OIDCClientSecret == "") {
		return errors.New("--oidc-issuer needs --oidc-client-id and --oidc-client-secret (LAYERINDEX_OIDC_CLIENT_ID, LAYERINDEX_OIDC_CLIENT_SECRET)")
	}
	if (c.OIDCAdminClaim == "") != (c.OIDCAdminValue == "") {
		return errors.New("--oidc-admin-claim and --oidc-admin-value go together")
	}
	if !c.LocalPasswords && c.OIDCIssuer == "" && !c.externalSignIn() {
		return errors.New("--local-passwords=false needs another way to sign in (--oidc-issuer or --ldap-url)")
	}
	if c.LDAPURL != "" && c.LDAPBaseDN == "" {
		return errors.New("--ldap-url needs --ldap-base-dn (LAYERINDEX_LDAP_BASE_DN)")
	}
	return nil
}

// externalSignIn reports whether a sign-in other than OpenID Connect is
// configured.
func (c *Config) externalSignIn() bool { return c.LDAPURL != "" }

// splitList splits a comma-separated setting, dropping empty entries.
func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// boolean reports whether the setting is a yes/no switch (its default is
// true or false): its flag may then be given alone (--allow-local-repos)
// or with a value (--embedded-worker=false), as Go's boolean flags are.
func (s setting) boolean() bool { return s.def == "true" || s.def == "false" }

// boolFlag is a switch's flag: alone it means "true"; the setting's own
// parser checks any value given.
type boolFlag struct{ v *string }

func (b boolFlag) String() string {
	if b.v == nil {
		return ""
	}
	return *b.v
}
func (b boolFlag) Set(v string) error { *b.v = v; return nil }
func (b boolFlag) IsBoolFlag() bool   { return true }

// ErrHelp is returned by Parse when -h or --help was given.
var ErrHelp = errors.New("help requested")

// HelpError is what Parse returns for -h or --help (errors.Is(err,
// ErrHelp) holds): Usage is the command's help, its own flags first, then
// the settings every command takes.
type HelpError struct{ Usage string }

func (e *HelpError) Error() string        { return ErrHelp.Error() }
func (e *HelpError) Is(target error) bool { return target == ErrHelp }

// commandUsage is the help of one command: its flags (those registered
// beside the settings) with their meaning and default, then the settings.
func commandUsage(command string, fs *flag.FlagSet) string {
	isSetting := map[string]bool{}
	for _, s := range settings {
		isSetting[s.flag] = true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "usage: layerindex %s [flags]\n", command)
	own := false
	fs.VisitAll(func(f *flag.Flag) {
		if isSetting[f.Name] {
			return
		}
		if !own {
			b.WriteString("\nflags:\n")
			own = true
		}
		kind, usage := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if kind != "" {
			name += " " + kind
		}
		fmt.Fprintf(&b, "  %-24s %s", name, usage)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteByte('\n')
	})
	b.WriteString("\nsettings (flag, environment variable, meaning):\n")
	Usage(&b)
	return b.String()
}

// Usage writes the table of settings, for -h and for the README.
func Usage(w io.Writer) {
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(w, "  --%-20s %-30s %s (default %s)\n", s.flag, s.env, s.usage, def)
	}
}

// ParseDatabaseURL checks that a DATABASE_URL names PostgreSQL.
func ParseDatabaseURL(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %v", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("only postgres:// URLs are supported (leave it empty for the embedded SQLite database), got scheme %q", u.Scheme)
	}
	if u.Host == "" && u.Query().Get("host") == "" {
		return nil, errors.New("postgres URL has no host")
	}
	return u, nil
}

// RedactURL hides the password of a database URL for logs and errors.
func RedactURL(v string) string {
	u, err := url.Parse(v)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// EnvNames lists every environment variable the configuration reads.
func EnvNames() []string {
	names := make([]string, len(settings))
	for i, s := range settings {
		names[i] = s.env
	}
	return names
}

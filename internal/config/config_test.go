package config

import (
	"flag"
	"os"
	"strings"
	"testing"
)

func TestPrecedence(t *testing.T) {
	env := map[string]string{"LAYERINDEX_LISTEN": "127.0.0.1:9000", "LAYERINDEX_WORKERS": "7"}
	c, rest, err := Parse("serve", []string{"--workers", "3", "extra"}, func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9000" || c.Workers != 3 || c.LogLevel != "info" || !c.EmbeddedWorker {
		t.Fatalf("got %+v", c)
	}
	if c.BaseURL != "http://127.0.0.1:9000" {
		t.Errorf("base URL %q", c.BaseURL)
	}
	if len(rest) != 1 || rest[0] != "extra" {
		t.Errorf("rest %v", rest)
	}
}

func TestInvalidValuesNameTheirSource(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--smtp-tls", "maybe"}, nil, "invalid --smtp-tls"},
		{nil, map[string]string{"DATABASE_URL": "sqlite:///x.db"}, "invalid DATABASE_URL: only postgres://"},
		{nil, map[string]string{"LAYERINDEX_SECRET_KEY": "short"}, "invalid LAYERINDEX_SECRET_KEY"},
		{[]string{"--base-url", "ftp://x"}, nil, "invalid --base-url"},
		{[]string{"--embedded-worker=perhaps"}, nil, "invalid --embedded-worker"},
		{[]string{"--oidc-issuer", "https://sso.example.com"}, nil, "needs --oidc-client-id"},
		{[]string{"--oidc-issuer", "sso.example.com", "--oidc-client-id", "x", "--oidc-client-secret", "y"}, nil, "invalid --oidc-issuer"},
		{[]string{"--local-passwords=false"}, nil, "needs another way to sign in"},
		{nil, map[string]string{"LAYERINDEX_OIDC_ADMIN_CLAIM": "groups"}, "go together"},
		{[]string{"--ldap-url", "ldap://ldap.example.com"}, nil, "needs --ldap-base-dn"},
		{[]string{"--ldap-url", "https://ldap.example.com"}, nil, "invalid --ldap-url"},
		{nil, map[string]string{"LAYERINDEX_LDAP_USER_FILTER": "(uid=alice)"}, "invalid LAYERINDEX_LDAP_USER_FILTER"},
	}
	for _, c := range cases {
		_, _, err := Parse("serve", c.args, func(k string) string { return c.env[k] }, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: got %v, want %q", c.args, c.env, err, c.want)
		}
	}
}

// TestSwitches: yes/no settings are flags that may stand alone, before
// other flags or arguments, or take a value.
func TestSwitches(t *testing.T) {
	none := func(string) string { return "" }
	c, rest, err := Parse("layer add", []string{"--allow-local-repos", "--name", "x", "pos"}, none, func(fs *flag.FlagSet) { fs.String("name", "", "") })
	if err != nil || !c.AllowLocal || c.AllowHTTP || len(rest) != 1 || rest[0] != "pos" {
		t.Fatalf("--allow-local-repos alone: %+v %v %v", c, rest, err)
	}
	c, _, err = Parse("serve", []string{"--embedded-worker=false", "--allow-http-repos=true", "--allow-local-repos=0"}, none, nil)
	if err != nil || c.EmbeddedWorker || !c.AllowHTTP || c.AllowLocal {
		t.Fatalf("switches with values: %+v %v", c, err)
	}
	c, _, err = Parse("serve", nil, func(k string) string { return map[string]string{"LAYERINDEX_ALLOW_LOCAL_REPOS": "1"}[k] }, nil)
	if err != nil || !c.AllowLocal || !c.EmbeddedWorker {
		t.Fatalf("from the environment: %+v %v", c, err)
	}
}

// TestREADMEListsEverySetting keeps the README's configuration table true.
func TestREADMEListsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		row := "| `--" + s.flag + "` | `" + s.env + "` |"
		if !strings.Contains(string(b), row) {
			t.Errorf("README configuration table lacks the row for %s", row)
		}
	}
}

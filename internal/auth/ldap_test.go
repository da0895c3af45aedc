package auth_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"layerindex/internal/auth"
	"layerindex/internal/auth/ldaptest"
)

// TestLDAP signs in against a real OpenLDAP server over StartTLS: a good
// password, a bad one, an unknown user, injection attempts in the user
// name, the administrators' group, and a directory that is down or does
// not answer (a clear error, quickly).
func TestLDAP(t *testing.T) {
	ctx := context.Background()
	srv := ldaptest.Start(t)
	alice := srv.AddPerson("alice", "alice password", "Alice@Example.org", "Alice Liddell")
	srv.AddPerson("bob", "bob password", "bob@example.org", "Bob")
	srv.AddPerson("nomail", "nomail password", "", "No Mail")
	admins := srv.AddGroup("index-admins", alice)
	cfg := auth.LDAPConfig{URL: srv.URL, StartTLS: true, CAFile: srv.CAFile, BindDN: ldaptest.ServiceDN,
		BindPassword: ldaptest.ServicePassword, BaseDN: ldaptest.PeopleDN, AdminGroup: admins, Timeout: 2 * time.Second}
	l, err := auth.NewLDAP(cfg)
	if err != nil {
		t.Fatal(err)
	}

	id, err := l.Authenticate(ctx, "alice", "alice password")
	if err != nil || id.Email != "Alice@Example.org" || id.Name != "Alice Liddell" || id.Admin == nil || !*id.Admin {
		t.Fatalf("alice: %+v %v", id, err)
	}
	// By address too (the default filter matches uid or mail).
	if id, err := l.Authenticate(ctx, "bob@example.org", "bob password"); err != nil || id.Email != "bob@example.org" || *id.Admin {
		t.Errorf("bob by address: %+v %v", id, err)
	}
	bad := map[string][2]string{
		"wrong password":         {"alice", "alice passwor"},
		"empty password":         {"alice", ""},
		"unknown user":           {"carol", "alice password"},
		"wildcard user":          {"*", "alice password"},
		"wildcard prefix":        {"ali*", "alice password"},
		"filter injection":       {"alice)(uid=*", "alice password"},
		"or injection":           {"*)(|(uid=*", "bob password"},
		"closing injection":      {"alice))(|(objectClass=*", "alice password"},
		"NUL byte":               {"alice\x00", "alice password"},
		"escaped wildcard":       {`\2a`, "alice password"},
		"DN as user name":        {alice, "alice password"},
		"another user's address": {"bob@example.org", "alice password"},
	}
	for name, c := range bad {
		if id, err := l.Authenticate(ctx, c[0], c[1]); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("%s (%q): %+v %v, want bad credentials", name, c[0], id, err)
		}
	}
	// A person without an address cannot have an account.
	if _, err := l.Authenticate(ctx, "nomail", "nomail password"); !errors.Is(err, auth.ErrSignIn) || !strings.Contains(err.Error(), "no email address") {
		t.Errorf("no mail: %v", err)
	}
	// Without StartTLS's CA the server's certificate is refused.
	noCA := cfg
	noCA.CAFile = ""
	if l2, err := auth.NewLDAP(noCA); err != nil {
		t.Fatal(err)
	} else if _, err := l2.Authenticate(ctx, "alice", "alice password"); !errors.Is(err, auth.ErrDirectoryDown) || !strings.Contains(err.Error(), "StartTLS") {
		t.Errorf("unknown certificate: %v", err)
	}
	// A wrong service password is the site's fault, not the person's.
	badSvc := cfg
	badSvc.BindPassword = "nope"
	if l2, _ := auth.NewLDAP(badSvc); true {
		if _, err := l2.Authenticate(ctx, "alice", "alice password"); !errors.Is(err, auth.ErrDirectoryDown) {
			t.Errorf("wrong service password: %v", err)
		}
	}
	// A filter without {user}, or broken, is refused at start.
	for _, f := range []string{"(uid=alice)", "(uid={user}"} {
		c := cfg
		c.UserFilter = f
		if _, err := auth.NewLDAP(c); err == nil {
			t.Errorf("filter %q accepted", f)
		}
	}

	// A server that accepts connections but never answers: a clear error
	// within the timeout, no hang.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	mute := cfg
	mute.URL, mute.Timeout = "ldap://"+ln.Addr().String(), time.Second
	l3, _ := auth.NewLDAP(mute)
	start := time.Now()
	if _, err := l3.Authenticate(ctx, "alice", "alice password"); !errors.Is(err, auth.ErrDirectoryDown) {
		t.Errorf("silent server: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("silent server: answered after %v", d)
	}

	// The directory down.
	srv.Stop()
	start = time.Now()
	_, err = l.Authenticate(ctx, "alice", "alice password")
	if !errors.Is(err, auth.ErrDirectoryDown) || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("directory down: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("directory down: answered after %v", d)
	}
}

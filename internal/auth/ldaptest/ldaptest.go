// Package ldaptest runs a real OpenLDAP server (Debian's slapd) for tests:
// a throw-away configuration and database in a temporary directory, on a
// loopback port, with StartTLS by a certificate made for it, a service
// account, and helpers to add people and groups. Without slapd the tests
// skip, unless CI is set, where they fail.
package ldaptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// The directory's names.
const (
	BaseDN          = "dc=example,dc=org"
	PeopleDN        = "ou=people," + BaseDN
	GroupsDN        = "ou=groups," + BaseDN
	ServiceDN       = "cn=reader," + BaseDN
	ServicePassword = "reader secret"
	rootDN          = "cn=admin," + BaseDN
	rootPassword    = "root secret"
)

// Server is a running slapd.
type Server struct {
	t      testing.TB
	URL    string // ldap://127.0.0.1:PORT
	CAFile string // PEM certificate the server's TLS certificate is checked against
	cmd    *exec.Cmd
}

// slapdPath finds slapd (in /usr/sbin, often not on a user's PATH).
func slapdPath() string {
	if p, err := exec.LookPath("slapd"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/slapd"); err == nil {
		return "/usr/sbin/slapd"
	}
	return ""
}

// Start runs slapd for the test and stops it at its end.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := slapdPath()
	if bin == "" {
		msg := "slapd is not installed (Debian: apt-get install slapd ldap-utils)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	cert, key := makeCert(t, dir)
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile %[1]s/slapd.pid
TLSCertificateFile %[2]s
TLSCertificateKeyFile %[3]s
database mdb
maxsize 10485760
suffix "%[4]s"
rootdn "%[5]s"
rootpw "%[6]s"
directory %[1]s/db
access to attrs=userPassword by anonymous auth by self write by * none
access to * by users read by * none
`, dir, cert, key, BaseDN, rootDN, rootPassword)
	confFile := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	s := &Server{t: t, URL: fmt.Sprintf("ldap://127.0.0.1:%d", port), CAFile: cert}
	// -d keeps slapd in the foreground, so the test owns the process.
	s.cmd = exec.Command(bin, "-f", confFile, "-h", s.URL+"/", "-d", "0")
	logFile, err := os.Create(filepath.Join(dir, "slapd.log"))
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting slapd: %v", err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		logFile.Close()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := ldap.DialURL(s.URL)
		if err == nil {
			err = c.Bind(rootDN, rootPassword)
			c.Close()
			if err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "slapd.log"))
			t.Fatalf("slapd did not start: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.add(BaseDN, map[string][]string{"objectClass": {"dcObject", "organization"}, "dc": {"example"}, "o": {"Example"}})
	s.add(PeopleDN, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"people"}})
	s.add(GroupsDN, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"groups"}})
	s.add(ServiceDN, map[string][]string{"objectClass": {"organizationalRole", "simpleSecurityObject"}, "cn": {"reader"},
		"userPassword": {ServicePassword}})
	return s
}

// Stop stops the server (to test a directory that is down).
func (s *Server) Stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

func (s *Server) add(dn string, attrs map[string][]string) {
	s.t.Helper()
	c, err := ldap.DialURL(s.URL)
	if err != nil {
		s.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(rootDN, rootPassword); err != nil {
		s.t.Fatal(err)
	}
	req := ldap.NewAddRequest(dn, nil)
	for k, v := range attrs {
		req.Attribute(k, v)
	}
	if err := c.Add(req); err != nil {
		s.t.Fatalf("adding %s: %v", dn, err)
	}
}

// AddPerson adds an inetOrgPerson uid=<uid> with a password and an
// address, and returns its DN.
func (s *Server) AddPerson(uid, password, mail, name string) string {
	s.t.Helper()
	dn := "uid=" + ldap.EscapeDN(uid) + "," + PeopleDN
	attrs := map[string][]string{"objectClass": {"inetOrgPerson"}, "uid": {uid}, "cn": {name}, "sn": {name},
		"userPassword": {password}}
	if mail != "" {
		attrs["mail"] = []string{mail}
	}
	s.add(dn, attrs)
	return dn
}

// AddGroup adds a groupOfNames cn=<name> with the members, and returns its DN.
func (s *Server) AddGroup(name string, memberDNs ...string) string {
	s.t.Helper()
	dn := "cn=" + ldap.EscapeDN(name) + "," + GroupsDN
	s.add(dn, map[string][]string{"objectClass": {"groupOfNames"}, "cn": {name}, "member": memberDNs})
	return dn
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// makeCert writes a self-signed certificate for 127.0.0.1 and its key.
func makeCert(t testing.TB, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

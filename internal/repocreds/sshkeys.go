package repocreds

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"layerindex/internal/gitrepo"
)

// parsePrivateKey reads a deploy key. Its errors never quote the key.
func parsePrivateKey(pemText string) (ssh.Signer, error) {
	signer, err := ssh.ParsePrivateKey([]byte(strings.TrimSpace(pemText) + "\n"))
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, invalid("secret", "The key has a passphrase; the worker needs it without one (ssh-keygen -p -N '' -f KEY on a copy).")
	} else if err != nil {
		return nil, invalid("secret", "This is not an ssh private key (OpenSSH or PEM format).")
	}
	return signer, nil
}

// validUser is an ssh user name with nothing a shell or ssh could read as
// more than a name.
func validUser(u string) bool {
	if u == "" || len(u) > 64 || u[0] == '-' {
		return false
	}
	for _, c := range []byte(u) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// parseKnownHosts reads the host key pinned for an ssh prefix: one
// known_hosts line (plain or hashed host names) that names the prefix's
// host and port, or a bare public key. Markers (@cert-authority,
// @revoked) and wildcard patterns are refused: the pin is one key of one
// host.
func parseKnownHosts(text, prefix string) (ssh.PublicKey, error) {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		return nil, invalid("known_hosts", "Give exactly one known_hosts line, the server's key of one type (e.g. from ssh-keyscan -t ed25519 HOST).")
	}
	line := lines[0]
	if strings.HasPrefix(line, "@") {
		return nil, invalid("known_hosts", "Markers such as @cert-authority and @revoked are not supported: pin the host's own key.")
	}
	_, hosts, key, _, _, err := ssh.ParseKnownHosts([]byte(line))
	if err != nil {
		// A bare key (KEYTYPE BASE64KEY [COMMENT]), without options.
		if key, _, opts, _, err := ssh.ParseAuthorizedKey([]byte(line)); err == nil && len(opts) == 0 &&
			strings.HasPrefix(line, key.Type()+" ") {
			return key, nil
		}
		return nil, invalid("known_hosts", "This is not a known_hosts line (HOST KEYTYPE BASE64KEY).")
	}
	s, err := gitrepo.ParseSSH(strings.TrimSuffix(prefix, "/") + "/x")
	if err != nil {
		return nil, invalid("prefix", "%v", err)
	}
	want := knownhosts.Normalize(s.Address())
	for _, h := range hosts {
		if h == want || hashedHostMatches(h, want) {
			return key, nil
		}
	}
	return nil, invalid("known_hosts", "The known_hosts line is not for %s (the prefix's host and port).", want)
}

// hashedHostMatches checks a hashed known_hosts host (|1|salt|hash,
// HMAC-SHA1 of the host under the salt, as ssh-keygen -H writes it).
func hashedHostMatches(entry, host string) bool {
	parts := strings.Split(entry, "|")
	if len(parts) != 4 || parts[0] != "" || parts[1] != "1" {
		return false
	}
	salt, err1 := base64.StdEncoding.DecodeString(parts[2])
	sum, err2 := base64.StdEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return false
	}
	m := hmac.New(sha1.New, salt)
	m.Write([]byte(host))
	return hmac.Equal(m.Sum(nil), sum)
}

package gitrepo

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// FuzzCheckURL: whatever the input, the URL policy (with its defaults)
// either refuses it or returns an https URL without credentials (or an
// ssh:// URL with at most a plain user name, on any port: a fetch needs an
// administrator's deploy key for its host and port) whose host is a public
// address or a DNS name no resolver could read as an address — and accepts
// what it returned again unchanged.
func FuzzCheckURL(f *testing.F) {
	for _, a := range embeddedIPv6 {
		f.Add("https://[" + a + "]/x.git")
	}
	for _, s := range []string{"https://git.openembedded.org/meta-openembedded", "https://127.1/x", "https://0x7f000001/x",
		"https://2130706433/", "https://0177.0.0.1/", "https://[::ffff:127.0.0.1]:443/", "https://8.8.8.8/x.git",
		"https://example.org:443/x", "https://user@example.org/", "file:///etc", "/etc", "../x", "git@h:x", "https://localhost./",
		"https://127.0.0.%31/", "https://ex%41mple.org/", "https://[fe80::1%25eth0]/", "HTTPS://EXAMPLE.ORG/", "https://a..b/",
		"https://xn--bcher-kva.example/", "https://[2606:4700::1111]/x", "https:///x", "https://:443/", "https://[::]/",
		"ssh://git@git.example.com:7999/x.git", "git@[::1]:x", "ssh://[2606:4700::1111]/x", "git@127.1:x", "u@h:/~x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := Policy{}.CheckURL(raw)
		if err != nil {
			return
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("%q accepted as %q, which does not parse: %v", raw, got, err)
		}
		if u.Scheme == "ssh" {
			if _, has := u.User.Password(); has || (u.User != nil && !validSSHUser(u.User.Username())) || u.RawQuery != "" || u.Fragment != "" {
				t.Fatalf("%q accepted as %q", raw, got)
			}
		} else if u.Scheme != "https" || u.User != nil {
			t.Fatalf("%q accepted as %q: scheme %q, user %v", raw, got, u.Scheme, u.User)
		} else if p := u.Port(); p != "" && p != "443" && p != "80" {
			t.Fatalf("%q accepted with port %s", raw, p)
		}
		if u.Hostname() == "" {
			t.Fatalf("%q accepted without a host", raw)
		}
		h := u.Hostname()
		if ip, err := netip.ParseAddr(h); err == nil {
			if r := blockedAddr(ip); r != "" {
				t.Fatalf("%q accepted: its address %s is %s", raw, ip, r)
			}
		} else {
			if v4, ok := inetAton(strings.TrimSuffix(h, ".")); ok {
				t.Fatalf("%q accepted: host %q reads as %s", raw, h, v4)
			}
			if l := strings.ToLower(strings.TrimSuffix(h, ".")); l == "localhost" || strings.HasSuffix(l, ".localhost") {
				t.Fatalf("%q accepted: localhost", raw)
			}
		}
		again, err := Policy{}.CheckURL(got)
		if err != nil || again != got {
			t.Fatalf("%q accepted as %q, which is then %q, %v", raw, got, again, err)
		}
	})
}

// inetAton reads an IPv4 address as the BSD resolver's inet_aton does:
// one to four parts, each decimal, octal (leading 0) or hexadecimal (0x),
// the last filling the remaining bytes.
func inetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var vals []uint64
	for _, p := range parts {
		base := 10
		switch {
		case strings.HasPrefix(strings.ToLower(p), "0x"):
			base, p = 16, p[2:]
			if p == "" {
				p = "0"
			}
		case len(p) > 1 && p[0] == '0':
			base, p = 8, p[1:]
		}
		v, err := strconv.ParseUint(p, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals = append(vals, v)
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 255 {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*uint(i))
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*uint(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

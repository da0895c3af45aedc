package gitrepo

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// maxHostLen is the longest DNS name (RFC 1035).
const maxHostLen = 253

// checkHost applies the policy to a URL's host and port before anything is
// resolved: an address literal must be one a fetch may reach, and a name
// must be a plain DNS name. Names that a resolver could read as a number
// (127.1, 0x7f000001, 2130706433, 0177.0.0.1: inet_aton's forms, which
// some resolvers accept) are refused rather than handed to it.
func (p Policy) checkHost(u *url.URL) error {
	raw := u.Hostname()
	if raw == "" {
		return refuse("URL has no host")
	}
	var (
		ip    netip.Addr
		ipErr error
	)
	if strings.HasPrefix(u.Host, "[") {
		if ip, ipErr = netip.ParseAddr(raw); ipErr != nil || !ip.Is6() {
			return refuse("bad IPv6 address %q", raw)
		}
	} else if ip, ipErr = netip.ParseAddr(raw); ipErr == nil && !ip.Is4() {
		return refuse("IPv6 addresses must be in brackets")
	}
	literalAllowed := ipErr == nil && p.allowed(ip)
	if port := u.Port(); port != "" && port != "443" && port != "80" && !literalAllowed && !p.AllowPrivateNetworks {
		// Odd ports are a classic way to reach internal services.
		return refuse("port %s is not allowed", port)
	}
	if ipErr == nil {
		if reason := blockedAddr(ip); reason != "" && !literalAllowed {
			return refuse("address %s is %s", ip, reason)
		}
		return nil
	}
	h := strings.TrimSuffix(strings.ToLower(raw), ".")
	if err := checkHostName(h); err != nil {
		return err
	}
	if (h == "localhost" || strings.HasSuffix(h, ".localhost")) && !p.AllowPrivateNetworks {
		return refuse("localhost is not allowed")
	}
	return nil
}

// checkHostName accepts a DNS name of ASCII letters, digits, '-' and '_' in
// labels of at most 63 characters, whose last label is not numeric (the
// WHATWG URL standard's test for a host that is an IPv4 address in
// disguise).
func checkHostName(h string) error {
	if len(h) > maxHostLen {
		return refuse("host name longer than %d characters", maxHostLen)
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return refuse("bad host name %q", h)
		}
		for _, c := range []byte(l) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				if c >= 0x80 {
					return refuse("host name %q is not ASCII; use its xn-- (punycode) form", h)
				}
				return refuse("bad character %q in host name %q", c, h)
			}
		}
	}
	if numericLabel(labels[len(labels)-1]) {
		return refuse("host %q looks like a numeric address; write addresses as four decimal numbers", h)
	}
	return nil
}

// numericLabel reports whether a resolver could read l as a number: decimal
// or octal digits, or 0x and hexadecimal digits.
func numericLabel(l string) bool {
	if strings.HasPrefix(l, "0x") {
		l = l[2:]
		return strings.Trim(l, "0123456789abcdef") == ""
	}
	return l != "" && strings.Trim(l, "0123456789") == ""
}

// blockedPrefixes are address ranges a fetch must never reach, besides what
// netip's predicates cover: CGNAT, cloud metadata, benchmarking,
// documentation, the 6to4 relay, and for IPv6 — of which only global
// unicast (2000::/3) is allowed at all — the ranges inside it that are not
// ordinary hosts or that tunnel to an IPv4 address (Teredo and the rest of
// the IETF protocol block, 6to4, documentation, SRv6).
var blockedPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "168.63.129.16/32", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24",
		"198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20", "5f00::/16",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// blockedAddr says why ip must not be dialled, or "" when it may.
func blockedAddr(ip netip.Addr) string {
	ip = ip.WithZone("").Unmap()
	if ip.Is6() {
		switch {
		case ip.IsLoopback():
			return "a loopback address"
		case ip.IsUnspecified():
			return "unspecified"
		}
		// An IPv4 address inside an IPv6 one (IPv4-compatible, SIIT,
		// NAT64, 6to4, Teredo, ISATAP) may be routed to that IPv4 address:
		// say which, when it is one we refuse.
		if v4, form, ok := embeddedIPv4(ip); ok {
			if reason := blockedAddr(v4); reason != "" {
				return fmt.Sprintf("%s address embedding %s, %s", form, v4, reason)
			}
		}
		if !globalUnicast6.Contains(ip) {
			switch {
			case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
				return "a link-local address"
			case ip.IsPrivate():
				return "a private address"
			case ip.IsMulticast():
				return "a multicast address"
			}
			return "an IPv6 address outside global unicast (2000::/3)"
		}
	}
	switch {
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local address"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return "in the reserved range " + p.String()
		}
	}
	return ""
}

// Prefixes of the IPv6 forms that carry an IPv4 address.
var (
	compat6 = netip.MustParsePrefix("::/96")           // IPv4-compatible (deprecated)
	siit6   = netip.MustParsePrefix("::ffff:0:0:0/96") // SIIT, IPv4-translated
	nat64   = netip.MustParsePrefix("64:ff9b::/96")    // NAT64 well-known prefix
	nat64l  = netip.MustParsePrefix("64:ff9b:1::/48")  // NAT64 local use
	sixto4  = netip.MustParsePrefix("2002::/16")
	teredo  = netip.MustParsePrefix("2001::/32")
)

// embeddedIPv4 extracts the IPv4 address an IPv6 address carries, if it is
// of a form that carries one.
func embeddedIPv4(ip netip.Addr) (netip.Addr, string, bool) {
	b := ip.As16()
	last := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	switch {
	case compat6.Contains(ip):
		return last, "an IPv4-compatible", true
	case siit6.Contains(ip):
		return last, "an IPv4-translated", true
	case nat64.Contains(ip), nat64l.Contains(ip):
		return last, "a NAT64", true
	case sixto4.Contains(ip):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), "a 6to4", true
	case teredo.Contains(ip):
		// The client's address, obfuscated; the server's is bytes 4–7.
		return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}), "a Teredo", true
	case b[8]&^0x02 == 0 && b[9] == 0 && b[10] == 0x5e && b[11] == 0xfe:
		return last, "an ISATAP", true
	}
	return netip.Addr{}, "", false
}

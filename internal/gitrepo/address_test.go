package gitrepo

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// embeddedIPv6 are IPv6 literals that carry a loopback, private or
// link-local IPv4 address, or are otherwise not ordinary global unicast
// hosts (issue 11 #3: the first six passed both checks).
var embeddedIPv6 = []string{
	"::127.0.0.1", "::7f00:1", "::a00:1", "::ffff:0:7f00:1", "::a9fe:a9fe", "::169.254.169.254",
	"::ffff:7f00:1", "::ffff:127.0.0.1", "::ffff:0:a9fe:a9fe", "::c0a8:101",
	"64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::8.8.8.8", "64:ff9b:1::a00:1",
	"2002:7f00:1::1", "2002:a9fe:a9fe::", "2002:808:808::1", // 6to4
	"2001:0:4136:e378:8000:63bf:80ff:fffe", "2001::1", // Teredo
	"2600::5efe:7f00:1", "2600::200:5efe:a00:1", // ISATAP
	"::", "::1", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "ff02::1", "ff05::2",
	"2001:db8::1", "100::1", "fec0::1", "3fff::1", "5f00::1", "2001:10::1", "2001:2::1", "4000::1", "e000::1",
}

func TestEmbeddedIPv6RefusedByURLPolicy(t *testing.T) {
	for _, a := range embeddedIPv6 {
		host := strings.ReplaceAll(a, "%", "%25")
		for _, u := range []string{"https://[" + host + "]/repo.git", "https://[" + host + "]:443/x"} {
			if _, err := (Policy{}).CheckURL(u); !errors.Is(err, ErrURLRefused) {
				t.Errorf("%s: accepted (%v)", u, err)
			}
		}
	}
	_, err := Policy{}.CheckURL("https://[::127.0.0.1]/x")
	if err == nil || !strings.Contains(err.Error(), "embedding 127.0.0.1, a loopback address") {
		t.Errorf("the refusal should name the embedded address: %v", err)
	}
	for _, u := range []string{"https://[2606:4700:4700::1111]/x.git", "https://[2a00:1450:4001:82b::200e]/x.git",
		"https://8.8.8.8/x.git", "https://git.example.org./x.git", "https://my_host.example.org/x"} {
		if _, err := (Policy{}).CheckURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestEmbeddedIPv6RefusedAtDialTime(t *testing.T) {
	for _, a := range embeddedIPv6 {
		if err := checkDial(context.Background(), net.JoinHostPort(a, "443")); !errors.Is(err, ErrURLRefused) {
			t.Errorf("dial %s: %v", a, err)
		}
	}
	if err := checkDial(context.Background(), "[2606:4700:4700::1111]:443"); err != nil {
		t.Errorf("a public IPv6 address: %v", err)
	}
	// An allowed range does not open what it does not contain.
	ctx := withPolicy(context.Background(), Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if err := checkDial(ctx, "[::7f00:1]:80"); !errors.Is(err, ErrURLRefused) {
		t.Errorf("::7f00:1 with 127.0.0.1/32 allowed: %v", err)
	}
}

// TestRedirectToEmbeddedIPv6Refused: a public server redirecting a fetch to
// an IPv6 literal that embeds a loopback address is stopped by the check at
// connection time (redirects skip the URL policy).
func TestRedirectToEmbeddedIPv6Refused(t *testing.T) {
	trap := newListener(t, "127.0.0.1:0")
	port := trap.Addr().(*net.TCPAddr).Port
	for _, a := range []string{"::127.0.0.1", "::ffff:0:7f00:1", "64:ff9b::7f00:1"} {
		target := "http://" + net.JoinHostPort(a, strconv.Itoa(port))
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target+r.URL.Path+"?"+r.URL.RawQuery, http.StatusFound)
		}))
		pol := Policy{AllowHTTP: true, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
		_, err := NewCache(t.TempDir(), pol, testLimits()).Fetch(context.Background(), redirector.URL+"/repo.git")
		redirector.Close()
		if !errors.Is(err, ErrURLRefused) {
			t.Errorf("redirect to %s: %v", target, err)
		}
	}
	if n := trap.accepted.Load(); n != 0 {
		t.Errorf("%d connections reached the loopback listener", n)
	}
}

// TestNumericHostsRefusedBeforeResolving is issue 11 #6: host names a
// resolver may read as an IPv4 address never reach it.
func TestNumericHostsRefusedBeforeResolving(t *testing.T) {
	for _, h := range []string{"127.1", "0x7f000001", "2130706433", "0177.0.0.1", "0x7f.1", "127.0.0.1.", "1.2.3.4.5",
		"017700000001", "example.0x", "example.123", "127.0.0.%31", "localhost.", "LOCALHOST", "a.localhost.",
		"b%C3%BCcher.example", "exa%2Fmple.org", "ex..ample", ".example.org", strings.Repeat("a", 64) + ".org",
		strings.Repeat("abcdefgh.", 30) + "org", "[127.0.0.1]", "::1"} {
		u := "https://" + h + "/repo.git"
		if _, err := (Policy{}).CheckURL(u); !errors.Is(err, ErrURLRefused) {
			t.Errorf("%s: accepted (%v)", u, err)
		}
	}
	_, err := Policy{}.CheckURL("https://0x7f000001/x")
	if err == nil || !strings.Contains(err.Error(), "looks like a numeric address") {
		t.Errorf("0x7f000001: %v", err)
	}
}

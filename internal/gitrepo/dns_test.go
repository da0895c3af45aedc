package gitrepo

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

// fakeDNS is a DNS server on the loopback interface that answers A and
// AAAA questions from a table (NXDOMAIN for other names), counting the
// questions it was asked: what a hostile name server does when a
// submitter points a name of theirs at an internal address.
type fakeDNS struct {
	conn    net.PacketConn
	answers map[string][]netip.Addr // lower-case name without the final dot
	mu      sync.Mutex
	asked   map[string]int
}

func startFakeDNS(t *testing.T, answers map[string][]netip.Addr) *fakeDNS {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fake DNS server: %v", err)
	}
	s := &fakeDNS{conn: conn, answers: answers, asked: map[string]int{}}
	go s.serve()
	t.Cleanup(func() { conn.Close() })
	return s
}

func (s *fakeDNS) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp := s.answer(buf[:n]); resp != nil {
			_, _ = s.conn.WriteTo(resp, from)
		}
	}
}

// answer builds the response to one query (RFC 1035 §4).
func (s *fakeDNS) answer(q []byte) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil
	}
	var labels []string
	i := 12
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	question := q[12 : i+5]
	qtype := binary.BigEndian.Uint16(q[i+1:])
	name := strings.ToLower(strings.Join(labels, "."))
	s.mu.Lock()
	s.asked[name]++
	s.mu.Unlock()
	addrs, known := s.answers[name]
	var ans [][]byte
	for _, a := range addrs {
		var rdata []byte
		switch {
		case qtype == 1 && a.Is4():
			b := a.As4()
			rdata = b[:]
		case qtype == 28 && a.Is6():
			b := a.As16()
			rdata = b[:]
		default:
			continue
		}
		rr := []byte{0xc0, 12, 0, byte(qtype), 0, 1, 0, 0, 0, 0, 0, byte(len(rdata))}
		ans = append(ans, append(rr, rdata...))
	}
	flags := uint16(0x8180) // a response, recursion desired and available
	if !known {
		flags |= 3 // NXDOMAIN
	}
	resp := make([]byte, 12, 512)
	copy(resp, q[:2])
	binary.BigEndian.PutUint16(resp[2:], flags)
	binary.BigEndian.PutUint16(resp[4:], 1)
	binary.BigEndian.PutUint16(resp[6:], uint16(len(ans)))
	resp = append(resp, question...)
	for _, a := range ans {
		resp = append(resp, a...)
	}
	return resp
}

func (s *fakeDNS) questions(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asked[name]
}

// useResolver sends this process's name lookups to s for the test: the
// fetch path dials through the standard resolver, as in production.
func (s *fakeDNS) useResolver(t *testing.T) {
	preferGo, dial := net.DefaultResolver.PreferGo, net.DefaultResolver.Dial
	net.DefaultResolver.PreferGo = true
	net.DefaultResolver.Dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.conn.LocalAddr().String())
	}
	t.Cleanup(func() { net.DefaultResolver.PreferGo, net.DefaultResolver.Dial = preferGo, dial })
}

// TestNamesResolvingToPrivateAddressesRefusedAtDial: host names pass the
// URL policy (it does not resolve them), and a name server answers with
// loopback, private, link-local, metadata and IPv6 forms of them; the
// check at connection time, after resolution, refuses every address, so a
// name pointed at an internal service (or re-pointed after a first look:
// DNS rebinding) reaches nothing.
func TestNamesResolvingToPrivateAddressesRefusedAtDial(t *testing.T) {
	a := netip.MustParseAddr
	names := map[string][]netip.Addr{
		"loopback.hostile.test":    {a("127.0.0.1")},
		"loopback2.hostile.test":   {a("127.0.0.2")},
		"private10.hostile.test":   {a("10.1.2.3")},
		"private172.hostile.test":  {a("172.16.0.1")},
		"private192.hostile.test":  {a("192.168.1.1")},
		"metadata.hostile.test":    {a("169.254.169.254")},
		"cgnat.hostile.test":       {a("100.64.0.1")},
		"zero.hostile.test":        {a("0.0.0.0")},
		"v6loop.hostile.test":      {a("::1")},
		"v6mapped.hostile.test":    {a("::ffff:127.0.0.1")},
		"v6compat.hostile.test":    {a("::7f00:1")},
		"v6ula.hostile.test":       {a("fd00::1")},
		"v6nat64.hostile.test":     {a("64:ff9b::a9fe:a9fe")},
		"v6linklocal.hostile.test": {a("fe80::1")},
		"mixed.hostile.test":       {a("10.0.0.1"), a("127.0.0.1"), a("::1")},
	}
	dns := startFakeDNS(t, names)
	dns.useResolver(t)

	cache := NewCache(t.TempDir(), Policy{AllowHTTP: true}, testLimits())
	for name, addrs := range names {
		for _, scheme := range []string{"https", "http"} {
			u := scheme + "://" + name + "/repo.git"
			if _, err := (Policy{AllowHTTP: true}).CheckURL(u); err != nil {
				t.Fatalf("%s: refused before resolving (%v); the test needs names the URL policy accepts", u, err)
			}
			_, err := cache.Fetch(context.Background(), u)
			if !errors.Is(err, ErrURLRefused) || !IsPermanent(err) {
				t.Errorf("%s (%v): %v, want a permanent refusal", u, addrs, err)
				continue
			}
			if !strings.Contains(err.Error(), "connection to ") || !strings.Contains(err.Error(), "refused: it is") {
				t.Errorf("%s: %v, want the refusal of the connection to the resolved address", u, err)
			}
		}
		if dns.questions(name) == 0 {
			t.Errorf("%s was never resolved: the refusal did not come from the connection-time check", name)
		}
	}
	// The refusal names the address the name resolved to.
	_, err := cache.Fetch(context.Background(), "https://metadata.hostile.test/latest")
	if err == nil || !strings.Contains(err.Error(), "connection to 169.254.169.254 refused: it is a link-local address") {
		t.Errorf("metadata.hostile.test: %v", err)
	}
}

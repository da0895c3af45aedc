// Package mailtest is an in-process SMTP server for tests (go-smtp): it
// accepts every message, decodes it, and can be stopped and restarted on
// the same port to play an SMTP outage.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one received mail, decoded.
type Message struct {
	User      string // the SMTP AUTH user, if any
	From      string
	To        []string
	Subject   string
	Body      string
	MessageID string
	Raw       []byte
}

// Sink is the server.
type Sink struct {
	Addr string

	mu     sync.Mutex
	msgs   []Message
	srv    *smtp.Server
	ln     net.Listener
	notify chan struct{}
	// Reject, when set, refuses a recipient with its error (a 550 makes a
	// permanent failure).
	Reject func(to string) error
	// ClientTLS trusts the sink's certificate (StartTLS sinks).
	ClientTLS *tls.Config
	serverTLS *tls.Config
}

// Start listens on a free loopback port; the server stops with the test.
func Start(tb testing.TB) *Sink {
	tb.Helper()
	s := &Sink{notify: make(chan struct{}, 1)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.Addr = l.Addr().String()
	s.serve(l)
	tb.Cleanup(s.Stop)
	return s
}

// StartTLS is Start with STARTTLS offered, under a self-signed certificate
// for 127.0.0.1 that ClientTLS trusts.
func StartTLS(tb testing.TB) *Sink {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	s := &Sink{notify: make(chan struct{}, 1),
		serverTLS: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		ClientTLS: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.Addr = l.Addr().String()
	s.serve(l)
	tb.Cleanup(s.Stop)
	return s
}

// Host and Port split Addr.
func (s *Sink) Host() string { h, _, _ := net.SplitHostPort(s.Addr); return h }

// Port is the port number.
func (s *Sink) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

func (s *Sink) serve(l net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	srv.TLSConfig = s.serverTLS
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.mu.Lock()
	s.srv, s.ln = srv, l
	s.mu.Unlock()
	go srv.Serve(l)
}

// Stop closes the server: connections are refused until Restart.
func (s *Sink) Stop() {
	s.mu.Lock()
	srv, l := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if l != nil {
		l.Close() // Serve may not have taken the listener yet
	}
	if srv != nil {
		srv.Close()
	}
}

// Restart listens again on the same address.
func (s *Sink) Restart(tb testing.TB) {
	tb.Helper()
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if l, err = net.Listen("tcp", s.Addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("restarting the SMTP sink on %s: %v", s.Addr, err)
	}
	s.serve(l)
}

// Messages returns what was received so far.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait returns the first message matching match, waiting up to timeout.
func (s *Sink) Wait(tb testing.TB, timeout time.Duration, what string, match func(Message) bool) Message {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		for _, m := range s.Messages() {
			if match(m) {
				return m
			}
		}
		select {
		case <-s.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			var got []string
			for _, m := range s.Messages() {
				got = append(got, strings.Join(m.To, ",")+": "+m.Subject)
			}
			tb.Fatalf("no mail %s within %v; received: %q", what, timeout, got)
			return Message{}
		}
	}
}

// To matches messages to an address whose subject contains sub.
func To(addr, sub string) func(Message) bool {
	return func(m Message) bool {
		for _, t := range m.To {
			if strings.EqualFold(t, addr) && strings.Contains(m.Subject, sub) {
				return true
			}
		}
		return false
	}
}

// Link finds the first URL in a body that starts with prefix.
func Link(body, prefix string) string {
	i := strings.Index(body, prefix)
	if i < 0 {
		return ""
	}
	end := strings.IndexAny(body[i:], " \r\n\t")
	if end < 0 {
		return body[i:]
	}
	return body[i : i+end]
}

type session struct {
	s   *Sink
	cur Message
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, _ string) error { ss.cur.User = user; return nil }), nil
}

func (ss *session) Reset()        { ss.cur = Message{User: ss.cur.User} }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(f string, _ *smtp.MailOptions) error { ss.cur.From = f; return nil }

func (ss *session) Rcpt(t string, _ *smtp.RcptOptions) error {
	if ss.s.Reject != nil {
		if err := ss.s.Reject(t); err != nil {
			return err
		}
	}
	ss.cur.To = append(ss.cur.To, t)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := ss.cur
	m.Raw = b
	if err := decode(&m); err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, m)
	ss.s.mu.Unlock()
	select {
	case ss.s.notify <- struct{}{}:
	default:
	}
	return nil
}

func decode(m *Message) error {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return err
	}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return err
	}
	m.MessageID = strings.Trim(msg.Header.Get("Message-ID"), "<>")
	var body io.Reader = msg.Body
	switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	case "", "7bit", "8bit", "binary":
	default:
		return errors.New("unknown transfer encoding")
	}
	b, err := io.ReadAll(body)
	m.Body = strings.ReplaceAll(string(b), "\r\n", "\n")
	return err
}

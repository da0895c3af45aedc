// Package sshtest runs an ssh git server for tests, in the test process, on
// a loopback port: it takes only the public keys it is told to, and answers
// `git-upload-pack '<path>'` by running git's own upload-pack on a bare
// repository under its root — as a forge's ssh endpoint does. Nothing else
// is executed; other requests are refused.
package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/ssh"

	"layerindex/internal/prereq"
)

// Server is a running ssh git server.
type Server struct {
	Addr    string        // 127.0.0.1:port
	HostKey ssh.PublicKey // the key it shows
	// Accepted counts TCP connections, Authorised those that
	// authenticated, UploadPacks the upload-pack commands run.
	Accepted, Authorised, UploadPacks atomic.Int64

	root  string
	mu    sync.Mutex
	keys  []ssh.PublicKey
	users []string
	ln    net.Listener
}

// LastUser is the user name of the last connection that authenticated.
func (s *Server) LastUser() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.users) == 0 {
		return ""
	}
	return s.users[len(s.users)-1]
}

// NewKey makes an ed25519 key pair: the signer, and the private key in
// OpenSSH's PEM form (what an administrator pastes).
func NewKey(t testing.TB) (ssh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer, string(pem.EncodeToMemory(block))
}

// Start serves the bare repositories under root, admitting the given
// public keys. git (for upload-pack) is a prerequisite.
func Start(t testing.TB, root string, authorised ...ssh.PublicKey) *Server {
	t.Helper()
	git := prereq.Command(t, "git", "Debian's git package")
	hostSigner, _ := NewKey(t)
	s := &Server{HostKey: hostSigner.PublicKey(), root: root, keys: authorised}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, k := range s.keys {
				if string(k.Marshal()) == string(key.Marshal()) {
					s.users = append(s.users, meta.User())
					return nil, nil
				}
			}
			return nil, errors.New("key not authorised")
		},
	}
	cfg.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln, s.Addr = ln, ln.Addr().String()
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.Accepted.Add(1)
			go s.serve(c, cfg, git)
		}
	}()
	return s
}

// Root is the directory of the bare repositories served.
func (s *Server) Root() string { return s.root }

// Port is the port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// KnownHosts is the server's known_hosts line, as ssh-keyscan prints it.
func (s *Server) KnownHosts() string {
	return fmt.Sprintf("[127.0.0.1]:%d %s", s.Port(), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.HostKey))))
}

func (s *Server) serve(c net.Conn, cfg *ssh.ServerConfig, git string) {
	defer c.Close()
	conn, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	defer conn.Close()
	s.Authorised.Add(1)
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		go s.session(ch, chReqs, git)
	}
}

func (s *Server) session(ch ssh.Channel, reqs <-chan *ssh.Request, git string) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			req.Reply(req.Type == "env", nil) // go-git may set GIT_PROTOCOL
			continue
		}
		var cmd struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &cmd); err != nil {
			req.Reply(false, nil)
			return
		}
		path, ok := uploadPackPath(cmd.Command)
		if !ok {
			req.Reply(false, nil)
			fmt.Fprintf(ch.Stderr(), "only git-upload-pack is served\n")
			exit(ch, 1)
			return
		}
		req.Reply(true, nil)
		s.UploadPacks.Add(1)
		dir := filepath.Join(s.root, filepath.FromSlash(strings.TrimPrefix(path, "/")))
		if !strings.HasPrefix(dir, filepath.Clean(s.root)+string(filepath.Separator)) {
			exit(ch, 1)
			return
		}
		c := exec.Command(git, "upload-pack", "--strict", dir)
		c.Stdin, c.Stdout, c.Stderr = ch, ch, ch.Stderr()
		status := 0
		if err := c.Run(); err != nil {
			status = 1
		}
		ch.CloseWrite()
		exit(ch, status)
		return
	}
}

func exit(ch ssh.Channel, status int) {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, uint32(status))
	ch.SendRequest("exit-status", false, b)
}

// uploadPackPath reads `git-upload-pack 'path'` (the only command served;
// a path with quotes in it is refused rather than unquoted).
func uploadPackPath(cmd string) (string, bool) {
	rest, ok := strings.CutPrefix(cmd, "git-upload-pack '")
	if !ok || !strings.HasSuffix(rest, "'") {
		return "", false
	}
	p := strings.TrimSuffix(rest, "'")
	if strings.ContainsAny(p, "'\\") || strings.Contains(p, "..") {
		return "", false
	}
	return p, true
}

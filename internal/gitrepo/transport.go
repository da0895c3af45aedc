package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
)

// installOnce replaces go-git's transports, process-wide: http(s) go through
// a client whose dialer checks every address against the policy carried in
// the request context, and whose bodies count bytes against the fetch's
// budget; the git:// transport is removed, and ssh:// dials through
// guardedDialer with a deploy key only.
var installOnce sync.Once

func installTransports() {
	installOnce.Do(func() {
		dialer := &net.Dialer{
			Timeout:   15 * time.Second,
			KeepAlive: 30 * time.Second,
			ControlContext: func(ctx context.Context, network, address string, _ syscall.RawConn) error {
				return checkDial(ctx, address)
			},
		}
		tr := &http.Transport{
			Proxy:                 nil, // a proxy would dial on our behalf, past the address check
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          20,
			IdleConnTimeout:       60 * time.Second,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
		}
		hc := &http.Client{
			Transport: &countingTransport{next: tr},
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 5 {
					return errors.New("too many redirects")
				}
				if req.URL.Scheme != "https" && !(req.URL.Scheme == "http" && policyFrom(req.Context()).AllowHTTP) {
					return refuse("redirect to %s:// refused", req.URL.Scheme)
				}
				if req.URL.User != nil {
					return refuse("redirect to a URL with credentials refused")
				}
				return nil
			},
		}
		c := githttp.NewClient(hc)
		client.InstallProtocol("https", c)
		client.InstallProtocol("http", c)
		client.InstallProtocol("git", nil)
		// ssh only with a deploy key (Cache.Fetch), through our dialer;
		// never the user's ~/.ssh/config or an agent.
		gitssh.DefaultSSHConfig = nil
		gitssh.DefaultAuthBuilder = func(string) (gitssh.AuthMethod, error) {
			return nil, refuse("ssh without a deploy key")
		}
		registerSSHDialer()
		client.InstallProtocol("ssh", gitssh.NewClient(nil))
	})
}

// budget caps the bytes one fetch may transfer.
type budget struct {
	limit int64
	used  atomic.Int64
}

type budgetKey struct{}

func withBudget(ctx context.Context, limit int64) (context.Context, *budget) {
	b := &budget{limit: limit}
	return context.WithValue(ctx, budgetKey{}, b), b
}

// ErrTooLarge is wrapped when a repository exceeds a cap.
var ErrTooLarge = errors.New("repository exceeds a size limit")

type countingTransport struct{ next http.RoundTripper }

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if b, ok := req.Context().Value(budgetKey{}).(*budget); ok && b.limit > 0 {
		resp.Body = &countingBody{ReadCloser: resp.Body, b: b}
	}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	b *budget
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if c.b.used.Add(int64(n)) > c.b.limit {
		return n, fmt.Errorf("%w: more than %d MB transferred", ErrTooLarge, c.b.limit>>20)
	}
	return n, err
}

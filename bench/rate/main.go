// Command rate sends GET requests at a fixed rate — an open loop, as wrk2
// does, which wrk (a closed loop: each connection waits for its answer)
// cannot — and reports the latencies measured from when each request was
// due. A server that stalls then shows in the percentiles instead of
// slowing the sender down (coordinated omission). It answers issue 13's
// "API p99 at the same load as upstream": upstream served 657 layerItems
// requests/s at 16 connections; wrk with 16 connections asks as fast as we
// answer, which is three times that load.
//
// Usage: rate -rate 657 -conns 16 -d 10s [-H 'Name: value']... URL
//
// It prints one line: requests=N rps=R p50=… p99=… max=… errors=E (times
// in milliseconds). At most conns requests are in flight; the others wait
// their turn, and their wait counts in their latency.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	rate := flag.Float64("rate", 100, "requests per second")
	conns := flag.Int("conns", 16, "requests in flight at most (connections)")
	dur := flag.Duration("d", 10*time.Second, "how long to send")
	var hdrs headers
	flag.Var(&hdrs, "H", "request header 'Name: value' (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 || *rate <= 0 || *conns <= 0 {
		fmt.Fprintln(os.Stderr, "usage: rate -rate R -conns N -d D [-H 'Name: value']... URL")
		os.Exit(2)
	}
	url := flag.Arg(0)
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: *conns,
		MaxConnsPerHost:     *conns,
		// As wrk: no Accept-Encoding, so the body is the server's plain one.
		DisableCompression: true,
	}}

	n := int(*rate * dur.Seconds())
	due := make(chan time.Time, n)
	lat := make([]time.Duration, 0, n)
	var mu sync.Mutex
	errs := 0
	var wg sync.WaitGroup
	for range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for at := range due {
				err := get(client, url, hdrs)
				d := time.Since(at)
				mu.Lock()
				if err != nil {
					errs++
					if errs == 1 {
						fmt.Fprintln(os.Stderr, "rate:", err)
					}
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	interval := time.Duration(float64(time.Second) / *rate)
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(at))
		due <- at
	}
	close(due)
	wg.Wait()
	elapsed := time.Since(start)
	if len(lat) == 0 {
		fmt.Printf("requests=0 rps=0 p50=0 p99=0 max=0 errors=%d\n", errs)
		os.Exit(1)
	}
	slices.Sort(lat)
	ms := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))]) / float64(time.Millisecond)
	}
	fmt.Printf("requests=%d rps=%.0f p50=%.2fms p99=%.2fms max=%.2fms errors=%d\n",
		len(lat), float64(len(lat))/elapsed.Seconds(), ms(0.5), ms(0.99), ms(1), errs)
}

// get sends one request and reads its body to the end.
func get(c *http.Client, url string, hdrs headers) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	for _, h := range hdrs {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
	"layerindex/internal/web"
)

// env is a running server over a migrated database holding the fixture.
type env struct {
	ts    *httptest.Server
	db    *db.DB
	store *store.Store
	fx    *storetest.Fixture
	api   string // base URL of the API, with the trailing slash
}

// serve starts the whole web server (as `layerindex serve` builds it) over
// a fresh database of dialect d.
func serve(t testing.TB, conn *db.DB) *httptest.Server {
	t.Helper()
	q, err := jobs.New(context.Background(), conn, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(conn, q, web.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func newEnv(t testing.TB, d db.Dialect) *env {
	t.Helper()
	conn := dbtest.Migrated(t, d)
	s := store.New(conn.Gorm)
	fx := storetest.Load(t, s)
	// Layer sets (issue 14): a published one and a draft, which the API
	// does not show.
	for _, ls := range []*store.LayerSet{
		{Name: "python-master", Description: "Python on master", BranchID: fx.LayerBranch["meta-python/master"].BranchID, Machine: "qemux86", Published: true},
		{Name: "draft", BranchID: fx.LayerBranch["meta-oe/master"].BranchID},
	} {
		if err := s.SaveLayerSet(context.Background(), ls, []int64{fx.LayerBranch["meta-python/master"].LayerID, fx.LayerBranch["meta-oe/master"].LayerID}); err != nil {
			t.Fatal(err)
		}
	}
	ts := serve(t, conn)
	return &env{ts: ts, db: conn, store: s, fx: fx, api: ts.URL + "/layerindex/api/"}
}

type response struct {
	code int
	body []byte
	hdr  http.Header
}

func do(t testing.TB, method, url string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gzip, no redirects
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return response{resp.StatusCode, b, resp.Header}
}

func get(t testing.TB, url string, hdr ...string) response {
	t.Helper()
	return do(t, http.MethodGet, url, hdr...)
}

// list fetches a list endpoint and decodes it, failing unless it is a 200
// bare JSON array.
func list(t testing.TB, url string) []map[string]any {
	t.Helper()
	r := get(t, url)
	if r.code != 200 {
		t.Fatalf("GET %s: %d %s", url, r.code, r.body)
	}
	var out []map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("GET %s: not a JSON array of objects: %v\n%s", url, err, r.body)
	}
	return out
}

// keyOrder returns the keys of the JSON object in raw, in document order,
// and the raw value of each.
func keyOrder(t testing.TB, raw []byte) ([]string, map[string]json.RawMessage) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	var keys []string
	vals := map[string]json.RawMessage{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		vals[k.(string)] = v
	}
	return keys, vals
}

// rawItems splits a raw JSON array into its raw elements.
func rawItems(t testing.TB, raw []byte) []json.RawMessage {
	t.Helper()
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		t.Fatalf("not an array: %v\n%s", err, raw)
	}
	return items
}

func ids(rows []map[string]any) []int64 {
	var out []int64
	for _, r := range rows {
		out = append(out, int64(r["id"].(float64)))
	}
	return out
}

func strs(rows []map[string]any, key string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprint(r[key]))
	}
	return out
}

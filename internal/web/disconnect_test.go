package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
	"layerindex/internal/web"
)

// A client that cuts a request short (a closed tab, the end of a benchmark)
// is logged at debug, not as a server error: the queries of its request fail
// with the cancelled context, which is not a fault of the server.
func TestClientDisconnectIsNotAnError(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		conn := dbtest.Migrated(t, d)
		f := storetest.Load(t, store.New(conn.Gorm))
		q, err := jobs.New(context.Background(), conn, jobs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		srv, err := web.New(conn, q, web.Options{Version: "test",
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, path := range []string{
			"/layerindex/branch/master/layers/",
			"/layerindex/branch/master/recipes/?q=busybox",
			"/layerindex/recipe/" + strconv.FormatInt(f.Recipes["openembedded-core/master/busybox"], 10) + "/",
			"/layerindex/api/layerItems/",
		} {
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil).WithContext(ctx))
		}
		if strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "level=WARN") {
			t.Errorf("a cancelled request was logged as a fault:\n%s", logs.String())
		}
		if !strings.Contains(logs.String(), "level=DEBUG") {
			t.Errorf("cancelled requests are not logged at all:\n%s", logs.String())
		}
	})
}

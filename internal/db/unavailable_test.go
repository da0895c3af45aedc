package db_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"layerindex/internal/db"
)

// TestUnavailable: errors of a database out of reach (what a web request
// answers 503 to) apart from errors of the request or the application.
func TestUnavailable(t *testing.T) {
	// A port nobody listens on: a real refused connection.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, refused := db.OpenPostgres(ctx, "postgres://postgres@"+addr+"/x?sslmode=disable&connect_timeout=2", nil)
	for _, c := range []struct {
		err  error
		want bool
	}{
		{refused, true},
		{fmt.Errorf("listing layers: %w", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}), true},
		{&pgconn.PgError{Code: "08006"}, true},
		{&pgconn.PgError{Code: "42601", Message: "syntax error"}, false},
		{&pgconn.PgError{Code: "23505", Message: "duplicate key"}, false},
		{errors.New("record not found"), false},
		{context.Canceled, false},
		{nil, false},
	} {
		if got := db.Unavailable(c.err); got != c.want {
			t.Errorf("Unavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

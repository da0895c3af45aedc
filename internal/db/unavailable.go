package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable reports whether err means the database cannot be reached
// for now — refused or broken connections, a server shutting down or
// starting up — rather than a fault of the request or of the application.
// Front doors answer it with 503 (try again shortly); the connection pool
// replaces the broken connections by itself once the server is back.
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01–57P03: the server is
		// shutting down, crashed or not yet accepting connections.
		return len(pgErr.Code) == 5 && pgErr.Code[:2] == "08" ||
			pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connErr) || errors.As(err, &netErr) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err) && !errors.Is(err, context.DeadlineExceeded)
}

// DataRejected reports whether PostgreSQL refused the values themselves —
// a data exception (class 22: bytes that are not text, a value out of
// range) or a program limit (class 54: an index entry or row too large) —
// so storing the same data again can never work.
func DataRejected(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || len(pgErr.Code) != 5 {
		return false
	}
	return pgErr.Code[:2] == "22" || pgErr.Code[:2] == "54"
}

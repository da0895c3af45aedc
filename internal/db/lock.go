package db

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
)

// TryLock takes the lock called name/id without waiting, and reports whether
// it got it. The lock is shared by every process using this database and is
// released by release or, whatever happens, when the process holding it
// dies: on PostgreSQL it is a session advisory lock on a connection held
// for the purpose, on SQLite (whose processes share one machine) an flock
// on a file beside the database. That makes a held lock proof that its
// holder is alive, which is what the update-run sweep relies on.
func (d *DB) TryLock(ctx context.Context, name string, id int64) (release func(), ok bool, err error) {
	if d.Dialect == Postgres {
		return d.tryAdvisoryLock(ctx, name, id)
	}
	return d.tryFileLock(name, id)
}

// tryAdvisoryLock uses the two-key form of pg_try_advisory_lock, whose key
// space is apart from the single-key one the migration lock uses.
func (d *DB) tryAdvisoryLock(ctx context.Context, name string, id int64) (func(), bool, error) {
	if id < 0 || id > 1<<31-1 {
		return nil, false, fmt.Errorf("lock %s/%d: id out of range", name, id)
	}
	conn, err := d.SQL.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s/%d: %w", name, id, err)
	}
	var got bool
	class := int32(crc32.ChecksumIEEE([]byte(name)))
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1, $2)", class, int32(id)).Scan(&got); err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("lock %s/%d: %w", name, id, err)
	}
	if !got {
		conn.Close()
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			// Closing the connection would release the lock too, but the
			// pool keeps it open: unlock explicitly.
			conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1, $2)", class, int32(id))
			conn.Close()
		})
	}, true, nil
}

// tryFileLock locks a file per name and id. flock locks belong to the open
// file, so two workers of one process exclude each other as two processes
// do.
func (d *DB) tryFileLock(name string, id int64) (func(), bool, error) {
	if d.lockDir == "" {
		return nil, false, errors.New("no lock directory for this database")
	}
	if err := os.MkdirAll(d.lockDir, 0o750); err != nil {
		return nil, false, fmt.Errorf("lock directory: %w", err)
	}
	p := filepath.Join(d.lockDir, name+"-"+strconv.FormatInt(id, 10)+".lock")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", p, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("lock %s: %w", p, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			f.Close()
		})
	}, true, nil
}

// Package migrations holds the SQL schema of the application, one folder per
// database dialect, applied in order by goose (see internal/db).
package migrations

import "embed"

// FS holds postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS

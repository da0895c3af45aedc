package gitrepo

import "strings"

// IsLocal reports whether a repository URL names a local repository (a
// file:// URL or a path) rather than a remote one. Local repositories read
// the server's own disk, so only administrators may set them, whatever the
// policy allows (internal/catalog enforces that).
func IsLocal(raw string) bool {
	raw = strings.TrimSpace(raw)
	return isLocalPath(raw) || strings.HasPrefix(strings.ToLower(raw), "file:")
}

package api

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
)

// openAPIDoc describes the API (OpenAPI 3.0). It is written by hand; a test
// checks every actual response against it, key by key.
//
//go:embed openapi.json
var openAPIDoc []byte

var openAPIGzip = gzipBytes(openAPIDoc)

var openAPIETag = func() string {
	sum := sha256.Sum256(openAPIDoc)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

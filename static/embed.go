// Package static holds the site's CSS, scripts and images, embedded into the
// binary and served under /static/.
package static

import "embed"

// FS holds css/, img/ and js/.
//
//go:embed css img js
var FS embed.FS

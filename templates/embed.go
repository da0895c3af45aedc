// Package templates holds the HTML and email templates, embedded into the
// binary so it runs from any directory. Layout: layout/ (the page chrome),
// pages/<page>/ (one folder per page), email/ (plain-text mail).
package templates

import "embed"

// FS holds every template.
//
//go:embed layout pages email
var FS embed.FS

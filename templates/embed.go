// Package templates holds the HTML and email templates, embedded into the
// binary so it runs from any directory. Layout: layout/ (the page chrome),
// pages/<page>/ (one folder per page), email/ (plain-text mail), api/ (the
// REST API as a page for browsers).
package templates

import "embed"

// FS holds every template.
//
//go:embed layout pages email api
var FS embed.FS

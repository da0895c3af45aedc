// Package bitbake is a static parser for BitBake metadata. It never executes
// anything from a layer; see the package README for its scope.
package bitbake

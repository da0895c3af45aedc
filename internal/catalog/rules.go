package catalog

import (
	"path"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"layerindex/internal/store"
)

// The rules for names and paths, shared by every front door (the forms,
// the command line) and checked again by the changes that store them.

// layerNameRe is upstream's rule: lowercase letters, digits, '.' and '-'.
var layerNameRe = regexp.MustCompile(`^[a-z0-9.-]+$`)

// CheckLayerName applies upstream's rule for layer names.
func CheckLayerName(name string) error {
	switch {
	case name == "":
		return invalid("name", "This field is required.")
	case len(name) > 40:
		return invalid("name", "At most 40 characters, please.")
	case !layerNameRe.MatchString(name):
		return invalid("name", "Name must only contain lowercase letters, digits, dashes or periods.")
	case strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-"):
		return invalid("name", "Name must not start or end with a dash.")
	case strings.Contains(name, "--"):
		return invalid("name", "Name must not contain two dashes in a row.")
	}
	return nil
}

// branchNameRe keeps release branch names to what URLs and git accept.
var branchNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// CheckBranchName applies the rule for release branch names (they appear in
// URLs, and by default are the git branch read).
func CheckBranchName(name string) error {
	switch {
	case name == "":
		return invalid("name", "This field is required.")
	case len(name) > 50 || !branchNameRe.MatchString(name) || strings.Contains(name, ".."):
		return invalid("name", "Use letters, digits, dots, dashes and underscores (at most 50 characters, starting with a letter or digit).")
	}
	return nil
}

// subdirRe keeps subdirectories to ordinary relative paths.
var subdirRe = regexp.MustCompile(`^[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*$`)

// CheckSubdir applies the rule for a layer's subdirectory in its
// repository ("" is the top).
func CheckSubdir(p string) error {
	switch {
	case p == "":
	case len(p) > 60:
		return invalid("vcs_subdir", "At most 60 characters, please.")
	case !subdirRe.MatchString(p) || path.Clean(p) != p || strings.Contains("/"+p+"/", "/../") || p == "..":
		return invalid("vcs_subdir", "Enter a path inside the repository, like meta-foo or layers/meta-foo.")
	}
	return nil
}

// gitBranchRe is the conservative part of git's branch name rules; go-git's
// Validate checks the rest (no "..", no ".lock", …).
var gitBranchRe = regexp.MustCompile(`^[A-Za-z0-9._/+-]+$`)

// CheckGitBranch applies git's rules to the branch a layer branch reads
// instead of the release branch's name ("" means the release's name).
func CheckGitBranch(b string) error {
	switch {
	case b == "":
	case len(b) > 80:
		return invalid("actual_branch", "At most 80 characters, please.")
	case !gitBranchRe.MatchString(b) || plumbing.NewBranchReferenceName(b).Validate() != nil || strings.HasPrefix(b, "-"):
		return invalid("actual_branch", "This is not a valid git branch name.")
	}
	return nil
}

// CheckLayerType accepts the layer type codes (A, B, S, D, M).
func CheckLayerType(t string) error {
	if t == "" {
		return invalid("layer_type", "Choose a type.")
	}
	for _, x := range store.LayerTypes {
		if x.Code == t {
			return nil
		}
	}
	return invalid("layer_type", "Choose one of the listed types.")
}

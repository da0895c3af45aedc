package store

import (
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Web links into a layer's repository are built from the layer's URL
// templates the way upstream does (LayerBranch._handle_url_path): %branch%
// is the git branch, %path% the path below the repository root (the layer's
// subdirectory joined with the path), %pathelement[i]% and
// %pathelement[i:j]% pick elements of the path inside the layer, and a
// [...] segment containing %path% is dropped when the path is empty.
// Without %path%, the path is appended to the template.

var (
	pathElementRE = regexp.MustCompile(`%pathelement\[([0-9]*)(:[0-9]*)?\]%`)
	optionalRE    = regexp.MustCompile(`\[([^\]]*%path%[^\]]*)\]`)
)

// TreeURL is the web page of a directory of the layer ("" for its top), or
// "" when the layer has no tree URL template.
func (lb *LayerBranch) TreeURL(l *Layer, p string) string {
	return lb.expandURL(l.VCSWebTreeBaseURL, p)
}

// FileURL is the web page of a file of the layer, or "".
func (lb *LayerBranch) FileURL(l *Layer, p string) string {
	return lb.expandURL(l.VCSWebFileBaseURL, p)
}

// CommitURL is the web page of a commit, or "".
func (lb *LayerBranch) CommitURL(l *Layer, hash string) string {
	if l.VCSWebCommitURL == "" || hash == "" {
		return ""
	}
	u := strings.ReplaceAll(l.VCSWebCommitURL, "%hash%", hash)
	return strings.ReplaceAll(u, "%branch%", lb.GitBranch())
}

func (lb *LayerBranch) expandURL(base, p string) string {
	if base == "" {
		return ""
	}
	extra := p
	if lb.VCSSubdir != "" {
		extra = lb.VCSSubdir
		if p != "" {
			extra = path.Clean(lb.VCSSubdir + "/" + p)
			// A subdirectory added between branches leaves a leading ../
			extra = strings.TrimPrefix(extra, "../")
		}
	}
	u := strings.ReplaceAll(base, "%branch%", lb.GitBranch())
	if p != "" {
		parts := strings.Split(p, "/")
		u = pathElementRE.ReplaceAllStringFunc(u, func(m string) string {
			sm := pathElementRE.FindStringSubmatch(m)
			start := 0
			if sm[1] != "" {
				start, _ = strconv.Atoi(sm[1])
			}
			if sm[2] == "" {
				if start < len(parts) {
					return parts[start]
				}
				return ""
			}
			stop := len(parts)
			if s := sm[2][1:]; s != "" {
				stop, _ = strconv.Atoi(s)
			}
			start, stop = min(start, len(parts)), min(stop, len(parts))
			if start >= stop {
				return ""
			}
			return strings.Join(parts[start:stop], "/")
		})
	}
	// A % in a path (a wildcard bbappend) must not read as an escape.
	extra = strings.ReplaceAll(extra, "%", "%25")
	if strings.Contains(base, "%path%") || strings.Contains(base, "%pathelement[") {
		if extra != "" {
			u = optionalRE.ReplaceAllString(u, "$1")
		} else {
			u = optionalRE.ReplaceAllString(u, "")
		}
		return strings.ReplaceAll(u, "%path%", extra)
	}
	return u + extra
}

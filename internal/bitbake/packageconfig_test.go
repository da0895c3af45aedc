package bitbake

import "testing"

func TestPackageConfigFeature(t *testing.T) {
	for flag, want := range map[string]bool{
		"x11": true, "python": true, "network": true, "openssl": true, "gtk+3": true,
		"doc": false, "vardepvalue": false, "vardeps": false, "vardepsexclude": false, "vardepvalueexclude": false,
		"export": false, "unexport": false, "func": false, "dirs": false, "cleandirs": false, "lockfiles": false,
		"noexec": false, "depends": false, "rdepends": false, "defaultval": false, "type": false, "": false,
	} {
		if got := PackageConfigFeature(flag); got != want {
			t.Errorf("PackageConfigFeature(%q) = %v, want %v", flag, got, want)
		}
	}
}

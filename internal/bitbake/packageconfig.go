package bitbake

// notFeatures are PACKAGECONFIG flags that name no feature of the recipe:
// "doc" is the variable's documentation (conf/documentation.conf; upstream
// layerindex skips it, and so does the ground truth), and the rest are the
// flags BitBake (or OE's typed variables) reads on a variable, function or
// task: bitbake.conf's PACKAGECONFIG[vardepvalue], `export PACKAGECONFIG`'s
// [export] and so on. "python" and "network" are BitBake flags too, but on
// functions and tasks only, and real recipes use them as feature names
// (gdb, lldb, btrfs-tools: PACKAGECONFIG[python]), so they are features.
var notFeatures = map[string]bool{
	"doc": true,
	// Variable flags.
	"vardeps": true, "vardepsexclude": true, "vardepvalue": true, "vardepvalueexclude": true,
	"export": true, "unexport": true, "defaultval": true, "type": true,
	// Function and task flags.
	"func": true, "fakeroot": true, "task": true, "noexec": true, "nostamp": true,
	"dirs": true, "cleandirs": true, "lockfiles": true, "umask": true,
	"depends": true, "rdepends": true, "deptask": true, "rdeptask": true, "recrdeptask": true, "recideptask": true,
	"prefuncs": true, "postfuncs": true, "file-checksums": true, "stamp-extra-info": true,
	"number_threads": true, "eventmask": true, "filename": true, "lineno": true,
}

// PackageConfigFeature reports whether a flag of PACKAGECONFIG (as
// getVarFlags returns them, in Recipe.PackageConfig) is one of the recipe's
// features, the rows an index stores; see notFeatures.
func PackageConfigFeature(flag string) bool { return flag != "" && !notFeatures[flag] }

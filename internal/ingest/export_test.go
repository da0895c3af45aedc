package ingest

import (
	"io/fs"
	"strings"

	"layerindex/internal/bitbake"
)

// SimulateParserBombs makes the isolated parser of this test binary behave
// as if a layer defeated the interpreter's limits: it allocates memory
// without end when the layer's conf/layer.conf holds marker (while its
// facts are read) or when a recipe to parse has marker in its path. Call
// it in TestMain before isolate.Child.
func SimulateParserBombs(marker string) {
	childTestHook = func(facts bool, target bitbake.Layer, paths []string) {
		hit := false
		if facts {
			conf, _ := fs.ReadFile(target.FS, "conf/layer.conf")
			hit = strings.Contains(string(conf), marker)
		}
		for _, p := range paths {
			hit = hit || strings.Contains(p, marker)
		}
		if !hit {
			return
		}
		for {
			bombKeep = append(bombKeep, make([]byte, 64<<20))
		}
	}
}

// bombKeep holds what a simulated bomb allocates.
var bombKeep [][]byte

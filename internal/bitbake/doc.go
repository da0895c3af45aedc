// Package bitbake is a static parser for BitBake metadata that reports
// what BitBake itself reports for each recipe in the configuration
// layerindex-web uses, without ever running anything from a layer.
//
// # Layout
//
//   - syntax: the line grammar of .bb, .bbappend, .bbclass, .inc and
//     .conf files (BBHandler/ConfHandler) into typed statements with
//     file:line; bad lines become diagnostics.
//   - data: the datastore (data_smart): flags, weak defaults, overrides
//     chosen by OVERRIDES, :append/:prepend/:remove, lazy ${VAR}
//     expansion, ${@...} through a pluggable evaluator, expandKeys,
//     variable filters, both override syntaxes; stores are layered
//     copy-on-write so the configuration is shared by all recipes.
//   - pyeval: a tokenizer, parser and evaluator for the Python BitBake
//     metadata uses (inline expressions, def helpers, anonymous functions,
//     event handlers, the OE-Core library under lib/), with Go versions
//     of bb.utils, bb.parse, os.path, re and the hottest oe.utils helpers.
//     Unsupported code yields Unknown values instead of failing; every
//     evaluation is bounded in steps, depth and allocation.
//   - accuracy: the comparison metric against BitBake ground truth.
//   - this package: the layerindex configuration, include/inherit
//     evaluation over a virtual file system, recipe finalisation, layer
//     facts and file classification.
//
// # Use
//
// Build a configuration for a layer and its dependencies (the core layer,
// the one whose collection is "core", must be among them), then parse:
//
//	cfg, err := bitbake.NewConfig(target, deps, bitbake.Options{})
//	recipes, err := cfg.ParseLayer(ctx) // all recipes, in parallel
//	r := cfg.ParseRecipe("recipes-core/foo/foo_1.0.bb")
//
// A base configuration can also be built once with NewBase and shared by
// many layers with Config.WithLayer. Layers are plain fs.FS values (a git
// tree, a directory, an in-memory map); paths inside BitBake are virtual
// ("<COREBASE>/meta/...", "<LAYERDIR>/meta-oe/...") and nothing outside
// the given file systems can be reached.
//
// Layer-level facts come from ReadLayerFacts (conf/layer.conf) and
// WalkLayer (recipes, bbappends, classes, machines, distros, inc files,
// patches), independently of any configuration.
//
// # What is emulated
//
// The configuration is layerindex-web's: bblayers.conf with the core layer
// only, its layer.conf, conf/bitbake.conf with everything it includes
// (MACHINE qemux86, DISTRO "", the layerindex local.conf), the base and
// INHERIT classes, ConfigParsed handlers, then SUMMARY, DESCRIPTION,
// HOMEPAGE and LICENSE blanked; the target's and its dependencies'
// layer.conf files follow. A recipe is parsed without bbappends, base
// variant only: deferred inherits, RecipePreDeferredInherits/
// RecipePreFinalise/RecipeParsed handlers, expandKeys, anonymous
// functions, virtual provider mapping, then SRCPV set to "X". The host is
// a pinned x86_64 Linux machine.
package bitbake

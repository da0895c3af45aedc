package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"layerindex/internal/bitbake"
	"layerindex/internal/gitrepo"
)

// The periodic refresh finds nearly every layer branch unchanged; at the
// size of the public index (≈ 2,400 layer branches every half hour) what
// an unchanged one costs is most of the worker's time. The full comparison
// indexes the layer's tree, reads conf/layer.conf in a parser process and
// indexes every dependency's tree; quickUnchanged reaches the same verdict
// from what the last index stored: the facts read from conf/layer.conf
// (with the tree they were read from), the dependencies' collections and
// indexed revisions, and tree hashes. Whatever it cannot decide that way it
// leaves to the full comparison.

// storedFacts is the layer_facts column: the facts of conf/layer.conf,
// tied to the layer's tree hash and the parser that read them.
type storedFactsJSON struct {
	Tree   string              `json:"tree"`
	Parser string              `json:"parser"`
	Facts  *bitbake.LayerFacts `json:"facts"`
}

// maxStoredFacts bounds the column; a layer.conf whose facts (its
// diagnostics, mostly) are larger is compared the full way every time.
const maxStoredFacts = 64 << 10

// storedFacts encodes facts read from the layer tree treeHash ("" when it
// is unknown or the facts too large: nothing is reused then).
func storedFacts(f *bitbake.LayerFacts, treeHash string) string {
	if treeHash == "" {
		return ""
	}
	b, err := json.Marshal(storedFactsJSON{Tree: treeHash, Parser: ParserVersion, Facts: f})
	if err != nil || len(b) > maxStoredFacts {
		return ""
	}
	return string(b)
}

// errNotQuick stops the quick comparison where only the layer's files
// can tell (the full comparison decides).
var errNotQuick = errors.New("needs the full comparison")

// quickUnchanged tells whether the layer branch is unchanged since its last
// index — the same layer tree, dependencies and parser — and if so logs it
// as the full comparison does and marks the update skipped. headTree is
// the layer's tree hash at the fetched head.
func (u *update) quickUnchanged(ctx context.Context, repo *gitrepo.Repo, headTree string) bool {
	lb := u.lb
	if u.req.Force || lb.VCSLastRev == "" || lb.LayerFacts == "" || lb.ParserVersion != ParserVersion {
		return false
	}
	var sf storedFactsJSON
	if err := json.Unmarshal([]byte(lb.LayerFacts), &sf); err != nil || sf.Facts == nil || sf.Tree != headTree ||
		sf.Parser != ParserVersion || sf.Facts.Collection == "" {
		return false
	}
	if !repo.HasCommit(lb.VCSLastRev) {
		return false
	}
	if old, err := repo.TreeHash(lb.VCSLastRev, lb.VCSSubdir); err != nil || old != headTree {
		return false
	}
	facts := sf.Facts
	// bitbake.IsCoreLayer reads the tree for a layer that has "core"
	// among other collections.
	if facts.Collection != "core" && slices.Contains(facts.Collections, "core") {
		return false
	}
	// The dependencies are resolved as the full comparison resolves them,
	// into a log of their own: it is kept only if the verdict is reached.
	full := u.log
	u.log = NewLog(nil)
	deps, _, err := u.dependencies(ctx, facts, facts.Collection == "core", true)
	depLog := u.log
	u.log = full
	if err != nil || configDigest(deps, OldOverrideSyntax(lb.Branch)) != lb.ConfigDigest {
		return false
	}
	// What the layer branch shows of conf/layer.conf is brought in line
	// (a row written before these columns were), as the full comparison
	// does; an equal row is not written.
	info := layerConfInfo(facts, lb.LayerFacts)
	if lb.SeriesCompat != strings.Join(info.SeriesCompat, " ") || lb.SeriesCorenames != strings.Join(info.CoreNames, " ") ||
		lb.DeclaredDepends != strings.Join(info.Depends, " ") || lb.DeclaredRecommends != strings.Join(info.Recommends, " ") {
		if err := u.ix.store.SetLayerConfInfo(ctx, lb.ID, info); err != nil {
			return false
		}
	}
	logFacts(full, facts)
	full.replay(depLog)
	full.info("already up to date: layer contents, dependencies and parser unchanged since %s", short(lb.VCSLastRev))
	u.skipped = true
	return true
}

// logFacts writes what was read from conf/layer.conf to the update's log.
func logFacts(log *Log, facts *bitbake.LayerFacts) {
	for _, d := range facts.Diags {
		log.warn("%s", d)
	}
	log.info("collection %s, version %q, depends [%s], recommends [%s], compatible with [%s]", facts.Collection, facts.Version,
		depList(facts.Depends), depList(facts.Recommends), strings.Join(facts.SeriesCompat, " "))
	if len(facts.CoreNames) > 0 {
		log.info("core of releases [%s]", strings.Join(facts.CoreNames, " "))
	}
}

// replay appends the lines of other (a log of this run written aside) to
// l, counting its errors and warnings.
func (l *Log) replay(other *Log) {
	for _, line := range strings.Split(strings.TrimSuffix(other.String(), "\n"), "\n") {
		level, text, ok := strings.Cut(line, ": ")
		if !ok || line == "" {
			continue
		}
		l.add(level, "%s", text)
	}
}

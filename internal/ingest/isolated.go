package ingest

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"time"

	"layerindex/internal/bitbake"
	"layerindex/internal/gitrepo"
	"layerindex/internal/isolate"
)

// The parser runs on layer content, which is hostile. With
// Indexer.Isolation set, reading conf/layer.conf and parsing the
// configuration and recipes happen in a child process under memory, CPU
// and time limits (internal/isolate): a layer that gets past the parser's
// own limits kills the child, and the update fails with the reason in its
// log, while the worker (or the web server that embeds one) carries on.
// The child reads the layers from the same git clones as the parent.

// parserJob names the isolated job; its reason for a dead child reads
// "parser process killed: memory limit (3 GiB) exceeded".
const parserJob = "parser"

func init() { isolate.Register(parserJob, runParserJob) }

// childTestHook, set by a test binary's TestMain before it serves as a
// child (and never changed after), runs in the child before the parser: it
// simulates a layer that gets past the parser's own limits.
var childTestHook func(facts bool, target bitbake.Layer, paths []string)

// layerSource is where the child finds a layer: a commit's subdirectory
// in a clone.
type layerSource struct {
	Name, Dir, Commit, Subdir string
	Limits                    gitrepo.Limits
}

// parserRequest is one isolated parse: the layer facts of Target alone
// (Facts), or the configuration of Target on Deps and the recipes Paths.
type parserRequest struct {
	Facts     bool
	Target    layerSource
	Deps      []layerSource
	OldSyntax bool
	Jobs      int
	Paths     []string
}

type parserResult struct {
	Facts       *bitbake.LayerFacts
	FactsErr    string
	ConfigErr   string
	ConfigDiags []bitbake.Diag
	Recipes     []*bitbake.Recipe
}

// source describes a layer at a commit of an opened clone.
func source(name string, repo *gitrepo.Repo, commit, subdir string) layerSource {
	return layerSource{Name: name, Dir: repo.Dir(), Commit: commit, Subdir: subdir, Limits: repo.Limits()}
}

func (s layerSource) open() (bitbake.Layer, error) {
	repo, err := gitrepo.Open(s.Dir, s.Limits)
	if err != nil {
		return bitbake.Layer{}, err
	}
	tree, err := repo.Tree(s.Commit, s.Subdir)
	if err != nil {
		return bitbake.Layer{}, err
	}
	return bitbake.Layer{Name: s.Name, FS: tree}, nil
}

// runParserJob runs in the child.
func runParserJob(dec *gob.Decoder) (any, error) {
	var req parserRequest
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("reading the request: %w", err)
	}
	target, err := req.Target.open()
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", req.Target.Name, err)
	}
	if childTestHook != nil {
		childTestHook(req.Facts, target, req.Paths)
	}
	if req.Facts {
		facts, err := bitbake.ReadLayerFacts(target.FS)
		if err != nil {
			return &parserResult{FactsErr: err.Error()}, nil
		}
		return &parserResult{Facts: facts}, nil
	}
	deps := make([]bitbake.Layer, len(req.Deps))
	for i, d := range req.Deps {
		if deps[i], err = d.open(); err != nil {
			return nil, fmt.Errorf("dependency %s: %w", d.Name, err)
		}
	}
	cfg, err := bitbake.NewConfig(target, deps, bitbake.Options{OldSyntax: req.OldSyntax, Jobs: req.Jobs})
	if err != nil {
		return &parserResult{ConfigErr: err.Error()}, nil
	}
	return &parserResult{ConfigDiags: cfg.Diags, Recipes: cfg.ParseRecipes(context.Background(), req.Paths)}, nil
}

// runIsolated runs one parser job in a child and logs what it cost.
func (ix *Indexer) runIsolated(ctx context.Context, log *Log, req parserRequest) (*parserResult, error) {
	var res parserResult
	u, err := isolate.Run(ctx, parserJob, *ix.Isolation, req, &res)
	if log != nil && ctx.Err() == nil {
		// Every child's cost is in the log, also of one that died: what a
		// layer costs the machine is part of what a reviewer reads.
		what := "parsed in an isolated process"
		switch {
		case req.Facts && err == nil:
			what = "read conf/layer.conf in an isolated process"
		case err != nil:
			what = "the isolated parser process ended without a result after"
		}
		log.info("%s: %s, %s CPU, %d MB peak memory", what, u.Wall.Round(time.Millisecond),
			u.CPU.Round(time.Millisecond), u.MaxRSS>>20)
	}
	if err != nil {
		var k *isolate.Killed
		if errors.As(err, &k) {
			// The same content kills the parser again: retrying cannot help.
			return nil, &Permanent{Err: err}
		}
		return nil, err
	}
	return &res, nil
}

// readFacts reads a layer's conf/layer.conf, isolated when configured.
func (ix *Indexer) readFacts(ctx context.Context, log *Log, name string, repo *gitrepo.Repo, commit, subdir string, tree *gitrepo.TreeFS) (*bitbake.LayerFacts, error) {
	if ix.Isolation == nil {
		return bitbake.ReadLayerFacts(tree)
	}
	res, err := ix.runIsolated(ctx, log, parserRequest{Facts: true, Target: source(name, repo, commit, subdir)})
	if err != nil {
		return nil, err
	}
	if res.FactsErr != "" {
		return nil, errors.New(res.FactsErr)
	}
	return res.Facts, nil
}

// parseLayer builds the configuration of the target layer on its
// dependencies and parses the recipes paths, isolated when configured. A
// configuration error is returned as such (the caller words it).
func (u *update) parseLayer(ctx context.Context, repo *gitrepo.Repo, commit string, tree *gitrepo.TreeFS, deps []depLayer,
	oldSyntax bool, paths []string) (diags []bitbake.Diag, recipes []*bitbake.Recipe, cfgErr, err error) {
	ix, lb := u.ix, u.lb
	if ix.Isolation == nil {
		layers := make([]bitbake.Layer, 0, len(deps))
		for _, d := range deps {
			layers = append(layers, d.layer)
		}
		target := bitbake.Layer{Name: layerDirName(lb), FS: tree}
		cfg, err := bitbake.NewConfig(target, layers, bitbake.Options{OldSyntax: oldSyntax, Jobs: ix.Jobs})
		if err != nil {
			return nil, nil, err, nil
		}
		return cfg.Diags, cfg.ParseRecipes(ctx, paths), nil, nil
	}
	req := parserRequest{Target: source(layerDirName(lb), repo, commit, lb.VCSSubdir), OldSyntax: oldSyntax, Jobs: ix.Jobs, Paths: paths}
	for _, d := range deps {
		req.Deps = append(req.Deps, source(layerDirName(d.lb), d.repo, d.commit, d.lb.VCSSubdir))
	}
	res, err := ix.runIsolated(ctx, u.log, req)
	if err != nil {
		return nil, nil, nil, err
	}
	if res.ConfigErr != "" {
		return nil, nil, errors.New(res.ConfigErr), nil
	}
	return res.ConfigDiags, res.Recipes, nil, nil
}

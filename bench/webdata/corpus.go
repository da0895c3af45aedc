package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"layerindex/internal/db"
	"layerindex/internal/gitrepo"
	"layerindex/internal/ingest"
	"layerindex/internal/store"
)

var metaOpenembedded = []string{"meta-oe", "meta-python", "meta-networking", "meta-multimedia", "meta-gnome",
	"meta-xfce", "meta-perl", "meta-filesystems", "meta-webserver", "meta-initramfs"}

// indexCorpus indexes openembedded-core's meta and meta-openembedded's ten
// layers on master and scarthgap from the shared corpus, as a site would.
func indexCorpus(ctx context.Context, conn *db.DB, shared string) error {
	tmp, err := os.MkdirTemp("", "webdata-corpus-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, tarball := range []string{"openembedded-core.git.tar", "meta-openembedded.git.tar"} {
		if out, err := exec.Command("tar", "-C", tmp, "-xf", filepath.Join(shared, "corpus", tarball)).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", tarball, err, out)
		}
	}
	st := store.New(conn.Gorm)
	var lbs []*store.LayerBranch
	for i, name := range []string{"master", "scarthgap"} {
		prio := i + 1
		b := &store.Branch{Name: name, BitbakeBranch: name, SortPriority: &prio, UpdatesEnabled: true}
		if name == "scarthgap" {
			b.BitbakeBranch, b.ShortDescription = "2.8", "Yocto Project 5.0"
		}
		if err := st.CreateBranch(ctx, b); err != nil {
			return err
		}
		layers := []struct{ name, url, subdir, typ string }{
			{"openembedded-core", filepath.Join(tmp, "oe-core.git"), "meta", store.TypeBase},
		}
		for _, l := range metaOpenembedded {
			typ := store.TypeSoftware
			if l == "meta-oe" {
				typ = store.TypeBase
			}
			layers = append(layers, struct{ name, url, subdir, typ string }{l, filepath.Join(tmp, "meta-openembedded.git"), l, typ})
		}
		for _, l := range layers {
			layer, err := st.LayerByName(ctx, l.name)
			if errors.Is(err, store.ErrNotFound) {
				layer = &store.Layer{Name: l.name, Status: store.StatusPublished, LayerType: l.typ, VCSURL: l.url,
					Summary: l.name + " (from the shared corpus)", Description: "Indexed from the shared corpus for benchmarks."}
				err = st.CreateLayer(ctx, layer)
			}
			if err != nil {
				return err
			}
			lb := &store.LayerBranch{LayerID: layer.ID, BranchID: b.ID, VCSSubdir: l.subdir, UpdatesEnabled: true}
			if err := st.CreateLayerBranch(ctx, lb); err != nil {
				return err
			}
			lbs = append(lbs, lb)
		}
	}
	cache := gitrepo.NewCache(filepath.Join(tmp, "repos"), gitrepo.Policy{AllowLocal: true}, gitrepo.DefaultLimits)
	ix := ingest.New(conn.Gorm, cache, nil)
	reqs := make([]ingest.Request, len(lbs))
	for i, lb := range lbs {
		reqs[i] = ingest.Request{LayerBranchID: lb.ID}
	}
	var firstErr error
	ix.UpdateAll(ctx, reqs, func(req ingest.Request, _ *ingest.Result, err error) {
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("layer branch %d: %w", req.LayerBranchID, err)
		}
	})
	if firstErr != nil {
		return firstErr
	}
	return nil
}

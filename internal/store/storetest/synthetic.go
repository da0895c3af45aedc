package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"layerindex/internal/store"
)

// SyntheticSize is the shape of a generated index.
type SyntheticSize struct {
	Branches        int // release branches (master, release1, …)
	Layers          int // published layers, each on every branch
	RecipesPerLayer int
}

// RealisticSize approximates oe-core + meta-openembedded on two branches:
// about 3,500 recipes per branch across 11 layers.
var RealisticSize = SyntheticSize{Branches: 2, Layers: 11, RecipesPerLayer: 320}

var words = strings.Fields(`library tool utility daemon kernel module network protocol parser compression
image graphics audio video python perl shell config firmware driver bootloader toolkit framework bindings
server client database crypto security filesystem archive test benchmark development documentation`)

// Synthetic writes a generated index of the given size into s, through the
// same store calls ingestion uses. Names are deterministic: layers
// meta-syn-N, recipes synNNN-M with PNs that overlap across layers so
// searches and duplicates have work to do.
func Synthetic(ctx context.Context, s *store.Store, size SyntheticSize) error {
	rng := rand.New(rand.NewPCG(1, 2))
	var branches []*store.Branch
	for i := 0; i < size.Branches; i++ {
		name := "master"
		if i > 0 {
			name = fmt.Sprintf("release%d", i)
		}
		prio := i + 1
		b := &store.Branch{Name: name, BitbakeBranch: name, SortPriority: &prio, UpdatesEnabled: true}
		if err := s.CreateBranch(ctx, b); err != nil {
			return err
		}
		branches = append(branches, b)
	}
	var layerIDs []int64
	for li := 0; li < size.Layers; li++ {
		typ := []string{store.TypeBase, store.TypeSoftware, store.TypeSoftware, store.TypeBSP, store.TypeDistro, store.TypeMisc}[li%6]
		l := &store.Layer{Name: fmt.Sprintf("meta-syn-%d", li), Status: store.StatusPublished, LayerType: typ,
			Summary: "Synthetic layer " + words[li%len(words)], Description: "A generated layer for benchmarks.",
			VCSURL: fmt.Sprintf("https://example.org/meta-syn-%d.git", li)}
		if err := s.CreateLayer(ctx, l); err != nil {
			return err
		}
		layerIDs = append(layerIDs, l.ID)
		for _, b := range branches {
			lb := &store.LayerBranch{LayerID: l.ID, BranchID: b.ID, UpdatesEnabled: true}
			if err := s.CreateLayerBranch(ctx, lb); err != nil {
				return err
			}
			if err := s.SetIndexedState(ctx, lb.ID, store.IndexedState{Collection: fmt.Sprintf("syn%d", li), Version: "1", Rev: fmt.Sprintf("%040x", lb.ID)}); err != nil {
				return err
			}
			if li > 0 {
				if err := s.SetDependencies(ctx, lb.ID, []store.LayerDependency{{DependencyID: layerIDs[0], Required: true}}); err != nil {
					return err
				}
			}
			if err := s.SetMaintainers(ctx, lb.ID, []store.LayerMaintainer{{Name: "Maintainer", Email: fmt.Sprintf("m%d@example.org", li)}}); err != nil {
				return err
			}
			ch := &store.IndexChange{Full: true}
			for ri := 0; ri < size.RecipesPerLayer; ri++ {
				pn := fmt.Sprintf("syn%03d-%d", ri, li%3)
				summary := words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))] + " for " + pn
				deps := []string{fmt.Sprintf("syn%03d-0", rng.IntN(size.RecipesPerLayer)), "zlib"}
				r := Recipe("recipes-"+words[ri%len(words)]+"/"+pn, pn+"_1."+fmt.Sprint(ri%9)+".bb", pn, "1."+fmt.Sprint(ri%9),
					summary, "MIT", deps, "https://example.org/"+pn+".tar.gz")
				ch.Upserts = append(ch.Upserts, r)
			}
			for mi := 0; mi < 3; mi++ {
				ch.Machines = append(ch.Machines, store.Machine{Name: fmt.Sprintf("synmachine%d-%d", li, mi), Description: "Synthetic machine"})
			}
			ch.Classes = []store.BBClass{{Name: fmt.Sprintf("synclass%d", li), BBClassType: "Recipe"}}
			if _, err := s.ApplyIndex(ctx, lb.ID, ch); err != nil {
				return err
			}
		}
	}
	return nil
}

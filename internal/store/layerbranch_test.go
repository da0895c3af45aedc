package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"gorm.io/gorm"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

// gormLayerBranchesOnBranch is how LayerBranchesOnBranch was written
// before it became two indexed lookups: the oracle its results must equal.
func gormLayerBranchesOnBranch(t *testing.T, g *gorm.DB, branchID int64, name string) []store.LayerBranch {
	t.Helper()
	var lbs []store.LayerBranch
	err := g.Preload("Layer").Preload("Branch").
		Joins("JOIN layers ON layers.id = layer_branches.layer_id").
		Where("layer_branches.branch_id = ? AND layers.status IN ? AND (layer_branches.collection IN ? OR layers.name IN ?)",
			branchID, []string{store.StatusPublished, store.StatusNoUpdate}, []string{name}, []string{name}).
		Order("layers.index_preference DESC, layers.name").Find(&lbs).Error
	if err != nil {
		t.Fatal(err)
	}
	return lbs
}

// sameLayerBranch compares layer branches with their layer and branch,
// times by instant (the drivers may give them different locations).
func sameLayerBranch(t *testing.T, what string, got, want *store.LayerBranch) {
	t.Helper()
	if got.Layer == nil || got.Branch == nil || want.Layer == nil || want.Branch == nil {
		t.Fatalf("%s: layer or branch missing: got %+v, want %+v", what, got, want)
	}
	g, w := *got, *want
	gl, wl, gb, wb := *got.Layer, *want.Layer, *got.Branch, *want.Branch
	for _, p := range [][2]*time.Time{{&g.UpdatedAt, &w.UpdatedAt}, {&gl.CreatedAt, &wl.CreatedAt},
		{&gl.UpdatedAt, &wl.UpdatedAt}, {&gb.UpdatedAt, &wb.UpdatedAt}} {
		if !p[0].Equal(*p[1]) {
			t.Errorf("%s: time %v, want %v", what, *p[0], *p[1])
		}
		*p[0] = *p[1]
	}
	for _, p := range [][2]**time.Time{{&g.VCSLastFetch, &w.VCSLastFetch}, {&g.VCSLastCommit, &w.VCSLastCommit},
		{&gl.ValidatedAt, &wl.ValidatedAt}} {
		if (*p[0] == nil) != (*p[1] == nil) || (*p[0] != nil && !(*p[0]).Equal(**p[1])) {
			t.Errorf("%s: time %v, want %v", what, *p[0], *p[1])
		}
		*p[0] = *p[1]
	}
	g.Layer, g.Branch, w.Layer, w.Branch = nil, nil, nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: layer branch\n got  %+v\n want %+v", what, g, w)
	}
	if !reflect.DeepEqual(gl, wl) {
		t.Errorf("%s: layer\n got  %+v\n want %+v", what, gl, wl)
	}
	if !reflect.DeepEqual(gb, wb) {
		t.Errorf("%s: branch\n got  %+v\n want %+v", what, gb, wb)
	}
}

// TestLayerBranchLookups checks the layer branch lookups that scan a
// joined row by position (LayerBranchByID, LayerBranch,
// LayerBranchesOnBranch) against GORM's reading of the same rows, on and
// off a transaction, with every nullable column set and unset; and
// LayerBranchesOnBranch's edge cases: a collection and a layer name both
// matching (both returned, highest index preference first, then by name),
// a layer whose name is its own collection (once), the same collection on
// another branch, unpublished layers, layers not refreshed (included), and
// no match.
func TestLayerBranchLookups(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		s := store.New(conn.Gorm)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		prio := 3
		master := &store.Branch{Name: "master", BitbakeBranch: "master", ShortDescription: "dev", SortPriority: &prio,
			UpdatesEnabled: true}
		other := &store.Branch{Name: "scarthgap", BitbakeBranch: "2.8", Hidden: true}
		must(s.CreateBranch(ctx, master))
		must(s.CreateBranch(ctx, other))
		user := &store.User{Email: "submitter@example.org", IsActive: true}
		must(s.CreateUser(ctx, user))
		yp := &store.YPCompatibleVersion{Name: "YP 5.0", Description: "compatible", ImageURL: "/i.png", LinkURL: "https://x"}
		must(conn.Gorm.Create(yp).Error)
		validated := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
		layer := func(name, status string, pref int) *store.Layer {
			l := &store.Layer{Name: name, Status: status, LayerType: "S", Summary: name + " summary",
				Description: "about " + name, VCSURL: "https://example.org/" + name, VCSWebURL: "https://web/" + name,
				IndexPreference: pref}
			if pref > 0 {
				l.SubmittedByID, l.ValidationStatus, l.ValidationLog, l.ValidatedAt = &user.ID, "ok", "fine", &validated
				l.MasterForCompatible, l.UsageURL, l.MailingListURL = true, "https://usage", "list@example.org"
			}
			must(s.CreateLayer(ctx, l))
			return l
		}
		fetched := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
		lbOn := func(l *store.Layer, b *store.Branch, collection string) *store.LayerBranch {
			lb := &store.LayerBranch{LayerID: l.ID, BranchID: b.ID, Collection: collection, Version: "7",
				VCSSubdir: "meta-" + l.Name, UpdatesEnabled: true, VCSLastRev: "abc", ParserVersion: "p1",
				SeriesCompat: "wrynose", DeclaredDepends: "core", LayerFacts: `{"x":1}`}
			if l.IndexPreference > 0 {
				lb.YPCompatibleVersionID, lb.VCSLastFetch, lb.VCSLastCommit = &yp.ID, &fetched, &fetched
				lb.ActualBranch, lb.FollowsMaster, lb.SeriesCorenames = "main", true, "wrynose"
			}
			must(s.CreateLayerBranch(ctx, lb))
			return lb
		}
		core := layer("openembedded-core", store.StatusPublished, 0)
		coreLB := lbOn(core, master, "core")
		lbOn(core, other, "core")
		// A layer named like another's collection, preferred to it.
		named := layer("openembedded-layer", store.StatusPublished, 5)
		namedLB := lbOn(named, master, "something-else")
		oe := layer("meta-oe", store.StatusNoUpdate, 0)
		oeLB := lbOn(oe, master, "openembedded-layer")
		// Same collection on a second published layer, equal preference:
		// by name.
		oe2 := layer("meta-oe-fork", store.StatusPublished, 0)
		oe2LB := lbOn(oe2, master, "openembedded-layer")
		// Unpublished layers match neither way.
		pending := layer("meta-pending", store.StatusNew, 9)
		lbOn(pending, master, "openembedded-layer")
		// A collection only on the other branch.
		old := layer("meta-old", store.StatusPublished, 0)
		lbOn(old, other, "old-only")
		// A layer whose name is its collection.
		self := layer("selfish", store.StatusPublished, 0)
		selfLB := lbOn(self, master, "selfish")

		ids := func(lbs []store.LayerBranch) []int64 {
			var out []int64
			for _, lb := range lbs {
				out = append(out, lb.ID)
			}
			return out
		}
		for _, tc := range []struct {
			name   string
			branch *store.Branch
			want   []int64
		}{
			{"openembedded-layer", master, []int64{namedLB.ID, oeLB.ID, oe2LB.ID}},
			{"core", master, []int64{coreLB.ID}},
			{"openembedded-core", master, []int64{coreLB.ID}},
			{"selfish", master, []int64{selfLB.ID}},
			{"meta-pending", master, nil},
			{"old-only", master, nil},
			{"meta-old", master, nil},
			{"no-such-layer", master, nil},
			{"core", other, nil}, // set below: core's layer branch on the other branch
		} {
			want := gormLayerBranchesOnBranch(t, conn.Gorm, tc.branch.ID, tc.name)
			if tc.branch == other {
				if len(want) != 1 || want[0].LayerID != core.ID {
					t.Fatalf("oracle on the other branch: %+v", want)
				}
				tc.want = ids(want)
			}
			if !reflect.DeepEqual(ids(want), tc.want) {
				t.Fatalf("%s on %s: the oracle gives %v, the test expects %v", tc.name, tc.branch.Name, ids(want), tc.want)
			}
			got, err := s.LayerBranchesOnBranch(ctx, tc.branch.ID, tc.name)
			must(err)
			if !reflect.DeepEqual(ids(got), tc.want) {
				t.Errorf("%s on %s: got %v, want %v", tc.name, tc.branch.Name, ids(got), tc.want)
				continue
			}
			for i := range got {
				sameLayerBranch(t, tc.name, &got[i], &want[i])
			}
		}
		var all []store.LayerBranch
		must(conn.Gorm.Preload("Layer").Preload("Branch").Order("id").Find(&all).Error)
		check := func(st *store.Store) {
			for i := range all {
				want := &all[i]
				got, err := st.LayerBranchByID(ctx, want.ID)
				must(err)
				sameLayerBranch(t, "by id", got, want)
				got, err = st.LayerBranch(ctx, want.LayerID, want.BranchID)
				must(err)
				sameLayerBranch(t, "by layer and branch", got, want)
			}
			if _, err := st.LayerBranchByID(ctx, 1<<40); err != store.ErrNotFound {
				t.Errorf("missing id: %v", err)
			}
			if _, err := st.LayerBranch(ctx, old.ID, master.ID); err != store.ErrNotFound {
				t.Errorf("layer not on the branch: %v", err)
			}
		}
		check(s)
		// In a transaction the queries run through GORM's connection.
		must(conn.Gorm.Transaction(func(tx *gorm.DB) error {
			check(store.Tx(tx))
			got, err := store.Tx(tx).LayerBranchesOnBranch(ctx, master.ID, "openembedded-layer")
			must(err)
			if want := []int64{namedLB.ID, oeLB.ID, oe2LB.ID}; !reflect.DeepEqual(ids(got), want) {
				t.Errorf("in a transaction: got %v, want %v", ids(got), want)
			}
			return nil
		}))
	})
}

// TestLayerOverviewNotes: a layer page reads its layer's notes only when
// the head says there are some; with and without, on the branch and off.
func TestLayerOverviewNotes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		s := store.New(conn.Gorm)
		f := storetest.Load(t, s)
		master, other := f.Branches["master"], f.Branches["scarthgap"]
		var lb store.LayerBranch
		if err := conn.Gorm.Where("branch_id = ?", master.ID).Order("id").Take(&lb).Error; err != nil {
			t.Fatal(err)
		}
		l := f.Layers
		var name string
		for n, x := range l {
			if x.ID == lb.LayerID {
				name = n
			}
		}
		notes := func(b *store.Branch) []string {
			t.Helper()
			o, err := s.LayerOverview(ctx, name, b, time.Now().Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, n := range o.Notes {
				out = append(out, n.Text)
			}
			return out
		}
		if got := notes(master); len(got) != 0 {
			t.Fatalf("notes before any: %v", got)
		}
		for _, text := range []string{"first", "second"} {
			if err := s.SaveLayerNote(ctx, &store.LayerNote{LayerID: lb.LayerID, Text: text}); err != nil {
				t.Fatal(err)
			}
		}
		for _, b := range []*store.Branch{master, other} {
			if got := notes(b); !reflect.DeepEqual(got, []string{"first", "second"}) {
				t.Errorf("notes on %s: %v", b.Name, got)
			}
		}
	})
}

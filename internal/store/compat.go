package store

import (
	"context"
	"slices"
	"strings"
)

// Release compatibility. BitBake refuses a layer whose LAYERSERIES_COMPAT
// names none of the codenames the core layer provides (LAYERSERIES_CORENAMES
// of openembedded-core's meta on that release); the index applies the same
// rule to what it stored at the last update of each layer branch.

// Compatibility states of a layer branch with a release.
const (
	CompatYes     = "compatible"   // LAYERSERIES_COMPAT names one of the release's core names
	CompatNo      = "incompatible" // it declares compatibility, but not with this release
	CompatUnknown = "unknown"      // the layer declares nothing, or the release's core is not indexed
)

// Compatibility is the state of a layer branch whose LAYERSERIES_COMPAT is
// seriesCompat with a release whose core provides coreNames (both
// space-separated).
func Compatibility(seriesCompat, coreNames string) string {
	declared, names := strings.Fields(seriesCompat), strings.Fields(coreNames)
	if len(declared) == 0 || len(names) == 0 {
		return CompatUnknown
	}
	for _, d := range declared {
		if slices.Contains(names, d) {
			return CompatYes
		}
	}
	return CompatNo
}

// Release is a visible release branch with the codenames its core layer
// provides ("" until a core layer is indexed on it).
type Release struct {
	Branch
	CoreNames string
}

// Releases lists the visible release branches in display order with their
// core names: the LAYERSERIES_CORENAMES of the layer branches on each that
// set it (in practice, openembedded-core's).
func (s *Store) Releases(ctx context.Context) ([]Release, error) {
	bs, err := s.VisibleBranches(ctx)
	if err != nil {
		return nil, err
	}
	names, err := s.coreNames(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Release, len(bs))
	for i, b := range bs {
		out[i] = Release{Branch: b, CoreNames: names[b.ID]}
	}
	return out, nil
}

// coreNames maps branch ids to the union of the core names stored on their
// published layer branches.
func (s *Store) coreNames(ctx context.Context) (map[int64]string, error) {
	var rows []struct {
		BranchID        int64
		SeriesCorenames string
	}
	err := s.with(ctx).Raw(`
SELECT lb.branch_id, lb.series_corenames FROM layer_branches lb JOIN layers l ON l.id = lb.layer_id
WHERE lb.series_corenames <> '' AND l.status IN ? ORDER BY lb.id`, publishedStatuses).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	for _, r := range rows {
		seen := strings.Fields(out[r.BranchID])
		for _, n := range strings.Fields(r.SeriesCorenames) {
			if !slices.Contains(seen, n) {
				seen = append(seen, n)
			}
		}
		out[r.BranchID] = strings.Join(seen, " ")
	}
	return out, nil
}

// ReleaseCoreNames is the core names of one release branch ("" if unknown).
func (s *Store) ReleaseCoreNames(ctx context.Context, branchID int64) (string, error) {
	names, err := s.coreNames(ctx)
	return names[branchID], err
}

// CompatMatrix is a layer's compatibility with every release: one row per
// release, one column per branch the layer is on (its layer branch there).
type CompatMatrix struct {
	Releases []Release
	Columns  []CompatColumn
	// Cells[i][j] is the state of Columns[j] with Releases[i].
	Cells [][]string
}

// CompatColumn is one layer branch of the matrix.
type CompatColumn struct {
	BranchName   string
	GitBranch    string
	SeriesCompat string
	Indexed      bool
}

// LayerCompatMatrix builds the matrix of a layer over the visible releases.
func (s *Store) LayerCompatMatrix(ctx context.Context, layerID int64) (*CompatMatrix, error) {
	rels, err := s.Releases(ctx)
	if err != nil {
		return nil, err
	}
	var lbs []LayerBranch
	if err := s.with(ctx).Preload("Branch").Where("layer_id = ?", layerID).Find(&lbs).Error; err != nil {
		return nil, err
	}
	m := &CompatMatrix{Releases: rels}
	byBranch := map[int64]*LayerBranch{}
	for i := range lbs {
		byBranch[lbs[i].BranchID] = &lbs[i]
	}
	// Columns in the releases' display order.
	for _, r := range rels {
		if lb, ok := byBranch[r.ID]; ok {
			m.Columns = append(m.Columns, CompatColumn{BranchName: r.Name, GitBranch: lb.GitBranch(),
				SeriesCompat: lb.SeriesCompat, Indexed: lb.VCSLastRev != ""})
		}
	}
	for _, r := range rels {
		row := make([]string, len(m.Columns))
		for j, c := range m.Columns {
			row[j] = Compatibility(c.SeriesCompat, r.CoreNames)
		}
		m.Cells = append(m.Cells, row)
	}
	return m, nil
}

// CompatibleElsewhere is a layer that is not on a release but whose layer
// branch on another release declares compatibility with it.
type CompatibleElsewhere struct {
	Name         string
	Summary      string
	BranchName   string // the release it is indexed on
	SeriesCompat string
}

// CompatibleElsewhere lists the published layers that are not on branch
// branchID but whose layer branch on another visible release names one of
// coreNames (that release's LAYERSERIES_CORENAMES) in LAYERSERIES_COMPAT:
// layers that say they work with the release without being indexed on it.
func (s *Store) CompatibleElsewhere(ctx context.Context, branchID int64, coreNames string) ([]CompatibleElsewhere, error) {
	if strings.TrimSpace(coreNames) == "" {
		return nil, nil
	}
	var rows []CompatibleElsewhere
	err := s.with(ctx).Raw(`
SELECT l.name, l.summary, b.name AS branch_name, lb.series_compat
FROM layer_branches lb
JOIN layers l ON l.id = lb.layer_id
JOIN branches b ON b.id = lb.branch_id
WHERE lb.branch_id <> ? AND l.status IN ? AND NOT l.comparison AND NOT b.hidden AND lb.series_compat <> ''
  AND NOT EXISTS (SELECT 1 FROM layer_branches x WHERE x.layer_id = l.id AND x.branch_id = ?)
ORDER BY l.name, b.sort_priority IS NULL, b.sort_priority, b.name`, branchID, publishedStatuses, branchID).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	var out []CompatibleElsewhere
	for _, r := range rows {
		if Compatibility(r.SeriesCompat, coreNames) != CompatYes || (len(out) > 0 && out[len(out)-1].Name == r.Name) {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

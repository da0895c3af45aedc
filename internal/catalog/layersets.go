package catalog

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"layerindex/internal/setup"
	"layerindex/internal/store"
)

// Layer sets are administrators' published combinations of layers on a
// release: each is a bitbake-setup configuration in the site's registry,
// named by the set's name. Saving one resolves it as the build setup export
// would, so a set that cannot be exported (an unknown layer, machine or
// distro on its release) is never stored.

// LayerSetInput is what an administrator enters for a layer set.
type LayerSetInput struct {
	Name        string
	Description string
	BranchID    int64
	Layers      []string // layer names, in order
	Machine     string
	Distro      string
	Recommends  bool
	Published   bool
}

// ErrNotAllowed is returned when the actor may not make the change.
var ErrNotAllowed = errors.New("not allowed")

// layerSetNameRe: the name is a file name in the registry
// (<name>.conf.json) and a URL path element.
var layerSetNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// CheckLayerSetName applies the rule for layer set names.
func CheckLayerSetName(name string) error {
	switch {
	case name == "":
		return invalid("name", "This field is required.")
	case len(name) > 64 || !layerSetNameRe.MatchString(name) || strings.Contains(name, ".."):
		return invalid("name", "Use letters, digits, dots, dashes and underscores (at most 64 characters, starting with a letter or digit).")
	}
	return nil
}

// maxLayerSetDescription bounds the description (bitbake-setup prints it
// in its list of configurations).
const maxLayerSetDescription = 200

// SaveLayerSet creates (id 0) or changes a layer set; administrators and
// the command line only.
func (s *Service) SaveLayerSet(ctx context.Context, a Actor, id int64, in LayerSetInput) (*store.LayerSet, error) {
	if !a.administers() {
		return nil, ErrNotAllowed
	}
	in.Name = strings.TrimSpace(in.Name)
	in.Description = strings.Join(strings.Fields(in.Description), " ")
	in.Machine, in.Distro = strings.TrimSpace(in.Machine), strings.TrimSpace(in.Distro)
	if err := CheckLayerSetName(in.Name); err != nil {
		return nil, err
	}
	if len([]rune(in.Description)) > maxLayerSetDescription {
		return nil, invalid("description", "At most %d characters, please.", maxLayerSetDescription)
	}
	if len(in.Layers) == 0 {
		return nil, invalid("layers", "Pick at least one layer.")
	}
	if len(in.Layers) > setup.MaxLayers {
		return nil, invalid("layers", "At most %d layers, please.", setup.MaxLayers)
	}
	b, err := s.store.BranchByID(ctx, in.BranchID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalid("branch", "Choose a release branch.")
	} else if err != nil {
		return nil, err
	}
	var ids []int64
	var names []string
	for _, n := range in.Layers {
		n = strings.TrimSpace(n)
		if n == "" || contains(names, n) {
			continue
		}
		lb, err := s.store.PublishedLayerBranch(ctx, n, b.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, invalid("layers", "There is no published layer %q on %s.", clip(n), b.Name)
		} else if err != nil {
			return nil, err
		}
		ids, names = append(ids, lb.LayerID), append(names, n)
	}
	// The set must resolve as the export will resolve it.
	_, err = setup.Resolve(ctx, s.store, setup.Request{Branch: b, Layers: names, Machine: in.Machine, Distro: in.Distro, Recommends: in.Recommends})
	if errors.Is(err, setup.ErrInput) {
		field := "layers"
		if strings.Contains(err.Error(), "machine") {
			field = "machine"
		} else if strings.Contains(err.Error(), "distro") {
			field = "distro"
		}
		return nil, invalid(field, "%s.", strings.TrimPrefix(err.Error(), setup.ErrInput.Error()+": "))
	} else if err != nil {
		return nil, err
	}
	ls := &store.LayerSet{ID: id, Name: in.Name, Description: in.Description, BranchID: b.ID, Machine: in.Machine,
		Distro: in.Distro, Recommends: in.Recommends, Published: in.Published}
	if id != 0 {
		if _, err := s.store.LayerSetByID(ctx, id); err != nil {
			return nil, err
		}
	}
	err = s.store.SaveLayerSet(ctx, ls, ids)
	if errors.Is(err, store.ErrConflict) {
		return nil, invalid("name", "Another layer set has this name.")
	} else if err != nil {
		return nil, err
	}
	return s.store.LayerSetByID(ctx, ls.ID)
}

// DeleteLayerSet removes a layer set; administrators and the command line
// only.
func (s *Service) DeleteLayerSet(ctx context.Context, a Actor, id int64) error {
	if !a.administers() {
		return ErrNotAllowed
	}
	if _, err := s.store.LayerSetByID(ctx, id); err != nil {
		return err
	}
	return s.store.DeleteLayerSet(ctx, id)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

package api

import (
	"context"
	"strings"

	"layerindex/internal/store"
)

// encodeFunc reads the rows with the given ids and appends them to b as
// JSON objects, separated by commas; n counts objects written so far in the
// response, so separators stay right across chunks.
type encodeFunc func(ctx context.Context, s *store.Store, ids []int64, b buf, n *int) (buf, error)

func rowsOf[T any](fetch func(*store.Store, context.Context, []int64) ([]T, error), enc func(buf, *T) buf) encodeFunc {
	return func(ctx context.Context, s *store.Store, ids []int64, b buf, n *int) (buf, error) {
		xs, err := fetch(s, ctx, ids)
		if err != nil {
			return b, err
		}
		for i := range xs {
			if *n > 0 {
				b = append(b, ',')
			}
			b = enc(b, &xs[i])
			*n++
		}
		return b, nil
	}
}

// eachFunc writes every row q selects to w, with one query.
type eachFunc func(ctx context.Context, s *store.Store, q *store.APIQuery, w *listWriter) error

func eachOf[T any](run func(*store.Store, context.Context, *store.APIQuery, func(*T) error) error, enc func(buf, *T) buf) eachFunc {
	return func(ctx context.Context, s *store.Store, q *store.APIQuery, w *listWriter) error {
		return run(s, ctx, q, func(x *T) error {
			w.b = enc(w.sep(), x)
			return w.flushIfFull()
		})
	}
}

// eachRecipe writes the recipes q selects, copying the objects the store
// keeps for them (store.APIEachRecipe), encoding the rows that have none.
func eachRecipe(ctx context.Context, s *store.Store, q *store.APIQuery, w *listWriter) error {
	return s.APIEachRecipe(ctx, q, func(x *store.Recipe, obj string) error {
		if obj != "" {
			w.b = append(w.sep(), obj...)
		} else {
			w.b = encRecipe(w.sep(), x)
		}
		return w.flushIfFull()
	})
}

// resource is one endpoint of the API.
type resource struct {
	name   string // URL segment, as upstream's router names it
	model  string // upstream model whose fields filters name (see store.APIMatchIDs)
	paged  bool   // paginated like upstream's recipesExtended
	encode encodeFunc
	// each, when set, streams a whole list with one query (see
	// handler.streamEach); encode serves single rows and HEAD.
	each eachFunc
}

// resources lists the endpoints in upstream's order (the root link map
// keeps it).
var resources = []*resource{
	{name: "branches", model: "Branch", encode: rowsOf((*store.Store).APIBranches, encBranch),
		each: eachOf((*store.Store).APIEachBranch, encBranch)},
	{name: "layerItems", model: "LayerItem", encode: rowsOf((*store.Store).APILayers, encLayer),
		each: eachOf((*store.Store).APIEachLayer, encLayer)},
	{name: "layerBranches", model: "LayerBranch", encode: rowsOf((*store.Store).APILayerBranches, encLayerBranch),
		each: eachOf((*store.Store).APIEachLayerBranch, encLayerBranch)},
	{name: "layerDependencies", model: "LayerDependency", encode: rowsOf((*store.Store).APILayerDependencies, encLayerDependency),
		each: eachOf((*store.Store).APIEachLayerDependency, encLayerDependency)},
	{name: "layerMaintainers", model: "LayerMaintainer", encode: rowsOf((*store.Store).APILayerMaintainers, encLayerMaintainer),
		each: eachOf((*store.Store).APIEachLayerMaintainer, encLayerMaintainer)},
	{name: "layerNotes", model: "LayerNote", encode: rowsOf((*store.Store).APILayerNotes, encLayerNote),
		each: eachOf((*store.Store).APIEachLayerNote, encLayerNote)},
	{name: "recipes", model: "Recipe", encode: rowsOf((*store.Store).APIRecipes, encRecipe),
		each: eachRecipe},
	{name: "recipesExtended", model: "Recipe", paged: true, encode: rowsOf((*store.Store).APIRecipesExtended, encRecipeExtended)},
	{name: "machines", model: "Machine", encode: rowsOf((*store.Store).APIMachines, encMachine),
		each: eachOf((*store.Store).APIEachMachine, encMachine)},
	{name: "distros", model: "Distro", encode: rowsOf((*store.Store).APIDistros, encDistro),
		each: eachOf((*store.Store).APIEachDistro, encDistro)},
	{name: "classes", model: "BBClass", encode: rowsOf((*store.Store).APIClasses, encClass),
		each: eachOf((*store.Store).APIEachClass, encClass)},
	{name: "layers", model: "LayerBranch", encode: rowsOf((*store.Store).APILayerViews, encLayerView)},
	{name: "appends", model: "BBAppend", encode: rowsOf((*store.Store).APIAppends, encAppend),
		each: eachOf((*store.Store).APIEachAppend, encAppend)},
	{name: "incFiles", model: "IncFile", encode: rowsOf((*store.Store).APIIncFiles, encIncFile),
		each: eachOf((*store.Store).APIEachIncFile, encIncFile)},
	// Not upstream's (issue 14): after its resources.
	{name: "layerSets", model: "LayerSet", encode: rowsOf((*store.Store).APILayerSets, encLayerSet)},
}

var resourceByName = func() map[string]*resource {
	m := map[string]*resource{}
	for _, r := range resources {
		m[r.name] = r
	}
	return m
}()

var fields = strings.Fields

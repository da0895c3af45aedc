package bitbake

import (
	"context"
	"runtime"
	"sync"
)

// ParseLayer parses every recipe of the target layer (as WalkLayer finds
// them) in parallel, bounded by Options.Jobs (default GOMAXPROCS), and
// returns the results in path order. It stops early when ctx is done.
func (c *Config) ParseLayer(ctx context.Context) ([]*Recipe, error) {
	fsys := c.core.FS
	if c.target != nil {
		fsys = c.target.FS
	}
	paths, err := Recipes(fsys)
	if err != nil {
		return nil, err
	}
	return c.ParseRecipes(ctx, paths), ctx.Err()
}

// ParseRecipes parses the given layer-relative recipe paths in parallel;
// results are in the order of paths (nil for those not reached when ctx
// is cancelled).
func (c *Config) ParseRecipes(ctx context.Context, paths []string) []*Recipe {
	jobs := c.opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	out := make([]*Recipe, len(paths))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = c.ParseRecipe(paths[i])
			}
		}()
	}
	for i := range paths {
		select {
		case next <- i:
		case <-ctx.Done():
			close(next)
			wg.Wait()
			return out
		}
	}
	close(next)
	wg.Wait()
	return out
}

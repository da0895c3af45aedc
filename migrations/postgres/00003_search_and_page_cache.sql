-- +goose Up
-- Full-text search over recipe summaries and descriptions. The document is
-- the two fields with ASCII punctuation turned into spaces and split by the
-- 'simple' configuration (no stemming, no stop words), so it yields the same
-- words as SQLite's FTS5 unicode61 tokenizer (../sqlite/00003_search_and_page_cache.sql)
-- and both databases return the same results. ('?' is left out: PostgreSQL's
-- parser splits words at it anyway, and the query layer reads it as a
-- placeholder.) The expression must match store.pgRecipeDocument exactly for
-- the planner to use this index.
CREATE INDEX recipes_search_idx ON recipes USING GIN (
    to_tsvector('simple'::regconfig, translate(summary || ' ' || description, '!"#$%&''()*+,-./:;<=>@[\]^_`{|}~', '                               ')));

-- Indexes for the per-branch listings and lookups of the pages.
CREATE INDEX recipes_layer_branch_id_pn_idx ON recipes (layer_branch_id, pn);
CREATE INDEX layer_updates_layer_id_idx ON layer_updates (layer_id, started_at);
-- depends: searches, from the dependency name straight to the recipe ids.
CREATE INDEX recipe_build_deps_name_recipe_id_idx ON recipe_build_deps (name, recipe_id);
-- Resolving a dependency through PROVIDES only looks at the recipes that
-- provide something.
CREATE INDEX recipes_provides_idx ON recipes (layer_branch_id) WHERE provides <> '' AND provides <> pn;

-- +goose Down
DROP INDEX recipes_provides_idx;
DROP INDEX recipe_build_deps_name_recipe_id_idx;
DROP INDEX layer_updates_layer_id_idx;
DROP INDEX recipes_layer_branch_id_pn_idx;
DROP INDEX recipes_search_idx;

-- +goose Up
-- Full-text search over recipe summaries and descriptions. The document is
-- the two fields with ASCII punctuation turned into spaces and split by the
-- 'simple' configuration (no stemming, no stop words), so it yields the same
-- words as SQLite's FTS5 unicode61 tokenizer (../sqlite/00003_recipe_search.sql)
-- and both databases return the same results. ('?' is left out: PostgreSQL's
-- parser splits words at it anyway, and the query layer reads it as a
-- placeholder.) The expression must match store.pgRecipeDocument exactly for
-- the planner to use this index.
CREATE INDEX recipes_search_idx ON recipes USING GIN (
    to_tsvector('simple'::regconfig, translate(summary || ' ' || description, '!"#$%&''()*+,-./:;<=>@[\]^_`{|}~', '                               ')));

-- Word and prefix lookups on names for the machine, distro and class search
-- pages and the recipe search's name ranking stay on plain B-tree indexes;
-- these help the per-branch listings.
CREATE INDEX recipes_layer_branch_id_pn_idx ON recipes (layer_branch_id, pn);
CREATE INDEX layer_updates_layer_id_idx ON layer_updates (layer_id, started_at);

-- +goose Down
DROP INDEX layer_updates_layer_id_idx;
DROP INDEX recipes_layer_branch_id_pn_idx;
DROP INDEX recipes_search_idx;

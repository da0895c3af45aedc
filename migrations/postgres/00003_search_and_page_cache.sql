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

-- Every change to what the pages show notifies the web servers (channel
-- layerindex_index), which drop their cached pages. NOTIFY is delivered at
-- commit and folded within a transaction, and statement-level triggers cost
-- one call per statement, so writers neither block each other nor slow down.
-- +goose StatementBegin
CREATE FUNCTION layerindex_index_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('layerindex_index', '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER branches_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON branches
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER yp_compatible_versions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON yp_compatible_versions
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER layers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON layers
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER layer_branches_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON layer_branches
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER layer_maintainers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON layer_maintainers
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER layer_dependencies_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON layer_dependencies
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER layer_notes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON layer_notes
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER recipes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recipes
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER recipe_sources_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recipe_sources
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER recipe_build_deps_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recipe_build_deps
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER recipe_package_configs_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recipe_package_configs
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER recipe_file_deps_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recipe_file_deps
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER recipe_patches_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recipe_patches
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER machines_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON machines
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER distros_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON distros
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER bbclasses_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON bbclasses
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER bbappends_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON bbappends
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER inc_files_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON inc_files
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER updates_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON updates
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();
CREATE TRIGGER layer_updates_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON layer_updates
    FOR EACH STATEMENT EXECUTE FUNCTION layerindex_index_changed();

-- +goose Down
DROP TRIGGER branches_changed ON branches;
DROP TRIGGER yp_compatible_versions_changed ON yp_compatible_versions;
DROP TRIGGER layers_changed ON layers;
DROP TRIGGER layer_branches_changed ON layer_branches;
DROP TRIGGER layer_maintainers_changed ON layer_maintainers;
DROP TRIGGER layer_dependencies_changed ON layer_dependencies;
DROP TRIGGER layer_notes_changed ON layer_notes;
DROP TRIGGER recipes_changed ON recipes;
DROP TRIGGER recipe_sources_changed ON recipe_sources;
DROP TRIGGER recipe_build_deps_changed ON recipe_build_deps;
DROP TRIGGER recipe_package_configs_changed ON recipe_package_configs;
DROP TRIGGER recipe_file_deps_changed ON recipe_file_deps;
DROP TRIGGER recipe_patches_changed ON recipe_patches;
DROP TRIGGER machines_changed ON machines;
DROP TRIGGER distros_changed ON distros;
DROP TRIGGER bbclasses_changed ON bbclasses;
DROP TRIGGER bbappends_changed ON bbappends;
DROP TRIGGER inc_files_changed ON inc_files;
DROP TRIGGER updates_changed ON updates;
DROP TRIGGER layer_updates_changed ON layer_updates;
DROP FUNCTION layerindex_index_changed();
DROP INDEX recipes_provides_idx;
DROP INDEX recipe_build_deps_name_recipe_id_idx;
DROP INDEX layer_updates_layer_id_idx;
DROP INDEX recipes_layer_branch_id_pn_idx;
DROP INDEX recipes_search_idx;

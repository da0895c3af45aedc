-- +goose Up
-- Recipe searches at the size of the public index (issue 13).
-- Keep this file and ../sqlite/00023_search_at_scale.sql in step.
-- The indexes are built before the columns are filled: an index cannot be
-- built on a table with pending (deferred) index_state trigger events, and
-- one built after an update in the same transaction is unusable until every
-- older snapshot ends (pg_index.indcheckxmin).

-- Words are matched inside names (lower(pn) LIKE '%word%'); a trigram index
-- finds the few names that contain a rare word without reading the branch
-- (pg_trgm ships with PostgreSQL and is a trusted extension: the database
-- owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX recipes_pn_trgm_idx ON recipes USING GIN (lower(pn) gin_trgm_ops);

-- Results are ordered by lower(pn) (store.SearchRecipes); with the index
-- below a search reads its first page in order and stops, instead of sorting
-- every match of the branch (the collation is the one the query uses). Each
-- recipe carries its branch (set from its layer branch by the trigger below,
-- whoever writes it), so the walk reads one branch's recipes only.
ALTER TABLE recipes ADD COLUMN branch_id BIGINT;
CREATE INDEX recipes_branch_lower_pn_idx ON recipes (branch_id, (lower(pn) COLLATE "C"), id);
UPDATE recipes r SET branch_id = lb.branch_id FROM layer_branches lb WHERE lb.id = r.layer_branch_id;
-- +goose StatementBegin
CREATE FUNCTION recipes_set_branch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT branch_id INTO NEW.branch_id FROM layer_branches WHERE id = NEW.layer_branch_id;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER recipes_set_branch BEFORE INSERT OR UPDATE OF layer_branch_id ON recipes
    FOR EACH ROW EXECUTE FUNCTION recipes_set_branch();

-- depends: and inherits: look up their names on one branch: the rows carry
-- their recipe's branch (written with them, store.insertChildren), so a
-- lookup reads the branch's matches only (`depends:zlib` matched 73,000
-- rows across the branches of the public index, 12,000 on master).
ALTER TABLE recipe_build_deps ADD COLUMN branch_id BIGINT;
ALTER TABLE recipe_package_config_deps ADD COLUMN branch_id BIGINT;
ALTER TABLE recipe_inherits ADD COLUMN branch_id BIGINT;
CREATE INDEX recipe_build_deps_name_branch_idx ON recipe_build_deps (name, branch_id, recipe_id);
CREATE INDEX recipe_package_config_deps_name_branch_idx ON recipe_package_config_deps (name, branch_id, recipe_id);
CREATE INDEX recipe_inherits_name_branch_idx ON recipe_inherits (name, branch_id, recipe_id);
UPDATE recipe_build_deps d SET branch_id = lb.branch_id
FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id WHERE r.id = d.recipe_id;
UPDATE recipe_package_config_deps d SET branch_id = lb.branch_id
FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id WHERE r.id = d.recipe_id;
UPDATE recipe_inherits d SET branch_id = lb.branch_id
FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id WHERE r.id = d.recipe_id;

-- +goose Down
DROP INDEX recipe_inherits_name_branch_idx;
DROP INDEX recipe_package_config_deps_name_branch_idx;
DROP INDEX recipe_build_deps_name_branch_idx;
ALTER TABLE recipe_inherits DROP COLUMN branch_id;
ALTER TABLE recipe_package_config_deps DROP COLUMN branch_id;
ALTER TABLE recipe_build_deps DROP COLUMN branch_id;
DROP INDEX recipes_pn_trgm_idx;
DROP INDEX recipes_branch_lower_pn_idx;
DROP TRIGGER recipes_set_branch ON recipes;
DROP FUNCTION recipes_set_branch();
ALTER TABLE recipes DROP COLUMN branch_id;

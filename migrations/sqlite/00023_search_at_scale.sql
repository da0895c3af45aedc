-- +goose Up
-- Recipe searches at the size of the public index (issue 13).
-- Keep this file and ../postgres/00023_search_at_scale.sql in step.
--
-- Results are ordered by lower(pn) (store.SearchRecipes); with the index
-- below a search reads its first page in order and stops, instead of sorting
-- every match of the branch. Each recipe carries its branch (set from its
-- layer branch by the triggers below, whoever writes it), so the walk reads
-- one branch's recipes only.
ALTER TABLE recipes ADD COLUMN branch_id INTEGER;
CREATE INDEX recipes_branch_lower_pn_idx ON recipes (branch_id, lower(pn), id);
UPDATE recipes SET branch_id = (SELECT branch_id FROM layer_branches WHERE id = recipes.layer_branch_id);
-- +goose StatementBegin
CREATE TRIGGER recipes_set_branch_insert AFTER INSERT ON recipes BEGIN
    UPDATE recipes SET branch_id = (SELECT branch_id FROM layer_branches WHERE id = NEW.layer_branch_id) WHERE id = NEW.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER recipes_set_branch_update AFTER UPDATE OF layer_branch_id ON recipes BEGIN
    UPDATE recipes SET branch_id = (SELECT branch_id FROM layer_branches WHERE id = NEW.layer_branch_id) WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- depends: and inherits: look up their names on one branch: the rows carry
-- their recipe's branch (written with them, store.insertChildren), so a
-- lookup reads the branch's matches only (`depends:zlib` matched 73,000
-- rows across the branches of the public index, 12,000 on master).
ALTER TABLE recipe_build_deps ADD COLUMN branch_id INTEGER;
ALTER TABLE recipe_package_config_deps ADD COLUMN branch_id INTEGER;
ALTER TABLE recipe_inherits ADD COLUMN branch_id INTEGER;
CREATE INDEX recipe_build_deps_name_branch_idx ON recipe_build_deps (name, branch_id, recipe_id);
CREATE INDEX recipe_package_config_deps_name_branch_idx ON recipe_package_config_deps (name, branch_id, recipe_id);
CREATE INDEX recipe_inherits_name_branch_idx ON recipe_inherits (name, branch_id, recipe_id);
UPDATE recipe_build_deps SET branch_id = (SELECT lb.branch_id
FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id WHERE r.id = recipe_build_deps.recipe_id);
UPDATE recipe_package_config_deps SET branch_id = (SELECT lb.branch_id
FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id WHERE r.id = recipe_package_config_deps.recipe_id);
UPDATE recipe_inherits SET branch_id = (SELECT lb.branch_id
FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id WHERE r.id = recipe_inherits.recipe_id);

-- +goose Down
DROP INDEX recipe_inherits_name_branch_idx;
DROP INDEX recipe_package_config_deps_name_branch_idx;
DROP INDEX recipe_build_deps_name_branch_idx;
ALTER TABLE recipe_inherits DROP COLUMN branch_id;
ALTER TABLE recipe_package_config_deps DROP COLUMN branch_id;
ALTER TABLE recipe_build_deps DROP COLUMN branch_id;
DROP INDEX recipes_branch_lower_pn_idx;
DROP TRIGGER recipes_set_branch_update;
DROP TRIGGER recipes_set_branch_insert;
ALTER TABLE recipes DROP COLUMN branch_id;

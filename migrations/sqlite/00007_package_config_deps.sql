-- +goose Up
-- The build dependencies of each recipe's PACKAGECONFIG options, one row per
-- name (upstream's DynamicBuildDep), derived from recipe_package_configs.
-- build_deps when a recipe is stored, so `depends:` searches use an index
-- instead of matching words inside strings.
-- Keep this file and ../postgres/00007_package_config_deps.sql in step.
CREATE TABLE recipe_package_config_deps (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    recipe_id INTEGER NOT NULL REFERENCES recipes (id) ON DELETE CASCADE,
    name      TEXT NOT NULL
);
CREATE INDEX recipe_package_config_deps_recipe_id_idx ON recipe_package_config_deps (recipe_id);
CREATE INDEX recipe_package_config_deps_name_recipe_id_idx ON recipe_package_config_deps (name, recipe_id);

-- build_deps holds names separated by single spaces.
INSERT INTO recipe_package_config_deps (recipe_id, name)
WITH RECURSIVE split(recipe_id, rest, word) AS (
    SELECT recipe_id, build_deps || ' ', '' FROM recipe_package_configs WHERE build_deps <> ''
    UNION ALL
    SELECT recipe_id, substr(rest, instr(rest, ' ') + 1), substr(rest, 1, instr(rest, ' ') - 1) FROM split WHERE rest <> ''
)
SELECT DISTINCT recipe_id, word FROM split WHERE word <> '';

-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_package_config_deps_insert AFTER INSERT ON recipe_package_config_deps BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_package_config_deps_update AFTER UPDATE ON recipe_package_config_deps BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_package_config_deps_delete AFTER DELETE ON recipe_package_config_deps BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE recipe_package_config_deps;

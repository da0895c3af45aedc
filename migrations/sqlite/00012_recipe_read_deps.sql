-- +goose Up
-- Paths of the repository that a recipe's Python read, tested for or listed
-- at parse time (a directory listed ends with "/"). BitBake does not count
-- them as file dependencies, so they are kept apart from recipe_file_deps and
-- never shown; an incremental update re-parses the recipes whose read paths
-- changed. Rows appear as layers are re-parsed (the parser version changed).
-- Keep this file and ../postgres/00012_recipe_read_deps.sql in step.
CREATE TABLE recipe_read_deps (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    recipe_id       INTEGER NOT NULL REFERENCES recipes (id) ON DELETE CASCADE,
    layer_branch_id INTEGER NOT NULL REFERENCES layer_branches (id) ON DELETE CASCADE,
    path            TEXT NOT NULL
);
CREATE INDEX recipe_read_deps_recipe_id_idx ON recipe_read_deps (recipe_id);
CREATE INDEX recipe_read_deps_layer_branch_id_path_idx ON recipe_read_deps (layer_branch_id, path);

-- +goose Down
DROP TABLE recipe_read_deps;

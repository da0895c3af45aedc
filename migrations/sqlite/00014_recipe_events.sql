-- +goose Up
-- What each update run did to recipes, by name: added, removed, or upgraded
-- (PV changed). The Atom feeds of a layer branch and of a recipe name are
-- read from here; rows go with their run when old update logs are purged.
-- Keep this file and ../postgres/00014_recipe_events.sql in step.
CREATE TABLE recipe_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    layer_update_id INTEGER NOT NULL REFERENCES layer_updates (id) ON DELETE CASCADE,
    layer_branch_id INTEGER NOT NULL REFERENCES layer_branches (id) ON DELETE CASCADE,
    recipe_id       INTEGER,
    pn              TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('added', 'removed', 'upgraded')),
    old_pv          TEXT NOT NULL DEFAULT '',
    new_pv          TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX recipe_events_layer_update_id_idx ON recipe_events (layer_update_id);
CREATE INDEX recipe_events_layer_branch_id_idx ON recipe_events (layer_branch_id, id);
CREATE INDEX recipe_events_pn_idx ON recipe_events (pn, id);

-- +goose Down
DROP TABLE recipe_events;

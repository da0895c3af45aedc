-- +goose Up
-- Bulk change (upstream's RecipeChangeset and RecipeChange): a user's named
-- set of recipes with new values for their metadata, from which patches
-- against the layers' repositories are made. User data, private to its
-- owner; a recipe removed by a re-index leaves the changeset.
-- Keep this file and ../postgres/00013_bulk_changes.sql in step.
CREATE TABLE recipe_changesets (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX recipe_changesets_user_id_idx ON recipe_changesets (user_id);

-- The new values; a field equal to the recipe's is not a change.
CREATE TABLE recipe_changes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    changeset_id INTEGER NOT NULL REFERENCES recipe_changesets (id) ON DELETE CASCADE,
    recipe_id    INTEGER NOT NULL REFERENCES recipes (id) ON DELETE CASCADE,
    summary      TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    section      TEXT NOT NULL DEFAULT '',
    license      TEXT NOT NULL DEFAULT '',
    homepage     TEXT NOT NULL DEFAULT '',
    bugtracker   TEXT NOT NULL DEFAULT '',
    UNIQUE (changeset_id, recipe_id)
);
CREATE INDEX recipe_changes_recipe_id_idx ON recipe_changes (recipe_id);

-- +goose Down
DROP TABLE recipe_changes;
DROP TABLE recipe_changesets;

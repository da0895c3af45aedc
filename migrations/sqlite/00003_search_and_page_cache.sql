-- +goose Up
-- Full-text search over recipe summaries and descriptions: an FTS5 index
-- whose content is the recipes table itself, kept in step by triggers. The
-- unicode61 tokenizer splits on everything but letters and digits and keeps
-- diacritics, which yields the same words as the PostgreSQL index
-- (../postgres/00003_search_and_page_cache.sql), so both databases return the same
-- results.
CREATE VIRTUAL TABLE recipes_fts USING fts5(
    summary, description,
    content='recipes', content_rowid='id',
    tokenize='unicode61 remove_diacritics 0'
);

-- +goose StatementBegin
CREATE TRIGGER recipes_fts_insert AFTER INSERT ON recipes BEGIN
    INSERT INTO recipes_fts (rowid, summary, description) VALUES (new.id, new.summary, new.description);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER recipes_fts_delete AFTER DELETE ON recipes BEGIN
    INSERT INTO recipes_fts (recipes_fts, rowid, summary, description) VALUES ('delete', old.id, old.summary, old.description);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER recipes_fts_update AFTER UPDATE OF summary, description ON recipes BEGIN
    INSERT INTO recipes_fts (recipes_fts, rowid, summary, description) VALUES ('delete', old.id, old.summary, old.description);
    INSERT INTO recipes_fts (rowid, summary, description) VALUES (new.id, new.summary, new.description);
END;
-- +goose StatementEnd

INSERT INTO recipes_fts (recipes_fts) VALUES ('rebuild');

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
DROP TRIGGER recipes_fts_update;
DROP TRIGGER recipes_fts_delete;
DROP TRIGGER recipes_fts_insert;
DROP TABLE recipes_fts;

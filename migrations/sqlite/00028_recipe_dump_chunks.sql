-- +goose Up
-- The recipe dump by layer branch (issue 13). Keep this file and
-- ../postgres/00028_recipe_dump_chunks.sql in step (the comments there say
-- why). SQLite serialises writers, so the triggers need no lock.
CREATE TABLE recipe_dump_chunks (
    layer_branch_id INTEGER NOT NULL REFERENCES layer_branches (id) ON DELETE CASCADE,
    bucket          INTEGER NOT NULL,
    objs            TEXT NOT NULL,
    PRIMARY KEY (layer_branch_id, bucket)
);
-- The dump reads the chunks in bucket order along this index: sorted, SQLite
-- would copy them into its sorter and spill it to temporary files.
CREATE INDEX recipe_dump_chunks_bucket_idx ON recipe_dump_chunks (bucket, layer_branch_id);
CREATE TABLE recipe_dump_fresh (
    layer_branch_id INTEGER PRIMARY KEY REFERENCES layer_branches (id) ON DELETE CASCADE
);
-- +goose StatementBegin
CREATE TRIGGER recipes_dump_stale_insert AFTER INSERT ON recipes BEGIN
    DELETE FROM recipe_dump_fresh WHERE layer_branch_id = NEW.layer_branch_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER recipes_dump_stale_update AFTER UPDATE ON recipes BEGIN
    DELETE FROM recipe_dump_fresh WHERE layer_branch_id IN (OLD.layer_branch_id, NEW.layer_branch_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER recipes_dump_stale_delete AFTER DELETE ON recipes BEGIN
    DELETE FROM recipe_dump_fresh WHERE layer_branch_id = OLD.layer_branch_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER recipes_dump_stale_delete;
DROP TRIGGER recipes_dump_stale_update;
DROP TRIGGER recipes_dump_stale_insert;
DROP TABLE recipe_dump_fresh;
DROP INDEX recipe_dump_chunks_bucket_idx;
DROP TABLE recipe_dump_chunks;

-- +goose Up
-- The recipe dump by layer branch (issue 13). Keep this file and
-- ../sqlite/00028_recipe_dump_chunks.sql in step.
--
-- A dump of whole layer branches (recipes/?filter=layerbranch__branch__name:
-- master, what API clients fetch) is read from chunks of its recipes' API
-- objects (recipes.api_json) instead of row by row: a chunk holds the
-- objects of one layer branch whose ids fall in one bucket of 256 ids, in
-- id order, separated by newlines, so the dump reads them in bucket order
-- and merges only the few chunks that share a bucket. store.ApplyIndex
-- rewrites a layer branch's chunks in the transaction that writes its
-- recipes (store.refreshRecipeDump).
CREATE TABLE recipe_dump_chunks (
    layer_branch_id BIGINT NOT NULL REFERENCES layer_branches (id) ON DELETE CASCADE,
    bucket          BIGINT NOT NULL,
    objs            TEXT NOT NULL,
    PRIMARY KEY (layer_branch_id, bucket)
);
-- Kept out of line uncompressed: the dump copies them whole, and
-- decompressing 2.6 MB per dump would cost more than the space saved.
ALTER TABLE recipe_dump_chunks ALTER COLUMN objs SET STORAGE EXTERNAL;
-- A layer branch whose chunks hold its recipes as they are. Any write of a
-- recipe row deletes its layer branch's row here (the trigger below), so a
-- writer that does not know the chunks (an older build, a hand-written
-- UPDATE) makes the dump read the rows instead of stale chunks; the owner
-- rewrites the chunks and inserts the row again in the same transaction.
-- The trigger first locks the layer branch row, as the owner does before it
-- rewrites the chunks: the two take turns, so neither marks fresh what the
-- other has changed meanwhile.
CREATE TABLE recipe_dump_fresh (
    layer_branch_id BIGINT PRIMARY KEY REFERENCES layer_branches (id) ON DELETE CASCADE
);
-- +goose StatementBegin
CREATE FUNCTION recipes_dump_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM 1 FROM layer_branches WHERE id = OLD.layer_branch_id FOR NO KEY UPDATE;
        DELETE FROM recipe_dump_fresh WHERE layer_branch_id = OLD.layer_branch_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.layer_branch_id <> OLD.layer_branch_id) THEN
        PERFORM 1 FROM layer_branches WHERE id = NEW.layer_branch_id FOR NO KEY UPDATE;
        DELETE FROM recipe_dump_fresh WHERE layer_branch_id = NEW.layer_branch_id;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER recipes_dump_stale AFTER INSERT OR UPDATE OR DELETE ON recipes
    FOR EACH ROW EXECUTE FUNCTION recipes_dump_stale();

-- +goose Down
DROP TRIGGER recipes_dump_stale ON recipes;
DROP FUNCTION recipes_dump_stale();
DROP TABLE recipe_dump_fresh;
DROP TABLE recipe_dump_chunks;

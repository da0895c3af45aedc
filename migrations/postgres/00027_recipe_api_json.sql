-- +goose Up
-- The recipe dump from stored JSON (issue 13). Keep this file and
-- ../sqlite/00027_recipe_api_json.sql in step.
--
-- api_json is the recipe's object as the API's recipes endpoint writes it
-- (store.AppendRecipeJSON), written with the row by store.ApplyIndex, so the
-- full dump of a branch reads one column per row instead of 21. NULL: not
-- stored yet (rows written before this migration); the dump then encodes
-- the row's columns, and store.FillRecipeJSON fills it in.
ALTER TABLE recipes ADD COLUMN api_json TEXT;
-- The rows still to fill: the dump looks them up before streaming the rest.
CREATE INDEX recipes_api_json_missing_idx ON recipes (id) WHERE api_json IS NULL;
-- A write that changes a column the object holds without writing api_json
-- (a build that does not know the column, a hand-written UPDATE) makes it
-- stale: it is cleared instead.
-- +goose StatementBegin
CREATE FUNCTION recipes_api_json_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.api_json := NULL;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER recipes_api_json_stale BEFORE UPDATE ON recipes FOR EACH ROW
    WHEN (OLD.api_json IS NOT NULL AND NEW.api_json IS NOT DISTINCT FROM OLD.api_json AND
          (NEW.id, NEW.layer_branch_id, NEW.filename, NEW.filepath, NEW.pn, NEW.pv, NEW.pr, NEW.pe, NEW.summary,
           NEW.description, NEW.section, NEW.license, NEW.homepage, NEW.bugtracker, NEW.provides, NEW.bbclassextend,
           NEW.inherits, NEW.blacklisted, NEW.configopts, NEW.srcrev, NEW.updated_at)
          IS DISTINCT FROM
          (OLD.id, OLD.layer_branch_id, OLD.filename, OLD.filepath, OLD.pn, OLD.pv, OLD.pr, OLD.pe, OLD.summary,
           OLD.description, OLD.section, OLD.license, OLD.homepage, OLD.bugtracker, OLD.provides, OLD.bbclassextend,
           OLD.inherits, OLD.blacklisted, OLD.configopts, OLD.srcrev, OLD.updated_at))
    EXECUTE FUNCTION recipes_api_json_stale();

-- +goose Down
DROP TRIGGER recipes_api_json_stale ON recipes;
DROP FUNCTION recipes_api_json_stale();
DROP INDEX recipes_api_json_missing_idx;
ALTER TABLE recipes DROP COLUMN api_json;

-- +goose Up
-- index_state changes with every commit that touches the data the REST API
-- and the pages serve: its version is the API's ETag and changed_at its
-- Last-Modified, so an unchanged index answers 304 after one primary-key
-- read; the web servers' page cache keys on it too (on PostgreSQL it is
-- also told by NOTIFY layerindex_index). Triggers keep
-- it current whoever writes (ingestion, the web UI, imports).
-- Keep this file and ../sqlite/00004_index_state.sql in step.

CREATE TABLE index_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    version    BIGINT NOT NULL DEFAULT 1,
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO index_state (id) VALUES (1);

-- The triggers are deferred to commit and bump the row once per transaction:
-- the row lock is then held only while committing, so parallel workers
-- writing different layers do not queue behind each other, and a reader
-- never sees the new version before the data it stands for.
-- +goose StatementBegin
CREATE FUNCTION index_state_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('layerindex.index_state_txid', true) IS DISTINCT FROM txid_current()::text THEN
        PERFORM set_config('layerindex.index_state_txid', txid_current()::text, true);
        UPDATE index_state SET version = version + 1, changed_at = clock_timestamp() WHERE id = 1;
        -- Web servers drop their cached pages when this arrives, at commit.
        PERFORM pg_notify('layerindex_index', '');
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON branches
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON yp_compatible_versions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON layers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON layer_branches
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON layer_maintainers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON layer_dependencies
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON layer_notes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON recipes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON recipe_sources
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON recipe_build_deps
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON recipe_package_configs
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON recipe_file_deps
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON recipe_patches
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON machines
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON distros
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON bbclasses
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON bbappends
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON inc_files
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
-- The update logs are shown on (cached) pages too.
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON updates
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();
CREATE CONSTRAINT TRIGGER index_state_bump AFTER INSERT OR UPDATE OR DELETE ON layer_updates
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION index_state_bump();

-- +goose Down
DROP TRIGGER index_state_bump ON branches;
DROP TRIGGER index_state_bump ON yp_compatible_versions;
DROP TRIGGER index_state_bump ON layers;
DROP TRIGGER index_state_bump ON layer_branches;
DROP TRIGGER index_state_bump ON layer_maintainers;
DROP TRIGGER index_state_bump ON layer_dependencies;
DROP TRIGGER index_state_bump ON layer_notes;
DROP TRIGGER index_state_bump ON recipes;
DROP TRIGGER index_state_bump ON recipe_sources;
DROP TRIGGER index_state_bump ON recipe_build_deps;
DROP TRIGGER index_state_bump ON recipe_package_configs;
DROP TRIGGER index_state_bump ON recipe_file_deps;
DROP TRIGGER index_state_bump ON recipe_patches;
DROP TRIGGER index_state_bump ON machines;
DROP TRIGGER index_state_bump ON distros;
DROP TRIGGER index_state_bump ON bbclasses;
DROP TRIGGER index_state_bump ON bbappends;
DROP TRIGGER index_state_bump ON inc_files;
DROP TRIGGER index_state_bump ON updates;
DROP TRIGGER index_state_bump ON layer_updates;
DROP FUNCTION index_state_bump();
DROP TABLE index_state;

-- +goose Up
-- Ingestion state: what the last successful index of a layer branch was
-- built from (besides vcs_last_rev and parser_version), and the result of
-- validating a newly submitted layer.
ALTER TABLE layer_branches ADD COLUMN config_digest TEXT NOT NULL DEFAULT '';
ALTER TABLE layers ADD COLUMN validation_status TEXT NOT NULL DEFAULT '';
ALTER TABLE layers ADD COLUMN validation_log TEXT NOT NULL DEFAULT '';
ALTER TABLE layers ADD COLUMN validated_at TIMESTAMPTZ;
ALTER TABLE layer_updates ADD COLUMN layer_branch_id BIGINT REFERENCES layer_branches (id) ON DELETE SET NULL;
CREATE INDEX layer_updates_layer_branch_id_idx ON layer_updates (layer_branch_id);

-- +goose Down
DROP INDEX layer_updates_layer_branch_id_idx;
ALTER TABLE layer_updates DROP COLUMN layer_branch_id;
ALTER TABLE layers DROP COLUMN validated_at;
ALTER TABLE layers DROP COLUMN validation_log;
ALTER TABLE layers DROP COLUMN validation_status;
ALTER TABLE layer_branches DROP COLUMN config_digest;

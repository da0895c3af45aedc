-- +goose Up
-- The administrators' weekly digest and the "stale" marker: whether a layer
-- branch's last update found its repository gone (not found, or private),
-- beside the health kept for maintainer alerts.
-- Keep this file and ../sqlite/00020_repo_gone.sql in step.
ALTER TABLE layer_branch_alerts ADD COLUMN repo_gone BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE layer_branch_alerts DROP COLUMN repo_gone;

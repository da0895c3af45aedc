-- +goose Up
-- A no-change refresh at the size of the public index (issue 13).
-- Keep this file and ../sqlite/00026_refresh_facts.sql in step.
--
-- layer_facts keeps what the last index read from the layer's
-- conf/layer.conf (JSON, with the tree it was read from), so an update that
-- finds the layer's tree unchanged decides so without reading the tree again
-- or starting a parser process (internal/ingest, quickUnchanged).
ALTER TABLE layer_branches ADD COLUMN layer_facts TEXT NOT NULL DEFAULT '';
-- requested_at is when a request last queued or joined the run: a fetch
-- of the repository begun after it serves the run, so the runs of one
-- refresh share one fetch of each repository (gitrepo.Cache.FetchSince).
ALTER TABLE layer_updates ADD COLUMN requested_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE layer_updates DROP COLUMN requested_at;
ALTER TABLE layer_branches DROP COLUMN layer_facts;

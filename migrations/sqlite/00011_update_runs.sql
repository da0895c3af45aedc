-- +goose Up
-- Update runs become a state machine owned by internal/catalog:
-- queued → running → succeeded / unchanged / failed / cancelled, with
-- "retrying" while a transient failure waits for its next attempt. A layer
-- update is one run of one layer branch (one job); an update groups the runs
-- one request queued (a refresh, an "Index now", a command, an API call) and
-- its status is derived from them, so it can never disagree with them.
ALTER TABLE updates DROP COLUMN status;
ALTER TABLE updates DROP COLUMN finished_at;
ALTER TABLE updates ADD COLUMN origin TEXT NOT NULL DEFAULT 'refresh'
    CHECK (origin IN ('refresh', 'maintainer', 'administrator', 'api', 'webhook', 'cli'));

ALTER TABLE layer_updates ADD COLUMN state TEXT NOT NULL DEFAULT 'queued'
    CHECK (state IN ('queued', 'running', 'retrying', 'succeeded', 'unchanged', 'failed', 'cancelled'));
-- Runs left "running" by an earlier version were interrupted.
UPDATE layer_updates SET state = CASE status WHEN 'skipped' THEN 'unchanged' WHEN 'running' THEN 'failed' ELSE status END;
ALTER TABLE layer_updates DROP COLUMN status;
ALTER TABLE layer_updates RENAME COLUMN state TO status;
ALTER TABLE layer_updates ADD COLUMN origin TEXT NOT NULL DEFAULT 'refresh'
    CHECK (origin IN ('refresh', 'maintainer', 'administrator', 'api', 'webhook', 'cli'));
ALTER TABLE layer_updates ADD COLUMN triggered_by_id INTEGER REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE layer_updates ADD COLUMN force BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE layer_updates ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE layer_updates ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 5;
ALTER TABLE layer_updates ADD COLUMN next_attempt_at DATETIME;
ALTER TABLE layer_updates ADD COLUMN job_id INTEGER;
ALTER TABLE layer_updates ADD COLUMN reason TEXT NOT NULL DEFAULT '';
CREATE INDEX layer_updates_triggered_by_id_idx ON layer_updates (triggered_by_id);
CREATE INDEX layer_updates_job_id_idx ON layer_updates (job_id);
-- At most one waiting and one running run per layer branch: a second
-- request joins the waiting run; a second worker cannot start a run beside
-- the running one.
CREATE UNIQUE INDEX layer_updates_one_waiting_idx ON layer_updates (layer_branch_id) WHERE status IN ('queued', 'retrying');
CREATE UNIQUE INDEX layer_updates_one_running_idx ON layer_updates (layer_branch_id) WHERE status = 'running';
CREATE INDEX layer_updates_active_idx ON layer_updates (status) WHERE status IN ('queued', 'running', 'retrying');

-- +goose Down
DROP INDEX layer_updates_active_idx;
DROP INDEX layer_updates_one_running_idx;
DROP INDEX layer_updates_one_waiting_idx;
DROP INDEX layer_updates_job_id_idx;
DROP INDEX layer_updates_triggered_by_id_idx;
ALTER TABLE layer_updates DROP COLUMN reason;
ALTER TABLE layer_updates DROP COLUMN job_id;
ALTER TABLE layer_updates DROP COLUMN next_attempt_at;
ALTER TABLE layer_updates DROP COLUMN max_attempts;
ALTER TABLE layer_updates DROP COLUMN attempt;
ALTER TABLE layer_updates DROP COLUMN force;
ALTER TABLE layer_updates DROP COLUMN triggered_by_id;
ALTER TABLE layer_updates DROP COLUMN origin;
ALTER TABLE layer_updates ADD COLUMN state TEXT NOT NULL DEFAULT 'running'
    CHECK (state IN ('running', 'succeeded', 'failed', 'skipped', 'cancelled'));
UPDATE layer_updates SET state = CASE status WHEN 'unchanged' THEN 'skipped' WHEN 'queued' THEN 'cancelled'
    WHEN 'retrying' THEN 'failed' ELSE status END;
ALTER TABLE layer_updates DROP COLUMN status;
ALTER TABLE layer_updates RENAME COLUMN state TO status;
ALTER TABLE updates DROP COLUMN origin;
ALTER TABLE updates ADD COLUMN finished_at DATETIME;
ALTER TABLE updates ADD COLUMN status TEXT NOT NULL DEFAULT 'succeeded'
    CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled'));

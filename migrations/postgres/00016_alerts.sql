-- +goose Up
-- Maintainer alerts: the last known health of each layer branch's updates,
-- so that maintainers get one email when updates start failing (or their
-- warnings change) and one when they recover, not one per run; and the
-- users who asked not to get them for a layer.
-- Keep this file and ../sqlite/00016_alerts.sql in step.
CREATE TABLE layer_branch_alerts (
    layer_branch_id BIGINT PRIMARY KEY REFERENCES layer_branches (id) ON DELETE CASCADE,
    failing         BOOLEAN NOT NULL DEFAULT FALSE,
    failing_since   TIMESTAMPTZ,
    warnings        INTEGER NOT NULL DEFAULT 0,
    last_ok_at      TIMESTAMPTZ,
    last_run_id     BIGINT,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE alert_optouts (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    layer_id   BIGINT NOT NULL REFERENCES layers (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, layer_id)
);
CREATE INDEX alert_optouts_layer_id_idx ON alert_optouts (layer_id);

-- +goose Down
DROP TABLE alert_optouts;
DROP TABLE layer_branch_alerts;

-- +goose Up
-- Push webhooks: each layer has a secret its maintainers set in their
-- forge (GitHub signs deliveries with it, GitLab sends it as a token), and
-- the deliveries received are remembered: accepted ones by their delivery
-- id, so a replayed delivery is refused; all with their outcome, for the
-- maintainer's page.
-- Keep this file and ../postgres/00015_webhooks.sql in step.
CREATE TABLE layer_hooks (
    layer_id   INTEGER PRIMARY KEY REFERENCES layers (id) ON DELETE CASCADE,
    secret     TEXT NOT NULL,
    updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE hook_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    layer_id    INTEGER NOT NULL REFERENCES layers (id) ON DELETE CASCADE,
    provider    TEXT NOT NULL,
    delivery_id TEXT NOT NULL DEFAULT '',
    event       TEXT NOT NULL DEFAULT '',
    git_branch  TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    update_id   INTEGER REFERENCES updates (id) ON DELETE SET NULL,
    received_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
-- Replay protection: an accepted delivery id is accepted once per layer.
CREATE UNIQUE INDEX hook_deliveries_once_idx ON hook_deliveries (layer_id, provider, delivery_id) WHERE delivery_id <> '';
CREATE INDEX hook_deliveries_layer_idx ON hook_deliveries (layer_id, id);

-- +goose Down
DROP TABLE hook_deliveries;
DROP TABLE layer_hooks;

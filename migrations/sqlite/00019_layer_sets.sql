-- +goose Up
-- Layer sets: combinations of layers on one release branch (and optionally
-- a machine and a distro from the index) that administrators publish, each
-- served as a bitbake-setup configuration at a stable URL and listed in a
-- bitbake-setup registry. name is the configuration's file name in the
-- registry (<name>.conf.json), hence restricted to safe characters.
-- layers.master_for_compatible is the maintainers' opt-in to index the
-- layer's master branch under every release its LAYERSERIES_COMPAT names;
-- the layer branches made for it have follows_master set (they read the
-- git branch of the layer's master layer branch) so they can be removed
-- when the declaration or the opt-in goes away.
-- Keep this file and ../postgres/00019_layer_sets.sql in step.
CREATE TABLE layer_sets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    branch_id   INTEGER NOT NULL REFERENCES branches (id) ON DELETE CASCADE,
    machine     TEXT NOT NULL DEFAULT '',
    distro      TEXT NOT NULL DEFAULT '',
    recommends  BOOLEAN NOT NULL DEFAULT false,
    published   BOOLEAN NOT NULL DEFAULT true,
    created_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE layer_set_layers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    layer_set_id INTEGER NOT NULL REFERENCES layer_sets (id) ON DELETE CASCADE,
    layer_id     INTEGER NOT NULL REFERENCES layers (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (layer_set_id, layer_id)
);
CREATE INDEX layer_set_layers_layer_idx ON layer_set_layers (layer_id);
ALTER TABLE layers ADD COLUMN master_for_compatible BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE layer_branches ADD COLUMN follows_master BOOLEAN NOT NULL DEFAULT false;

-- Pages show layer sets: the page cache follows them as the index.
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_sets_insert AFTER INSERT ON layer_sets BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_sets_update AFTER UPDATE ON layer_sets BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_sets_delete AFTER DELETE ON layer_sets BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_set_layers_insert AFTER INSERT ON layer_set_layers BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_set_layers_update AFTER UPDATE ON layer_set_layers BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_set_layers_delete AFTER DELETE ON layer_set_layers BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER index_state_layer_set_layers_delete;
DROP TRIGGER index_state_layer_set_layers_update;
DROP TRIGGER index_state_layer_set_layers_insert;
DROP TRIGGER index_state_layer_sets_delete;
DROP TRIGGER index_state_layer_sets_update;
DROP TRIGGER index_state_layer_sets_insert;
ALTER TABLE layer_branches DROP COLUMN follows_master;
ALTER TABLE layers DROP COLUMN master_for_compatible;
DROP TABLE layer_set_layers;
DROP TABLE layer_sets;

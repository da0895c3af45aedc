-- +goose Up
-- index_state changes with every commit that touches the data the REST API
-- and the pages serve: its version is the API's ETag and changed_at its
-- Last-Modified, so an unchanged index answers 304 after one primary-key
-- read; the web servers' page cache keys on it too. Triggers keep
-- it current whoever writes (ingestion, the web UI, imports).
-- Keep this file and ../postgres/00004_index_state.sql in step.

CREATE TABLE index_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    version    INTEGER NOT NULL DEFAULT 1,
    changed_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO index_state (id) VALUES (1);

-- SQLite has only row triggers; it has one writer at a time, so bumping the
-- row per changed row costs a little time and no contention.
-- +goose StatementBegin
CREATE TRIGGER index_state_branches_insert AFTER INSERT ON branches BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_branches_update AFTER UPDATE ON branches BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_branches_delete AFTER DELETE ON branches BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_yp_compatible_versions_insert AFTER INSERT ON yp_compatible_versions BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_yp_compatible_versions_update AFTER UPDATE ON yp_compatible_versions BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_yp_compatible_versions_delete AFTER DELETE ON yp_compatible_versions BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layers_insert AFTER INSERT ON layers BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layers_update AFTER UPDATE ON layers BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layers_delete AFTER DELETE ON layers BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_branches_insert AFTER INSERT ON layer_branches BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_branches_update AFTER UPDATE ON layer_branches BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_branches_delete AFTER DELETE ON layer_branches BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_maintainers_insert AFTER INSERT ON layer_maintainers BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_maintainers_update AFTER UPDATE ON layer_maintainers BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_maintainers_delete AFTER DELETE ON layer_maintainers BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_dependencies_insert AFTER INSERT ON layer_dependencies BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_dependencies_update AFTER UPDATE ON layer_dependencies BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_dependencies_delete AFTER DELETE ON layer_dependencies BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_notes_insert AFTER INSERT ON layer_notes BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_notes_update AFTER UPDATE ON layer_notes BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_notes_delete AFTER DELETE ON layer_notes BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipes_insert AFTER INSERT ON recipes BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipes_update AFTER UPDATE ON recipes BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipes_delete AFTER DELETE ON recipes BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_sources_insert AFTER INSERT ON recipe_sources BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_sources_update AFTER UPDATE ON recipe_sources BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_sources_delete AFTER DELETE ON recipe_sources BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_build_deps_insert AFTER INSERT ON recipe_build_deps BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_build_deps_update AFTER UPDATE ON recipe_build_deps BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_build_deps_delete AFTER DELETE ON recipe_build_deps BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_package_configs_insert AFTER INSERT ON recipe_package_configs BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_package_configs_update AFTER UPDATE ON recipe_package_configs BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_package_configs_delete AFTER DELETE ON recipe_package_configs BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_file_deps_insert AFTER INSERT ON recipe_file_deps BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_file_deps_update AFTER UPDATE ON recipe_file_deps BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_file_deps_delete AFTER DELETE ON recipe_file_deps BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_patches_insert AFTER INSERT ON recipe_patches BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_patches_update AFTER UPDATE ON recipe_patches BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_recipe_patches_delete AFTER DELETE ON recipe_patches BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_machines_insert AFTER INSERT ON machines BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_machines_update AFTER UPDATE ON machines BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_machines_delete AFTER DELETE ON machines BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_distros_insert AFTER INSERT ON distros BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_distros_update AFTER UPDATE ON distros BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_distros_delete AFTER DELETE ON distros BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_bbclasses_insert AFTER INSERT ON bbclasses BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_bbclasses_update AFTER UPDATE ON bbclasses BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_bbclasses_delete AFTER DELETE ON bbclasses BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_bbappends_insert AFTER INSERT ON bbappends BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_bbappends_update AFTER UPDATE ON bbappends BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_bbappends_delete AFTER DELETE ON bbappends BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_inc_files_insert AFTER INSERT ON inc_files BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_inc_files_update AFTER UPDATE ON inc_files BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_inc_files_delete AFTER DELETE ON inc_files BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd

-- The update logs are shown on (cached) pages too.
-- +goose StatementBegin
CREATE TRIGGER index_state_updates_insert AFTER INSERT ON updates BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_updates_update AFTER UPDATE ON updates BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_updates_delete AFTER DELETE ON updates BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_updates_insert AFTER INSERT ON layer_updates BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_updates_update AFTER UPDATE ON layer_updates BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER index_state_layer_updates_delete AFTER DELETE ON layer_updates BEGIN
    UPDATE index_state SET version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER index_state_branches_insert;
DROP TRIGGER index_state_branches_update;
DROP TRIGGER index_state_branches_delete;
DROP TRIGGER index_state_yp_compatible_versions_insert;
DROP TRIGGER index_state_yp_compatible_versions_update;
DROP TRIGGER index_state_yp_compatible_versions_delete;
DROP TRIGGER index_state_layers_insert;
DROP TRIGGER index_state_layers_update;
DROP TRIGGER index_state_layers_delete;
DROP TRIGGER index_state_layer_branches_insert;
DROP TRIGGER index_state_layer_branches_update;
DROP TRIGGER index_state_layer_branches_delete;
DROP TRIGGER index_state_layer_maintainers_insert;
DROP TRIGGER index_state_layer_maintainers_update;
DROP TRIGGER index_state_layer_maintainers_delete;
DROP TRIGGER index_state_layer_dependencies_insert;
DROP TRIGGER index_state_layer_dependencies_update;
DROP TRIGGER index_state_layer_dependencies_delete;
DROP TRIGGER index_state_layer_notes_insert;
DROP TRIGGER index_state_layer_notes_update;
DROP TRIGGER index_state_layer_notes_delete;
DROP TRIGGER index_state_recipes_insert;
DROP TRIGGER index_state_recipes_update;
DROP TRIGGER index_state_recipes_delete;
DROP TRIGGER index_state_recipe_sources_insert;
DROP TRIGGER index_state_recipe_sources_update;
DROP TRIGGER index_state_recipe_sources_delete;
DROP TRIGGER index_state_recipe_build_deps_insert;
DROP TRIGGER index_state_recipe_build_deps_update;
DROP TRIGGER index_state_recipe_build_deps_delete;
DROP TRIGGER index_state_recipe_package_configs_insert;
DROP TRIGGER index_state_recipe_package_configs_update;
DROP TRIGGER index_state_recipe_package_configs_delete;
DROP TRIGGER index_state_recipe_file_deps_insert;
DROP TRIGGER index_state_recipe_file_deps_update;
DROP TRIGGER index_state_recipe_file_deps_delete;
DROP TRIGGER index_state_recipe_patches_insert;
DROP TRIGGER index_state_recipe_patches_update;
DROP TRIGGER index_state_recipe_patches_delete;
DROP TRIGGER index_state_machines_insert;
DROP TRIGGER index_state_machines_update;
DROP TRIGGER index_state_machines_delete;
DROP TRIGGER index_state_distros_insert;
DROP TRIGGER index_state_distros_update;
DROP TRIGGER index_state_distros_delete;
DROP TRIGGER index_state_bbclasses_insert;
DROP TRIGGER index_state_bbclasses_update;
DROP TRIGGER index_state_bbclasses_delete;
DROP TRIGGER index_state_bbappends_insert;
DROP TRIGGER index_state_bbappends_update;
DROP TRIGGER index_state_bbappends_delete;
DROP TRIGGER index_state_inc_files_insert;
DROP TRIGGER index_state_inc_files_update;
DROP TRIGGER index_state_inc_files_delete;
DROP TRIGGER index_state_updates_insert;
DROP TRIGGER index_state_updates_update;
DROP TRIGGER index_state_updates_delete;
DROP TRIGGER index_state_layer_updates_insert;
DROP TRIGGER index_state_layer_updates_update;
DROP TRIGGER index_state_layer_updates_delete;
DROP TABLE index_state;

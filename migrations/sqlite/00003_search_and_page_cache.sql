-- +goose Up
-- Full-text search over recipe summaries and descriptions: an FTS5 index
-- whose content is the recipes table itself, kept in step by triggers. The
-- unicode61 tokenizer splits on everything but letters and digits and keeps
-- diacritics, which yields the same words as the PostgreSQL index
-- (../postgres/00003_search_and_page_cache.sql), so both databases return the same
-- results.
CREATE VIRTUAL TABLE recipes_fts USING fts5(
    summary, description,
    content='recipes', content_rowid='id',
    tokenize='unicode61 remove_diacritics 0'
);

-- +goose StatementBegin
CREATE TRIGGER recipes_fts_insert AFTER INSERT ON recipes BEGIN
    INSERT INTO recipes_fts (rowid, summary, description) VALUES (new.id, new.summary, new.description);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER recipes_fts_delete AFTER DELETE ON recipes BEGIN
    INSERT INTO recipes_fts (recipes_fts, rowid, summary, description) VALUES ('delete', old.id, old.summary, old.description);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER recipes_fts_update AFTER UPDATE OF summary, description ON recipes BEGIN
    INSERT INTO recipes_fts (recipes_fts, rowid, summary, description) VALUES ('delete', old.id, old.summary, old.description);
    INSERT INTO recipes_fts (rowid, summary, description) VALUES (new.id, new.summary, new.description);
END;
-- +goose StatementEnd

INSERT INTO recipes_fts (recipes_fts) VALUES ('rebuild');

CREATE INDEX recipes_layer_branch_id_pn_idx ON recipes (layer_branch_id, pn);
CREATE INDEX layer_updates_layer_id_idx ON layer_updates (layer_id, started_at);
-- depends: searches, from the dependency name straight to the recipe ids.
CREATE INDEX recipe_build_deps_name_recipe_id_idx ON recipe_build_deps (name, recipe_id);
-- Resolving a dependency through PROVIDES only looks at the recipes that
-- provide something.
CREATE INDEX recipes_provides_idx ON recipes (layer_branch_id) WHERE provides <> '' AND provides <> pn;

-- A counter of changes to what the pages show; the web server's page cache
-- keeps a page only while the counter is unchanged. A recipe's child rows
-- (sources, dependencies, PACKAGECONFIG, file dependencies, patches) only
-- change together with the recipe row itself (store.ApplyIndex saves the
-- recipe whenever anything in it changed), so they need no trigger.
CREATE TABLE index_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO index_version (id, version) VALUES (1, 0);

-- +goose StatementBegin
CREATE TRIGGER branches_version_insert AFTER INSERT ON branches BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER branches_version_update AFTER UPDATE ON branches BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER branches_version_delete AFTER DELETE ON branches BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER yp_compatible_versions_version_insert AFTER INSERT ON yp_compatible_versions BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER yp_compatible_versions_version_update AFTER UPDATE ON yp_compatible_versions BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER yp_compatible_versions_version_delete AFTER DELETE ON yp_compatible_versions BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layers_version_insert AFTER INSERT ON layers BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layers_version_update AFTER UPDATE ON layers BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layers_version_delete AFTER DELETE ON layers BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layer_branches_version_insert AFTER INSERT ON layer_branches BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layer_branches_version_update AFTER UPDATE ON layer_branches BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layer_branches_version_delete AFTER DELETE ON layer_branches BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layer_maintainers_version_insert AFTER INSERT ON layer_maintainers BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layer_maintainers_version_update AFTER UPDATE ON layer_maintainers BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layer_maintainers_version_delete AFTER DELETE ON layer_maintainers BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layer_dependencies_version_insert AFTER INSERT ON layer_dependencies BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layer_dependencies_version_update AFTER UPDATE ON layer_dependencies BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layer_dependencies_version_delete AFTER DELETE ON layer_dependencies BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layer_notes_version_insert AFTER INSERT ON layer_notes BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layer_notes_version_update AFTER UPDATE ON layer_notes BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layer_notes_version_delete AFTER DELETE ON layer_notes BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER recipes_version_insert AFTER INSERT ON recipes BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER recipes_version_update AFTER UPDATE ON recipes BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER recipes_version_delete AFTER DELETE ON recipes BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER machines_version_insert AFTER INSERT ON machines BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER machines_version_update AFTER UPDATE ON machines BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER machines_version_delete AFTER DELETE ON machines BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER distros_version_insert AFTER INSERT ON distros BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER distros_version_update AFTER UPDATE ON distros BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER distros_version_delete AFTER DELETE ON distros BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER bbclasses_version_insert AFTER INSERT ON bbclasses BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER bbclasses_version_update AFTER UPDATE ON bbclasses BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER bbclasses_version_delete AFTER DELETE ON bbclasses BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER bbappends_version_insert AFTER INSERT ON bbappends BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER bbappends_version_update AFTER UPDATE ON bbappends BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER bbappends_version_delete AFTER DELETE ON bbappends BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER inc_files_version_insert AFTER INSERT ON inc_files BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER inc_files_version_update AFTER UPDATE ON inc_files BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER inc_files_version_delete AFTER DELETE ON inc_files BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER updates_version_insert AFTER INSERT ON updates BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER updates_version_update AFTER UPDATE ON updates BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER updates_version_delete AFTER DELETE ON updates BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layer_updates_version_insert AFTER INSERT ON layer_updates BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layer_updates_version_update AFTER UPDATE ON layer_updates BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER layer_updates_version_delete AFTER DELETE ON layer_updates BEGIN UPDATE index_version SET version = version + 1; END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER branches_version_insert;
DROP TRIGGER branches_version_update;
DROP TRIGGER branches_version_delete;
DROP TRIGGER yp_compatible_versions_version_insert;
DROP TRIGGER yp_compatible_versions_version_update;
DROP TRIGGER yp_compatible_versions_version_delete;
DROP TRIGGER layers_version_insert;
DROP TRIGGER layers_version_update;
DROP TRIGGER layers_version_delete;
DROP TRIGGER layer_branches_version_insert;
DROP TRIGGER layer_branches_version_update;
DROP TRIGGER layer_branches_version_delete;
DROP TRIGGER layer_maintainers_version_insert;
DROP TRIGGER layer_maintainers_version_update;
DROP TRIGGER layer_maintainers_version_delete;
DROP TRIGGER layer_dependencies_version_insert;
DROP TRIGGER layer_dependencies_version_update;
DROP TRIGGER layer_dependencies_version_delete;
DROP TRIGGER layer_notes_version_insert;
DROP TRIGGER layer_notes_version_update;
DROP TRIGGER layer_notes_version_delete;
DROP TRIGGER recipes_version_insert;
DROP TRIGGER recipes_version_update;
DROP TRIGGER recipes_version_delete;
DROP TRIGGER machines_version_insert;
DROP TRIGGER machines_version_update;
DROP TRIGGER machines_version_delete;
DROP TRIGGER distros_version_insert;
DROP TRIGGER distros_version_update;
DROP TRIGGER distros_version_delete;
DROP TRIGGER bbclasses_version_insert;
DROP TRIGGER bbclasses_version_update;
DROP TRIGGER bbclasses_version_delete;
DROP TRIGGER bbappends_version_insert;
DROP TRIGGER bbappends_version_update;
DROP TRIGGER bbappends_version_delete;
DROP TRIGGER inc_files_version_insert;
DROP TRIGGER inc_files_version_update;
DROP TRIGGER inc_files_version_delete;
DROP TRIGGER updates_version_insert;
DROP TRIGGER updates_version_update;
DROP TRIGGER updates_version_delete;
DROP TRIGGER layer_updates_version_insert;
DROP TRIGGER layer_updates_version_update;
DROP TRIGGER layer_updates_version_delete;
DROP TABLE index_version;
DROP INDEX recipes_provides_idx;
DROP INDEX recipe_build_deps_name_recipe_id_idx;
DROP INDEX layer_updates_layer_id_idx;
DROP INDEX recipes_layer_branch_id_pn_idx;
DROP TRIGGER recipes_fts_update;
DROP TRIGGER recipes_fts_delete;
DROP TRIGGER recipes_fts_insert;
DROP TABLE recipes_fts;

-- +goose Up
-- The layer index: branches, layers and what a layer holds on each branch.
-- Keep this file and ../postgres/00001_index.sql in step: a test compares the
-- two schemas' tables and columns.

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT NOT NULL,
    name           TEXT NOT NULL DEFAULT '',
    password_hash  TEXT NOT NULL DEFAULT '',
    verified       BOOLEAN NOT NULL DEFAULT FALSE,
    is_admin       BOOLEAN NOT NULL DEFAULT FALSE,
    is_active      BOOLEAN NOT NULL DEFAULT TRUE,
    last_login_at  DATETIME,
    created_at     DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at     DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Web sessions; the token is stored hashed.
CREATE TABLE sessions (
    token   TEXT PRIMARY KEY,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    data    BLOB NOT NULL,
    expiry  DATETIME NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE branches (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT NOT NULL UNIQUE,
    bitbake_branch    TEXT NOT NULL DEFAULT '',
    short_description TEXT NOT NULL DEFAULT '',
    sort_priority     INTEGER,
    updates_enabled   BOOLEAN NOT NULL DEFAULT TRUE,
    comparison        BOOLEAN NOT NULL DEFAULT FALSE,
    hidden            BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at        DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE yp_compatible_versions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    image_url   TEXT NOT NULL DEFAULT '',
    link_url    TEXT NOT NULL DEFAULT ''
);

-- status: N new (awaiting review), P published, X published but not updated.
-- layer_type: A base, B machine (BSP), S software, D distribution, M misc.
CREATE TABLE layers (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    name                  TEXT NOT NULL UNIQUE,
    status                TEXT NOT NULL DEFAULT 'N' CHECK (status IN ('N', 'P', 'X')),
    layer_type            TEXT NOT NULL CHECK (layer_type IN ('A', 'B', 'S', 'D', 'M')),
    summary               TEXT NOT NULL DEFAULT '',
    description           TEXT NOT NULL DEFAULT '',
    vcs_url               TEXT NOT NULL,
    vcs_web_url           TEXT NOT NULL DEFAULT '',
    vcs_web_tree_base_url TEXT NOT NULL DEFAULT '',
    vcs_web_file_base_url TEXT NOT NULL DEFAULT '',
    vcs_web_commit_url    TEXT NOT NULL DEFAULT '',
    usage_url             TEXT NOT NULL DEFAULT '',
    mailing_list_url      TEXT NOT NULL DEFAULT '',
    index_preference      INTEGER NOT NULL DEFAULT 0,
    comparison            BOOLEAN NOT NULL DEFAULT FALSE,
    submitted_by_id       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at            DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at            DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX layers_status_idx ON layers (status);
CREATE INDEX layers_submitted_by_id_idx ON layers (submitted_by_id);
CREATE INDEX layers_vcs_url_idx ON layers (vcs_url);

-- One layer on one branch: where it lives in git and what was last indexed.
CREATE TABLE layer_branches (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    layer_id                 INTEGER NOT NULL REFERENCES layers (id) ON DELETE CASCADE,
    branch_id                INTEGER NOT NULL REFERENCES branches (id) ON DELETE CASCADE,
    collection               TEXT NOT NULL DEFAULT '',
    version                  TEXT NOT NULL DEFAULT '',
    vcs_subdir               TEXT NOT NULL DEFAULT '',
    actual_branch            TEXT NOT NULL DEFAULT '',
    local_path               TEXT NOT NULL DEFAULT '',
    updates_enabled          BOOLEAN NOT NULL DEFAULT TRUE,
    yp_compatible_version_id INTEGER REFERENCES yp_compatible_versions (id) ON DELETE SET NULL,
    vcs_last_fetch           DATETIME,
    vcs_last_rev             TEXT NOT NULL DEFAULT '',
    vcs_last_commit          DATETIME,
    parser_version           TEXT NOT NULL DEFAULT '',
    updated_at               DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (layer_id, branch_id)
);
CREATE INDEX layer_branches_branch_id_idx ON layer_branches (branch_id);
CREATE INDEX layer_branches_collection_idx ON layer_branches (collection);
CREATE INDEX layer_branches_yp_compatible_version_id_idx ON layer_branches (yp_compatible_version_id);

CREATE TABLE layer_maintainers (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    layer_branch_id INTEGER NOT NULL REFERENCES layer_branches (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    email           TEXT NOT NULL,
    responsibility  TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'A' CHECK (status IN ('A', 'I'))
);
CREATE INDEX layer_maintainers_layer_branch_id_idx ON layer_maintainers (layer_branch_id);
CREATE INDEX layer_maintainers_email_idx ON layer_maintainers (lower(email));

-- required: from LAYERDEPENDS (true) or LAYERRECOMMENDS (false).
CREATE TABLE layer_dependencies (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    layer_branch_id    INTEGER NOT NULL REFERENCES layer_branches (id) ON DELETE CASCADE,
    dependency_id      INTEGER NOT NULL REFERENCES layers (id) ON DELETE CASCADE,
    required           BOOLEAN NOT NULL DEFAULT TRUE,
    version_constraint TEXT NOT NULL DEFAULT '',
    UNIQUE (layer_branch_id, dependency_id)
);
CREATE INDEX layer_dependencies_dependency_id_idx ON layer_dependencies (dependency_id);

CREATE TABLE layer_notes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    layer_id   INTEGER NOT NULL REFERENCES layers (id) ON DELETE CASCADE,
    text       TEXT NOT NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX layer_notes_layer_id_idx ON layer_notes (layer_id);

-- Indexed content, written by the update jobs.
CREATE TABLE recipes (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    layer_branch_id  INTEGER NOT NULL REFERENCES layer_branches (id) ON DELETE CASCADE,
    filename         TEXT NOT NULL,
    filepath         TEXT NOT NULL DEFAULT '',
    pn               TEXT NOT NULL DEFAULT '',
    pv               TEXT NOT NULL DEFAULT '',
    pr               TEXT NOT NULL DEFAULT '',
    pe               TEXT NOT NULL DEFAULT '',
    summary          TEXT NOT NULL DEFAULT '',
    description      TEXT NOT NULL DEFAULT '',
    section          TEXT NOT NULL DEFAULT '',
    license          TEXT NOT NULL DEFAULT '',
    homepage         TEXT NOT NULL DEFAULT '',
    bugtracker       TEXT NOT NULL DEFAULT '',
    provides         TEXT NOT NULL DEFAULT '',
    bbclassextend    TEXT NOT NULL DEFAULT '',
    inherits         TEXT NOT NULL DEFAULT '',
    blacklisted      TEXT NOT NULL DEFAULT '',
    configopts       TEXT NOT NULL DEFAULT '',
    srcrev           TEXT NOT NULL DEFAULT '',
    skip_reason      TEXT NOT NULL DEFAULT '',
    unevaluated      INTEGER NOT NULL DEFAULT 0,
    updated_at       DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (layer_branch_id, filepath, filename)
);
CREATE INDEX recipes_pn_idx ON recipes (pn);

CREATE TABLE recipe_sources (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    recipe_id INTEGER NOT NULL REFERENCES recipes (id) ON DELETE CASCADE,
    url       TEXT NOT NULL,
    sha256sum TEXT NOT NULL DEFAULT ''
);
CREATE INDEX recipe_sources_recipe_id_idx ON recipe_sources (recipe_id);

-- One row per DEPENDS word of a recipe.
CREATE TABLE recipe_build_deps (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    recipe_id INTEGER NOT NULL REFERENCES recipes (id) ON DELETE CASCADE,
    name      TEXT NOT NULL
);
CREATE INDEX recipe_build_deps_recipe_id_idx ON recipe_build_deps (recipe_id);
CREATE INDEX recipe_build_deps_name_idx ON recipe_build_deps (name);

-- PACKAGECONFIG[feature] = "with,without,build deps,…"
CREATE TABLE recipe_package_configs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    recipe_id      INTEGER NOT NULL REFERENCES recipes (id) ON DELETE CASCADE,
    feature        TEXT NOT NULL,
    with_option    TEXT NOT NULL DEFAULT '',
    without_option TEXT NOT NULL DEFAULT '',
    build_deps     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX recipe_package_configs_recipe_id_idx ON recipe_package_configs (recipe_id);

-- Files inside the layer's repository that a recipe read (.inc, classes…);
-- a change to one re-parses the recipe. path is relative to the repository.
CREATE TABLE recipe_file_deps (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    recipe_id       INTEGER NOT NULL REFERENCES recipes (id) ON DELETE CASCADE,
    layer_branch_id INTEGER NOT NULL REFERENCES layer_branches (id) ON DELETE CASCADE,
    path            TEXT NOT NULL
);
CREATE INDEX recipe_file_deps_recipe_id_idx ON recipe_file_deps (recipe_id);
CREATE INDEX recipe_file_deps_layer_branch_id_path_idx ON recipe_file_deps (layer_branch_id, path);

-- status: U unknown, A accepted, P pending, I inappropriate, B backport,
-- S submitted, D denied, N inactive-upstream (from Upstream-Status).
CREATE TABLE recipe_patches (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    recipe_id    INTEGER NOT NULL REFERENCES recipes (id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    src_path     TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'U',
    status_extra TEXT NOT NULL DEFAULT '',
    apply_order  INTEGER,
    applied      BOOLEAN NOT NULL DEFAULT TRUE,
    striplevel   INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX recipe_patches_recipe_id_idx ON recipe_patches (recipe_id);

CREATE TABLE machines (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    layer_branch_id INTEGER NOT NULL REFERENCES layer_branches (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    updated_at      DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX machines_layer_branch_id_idx ON machines (layer_branch_id);
CREATE INDEX machines_name_idx ON machines (name);

CREATE TABLE distros (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    layer_branch_id INTEGER NOT NULL REFERENCES layer_branches (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    updated_at      DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX distros_layer_branch_id_idx ON distros (layer_branch_id);
CREATE INDEX distros_name_idx ON distros (name);

-- bbclass_type: '' (classes/), Global (classes-global/), Recipe (classes-recipe/).
CREATE TABLE bbclasses (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    layer_branch_id INTEGER NOT NULL REFERENCES layer_branches (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    bbclass_type    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX bbclasses_layer_branch_id_idx ON bbclasses (layer_branch_id);
CREATE INDEX bbclasses_name_idx ON bbclasses (name);

CREATE TABLE bbappends (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    layer_branch_id INTEGER NOT NULL REFERENCES layer_branches (id) ON DELETE CASCADE,
    filename        TEXT NOT NULL,
    filepath        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX bbappends_layer_branch_id_idx ON bbappends (layer_branch_id);
CREATE INDEX bbappends_filename_idx ON bbappends (filename);

CREATE TABLE inc_files (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    layer_branch_id INTEGER NOT NULL REFERENCES layer_branches (id) ON DELETE CASCADE,
    path            TEXT NOT NULL
);
CREATE INDEX inc_files_layer_branch_id_idx ON inc_files (layer_branch_id);

-- One update run (a refresh of many layers, or one requested re-index).
CREATE TABLE updates (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at      DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    finished_at     DATETIME,
    status          TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
    reload          BOOLEAN NOT NULL DEFAULT FALSE,
    log             TEXT NOT NULL DEFAULT '',
    job_id          INTEGER,
    triggered_by_id INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX updates_started_at_idx ON updates (started_at);
CREATE INDEX updates_triggered_by_id_idx ON updates (triggered_by_id);

-- One layer on one branch within an update run, with its readable log.
CREATE TABLE layer_updates (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    update_id       INTEGER NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
    layer_id        INTEGER NOT NULL REFERENCES layers (id) ON DELETE CASCADE,
    branch_id       INTEGER NOT NULL REFERENCES branches (id) ON DELETE CASCADE,
    started_at      DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    finished_at     DATETIME,
    status          TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'skipped', 'cancelled')),
    vcs_before_rev  TEXT NOT NULL DEFAULT '',
    vcs_after_rev   TEXT NOT NULL DEFAULT '',
    recipes_added   INTEGER NOT NULL DEFAULT 0,
    recipes_changed INTEGER NOT NULL DEFAULT 0,
    recipes_removed INTEGER NOT NULL DEFAULT 0,
    errors          INTEGER NOT NULL DEFAULT 0,
    warnings        INTEGER NOT NULL DEFAULT 0,
    log             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX layer_updates_update_id_idx ON layer_updates (update_id);
CREATE INDEX layer_updates_layer_id_branch_id_idx ON layer_updates (layer_id, branch_id, started_at);
CREATE INDEX layer_updates_branch_id_idx ON layer_updates (branch_id);

-- +goose Down
DROP TABLE layer_updates;
DROP TABLE updates;
DROP TABLE inc_files;
DROP TABLE bbappends;
DROP TABLE bbclasses;
DROP TABLE distros;
DROP TABLE machines;
DROP TABLE recipe_patches;
DROP TABLE recipe_file_deps;
DROP TABLE recipe_package_configs;
DROP TABLE recipe_build_deps;
DROP TABLE recipe_sources;
DROP TABLE recipes;
DROP TABLE layer_notes;
DROP TABLE layer_dependencies;
DROP TABLE layer_maintainers;
DROP TABLE layer_branches;
DROP TABLE layers;
DROP TABLE yp_compatible_versions;
DROP TABLE branches;
DROP TABLE sessions;
DROP TABLE users;

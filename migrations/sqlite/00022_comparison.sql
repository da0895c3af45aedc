-- +goose Up
-- Other-distribution comparison (upstream's "classic" comparison): an
-- administrator imports another distribution's package list into a
-- comparison branch (a row of branches with comparison set, kept out of
-- every release list), each package is matched to the recipe that covers
-- it on a release branch, and comparison editors confirm or change the
-- cover. internal/comparison owns every change of these rows.
-- Keep this file and ../postgres/00022_comparison.sql in step.
CREATE TABLE comparison_branches (
    branch_id       INTEGER PRIMARY KEY REFERENCES branches (id) ON DELETE CASCADE,
    description     TEXT NOT NULL DEFAULT '',
    format          TEXT NOT NULL,
    source          TEXT NOT NULL DEFAULT '',
    match_branch_id INTEGER REFERENCES branches (id) ON DELETE SET NULL,
    imported_at     DATETIME,
    imported_by_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    matched_at      DATETIME
);

-- One package of the other distribution. cover_status keeps upstream's
-- codes (U N R P C S O E D); cover_pn and cover_layer_branch_id name the
-- covering recipe on the match branch; match_rule says which automatic
-- rule found it ('' once a person set the cover).
CREATE TABLE comparison_packages (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    branch_id             INTEGER NOT NULL REFERENCES branches (id) ON DELETE CASCADE,
    name                  TEXT NOT NULL,
    version               TEXT NOT NULL DEFAULT '',
    summary               TEXT NOT NULL DEFAULT '',
    license               TEXT NOT NULL DEFAULT '',
    category              TEXT NOT NULL DEFAULT '',
    provides              TEXT NOT NULL DEFAULT '',
    origin                TEXT NOT NULL DEFAULT '',
    cover_status          TEXT NOT NULL DEFAULT 'U',
    cover_pn              TEXT NOT NULL DEFAULT '',
    cover_layer_branch_id INTEGER REFERENCES layer_branches (id) ON DELETE SET NULL,
    cover_verified        BOOLEAN NOT NULL DEFAULT FALSE,
    cover_comment         TEXT NOT NULL DEFAULT '',
    match_rule            TEXT NOT NULL DEFAULT '',
    needs_attention       BOOLEAN NOT NULL DEFAULT FALSE,
    deleted               BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at            DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (branch_id, name)
);
CREATE INDEX comparison_packages_status_idx ON comparison_packages (branch_id, cover_status);
CREATE INDEX comparison_packages_cover_lb_idx ON comparison_packages (cover_layer_branch_id);

-- Every change of a cover, by a person (user_id), the command line or the
-- automatic matcher (origin), with the values before and after.
CREATE TABLE comparison_cover_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    package_id  INTEGER NOT NULL REFERENCES comparison_packages (id) ON DELETE CASCADE,
    user_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    origin      TEXT NOT NULL,
    old_status  TEXT NOT NULL DEFAULT '',
    new_status  TEXT NOT NULL DEFAULT '',
    old_cover   TEXT NOT NULL DEFAULT '',
    new_cover   TEXT NOT NULL DEFAULT '',
    verified    BOOLEAN NOT NULL DEFAULT FALSE,
    comment     TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX comparison_cover_changes_package_idx ON comparison_cover_changes (package_id);

-- Accounts that may confirm or change covers besides administrators
-- (upstream's edit_classic permission).
CREATE TABLE comparison_editors (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- +goose Down
DROP TABLE comparison_editors;
DROP TABLE comparison_cover_changes;
DROP TABLE comparison_packages;
DROP TABLE comparison_branches;

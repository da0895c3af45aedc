-- +goose Up
-- Credentials of private repositories, per URL prefix (longest prefix
-- wins), set by an administrator: kind is token or basic; secret is the
-- token or password sealed with AES-GCM under a key derived from the
-- site's secret (internal/repocreds), never stored in clear.
-- Keep this file and ../postgres/00014_repo_credentials.sql in step.
CREATE TABLE repo_credentials (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    url_prefix TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    username   TEXT NOT NULL DEFAULT '',
    secret     TEXT NOT NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- +goose Down
DROP TABLE repo_credentials;

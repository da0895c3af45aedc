-- +goose Up
-- API tokens: a user creates them on their profile page and sends one as
-- "Authorization: Token <token>" to the API endpoints that act (re-index a
-- layer they maintain). Only a SHA-256 of the token is kept; prefix is its
-- first characters, to tell tokens apart in lists. Revoked tokens stay
-- listed, marked, until the user deletes their account.
-- Keep this file and ../postgres/00006_api_tokens.sql in step.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_used_at DATETIME,
    revoked_at   DATETIME
);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

-- +goose Down
DROP TABLE api_tokens;

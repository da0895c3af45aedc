-- +goose Up
-- Accounts, review and mail. Keep in step with ../postgres/00005_accounts.sql.

-- Single-use tokens mailed to a user: email verification, email change and
-- password reset. Only a SHA-256 of the token is stored; email is the
-- address the token proves (for verification and email change).
CREATE TABLE user_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify', 'email', 'reset')),
    token_hash TEXT NOT NULL UNIQUE,
    email      TEXT NOT NULL DEFAULT '',
    expires_at DATETIME NOT NULL,
    used_at    DATETIME,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX user_tokens_user_id_idx ON user_tokens (user_id);
CREATE INDEX user_tokens_expires_at_idx ON user_tokens (expires_at);

-- Counted attempts for rate limits (failed logins, registrations, reset
-- requests, submissions), shared by every web process. key_hash is an HMAC
-- of the client address or account email, never the value itself.
CREATE TABLE auth_attempts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket     TEXT NOT NULL,
    key_hash   TEXT NOT NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX auth_attempts_bucket_key_idx ON auth_attempts (bucket, key_hash, created_at);
CREATE INDEX auth_attempts_created_at_idx ON auth_attempts (created_at);

-- Outgoing mail, one row per mail job that finished: 'sent' over SMTP
-- (body not kept) or 'logged' when no SMTP server is configured (the body is
-- the only copy, for administrators). job_id makes a job send at most once.
CREATE TABLE mails (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id     INTEGER UNIQUE,
    kind       TEXT NOT NULL DEFAULT '',
    recipients TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL CHECK (status IN ('sent', 'logged')),
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX mails_created_at_idx ON mails (created_at);

-- Change history of layers (upstream keeps it with django-reversion): who
-- did what, when. Rows outlive the layer and the account.
CREATE TABLE layer_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    layer_id   INTEGER REFERENCES layers (id) ON DELETE SET NULL,
    layer_name TEXT NOT NULL,
    user_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    user_email TEXT NOT NULL DEFAULT '',
    action     TEXT NOT NULL,
    details    TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX layer_changes_layer_id_idx ON layer_changes (layer_id, created_at);
CREATE INDEX layer_changes_user_id_idx ON layer_changes (user_id);
CREATE INDEX layer_changes_created_at_idx ON layer_changes (created_at);

-- +goose Down
DROP TABLE layer_changes;
DROP TABLE mails;
DROP TABLE auth_attempts;
DROP TABLE user_tokens;

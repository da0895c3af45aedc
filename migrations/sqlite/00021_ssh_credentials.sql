-- +goose Up
-- SSH deploy keys beside the https credentials of private repositories:
-- kind ssh keeps the private key sealed in secret, like a token, and the
-- server's pinned public host key (a known_hosts line; public) in clear
-- here, so the administrators' page can show its fingerprint.
-- Keep this file and ../postgres/00021_ssh_credentials.sql in step.
ALTER TABLE repo_credentials ADD COLUMN host_key TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE repo_credentials DROP COLUMN host_key;

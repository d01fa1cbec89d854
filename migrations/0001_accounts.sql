-- People who sign in, and their cookie sessions.

CREATE TABLE users (
    id            text PRIMARY KEY,                 -- ULID
    email         text NOT NULL,                    -- as typed (trimmed); compared lower-cased
    name          text NOT NULL DEFAULT '',
    password_hash text NOT NULL,                    -- Argon2id, PHC string form
    is_admin      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,                 -- SHA-256 of the cookie secret; the secret is never stored
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,              -- sliding expiry
    absolute_expires_at timestamptz NOT NULL,       -- no renewal past this
    user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- Failed sign-ins, counted per email and per address to throttle guessing; kept only for the window.
CREATE TABLE login_failures (
    id         bigserial PRIMARY KEY,
    email      text NOT NULL,                       -- lower-cased
    ip         text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_at_idx ON login_failures (email, at);
CREATE INDEX login_failures_ip_at_idx ON login_failures (ip, at);

-- Security events per account (API.md §6).
CREATE TABLE audit_log (
    id          text PRIMARY KEY,                   -- ULID
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    action      text NOT NULL,
    actor_type  text NOT NULL CHECK (actor_type IN ('user', 'api_client')),
    actor_id    text,
    target_id   text,
    ip          text,
    user_agent  text
);
CREATE INDEX audit_log_user_at_idx ON audit_log (user_id, at DESC, id DESC);

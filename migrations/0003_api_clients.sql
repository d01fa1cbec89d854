-- API clients: named, scoped bearer tokens. Only SHA-256 hashes of tokens are stored.

CREATE TABLE api_clients (
    id                  text PRIMARY KEY,           -- ULID
    user_id             text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                text NOT NULL,
    description         text NOT NULL DEFAULT '',
    scopes              text[] NOT NULL,
    restricted_to_sites boolean NOT NULL DEFAULT false,  -- false: every site the owner can access
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz,
    last_used_at        timestamptz
);
CREATE INDEX api_clients_user_id_idx ON api_clients (user_id, created_at DESC);

-- The sites a restricted client may use; a deleted site drops out of every restriction.
CREATE TABLE api_client_sites (
    client_id text NOT NULL REFERENCES api_clients (id) ON DELETE CASCADE,
    site_id   text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    PRIMARY KEY (client_id, site_id)
);
CREATE INDEX api_client_sites_site_id_idx ON api_client_sites (site_id);

-- Live token hashes. A client has one, or two during a rotation's grace period, when the old one
-- carries its own expiry.
CREATE TABLE api_client_tokens (
    token_hash bytea PRIMARY KEY,
    client_id  text NOT NULL REFERENCES api_clients (id) ON DELETE CASCADE,
    hint       text NOT NULL,                       -- hk_live_… plus the last 4 characters
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz
);
CREATE INDEX api_client_tokens_client_id_idx ON api_client_tokens (client_id);

-- Hashes of tokens that were revoked (client deleted, rotated out), so that a refused token can
-- be told "revoked" rather than "invalid". Holds no secret either.
CREATE TABLE api_client_revoked_tokens (
    token_hash bytea PRIMARY KEY,
    revoked_at timestamptz NOT NULL DEFAULT now()
);

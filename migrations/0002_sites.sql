-- Sites and who may see them. The owner is a member too (role 'owner'), so every access check is
-- one lookup in site_members.

CREATE TABLE sites (
    id         text PRIMARY KEY,                    -- ULID
    domain     text NOT NULL UNIQUE,                -- lower-case, no www., no scheme/port/path
    name       text NOT NULL,
    timezone   text NOT NULL DEFAULT 'UTC',         -- IANA name
    owner_id   text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sites_owner_id_idx ON sites (owner_id);

CREATE TABLE site_members (
    site_id    text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, user_id)
);
CREATE INDEX site_members_user_id_idx ON site_members (user_id);

-- Site-owned API clients (issue #15, item 1): a client belongs to a user or to a site, never both.
-- A site's client acts for no person: it reaches its site alone, outlives whoever created it, and
-- goes with the site (ON DELETE CASCADE takes its tokens along).

ALTER TABLE api_clients ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE api_clients ADD COLUMN site_id text REFERENCES sites (id) ON DELETE CASCADE;
-- The person who created the client; NULL once that account is gone (the client stays).
ALTER TABLE api_clients ADD COLUMN created_by text REFERENCES users (id) ON DELETE SET NULL;
UPDATE api_clients SET created_by = user_id;
-- A site's client is always limited to sites (its own, through site_id, with no api_client_sites
-- rows), so that every check made for a site-limited token holds for it too.
ALTER TABLE api_clients ADD CONSTRAINT api_clients_one_owner
    CHECK ((user_id IS NULL) <> (site_id IS NULL) AND (site_id IS NULL OR restricted_to_sites));
CREATE INDEX api_clients_site_id_idx ON api_clients (site_id, created_at DESC) WHERE site_id IS NOT NULL;
CREATE INDEX api_clients_created_by_idx ON api_clients (created_by);

-- The inventory shows who owns each client: the columns of 0005 as they were (owner_email is NULL
-- for a site's client), then the owner's type and site.
CREATE OR REPLACE VIEW reporting.api_clients AS
SELECT c.id AS client_id, c.name, c.description, u.email AS owner_email, c.scopes,
       CASE WHEN c.site_id IS NOT NULL THEN ARRAY[c.site_id]
            WHEN c.restricted_to_sites
            THEN ARRAY(SELECT cs.site_id FROM api_client_sites cs WHERE cs.client_id = c.id ORDER BY cs.site_id)
       END AS site_ids,
       (SELECT t.hint FROM api_client_tokens t WHERE t.client_id = c.id ORDER BY t.created_at DESC LIMIT 1) AS token_hint,
       c.created_at, c.updated_at, c.expires_at, c.last_used_at,
       (c.expires_at IS NOT NULL AND c.expires_at <= now()) AS expired,
       CASE WHEN c.site_id IS NOT NULL THEN 'site' ELSE 'user' END AS owner_type,
       c.site_id AS owner_site_id
FROM api_clients c
LEFT JOIN users u ON u.id = c.user_id;
COMMENT ON VIEW reporting.api_clients IS
    'API clients with owner (a user or a site), scopes, site restriction (NULL: all the owner''s sites), token hint, times and whether expired. No secrets.';
COMMENT ON COLUMN reporting.api_clients.owner_email IS
    'Email of the account a user-owned client belongs to and acts for; NULL for a site-owned client.';
COMMENT ON COLUMN reporting.api_clients.site_ids IS
    'The sites the token is limited to: a site-owned client''s own site, or a user-owned client''s list; NULL: every site its owner can see.';
COMMENT ON COLUMN reporting.api_clients.owner_type IS
    'Who owns the client: user (it acts for that account) or site (it belongs to the site, reaches only it, and outlives its creator).';
COMMENT ON COLUMN reporting.api_clients.owner_site_id IS
    'The site that owns a site-owned client; NULL for a user-owned one.';

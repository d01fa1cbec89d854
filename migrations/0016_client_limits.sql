-- Issue 15, items 2 to 4: the instance's token policy, a rate limit per API client, and requests
-- per client per day.

-- The token policy: one row, written by an instance admin (PUT /api/admin/token-policy). Until an
-- admin sets it there is no row, and the server's defaults apply (HITKEEP_TOKEN_MAX_DAYS for the
-- lifetime). The checks repeat the API's validation, so that no write from anywhere stores a policy
-- that contradicts itself.
CREATE TABLE token_policy (
    singleton                      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    max_lifetime_days              integer CHECK (max_lifetime_days BETWEEN 1 AND 3650),  -- NULL: no limit
    expiry_required                boolean NOT NULL,
    allowed_scopes                 text[] NOT NULL CHECK (cardinality(allowed_scopes) > 0),
    default_rate_limit_per_minute  integer NOT NULL CHECK (default_rate_limit_per_minute > 0),
    max_rate_limit_per_minute      integer NOT NULL CHECK (max_rate_limit_per_minute <= 1000000000),
    updated_at                     timestamptz NOT NULL,
    updated_by                     text REFERENCES users (id) ON DELETE SET NULL,
    CHECK (max_rate_limit_per_minute >= default_rate_limit_per_minute)
);

-- Requests a minute each client may make. Clients made before this migration, and rows written by
-- anything but the server (which always gives the policy's value), get the default the policy
-- starts with.
ALTER TABLE api_clients ADD COLUMN rate_limit_per_minute integer NOT NULL DEFAULT 600
    CHECK (rate_limit_per_minute BETWEEN 1 AND 1000000000);

-- The rate limiter's ledger: how many requests of each client's minute have been handed out, in
-- chunks, to the pools (ClientRateLimiter.swift). One row per client per minute it was used in;
-- the roll-up process deletes rows once their minute is over. No foreign key: the row is written
-- in a request's hot path, and a deleted client's rows go within two minutes anyway.
CREATE TABLE api_client_rate_windows (
    client_id    text NOT NULL,
    window_start timestamptz NOT NULL,
    taken        bigint NOT NULL,       -- requests handed out so far, never above the limit
    last_grant   bigint NOT NULL,       -- what the last lease handed out (RETURNING cannot see the old row)
    PRIMARY KEY (client_id, window_start)
);

-- Requests per client per UTC day, by endpoint group and status class, drained from the pools'
-- shared memory about once a second. Kept 400 days.
CREATE TABLE api_client_usage (
    client_id      text NOT NULL REFERENCES api_clients (id) ON DELETE CASCADE,
    day            date NOT NULL,
    endpoint_group text NOT NULL CHECK (endpoint_group IN ('stats', 'sites', 'ingest', 'token', 'other')),
    status_class   text NOT NULL CHECK (status_class IN ('2xx', '3xx', '4xx', '429', '5xx')),
    requests       bigint NOT NULL CHECK (requests >= 0),
    PRIMARY KEY (client_id, day, endpoint_group, status_class)
);
CREATE INDEX api_client_usage_day_idx ON api_client_usage (day);

CREATE VIEW reporting.api_client_usage AS
SELECT u.client_id, c.name AS client_name, o.email AS owner_email, u.day, u.endpoint_group, u.status_class, u.requests
FROM api_client_usage u
JOIN api_clients c ON c.id = u.client_id
JOIN users o ON o.id = c.user_id;
COMMENT ON VIEW reporting.api_client_usage IS
    'Requests per API client per UTC day, by endpoint group and status class; 429 is counted apart from the other 4xx. Kept 400 days.';
COMMENT ON COLUMN reporting.api_client_usage.client_id IS 'The API client''s id (ULID).';
COMMENT ON COLUMN reporting.api_client_usage.client_name IS 'The name its owner gave it.';
COMMENT ON COLUMN reporting.api_client_usage.owner_email IS 'Email of the account the client belongs to.';
COMMENT ON COLUMN reporting.api_client_usage.day IS 'The UTC calendar day the requests were answered on.';
COMMENT ON COLUMN reporting.api_client_usage.endpoint_group IS 'stats (/api/sites/{id}/stats…, /api/stats/…), sites (other /api/sites…), ingest (/api/ingest/…), token (/api/token), other.';
COMMENT ON COLUMN reporting.api_client_usage.status_class IS '2xx, 3xx, 4xx (without 429), 429 (refused by the rate limit) or 5xx.';
COMMENT ON COLUMN reporting.api_client_usage.requests IS 'How many such requests the client''s token made that day.';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hitkeep_reporting') THEN
        EXECUTE 'GRANT SELECT ON reporting.api_client_usage TO hitkeep_reporting';
    END IF;
END
$$;

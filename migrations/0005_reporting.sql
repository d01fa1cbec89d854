-- Reporting with psql (API.md §7): documented, read-only views in schema `reporting`, and a role
-- `hitkeep_reporting` that can read them and nothing else. The views run with their owner's rights,
-- so the role needs no access to the tables underneath: no password hashes, token hashes or
-- sessions are reachable through it. See docs/reporting.md for examples.

CREATE SCHEMA reporting;
COMMENT ON SCHEMA reporting IS 'Read-only views for reporting with psql; granted to the role hitkeep_reporting.';

CREATE VIEW reporting.sites AS
SELECT s.id AS site_id, s.domain, s.name, s.timezone, s.created_at, u.email AS owner_email
FROM sites s
JOIN users u ON u.id = s.owner_id;
COMMENT ON VIEW reporting.sites IS 'Every site: id, domain, name, time zone, creation time and the owner''s email.';

-- A day is a calendar day in the site's time zone. Sessions, bounces and durations follow API.md
-- §5.3 with the day as the range (a session spanning midnight counts on both days), computed from
-- the hourly rollups; this is exact for every zone whose offsets are whole hours.
CREATE VIEW reporting.daily_stats AS
SELECT s.id AS site_id, s.domain, d.day,
       sum(t.pageviews)::bigint AS pageviews,
       coalesce(sum(t.session_hours) FILTER (WHERE t.prev_hour < d.day_start), 0)::bigint AS sessions,
       coalesce(sum(t.singles) FILTER (WHERE t.prev_hour < d.day_start AND t.next_hour >= d.day_end), 0)::bigint AS bounces,
       round(100.0 * coalesce(sum(t.singles) FILTER (WHERE t.prev_hour < d.day_start AND t.next_hour >= d.day_end), 0)
             / nullif(sum(t.session_hours) FILTER (WHERE t.prev_hour < d.day_start), 0), 2) AS bounce_rate,
       round((coalesce(sum(t.last_offset_us + extract(epoch FROM t.hour)::bigint * 1000000 * t.session_hours)
                       FILTER (WHERE t.next_hour >= d.day_end), 0)
            - coalesce(sum(t.first_offset_us + extract(epoch FROM t.hour)::bigint * 1000000 * t.session_hours)
                       FILTER (WHERE t.prev_hour < d.day_start), 0))
             / 1000000.0 / nullif(sum(t.session_hours) FILTER (WHERE t.prev_hour < d.day_start), 0), 2)
           AS avg_session_seconds
FROM sites s
JOIN traffic_hourly t ON t.site_id = s.id
CROSS JOIN LATERAL (SELECT (t.hour AT TIME ZONE s.timezone)::date AS day) AS local_day
CROSS JOIN LATERAL (SELECT local_day.day,
                           local_day.day::timestamp AT TIME ZONE s.timezone AS day_start,
                           (local_day.day + 1)::timestamp AT TIME ZONE s.timezone AS day_end) AS d
GROUP BY s.id, s.domain, d.day, d.day_start, d.day_end
HAVING sum(t.pageviews) > 0;
COMMENT ON VIEW reporting.daily_stats IS
    'Per site and calendar day in the site''s time zone: page views, sessions, bounces, bounce rate (%) and mean session duration (s), as the stats API defines them.';

CREATE VIEW reporting.top_pages_daily AS
SELECT s.id AS site_id, s.domain, (c.bucket AT TIME ZONE s.timezone)::date AS day, c.value AS path,
       sum(c.pageviews)::bigint AS pageviews
FROM sites s
JOIN dimension_counts c ON c.site_id = s.id AND c.span = 'hour' AND c.dimension = 'path'
GROUP BY s.id, s.domain, 3, c.value
HAVING sum(c.pageviews) > 0;
COMMENT ON VIEW reporting.top_pages_daily IS
    'Page views per site, calendar day (site''s time zone) and path. Order by pageviews DESC for the top pages.';

-- The inventory of API clients: who owns which token, what it may do, whether it is still alive.
-- Token hashes are not here, only the hint the dashboard shows (hk_live_… plus 4 characters).
CREATE VIEW reporting.api_clients AS
SELECT c.id AS client_id, c.name, c.description, u.email AS owner_email, c.scopes,
       CASE WHEN c.restricted_to_sites
            THEN ARRAY(SELECT cs.site_id FROM api_client_sites cs WHERE cs.client_id = c.id ORDER BY cs.site_id)
       END AS site_ids,
       (SELECT t.hint FROM api_client_tokens t WHERE t.client_id = c.id ORDER BY t.created_at DESC LIMIT 1) AS token_hint,
       c.created_at, c.updated_at, c.expires_at, c.last_used_at,
       (c.expires_at IS NOT NULL AND c.expires_at <= now()) AS expired
FROM api_clients c
JOIN users u ON u.id = c.user_id;
COMMENT ON VIEW reporting.api_clients IS
    'API clients with owner, scopes, site restriction (NULL: all the owner''s sites), token hint, times and whether expired. No secrets.';

-- The role. Creating it needs CREATEROLE; an installation whose application role lacks it creates
-- the role beforehand (as a superuser: CREATE ROLE hitkeep_reporting NOLOGIN) and the grants below
-- apply; otherwise migration goes on and says so.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hitkeep_reporting') THEN
        BEGIN
            CREATE ROLE hitkeep_reporting NOLOGIN;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'role hitkeep_reporting not created (no CREATEROLE); create it as a superuser and re-run the grants of migrations/0005_reporting.sql';
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hitkeep_reporting') THEN
        EXECUTE 'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM hitkeep_reporting';
        EXECUTE 'GRANT USAGE ON SCHEMA reporting TO hitkeep_reporting';
        EXECUTE 'GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO hitkeep_reporting';
        -- Views added to the schema by later migrations are readable too.
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO hitkeep_reporting';
    END IF;
END
$$;

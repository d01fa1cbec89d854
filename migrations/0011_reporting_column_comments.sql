-- Every column of the reporting views described where psql shows it (\d+ reporting.*), so that a
-- person reporting with psql needs nothing but the database to know what a number means.

COMMENT ON COLUMN reporting.sites.site_id IS 'The site''s id (ULID), as the API and the dashboard show it.';
COMMENT ON COLUMN reporting.sites.domain IS 'The registered domain: lower case, without scheme, port, path or www.';
COMMENT ON COLUMN reporting.sites.name IS 'The display name the owner gave the site.';
COMMENT ON COLUMN reporting.sites.timezone IS 'The site''s IANA time zone; days in the other views are calendar days in it.';
COMMENT ON COLUMN reporting.sites.created_at IS 'When the site was registered.';
COMMENT ON COLUMN reporting.sites.owner_email IS 'Email of the account that owns the site.';

COMMENT ON COLUMN reporting.daily_stats.site_id IS 'The site''s id (ULID).';
COMMENT ON COLUMN reporting.daily_stats.domain IS 'The site''s domain.';
COMMENT ON COLUMN reporting.daily_stats.day IS 'Calendar day in the site''s time zone; days without page views have no row.';
COMMENT ON COLUMN reporting.daily_stats.pageviews IS 'Page views that day.';
COMMENT ON COLUMN reporting.daily_stats.sessions IS 'Sessions with a page view that day (a session spanning midnight counts on both days).';
COMMENT ON COLUMN reporting.daily_stats.bounces IS 'Sessions whose only page view that day was one page view.';
COMMENT ON COLUMN reporting.daily_stats.bounce_rate IS 'bounces / sessions, in percent, two decimals.';
COMMENT ON COLUMN reporting.daily_stats.avg_session_seconds IS 'Mean time from a session''s first to its last page view that day, in seconds, two decimals.';

COMMENT ON COLUMN reporting.top_pages_daily.site_id IS 'The site''s id (ULID).';
COMMENT ON COLUMN reporting.top_pages_daily.domain IS 'The site''s domain.';
COMMENT ON COLUMN reporting.top_pages_daily.day IS 'Calendar day in the site''s time zone.';
COMMENT ON COLUMN reporting.top_pages_daily.path IS 'The page''s path, without query string or fragment.';
COMMENT ON COLUMN reporting.top_pages_daily.pageviews IS 'Page views of that path that day.';

COMMENT ON COLUMN reporting.api_clients.client_id IS 'The API client''s id (ULID).';
COMMENT ON COLUMN reporting.api_clients.name IS 'The name its owner gave it.';
COMMENT ON COLUMN reporting.api_clients.description IS 'Free text its owner wrote about it.';
COMMENT ON COLUMN reporting.api_clients.owner_email IS 'Email of the account the client belongs to and acts for.';
COMMENT ON COLUMN reporting.api_clients.scopes IS 'What its token may do: sites:read, sites:write, stats:read, ingest:write, user:read.';
COMMENT ON COLUMN reporting.api_clients.site_ids IS 'The sites the token is limited to; NULL: every site its owner can see.';
COMMENT ON COLUMN reporting.api_clients.token_hint IS 'hk_live_ and the last 4 characters of its newest token; never the token or its hash.';
COMMENT ON COLUMN reporting.api_clients.created_at IS 'When the client was created.';
COMMENT ON COLUMN reporting.api_clients.updated_at IS 'When it was last renamed, changed or rotated.';
COMMENT ON COLUMN reporting.api_clients.expires_at IS 'When its tokens stop working; NULL: never.';
COMMENT ON COLUMN reporting.api_clients.last_used_at IS 'Its last use, to the minute; NULL: never used.';
COMMENT ON COLUMN reporting.api_clients.expired IS 'Whether expires_at has passed.';

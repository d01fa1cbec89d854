-- Page views of subdomains, and page views that were answered 202 but not stored (issue 18).
--
-- A page view from `blog.example.com` counts for the registered site `example.com` unless
-- `blog.example.com` is a site of its own; the event keeps the host it came from in `hostname`.
-- '' stands for "the site's own domain", as '' stands for "none" in every other text column: a
-- nullable column would cost each row a null bitmap, which takes the tuple header from 24 to 32
-- bytes, where an empty text is one byte (measured with pageinspect on PostgreSQL 15), so the
-- typical row does not grow.
ALTER TABLE events ADD COLUMN hostname text NOT NULL DEFAULT '';
ALTER TABLE event_queue ADD COLUMN hostname text NOT NULL DEFAULT '';

-- 0008's fold, copying the new column too.
CREATE OR REPLACE FUNCTION fold_queued_events(only_site text DEFAULT NULL, max_events integer DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $function$
DECLARE
    sites text[];
    moved bigint;
BEGIN
    IF only_site IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(72711, hashtext(only_site));
        sites := ARRAY[only_site];
    ELSE
        SELECT coalesce(array_agg(site_id), '{}') INTO sites
        FROM (SELECT DISTINCT site_id FROM event_queue ORDER BY 1) AS queued
        WHERE pg_try_advisory_xact_lock(72711, hashtext(site_id));
    END IF;
    IF cardinality(sites) = 0 OR NOT EXISTS (SELECT 1 FROM event_queue WHERE site_id = ANY (sites)) THEN
        RETURN 0;
    END IF;

    WITH taken AS (
        DELETE FROM event_queue
        WHERE site_id = ANY (sites)
          AND (max_events IS NULL OR ctid = ANY (ARRAY(
                  SELECT ctid FROM event_queue WHERE site_id = ANY (sites) ORDER BY id LIMIT max_events)))
        RETURNING *
    )
    INSERT INTO events (site_id, occurred_at, session_id, path, referrer_host, referrer_url, device, browser, os,
                        country, language, utm_source, utm_medium, utm_campaign, utm_term, utm_content, hostname)
    SELECT t.site_id, t.occurred_at, t.session_id, t.path, t.referrer_host, t.referrer_url, t.device, t.browser,
           t.os, t.country, t.language, t.utm_source, t.utm_medium, t.utm_campaign, t.utm_term, t.utm_content,
           t.hostname
    FROM taken t
    WHERE EXISTS (SELECT 1 FROM sites s WHERE s.id = t.site_id)
    ORDER BY t.id;
    GET DIAGNOSTICS moved = ROW_COUNT;
    RETURN moved;
END
$function$;

-- The site a host's page views belong to: the site registered under the host itself, else the one
-- under its nearest registered parent domain (`a.blog.example.com` → `blog.example.com` before
-- `example.com`). NULL when neither exists.
CREATE FUNCTION site_of_host(host text) RETURNS text LANGUAGE sql STABLE AS $function$
    SELECT id FROM sites
    WHERE domain = host OR right(host, length(domain) + 1) = '.' || domain
    ORDER BY length(domain) DESC
    LIMIT 1
$function$;

-- Where a dropped page view is counted: the site of its host as above, else, for a host that is
-- the parent of exactly one registered site (`example.com` when only `shop.example.com` is
-- registered), that site. NULL otherwise (a host of no one's, `localhost` without a site, an IP
-- address): such page views are counted for the instance, for its operators.
CREATE FUNCTION likely_site_of_host(host text) RETURNS text LANGUAGE sql STABLE AS $function$
    SELECT coalesce(site_of_host(host),
                    (SELECT min(id) FROM sites WHERE right(domain, length(host) + 1) = '.' || host HAVING count(*) = 1))
$function$;

-- Page views answered 202 and not stored, per site (NULL: the instance), day and reason. Workers
-- count in memory and add their counts here about once a second at most (DroppedPageViews in the
-- Swift sources), so that a flood of dropped page views is not a flood of writes. The day is the
-- site's calendar day (UTC for the instance's row).
CREATE TABLE dropped_page_views (
    site_id    text REFERENCES sites (id) ON DELETE CASCADE,
    day        date NOT NULL,
    reason     text NOT NULL CHECK (reason IN ('unknown-origin', 'bot', 'prefetch')),
    page_views bigint NOT NULL CHECK (page_views > 0),
    UNIQUE NULLS NOT DISTINCT (site_id, day, reason)
);

-- One row per stored page view, for reports that the daily views do not answer.
CREATE VIEW reporting.page_views AS
SELECT e.site_id, s.domain, e.occurred_at, (e.occurred_at AT TIME ZONE s.timezone)::date AS day,
       CASE WHEN e.hostname = '' THEN s.domain ELSE e.hostname END AS hostname,
       e.path, e.session_id, e.referrer_host, e.referrer_url, e.device, e.browser, e.os, e.country, e.language,
       e.utm_source, e.utm_medium, e.utm_campaign, e.utm_term, e.utm_content
FROM events e
JOIN sites s ON s.id = e.site_id;
COMMENT ON VIEW reporting.page_views IS
    'Every stored page view (the raw events; a page view queued in the last second or two may be missing), with the host it came from.';
COMMENT ON COLUMN reporting.page_views.site_id IS 'The site''s id (ULID).';
COMMENT ON COLUMN reporting.page_views.domain IS 'The site''s registered domain.';
COMMENT ON COLUMN reporting.page_views.occurred_at IS 'When the page was viewed.';
COMMENT ON COLUMN reporting.page_views.day IS 'Calendar day of occurred_at in the site''s time zone.';
COMMENT ON COLUMN reporting.page_views.hostname IS 'The host the page was viewed on, without www.: the domain, or a subdomain of it that is no site of its own.';
COMMENT ON COLUMN reporting.page_views.path IS 'The page''s path, without query string or fragment.';
COMMENT ON COLUMN reporting.page_views.session_id IS 'The tracker''s session id: an opaque token per visit, not a person.';
COMMENT ON COLUMN reporting.page_views.referrer_host IS 'The referring host without www.; empty when none or the site itself.';
COMMENT ON COLUMN reporting.page_views.referrer_url IS 'The referring URL without query string or fragment; empty when none.';
COMMENT ON COLUMN reporting.page_views.device IS 'desktop, mobile or tablet, from the user agent; empty when unknown.';
COMMENT ON COLUMN reporting.page_views.browser IS 'The browser, from the user agent; empty when unknown.';
COMMENT ON COLUMN reporting.page_views.os IS 'The operating system, from the user agent; empty when unknown.';
COMMENT ON COLUMN reporting.page_views.country IS 'ISO 3166-1 alpha-2 country from nginx''s GeoIP lookup; empty when unknown.';
COMMENT ON COLUMN reporting.page_views.language IS 'The browser''s language tag, such as en-US; empty when unknown.';
COMMENT ON COLUMN reporting.page_views.utm_source IS 'utm_source of the page''s URL; empty when none.';
COMMENT ON COLUMN reporting.page_views.utm_medium IS 'utm_medium of the page''s URL; empty when none.';
COMMENT ON COLUMN reporting.page_views.utm_campaign IS 'utm_campaign of the page''s URL; empty when none.';
COMMENT ON COLUMN reporting.page_views.utm_term IS 'utm_term of the page''s URL; empty when none.';
COMMENT ON COLUMN reporting.page_views.utm_content IS 'utm_content of the page''s URL; empty when none.';

CREATE VIEW reporting.dropped_page_views AS
SELECT d.site_id, s.domain, d.day, d.reason, d.page_views
FROM dropped_page_views d
LEFT JOIN sites s ON s.id = d.site_id;
COMMENT ON VIEW reporting.dropped_page_views IS
    'Page views answered 202 but not stored, per site and day and reason; site_id NULL for those no site could be named for.';
COMMENT ON COLUMN reporting.dropped_page_views.site_id IS 'The site''s id (ULID); NULL for the instance: origins that belong to no site, or to more than one.';
COMMENT ON COLUMN reporting.dropped_page_views.domain IS 'The site''s domain; NULL with site_id.';
COMMENT ON COLUMN reporting.dropped_page_views.day IS 'Calendar day in the site''s time zone (UTC for the instance).';
COMMENT ON COLUMN reporting.dropped_page_views.reason IS 'unknown-origin, bot or prefetch: the HitKeep-Dropped header the page views were answered with.';
COMMENT ON COLUMN reporting.dropped_page_views.page_views IS 'How many page views were dropped.';

-- Breakdowns under a filter by the days of the site's own zone (issue 14). 0026–0030 added up UTC
-- days, so a range of dates in another zone held one UTC day only partly at one end: on a site in
-- Europe/Berlin, `from=2026-11-06&to=2026-12-04` is [11-05 23:00 UTC, 12-04 23:00 UTC), and the 23
-- hours of 4 December, whose hours the day's closing had dropped, were read from the raw events
-- (570 ms for the paths under `referrer:(none)` at ten million page views a month, against 35 ms
-- over whole days). The dashboard and every request without `timezone` ask in the site's zone, so
-- its days are the ones to add up: the same rows, and no more of them. A day of a daylight-saving
-- change has 23 or 25 hours, so a period now says where it ends (`ends`). Hours stay UTC hours; in
-- a zone a half or quarter hour off UTC, the hour a day starts inside is never part of a day and
-- stays added up as an hour.
--
-- Days already added up are kept: they are exact over their UTC day, which a question in UTC still
-- reads. The closings add up the site's own days (newest first), and a day so added up drops the
-- days of another zone it overlaps; so does a day added up after a site changes its zone.

ALTER TABLE filtered_breakdown_closed ADD COLUMN ends timestamptz;
UPDATE filtered_breakdown_closed SET ends = bucket + CASE span WHEN 'day' THEN interval '1 day' ELSE interval '1 hour' END;
ALTER TABLE filtered_breakdown_closed ALTER COLUMN ends SET NOT NULL,
    ADD CONSTRAINT filtered_breakdown_closed_ends_check CHECK (ends > bucket);

-- The days a default range starts in, in the site's zone: the one 30 days back today and the one
-- 29 days back, which it starts in tomorrow (0027 kept the same two UTC days). Their hours stay
-- added up after the day is.
DROP FUNCTION filtered_breakdown_keeps_hours(timestamptz);
CREATE FUNCTION filtered_breakdown_keeps_hours(day timestamptz, zone text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $function$
    SELECT (day AT TIME ZONE zone)::date - (now() AT TIME ZONE zone)::date BETWEEN -30 AND -29
$function$;

-- Adds up `dimension` over the UTC hour, or the day of the site's zone (`span`), starting at
-- `closing`, as in 0030.
CREATE OR REPLACE FUNCTION close_filtered_breakdown(site text, dimension text, span text, closing timestamptz) RETURNS boolean
LANGUAGE plpgsql
-- Custom plans: the column and the grouping chosen below by `dimension` are then constants of the plan.
SET plan_cache_mode = force_custom_plan SET jit = off SET work_mem = '64MB'
AS $function$
DECLARE
    zone text := (SELECT s.timezone FROM sites s WHERE s.id = site);
    local_day date := (closing AT TIME ZONE zone)::date;
    ending timestamptz;
    seen pg_snapshot;
BEGIN
    IF span = 'hour' AND date_bin('1 hour', closing, 'epoch') = closing THEN
        ending := closing + interval '1 hour';
    ELSIF span = 'day' AND local_to_instant(local_day::timestamp, zone) = closing THEN
        ending := local_to_instant((local_day + 1)::timestamp, zone);
    ELSE
        RAISE EXCEPTION 'close_filtered_breakdown: % is not the start of a UTC hour or of a day in the site''s zone (%)',
            closing, coalesce(zone, 'no such site');
    END IF;
    -- One closing at a time (the roll-up process, `hitkeep roll-up --once`, an operator): two
    -- would add up the same period, and one of them fail on its key.
    PERFORM pg_advisory_xact_lock(72712, 0);
    seen := pg_current_snapshot();
    DELETE FROM filtered_breakdown_closed c
    WHERE c.site_id = site AND c.dimension = close_filtered_breakdown.dimension
      AND c.span = close_filtered_breakdown.span AND c.bucket = closing;
    -- One statement, one snapshot, taken after `seen`: whatever it counts, `seen` may have missed,
    -- never the other way round.
    WITH crossing AS MATERIALIZED (
        -- Session-hours link a session's active hours (0004): a session with page views outside
        -- the period has an hour in it whose link leads outside.
        -- An hour the period starts or ends inside (days in Asia/Kolkata start at 18:30 UTC) may
        -- hold page views on both sides: its sessions count as crossing.
        SELECT DISTINCT session_id FROM session_hours
        WHERE site_id = site AND hour >= date_bin('1 hour', closing, 'epoch') AND hour < ending
          AND ((prev_hour < closing AND prev_hour <> '-infinity')
               OR (next_hour >= ending AND next_hour <> 'infinity')
               OR hour < closing OR hour + interval '1 hour' > ending)
    ), closed AS (
        INSERT INTO filtered_breakdown_closed (site_id, dimension, span, bucket, ends, crossing_sessions)
        SELECT site, dimension, span, closing, ending, coalesce(array_agg(session_id ORDER BY session_id), '{}') FROM crossing
    ), period_events AS NOT MATERIALIZED (
        SELECT e.id, e.session_id, e.occurred_at,
               CASE close_filtered_breakdown.dimension WHEN 'path' THEN e.path WHEN 'referrer' THEN e.referrer_host
                              WHEN 'utm_source' THEN e.utm_source WHEN 'utm_medium' THEN e.utm_medium
                              WHEN 'utm_campaign' THEN e.utm_campaign WHEN 'hostname' THEN e.hostname
                              WHEN 'entry' THEN e.path WHEN 'exit' THEN e.path WHEN 'device' THEN e.device
                              WHEN 'browser' THEN e.browser WHEN 'os' THEN e.os WHEN 'country' THEN e.country
                              WHEN 'language' THEN e.language END AS value,
               e.path, e.referrer_host, e.utm_source, e.utm_medium, e.utm_campaign, e.hostname,
               e.device, e.browser, e.os, e.country, e.language
        FROM events e
        WHERE e.site_id = site AND e.occurred_at >= closing AND e.occurred_at < ending
          AND date_bin('1 hour', e.occurred_at, 'epoch') >= date_bin('1 hour', closing, 'epoch')
          AND date_bin('1 hour', e.occurred_at, 'epoch') < ending
          AND NOT EXISTS (SELECT 1 FROM crossing c WHERE c.session_id = e.session_id)
    ), pieces AS (
        -- Per session, filter value and value: the session's page views with both.
        SELECT f.dimension AS filter_dimension, f.value AS filter_value, e.value, count(*) AS n,
               max(e.occurred_at) - min(e.occurred_at) AS piece_span
        FROM period_events e
        CROSS JOIN LATERAL (VALUES ('path', e.path), ('referrer', e.referrer_host), ('utm_source', e.utm_source),
                                   ('utm_medium', e.utm_medium), ('utm_campaign', e.utm_campaign), ('hostname', e.hostname),
                                   ('device', e.device), ('browser', e.browser), ('os', e.os),
                                   ('country', e.country), ('language', e.language)) AS f (dimension, value)
        WHERE close_filtered_breakdown.dimension NOT IN ('entry', 'exit')
          -- A profile's dimension under a profile filter is the profiles' rollups' (0024).
          AND NOT (close_filtered_breakdown.dimension IN ('device', 'browser', 'os', 'country', 'language')
                   AND f.dimension IN ('device', 'browser', 'os', 'country', 'language'))
        GROUP BY e.session_id, f.dimension, f.value, e.value
        UNION ALL
        -- Per session and filter value: the path of the first (last) of its page views with the
        -- value, in the order RawEventBreakdown reads them, and the numbers of them all.
        SELECT f.dimension, f.value,
               (array_agg(e.value ORDER BY e.occurred_at, e.id))[CASE close_filtered_breakdown.dimension WHEN 'entry' THEN 1 ELSE count(*)::integer END],
               count(*), max(e.occurred_at) - min(e.occurred_at)
        FROM period_events e
        CROSS JOIN LATERAL (VALUES ('path', e.path), ('referrer', e.referrer_host), ('utm_source', e.utm_source),
                                   ('utm_medium', e.utm_medium), ('utm_campaign', e.utm_campaign), ('hostname', e.hostname),
                                   ('device', e.device), ('browser', e.browser), ('os', e.os),
                                   ('country', e.country), ('language', e.language)) AS f (dimension, value)
        WHERE close_filtered_breakdown.dimension IN ('entry', 'exit')
        GROUP BY e.session_id, f.dimension, f.value
    ), sums AS (
        -- Added up before the values' ids are looked up: a few thousand sums, not a row per piece.
        SELECT s.filter_dimension, s.filter_value, s.value, sum(s.n)::integer AS pageviews, count(*)::integer AS visitors,
               count(*) FILTER (WHERE s.n = 1)::integer AS singles,
               -- As DurationSQL.microseconds, so that the sums equal the raw events' exactly.
               sum(round(date_part('epoch', s.piece_span) * 1000000)::bigint)::bigint AS duration_us
        FROM pieces s
        GROUP BY 1, 2, 3
    ), keyed AS (
        SELECT k.id AS filter, v.id AS value_id, s.pageviews, s.visitors, s.singles, s.duration_us
        FROM sums s
        JOIN stat_values k ON k.dimension = s.filter_dimension AND k.value_md5 = decode(md5(s.filter_value), 'hex')
        JOIN stat_values v ON v.dimension = CASE WHEN close_filtered_breakdown.dimension IN ('entry', 'exit') THEN 'path'
                                                 ELSE close_filtered_breakdown.dimension END
                          AND v.value_md5 = decode(md5(s.value), 'hex')
    )
    INSERT INTO filtered_breakdowns (site_id, dimension, span, bucket, filter, value_ids, pageviews, visitors, singles, duration_us)
    SELECT site, dimension, span, closing, filter, array_agg(value_id ORDER BY value_id), array_agg(pageviews ORDER BY value_id),
           array_agg(visitors ORDER BY value_id), array_agg(singles ORDER BY value_id),
           array_agg(duration_us ORDER BY value_id)
    FROM keyed
    GROUP BY filter;

    -- The fold's lock, for a moment: a fold of the site that is running commits first, and its
    -- touches are then visible; a later one waits, and reopens what it touches.
    PERFORM pg_advisory_xact_lock(72711, hashtext(site));
    IF EXISTS (SELECT 1 FROM filtered_breakdown_touches t
               WHERE t.site_id = site AND t.hour >= date_bin('1 hour', closing, 'epoch') AND t.hour < ending
                 AND NOT pg_visible_in_snapshot(t.xact, seen)) THEN
        DELETE FROM filtered_breakdown_closed c
        WHERE c.site_id = site AND c.dimension = close_filtered_breakdown.dimension
          AND c.span = close_filtered_breakdown.span AND c.bucket = closing;
        RETURN false;
    END IF;
    IF span = 'day' THEN
        -- The day's hours, and a day of the site's zone before it changed that overlaps this one.
        DELETE FROM filtered_breakdown_closed c
        WHERE c.site_id = site AND c.dimension = close_filtered_breakdown.dimension
          AND ((c.span = 'hour' AND c.bucket >= closing AND c.ends <= ending)
               OR (c.span = 'day' AND c.bucket <> closing AND c.bucket < ending AND c.ends > closing));
    END IF;
    RETURN true;
END
$function$;


-- As in 0030, with the sites' own days among the candidates.
CREATE OR REPLACE FUNCTION close_filtered_breakdowns(max_count integer) RETURNS integer
LANGUAGE plpgsql AS $function$
DECLARE
    candidate record;
    tried integer := 0;
BEGIN
    -- Another closing is running: it goes on with the periods.
    IF NOT pg_try_advisory_xact_lock(72712, 0) THEN
        RETURN 0;
    END IF;
    DELETE FROM filtered_breakdown_touches WHERE touched_at < now() - interval '1 hour';
    DELETE FROM filtered_breakdown_closed h
    WHERE h.span = 'hour'
      AND EXISTS (SELECT 1 FROM filtered_breakdown_closed d JOIN sites s ON s.id = d.site_id
                  WHERE d.site_id = h.site_id AND d.dimension = h.dimension AND d.span = 'day'
                    AND d.bucket <= h.bucket AND h.ends <= d.ends
                    AND NOT filtered_breakdown_keeps_hours(d.bucket, s.timezone));
    FOR candidate IN
        WITH hours AS (
            SELECT DISTINCT t.site_id, s.timezone, t.hour
            FROM traffic_hourly t JOIN sites s ON s.id = t.site_id
            WHERE t.hour < now() - interval '90 minutes' AND t.hour >= coalesce(s.raw_events_since, '-infinity')
        ), days AS (
            -- The site's days that hold those hours (an hour of a zone a half hour off UTC lies in two).
            SELECT site_id, local_to_instant(day::timestamp, timezone) AS bucket,
                   local_to_instant((day + 1)::timestamp, timezone) AS ends
            FROM (SELECT DISTINCT h.site_id, h.timezone, d.day
                  FROM hours h
                  CROSS JOIN LATERAL (VALUES ((h.hour AT TIME ZONE h.timezone)::date),
                                             (((h.hour + interval '59 minutes') AT TIME ZONE h.timezone)::date)) AS d (day)
                 ) AS local_days
        ), dimensions AS (
            SELECT * FROM filtered_breakdown_dimensions()
        )
        SELECT site_id, dimension, span, bucket FROM (
            SELECT d.site_id, n.dimension, n.rank AS dimension_rank, 'day' AS span, d.bucket, 1 AS rank
            FROM days d CROSS JOIN dimensions n
            WHERE d.ends < now() - interval '1 hour'
              -- A whole day of raw events.
              AND d.bucket >= (SELECT coalesce(raw_events_since, '-infinity') FROM sites WHERE id = d.site_id)
            UNION ALL
            SELECT h.site_id, n.dimension, n.rank, 'hour', h.hour, 2
            FROM hours h CROSS JOIN dimensions n
            WHERE NOT EXISTS (SELECT 1 FROM filtered_breakdown_closed c
                              WHERE c.site_id = h.site_id AND c.dimension = n.dimension AND c.span = 'day'
                                AND c.bucket <= h.hour AND h.hour + interval '1 hour' <= c.ends
                                AND NOT filtered_breakdown_keeps_hours(c.bucket, h.timezone))
        ) AS candidates
        WHERE NOT EXISTS (SELECT 1 FROM filtered_breakdown_closed c
                          WHERE c.site_id = candidates.site_id AND c.dimension = candidates.dimension
                            AND c.span = candidates.span AND c.bucket = candidates.bucket)
        ORDER BY rank, bucket DESC, dimension_rank, site_id
        LIMIT max_count
    LOOP
        PERFORM close_filtered_breakdown(candidate.site_id, candidate.dimension, candidate.span, candidate.bucket);
        tried := tried + 1;
    END LOOP;
    RETURN tried;
END
$function$;

-- As in 0029: a touched hour reopens its hour and every day it lies in.
CREATE OR REPLACE FUNCTION filtered_breakdown_touched() RETURNS trigger
LANGUAGE plpgsql AS $function$
BEGIN
    WITH touched AS (
        SELECT DISTINCT h.site_id, h.hour
        FROM (SELECT DISTINCT site_id, session_id FROM new_events) AS n
        JOIN session_hours h ON h.site_id = n.site_id AND h.session_id = n.session_id
                            AND h.hour < now() - interval '1 hour'
    ), noted AS (
        INSERT INTO filtered_breakdown_touches (site_id, hour) SELECT site_id, hour FROM touched
    )
    DELETE FROM filtered_breakdown_closed c
    USING touched t
    WHERE c.site_id = t.site_id
      AND ((c.span = 'hour' AND c.bucket = t.hour)
           OR (c.span = 'day' AND c.bucket < t.hour + interval '1 hour' AND c.ends > t.hour));
    RETURN NULL;
END
$function$;

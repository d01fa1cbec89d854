-- Breakdowns under one filter of any type, and by the visitor profile's dimensions under the
-- others, by UTC day and hour (issue 14). 0026 and 0029 added up the breakdowns under a filter on a
-- profile's dimension alone; under a page, referrer, UTM value or hostname every matching page
-- view of the range was read (`dimension=path&filter=referrer:(none)`, the dashboard's "show all"
-- after a click on a referrer: a second at a million events, past the statement timeout at ten
-- million), and so were the devices, browsers, systems, countries and languages under them.
--
-- A breakdown's numbers come from each session's page views that match the filter, whatever the
-- filter is on: the closing's pieces, one per session, filter value and value, need every filter
-- type beside the profile's five, and the profile's dimensions as values. A breakdown by the
-- filter's own dimension (`dimension=path&filter=path:/`, entry pages under a path filter) has one
-- value per row and costs next to nothing. Under a profile filter, the profile's dimensions are
-- left to the profiles' rollups (0024), as before.
--
-- The periods added up before this migration lack the new filters, and a period's missing row means
-- "no such page view": they are dropped here and added up again by the roll-up process (newest days
-- first, breakdowns reading raw events for the days not done yet; `hitkeep roll-up --once` does it
-- at once).

-- The dimensions added up, in the order the roll-up adds them up: one list for the closings and
-- the constraint below to follow.
CREATE FUNCTION filtered_breakdown_dimensions() RETURNS TABLE (dimension text, rank integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $function$
    VALUES ('path', 1), ('entry', 2), ('exit', 3), ('referrer', 4), ('utm_source', 5), ('utm_medium', 6),
           ('utm_campaign', 7), ('hostname', 8), ('device', 9), ('browser', 10), ('os', 11), ('country', 12),
           ('language', 13)
$function$;

DELETE FROM filtered_breakdown_closed;
ALTER TABLE filtered_breakdown_closed DROP CONSTRAINT filtered_breakdown_closed_dimension_check,
    ADD CONSTRAINT filtered_breakdown_closed_dimension_check
        CHECK (dimension IN ('path', 'entry', 'exit', 'referrer', 'utm_source', 'utm_medium', 'utm_campaign', 'hostname',
                             'device', 'browser', 'os', 'country', 'language'));

CREATE OR REPLACE FUNCTION close_filtered_breakdown(site text, dimension text, span text, closing timestamptz) RETURNS boolean
LANGUAGE plpgsql
-- Custom plans: the column and the grouping chosen below by `dimension` are then constants of the plan.
SET plan_cache_mode = force_custom_plan SET jit = off SET work_mem = '64MB'
AS $function$
DECLARE
    span_length interval := CASE span WHEN 'day' THEN interval '1 day' WHEN 'hour' THEN interval '1 hour' END;
    seen pg_snapshot;
BEGIN
    IF span_length IS NULL OR date_bin(span_length, closing, 'epoch') <> closing THEN
        RAISE EXCEPTION 'close_filtered_breakdown: % is not the start of a UTC %', closing, span;
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
        SELECT DISTINCT session_id FROM session_hours
        WHERE site_id = site AND hour >= closing AND hour < closing + span_length
          AND ((prev_hour < closing AND prev_hour <> '-infinity')
               OR (next_hour >= closing + span_length AND next_hour <> 'infinity'))
    ), closed AS (
        INSERT INTO filtered_breakdown_closed (site_id, dimension, span, bucket, crossing_sessions)
        SELECT site, dimension, span, closing, coalesce(array_agg(session_id ORDER BY session_id), '{}') FROM crossing
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
        WHERE e.site_id = site AND e.occurred_at >= closing AND e.occurred_at < closing + span_length
          AND date_bin('1 hour', e.occurred_at, 'epoch') >= closing
          AND date_bin('1 hour', e.occurred_at, 'epoch') < closing + span_length
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
               WHERE t.site_id = site AND t.hour >= closing AND t.hour < closing + span_length
                 AND NOT pg_visible_in_snapshot(t.xact, seen)) THEN
        DELETE FROM filtered_breakdown_closed c
        WHERE c.site_id = site AND c.dimension = close_filtered_breakdown.dimension
          AND c.span = close_filtered_breakdown.span AND c.bucket = closing;
        RETURN false;
    END IF;
    IF span = 'day' THEN
        DELETE FROM filtered_breakdown_closed c
        WHERE c.site_id = site AND c.dimension = close_filtered_breakdown.dimension AND c.span = 'hour'
          AND c.bucket >= closing AND c.bucket < closing + span_length;
    END IF;
    RETURN true;
END
$function$;

-- As in 0029, over the dimensions above.
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
    WHERE h.span = 'hour' AND NOT filtered_breakdown_keeps_hours(date_bin('1 day', h.bucket, 'epoch'))
      AND EXISTS (SELECT 1 FROM filtered_breakdown_closed d
                  WHERE d.site_id = h.site_id AND d.dimension = h.dimension AND d.span = 'day'
                    AND d.bucket = date_bin('1 day', h.bucket, 'epoch'));
    FOR candidate IN
        WITH hours AS (
            SELECT DISTINCT t.site_id, t.hour
            FROM traffic_hourly t JOIN sites s ON s.id = t.site_id
            WHERE t.hour < now() - interval '90 minutes' AND t.hour >= coalesce(s.raw_events_since, '-infinity')
        ), days AS (
            SELECT DISTINCT site_id, date_bin('1 day', hour, 'epoch') AS bucket FROM hours
        ), dimensions AS (
            SELECT * FROM filtered_breakdown_dimensions()
        )
        SELECT site_id, dimension, span, bucket FROM (
            SELECT d.site_id, n.dimension, n.rank AS dimension_rank, 'day' AS span, d.bucket, 1 AS rank
            FROM days d CROSS JOIN dimensions n
            WHERE d.bucket < now() - interval '25 hours'
              -- A whole day of raw events.
              AND d.bucket >= (SELECT coalesce(raw_events_since, '-infinity') FROM sites WHERE id = d.site_id)
            UNION ALL
            SELECT h.site_id, n.dimension, n.rank, 'hour', h.hour, 2
            FROM hours h CROSS JOIN dimensions n
            WHERE filtered_breakdown_keeps_hours(date_bin('1 day', h.hour, 'epoch'))
               OR NOT EXISTS (SELECT 1 FROM filtered_breakdown_closed c
                              WHERE c.site_id = h.site_id AND c.dimension = n.dimension AND c.span = 'day'
                                AND c.bucket = date_bin('1 day', h.hour, 'epoch'))
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

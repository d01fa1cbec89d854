-- Every other breakdown under a visitor-profile filter, by UTC day and hour (issue 14). After a
-- click on a device, browser, OS, country or language, the dashboard's "show all" on referrers, UTM
-- values, hostnames, entry or exit pages was counted from the raw events
-- (`dimension=referrer&filter=device:mobile`: 363 ms at a million events, 3.5 s at ten million);
-- 0026 had added up only paths.
--
-- A value's numbers per session come from that session's page views with the value, as a path's
-- do, and a session's entry (exit) page and numbers from its first (last) matching page view and
-- all of them: for a session whose page views all lie in one day, from that day alone. So the same
-- closing adds up any of them: the tables of 0026 and 0027 get a `dimension` (a `StatsDimension`
-- name: `entry` is the API's `landing`) and lose "path" from their names, and each dimension of a
-- day or hour is added up on its own (a day of ten million events a month takes 2–3 s per
-- dimension; eight in one transaction would hold the roll-up's folds back for 20 s).

ALTER TABLE path_breakdown_closed RENAME TO filtered_breakdown_closed;
ALTER TABLE filtered_breakdown_closed RENAME CONSTRAINT path_breakdown_closed_span_check TO filtered_breakdown_closed_span_check;
ALTER TABLE filtered_breakdown_closed RENAME CONSTRAINT path_breakdown_closed_site_id_fkey TO filtered_breakdown_closed_site_id_fkey;
ALTER TABLE path_breakdowns RENAME TO filtered_breakdowns;
ALTER TABLE filtered_breakdowns RENAME COLUMN path_ids TO value_ids;
ALTER TABLE path_breakdown_touches RENAME TO filtered_breakdown_touches;
ALTER TABLE filtered_breakdown_touches RENAME CONSTRAINT path_breakdown_touches_site_id_fkey TO filtered_breakdown_touches_site_id_fkey;
ALTER INDEX path_breakdown_touches_hour_idx RENAME TO filtered_breakdown_touches_hour_idx;

-- What is there already is paths.
ALTER TABLE filtered_breakdowns DROP CONSTRAINT path_breakdowns_site_id_span_bucket_fkey,
    DROP CONSTRAINT path_breakdowns_pkey;
ALTER TABLE filtered_breakdown_closed DROP CONSTRAINT path_breakdown_closed_pkey,
    ADD COLUMN dimension text NOT NULL DEFAULT 'path'
        CONSTRAINT filtered_breakdown_closed_dimension_check
        CHECK (dimension IN ('path', 'referrer', 'utm_source', 'utm_medium', 'utm_campaign', 'hostname', 'entry', 'exit'));
ALTER TABLE filtered_breakdown_closed ALTER COLUMN dimension DROP DEFAULT,
    ADD PRIMARY KEY (site_id, dimension, span, bucket);
ALTER TABLE filtered_breakdowns ADD COLUMN dimension text NOT NULL DEFAULT 'path';
ALTER TABLE filtered_breakdowns ALTER COLUMN dimension DROP DEFAULT,
    ADD PRIMARY KEY (site_id, dimension, span, bucket, filter),
    ADD FOREIGN KEY (site_id, dimension, span, bucket) REFERENCES filtered_breakdown_closed ON DELETE CASCADE;

DROP FUNCTION close_path_breakdowns(integer);
DROP FUNCTION close_path_breakdown(text, text, timestamptz);
ALTER FUNCTION path_breakdown_keeps_hours(timestamptz) RENAME TO filtered_breakdown_keeps_hours;

-- Adds up `dimension` over the UTC day or hour (`span`) starting at `closing` of `site`, replacing
-- what an earlier closing wrote; a day drops its hours. Returns false when a write it did not see
-- touched the period meanwhile: then it stays open.
CREATE FUNCTION close_filtered_breakdown(site text, dimension text, span text, closing timestamptz) RETURNS boolean
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
                              WHEN 'entry' THEN e.path WHEN 'exit' THEN e.path END AS value,
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
        CROSS JOIN LATERAL (VALUES ('device', e.device), ('browser', e.browser), ('os', e.os),
                                   ('country', e.country), ('language', e.language)) AS f (dimension, value)
        WHERE close_filtered_breakdown.dimension NOT IN ('entry', 'exit')
        GROUP BY e.session_id, f.dimension, f.value, e.value
        UNION ALL
        -- Per session and filter value: the path of the first (last) of its page views with the
        -- value, in the order RawEventBreakdown reads them, and the numbers of them all.
        SELECT f.dimension, f.value,
               (array_agg(e.value ORDER BY e.occurred_at, e.id))[CASE close_filtered_breakdown.dimension WHEN 'entry' THEN 1 ELSE count(*)::integer END],
               count(*), max(e.occurred_at) - min(e.occurred_at)
        FROM period_events e
        CROSS JOIN LATERAL (VALUES ('device', e.device), ('browser', e.browser), ('os', e.os),
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

-- Adds up at most `max_count` periods that are over and not added up, per dimension: days an hour
-- after they end, then hours half an hour after they end in days not added up or in the days a
-- default range starts in (0027), newest first; each with page views (`traffic_hourly`) whose raw
-- events are all still there. Drops the hours of added-up days outside those. Returns how many it
-- tried (none while another closing runs). Call it in a transaction of its own, as the roll-up
-- process does: a transaction's snapshot must not outlive the touches it is checked against.
CREATE FUNCTION close_filtered_breakdowns(max_count integer) RETURNS integer
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
        ), dimensions (dimension, rank) AS (
            VALUES ('path', 1), ('entry', 2), ('exit', 3), ('referrer', 4), ('utm_source', 5), ('utm_medium', 6),
                   ('utm_campaign', 7), ('hostname', 8)
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

-- 0026's trigger function, on the renamed tables: every dimension's periods of a touched session
-- are reopened.
ALTER FUNCTION path_breakdown_touched() RENAME TO filtered_breakdown_touched;
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
      AND ((c.span = 'hour' AND c.bucket = t.hour) OR (c.span = 'day' AND c.bucket = date_bin('1 day', t.hour, 'epoch')));
    RETURN NULL;
END
$function$;
ALTER TRIGGER events_roll_up_path_breakdowns ON events RENAME TO events_roll_up_filtered_breakdowns;

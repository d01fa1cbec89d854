-- Long sessions keep their filtered session-quarters, so that a write to them reads what changed.
--
-- 0012's trigger rereads every event of each session a statement touches. That is a few rows for a
-- visitor's session, but a script that sends everything under one `session_id` (server ingest, the
-- ingest benchmark) makes a session of thousands of events, most in the same quarter hour, and every
-- batch the roll-up folds into it reread all of them: the fold slowed as the session grew.
--
-- Once a session reaches `large_session_events` events, its session-quarters under every filter
-- value (no filter, each of its paths, devices, …) are stored in `filtered_session_quarters`, and
-- later writes merge their events into those rows: the difference they make to the rollups is
-- computed from the stored quarters of the window around the new ones, not from the session's
-- events. A session below the threshold, and the backfill of an upgraded installation, work as in
-- 0012. The rows are a cache of the events: dropping a session's rows (all of them) only makes its
-- next write reread its events and store them again.

CREATE TABLE filtered_session_quarters (
    site_id    text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    session_id text NOT NULL,
    filter     integer NOT NULL,                    -- stat_values.id, or 0: every page view
    dimension  smallint NOT NULL,                   -- 0 for no filter, then event_filter_values' order (1 is path)
    quarter    timestamptz NOT NULL,
    pageviews  integer NOT NULL,
    -- [µs since the epoch, event id, path id] of the first and last page view by (time, id): the
    -- arrays compare as the order does, so merging new page views in is least() and greatest().
    first_key  bigint[] NOT NULL,
    last_key   bigint[] NOT NULL,
    PRIMARY KEY (site_id, session_id, filter, quarter)
);

-- A session whose events reach this many is kept in filtered_session_quarters.
CREATE FUNCTION large_session_events() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 128';

CREATE OR REPLACE FUNCTION roll_up_filtered(event_ids bigint[], through bigint DEFAULT NULL) RETURNS void
LANGUAGE plpgsql
SET enable_nestloop = off SET enable_sort = off SET plan_cache_mode = force_custom_plan SET jit = off
SET work_mem = '64MB'
AS $function$
DECLARE
    small_sessions text[];
BEGIN
    -- Number the new values. In a fixed order, so that two sites' writers adding the same values
    -- wait for each other instead of deadlocking.
    WITH new_events AS MATERIALIZED (SELECT * FROM events WHERE id = ANY (event_ids))
    INSERT INTO stat_values (dimension, value)
    SELECT DISTINCT v.dimension, v.value
    FROM new_events e
    CROSS JOIN LATERAL event_filter_values(e.path, e.referrer_host, e.device, e.browser, e.os, e.country, e.language,
                                           e.utm_source, e.utm_medium, e.utm_campaign) AS v
    WHERE NOT EXISTS (SELECT 1 FROM stat_values s WHERE s.dimension = v.dimension AND s.value = v.value)
    ORDER BY 1, 2
    ON CONFLICT DO NOTHING;

    -- The sessions whose events are reread, as an array: looked up in `events_session_idx` by one
    -- bitmap scan. Long ones (with stored quarters) are not among them. The backfill never uses the
    -- stored quarters: it adds sessions as they were up to `through`.
    small_sessions := ARRAY(
        SELECT DISTINCT n.session_id FROM events n
        WHERE n.id = ANY (event_ids)
          AND (through IS NOT NULL OR NOT EXISTS (
                  SELECT 1 FROM filtered_session_quarters q
                  WHERE q.site_id = n.site_id AND q.session_id = n.session_id AND q.filter = 0)));

    WITH new_events AS MATERIALIZED (
        SELECT n.id, n.site_id, n.session_id,
               through IS NULL AND EXISTS (
                   SELECT 1 FROM filtered_session_quarters q
                   WHERE q.site_id = n.site_id AND q.session_id = n.session_id AND q.filter = 0) AS long
        FROM events n WHERE n.id = ANY (event_ids)
    ), history AS MATERIALIZED (
        -- Every event of the touched short sessions, the new ones included (an AFTER trigger sees
        -- them), and the new events of the long ones, with their value ids in the order of
        -- event_filter_values (path first).
        SELECT e.site_id, e.session_id, e.id, e.occurred_at,
               date_bin('15 minutes', e.occurred_at, 'epoch') AS quarter,
               (extract(epoch FROM e.occurred_at) * 1000000)::bigint AS us,
               e.is_new, e.long,
               ARRAY[v_path.id, v_referrer.id, v_device.id, v_browser.id, v_os.id, v_country.id, v_language.id,
                     v_utm_source.id, v_utm_medium.id, v_utm_campaign.id] AS ids
        FROM (SELECT e.*, e.id IN (SELECT id FROM new_events) AS is_new, false AS long
              FROM events e
              WHERE e.session_id = ANY (small_sessions)
                AND (e.site_id, e.session_id) IN (SELECT site_id, session_id FROM new_events WHERE NOT long)
                AND (through IS NULL OR e.id <= through)
              UNION ALL
              SELECT e.*, true, true
              FROM events e
              WHERE e.id = ANY (ARRAY(SELECT id FROM new_events WHERE long))) AS e
        JOIN stat_values v_path ON v_path.dimension = 'path' AND v_path.value = e.path
        JOIN stat_values v_referrer ON v_referrer.dimension = 'referrer' AND v_referrer.value = e.referrer_host
        JOIN stat_values v_device ON v_device.dimension = 'device' AND v_device.value = e.device
        JOIN stat_values v_browser ON v_browser.dimension = 'browser' AND v_browser.value = e.browser
        JOIN stat_values v_os ON v_os.dimension = 'os' AND v_os.value = e.os
        JOIN stat_values v_country ON v_country.dimension = 'country' AND v_country.value = e.country
        JOIN stat_values v_language ON v_language.dimension = 'language' AND v_language.value = e.language
        JOIN stat_values v_utm_source ON v_utm_source.dimension = 'utm_source' AND v_utm_source.value = e.utm_source
        JOIN stat_values v_utm_medium ON v_utm_medium.dimension = 'utm_medium' AND v_utm_medium.value = e.utm_medium
        JOIN stat_values v_utm_campaign ON v_utm_campaign.dimension = 'utm_campaign' AND v_utm_campaign.value = e.utm_campaign
    ), states AS (
        -- The short sessions after this statement (+1) and before it (-1): their difference is what
        -- the rollups must add. What did not change cancels out.
        SELECT 1 AS sign, * FROM history WHERE NOT long
        UNION ALL
        SELECT -1, * FROM history WHERE NOT long AND NOT is_new
    ), purity AS (
        -- Per session and state, the value of each dimension all its events share (NULL where they
        -- differ). A session with one device is, under `device` = that device, the whole session:
        -- its filtered session-quarters are its session-quarters, computed once for all such
        -- dimensions.
        SELECT sign, site_id, session_id,
               ARRAY[0, CASE WHEN min(ids[1]) = max(ids[1]) THEN min(ids[1]) END,
                     CASE WHEN min(ids[2]) = max(ids[2]) THEN min(ids[2]) END,
                     CASE WHEN min(ids[3]) = max(ids[3]) THEN min(ids[3]) END,
                     CASE WHEN min(ids[4]) = max(ids[4]) THEN min(ids[4]) END,
                     CASE WHEN min(ids[5]) = max(ids[5]) THEN min(ids[5]) END,
                     CASE WHEN min(ids[6]) = max(ids[6]) THEN min(ids[6]) END,
                     CASE WHEN min(ids[7]) = max(ids[7]) THEN min(ids[7]) END,
                     CASE WHEN min(ids[8]) = max(ids[8]) THEN min(ids[8]) END,
                     CASE WHEN min(ids[9]) = max(ids[9]) THEN min(ids[9]) END,
                     CASE WHEN min(ids[10]) = max(ids[10]) THEN min(ids[10]) END] AS pure
        FROM states
        GROUP BY 1, 2, 3
    ), whole_quarters AS (
        SELECT sign, site_id, session_id, quarter, count(*) AS pageviews, min(occurred_at) AS first_at,
               max(occurred_at) AS last_at,
               -- The path of the first and last event by (time, id): arrays compare element by
               -- element, and min and max need no sorting, unlike array_agg(… ORDER BY …).
               (min(ARRAY[us, id, ids[1]]))[3] AS first_path, (max(ARRAY[us, id, ids[1]]))[3] AS last_path
        FROM states
        GROUP BY 1, 2, 3, 4
    ), whole_linked AS (
        SELECT *, coalesce(lag(quarter) OVER w, '-infinity') AS prev_quarter,
               coalesce(lead(quarter) OVER w, 'infinity') AS next_quarter
        FROM whole_quarters
        WINDOW w AS (PARTITION BY sign, site_id COLLATE "C", session_id COLLATE "C" ORDER BY quarter)
    ), mixed_quarters AS (
        -- The dimensions in which a session's events differ: its session-quarters per value.
        SELECT s.sign, s.site_id, s.session_id, d.filter, d.dimension, s.quarter, count(*) AS pageviews,
               min(s.occurred_at) AS first_at, max(s.occurred_at) AS last_at,
               (min(ARRAY[s.us, s.id, s.ids[1]]))[3] AS first_path, (max(ARRAY[s.us, s.id, s.ids[1]]))[3] AS last_path
        FROM states s
        JOIN purity p ON p.sign = s.sign AND p.site_id = s.site_id AND p.session_id = s.session_id
        CROSS JOIN LATERAL unnest(s.ids) WITH ORDINALITY AS d (filter, dimension)
        WHERE p.pure[d.dimension + 1] IS NULL
        GROUP BY 1, 2, 3, 4, 5, 6
    ), promoted AS (
        -- Short sessions that reach the threshold with this statement: their quarters under every
        -- filter value, stored for the writes to come.
        INSERT INTO filtered_session_quarters
        SELECT h.site_id, h.session_id, d.filter, d.dimension - 1, h.quarter, count(*),
               min(ARRAY[h.us, h.id, h.ids[1]]), max(ARRAY[h.us, h.id, h.ids[1]])
        FROM history h
        CROSS JOIN LATERAL unnest(0 || h.ids) WITH ORDINALITY AS d (filter, dimension)
        WHERE through IS NULL AND NOT h.long
          AND (h.site_id, h.session_id) IN (SELECT site_id, session_id FROM history WHERE NOT long
                                            GROUP BY 1, 2 HAVING count(*) >= large_session_events())
        GROUP BY 1, 2, 3, 4, 5
    ), fresh_quarters AS MATERIALIZED (
        -- Long sessions: the new events' quarters under every filter value.
        SELECT h.site_id, h.session_id, d.filter, (d.dimension - 1)::smallint AS dimension, h.quarter,
               count(*)::integer AS pageviews,
               min(ARRAY[h.us, h.id, h.ids[1]]) AS first_key, max(ARRAY[h.us, h.id, h.ids[1]]) AS last_key
        FROM history h
        CROSS JOIN LATERAL unnest(0 || h.ids) WITH ORDINALITY AS d (filter, dimension)
        WHERE h.long
        GROUP BY 1, 2, 3, 4, 5
    ), windows AS MATERIALIZED (
        -- Per long session and filter value, the stored quarters whose linked rows the new ones can
        -- change: from the second stored quarter before the first new one to the second after the
        -- last. The outermost two only provide their neighbours' links and are not rewritten.
        SELECT f.site_id, f.session_id, f.filter,
               coalesce((SELECT s.quarter FROM filtered_session_quarters s
                         WHERE s.site_id = f.site_id AND s.session_id = f.session_id AND s.filter = f.filter
                           AND s.quarter < min(f.quarter)
                         ORDER BY s.quarter DESC OFFSET 1 LIMIT 1), '-infinity') AS low,
               coalesce((SELECT s.quarter FROM filtered_session_quarters s
                         WHERE s.site_id = f.site_id AND s.session_id = f.session_id AND s.filter = f.filter
                           AND s.quarter > max(f.quarter)
                         ORDER BY s.quarter OFFSET 1 LIMIT 1), 'infinity') AS high
        FROM fresh_quarters f
        GROUP BY 1, 2, 3
    ), stored_window AS MATERIALIZED (
        SELECT s.site_id, s.session_id, s.filter, s.dimension, s.quarter, s.pageviews, s.first_key, s.last_key
        FROM windows w
        JOIN filtered_session_quarters s
          ON s.site_id = w.site_id AND s.session_id = w.session_id AND s.filter = w.filter
         AND s.quarter >= w.low AND s.quarter <= w.high
    ), window_states AS (
        SELECT -1 AS sign, * FROM stored_window
        UNION ALL
        SELECT 1, site_id, session_id, filter, dimension, quarter, sum(pageviews), min(first_key), max(last_key)
        FROM (SELECT * FROM stored_window UNION ALL SELECT * FROM fresh_quarters) AS merged
        GROUP BY 2, 3, 4, 5, 6
    ), long_linked AS (
        SELECT l.sign, l.site_id, l.session_id, l.filter, l.dimension::integer AS dimension, l.quarter,
               l.pageviews, 'epoch'::timestamptz + l.first_key[1] * interval '1 microsecond' AS first_at,
               'epoch'::timestamptz + l.last_key[1] * interval '1 microsecond' AS last_at,
               l.first_key[3]::integer AS first_path, l.last_key[3]::integer AS last_path,
               l.prev_quarter, l.next_quarter
        FROM (SELECT *, coalesce(lag(quarter) OVER w, '-infinity') AS prev_quarter,
                     coalesce(lead(quarter) OVER w, 'infinity') AS next_quarter
              FROM window_states
              WINDOW w AS (PARTITION BY sign, site_id COLLATE "C", session_id COLLATE "C", filter ORDER BY quarter)) AS l
        JOIN windows w ON w.site_id = l.site_id AND w.session_id = l.session_id AND w.filter = l.filter
        WHERE l.quarter > w.low AND l.quarter < w.high
    ), stored AS (
        INSERT INTO filtered_session_quarters AS s
        SELECT * FROM fresh_quarters
        ON CONFLICT (site_id, session_id, filter, quarter) DO UPDATE SET
            pageviews = s.pageviews + excluded.pageviews,
            first_key = least(s.first_key, excluded.first_key),
            last_key = greatest(s.last_key, excluded.last_key)
    ), linked AS (
        -- dimension: 0 for no filter, then as event_filter_values numbers them (1 is path).
        SELECT w.sign, w.site_id, w.session_id, d.filter, (d.dimension - 1)::integer AS dimension, w.quarter,
               w.pageviews, w.first_at, w.last_at, w.first_path, w.last_path, w.prev_quarter, w.next_quarter
        FROM whole_linked w
        JOIN purity p ON p.sign = w.sign AND p.site_id = w.site_id AND p.session_id = w.session_id
        CROSS JOIN LATERAL unnest(p.pure) WITH ORDINALITY AS d (filter, dimension)
        WHERE d.filter IS NOT NULL
        UNION ALL
        SELECT sign, site_id, session_id, filter, dimension::integer, quarter, pageviews, first_at, last_at,
               first_path, last_path, coalesce(lag(quarter) OVER w, '-infinity'),
               coalesce(lead(quarter) OVER w, 'infinity')
        FROM mixed_quarters
        WINDOW w AS (PARTITION BY sign, site_id COLLATE "C", session_id COLLATE "C", filter ORDER BY quarter)
        UNION ALL
        SELECT * FROM long_linked
    ), traffic AS (
        INSERT INTO filtered_traffic AS t
        SELECT site_id, filter, quarter, prev_quarter, next_quarter, sum(sign), sum(sign * pageviews),
               sum(sign * (pageviews = 1)::integer),
               sum(sign * (extract(epoch FROM first_at - quarter) * 1000000)::bigint),
               sum(sign * (extract(epoch FROM last_at - quarter) * 1000000)::bigint)
        FROM linked
        GROUP BY 1, 2, 3, 4, 5
        HAVING sum(sign) <> 0 OR sum(sign * pageviews) <> 0 OR sum(sign * (pageviews = 1)::integer) <> 0
            OR sum(sign * (extract(epoch FROM first_at - quarter) * 1000000)::bigint) <> 0
            OR sum(sign * (extract(epoch FROM last_at - quarter) * 1000000)::bigint) <> 0
        ON CONFLICT (site_id, filter, quarter, prev_quarter, next_quarter) DO UPDATE SET
            session_quarters = t.session_quarters + excluded.session_quarters,
            pageviews = t.pageviews + excluded.pageviews,
            singles = t.singles + excluded.singles,
            first_offset_us = t.first_offset_us + excluded.first_offset_us,
            last_offset_us = t.last_offset_us + excluded.last_offset_us
    ), hour_ends AS (
        -- Session ends per hour, as 0004 keeps them: a session's first quarter in an hour is the one
        -- whose previous quarter lies in an earlier hour, which is then its previous hour; its last
        -- likewise. No filter has them in 0004's tables; path filters have none: their sessions
        -- enter and leave on their path (dimension 1).
        SELECT r.site_id, date_trunc('hour', r.quarter, 'UTC') AS hour, r.filter, x.kind,
               date_trunc('hour', x.boundary, 'UTC') AS boundary, x.path_id, sum(r.sign) AS sessions
        FROM linked r
        CROSS JOIN LATERAL (VALUES
            ('entry', r.prev_quarter, r.first_path, r.prev_quarter < date_trunc('hour', r.quarter, 'UTC')),
            ('exit', r.next_quarter, r.last_path,
             r.next_quarter >= date_trunc('hour', r.quarter, 'UTC') + interval '1 hour')
        ) AS x (kind, boundary, path_id, applies)
        WHERE r.dimension > 1 AND x.applies
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(r.sign) <> 0
    ), ends AS (
        -- As 0004's entry_exit_counts: a day row only for the session-hours that can be first (last)
        -- in a range holding the whole day.
        SELECT site_id, 'hour' AS span, hour AS bucket, filter, kind, boundary, path_id, sessions FROM hour_ends
        UNION ALL
        SELECT site_id, 'day', date_trunc('day', hour, 'UTC'), filter, kind, boundary, path_id, sum(sessions)
        FROM hour_ends
        WHERE CASE kind WHEN 'entry' THEN boundary < date_trunc('day', hour, 'UTC')
                        ELSE boundary >= date_trunc('day', hour, 'UTC') + interval '1 day' END
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        HAVING sum(sessions) <> 0
    ), ends_saved AS (
        INSERT INTO filtered_session_ends AS c
        SELECT site_id, span, bucket, filter, kind, boundary, array_agg(path_id), array_agg(sessions::integer)
        FROM ends
        GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (site_id, span, bucket, filter, kind, boundary) DO UPDATE SET
            (path_ids, sessions) = (SELECT ids, counts FROM add_counts(c.path_ids, c.sessions, excluded.path_ids, excluded.sessions))
    ), valued AS (
        -- Pairs: each new event's value id per dimension (history's, read above), counted per hour
        -- for every two dimensions (grouping sets hash each event once per pair, without making a
        -- row of it), then each count entered twice: the value of one dimension under the other's as
        -- a filter, and the reverse.
        SELECT site_id, date_trunc('hour', occurred_at, 'UTC') AS hour,
               ids[1] AS path, ids[2] AS referrer, ids[3] AS device, ids[4] AS browser, ids[5] AS os,
               ids[6] AS country, ids[7] AS language, ids[8] AS utm_source, ids[9] AS utm_medium,
               ids[10] AS utm_campaign
        FROM history
        WHERE is_new
    ), pair_counts AS (
        SELECT site_id, hour, count(*) AS n,
               array_remove(ARRAY[path, referrer, device, browser, os, country, language, utm_source, utm_medium,
                                  utm_campaign], NULL) AS pair
        FROM valued
        GROUP BY site_id, hour, GROUPING SETS (
            (path, referrer), (path, device), (path, browser), (path, os), (path, country), (path, language),
            (path, utm_source), (path, utm_medium), (path, utm_campaign), (referrer, device),
            (referrer, browser), (referrer, os), (referrer, country), (referrer, language),
            (referrer, utm_source), (referrer, utm_medium), (referrer, utm_campaign), (device, browser),
            (device, os), (device, country), (device, language), (device, utm_source), (device, utm_medium),
            (device, utm_campaign), (browser, os), (browser, country), (browser, language),
            (browser, utm_source), (browser, utm_medium), (browser, utm_campaign), (os, country),
            (os, language), (os, utm_source), (os, utm_medium), (os, utm_campaign), (country, language),
            (country, utm_source), (country, utm_medium), (country, utm_campaign), (language, utm_source),
            (language, utm_medium), (language, utm_campaign), (utm_source, utm_medium),
            (utm_source, utm_campaign), (utm_medium, utm_campaign))
    ), pairs AS (
        SELECT site_id, hour, x.filter, x.value_id, n
        FROM pair_counts CROSS JOIN LATERAL (VALUES (pair[1], pair[2]), (pair[2], pair[1])) AS x (filter, value_id)
    ), spans AS (
        SELECT site_id, 'hour' AS span, hour AS bucket, filter, value_id, n FROM pairs
        UNION ALL
        SELECT site_id, 'day', date_trunc('day', hour, 'UTC'), filter, value_id, sum(n) FROM pairs GROUP BY 1, 2, 3, 4, 5
    )
    INSERT INTO filtered_counts AS c
    SELECT site_id, span, bucket, filter, array_agg(value_id), array_agg(n::integer)
    FROM spans
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (site_id, span, bucket, filter) DO UPDATE SET
        (value_ids, pageviews) = (SELECT ids, counts FROM add_counts(c.value_ids, c.pageviews, excluded.value_ids, excluded.pageviews));
END
$function$;

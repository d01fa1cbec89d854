-- A faster fold (issue 14: the roll-up must keep up with 10 000 page views a second).
--
-- Measured on the roll-up process folding 20 000 queued page views of the last minutes
-- (`scripts/bench-rollup`, `auto_explain`), most of a fold went into making rows only to hash them:
--   * 0004's `dimension_counts`: a row per event and dimension for the hour and another for the day,
--     440 000 rows hashed on text (259 ms of 2.3 s);
--   * the numbering of new values in `roll_up_filtered`: the same 220 000 rows, each looked up in
--     `stat_values` before duplicates were removed (113 ms);
--   * the filtered session-quarters: a session whose events all share a value counts under that
--     value as it counts unfiltered, and each of its quarters was copied once per such filter (twelve
--     for a one-page visit) before `filtered_traffic` and `filtered_session_ends` summed the copies:
--     280 000 rows for 20 000 page views, 460 000 more for the session ends;
--   * the page-view pairs of `filtered_counts`: each event hashed 55 times, although in an hour half
--     of them share every value with another;
--   * `date_trunc(…, 'UTC')`, which looks the zone up at every call, on each of those rows;
--   * 0004's session-hours: three index scans per session to find the stretch of its stored hours
--     a write can relink (a second's worth of live traffic is a page view from almost every active
--     session);
--   * for a long session, the hash index on the events' session ids (at the end of this file).
-- Each is now summed by grouping sets (one hashing pass per dimension over the rows as they are),
-- the alike events are grouped first, UTC hours and days are `date_bin` from the epoch (the same
-- instants, ±infinity included), the sessions' stored hours are read in one index scan for all of
-- them, and the session index is a B-tree. The rollups hold exactly what they held: only how the
-- counts are added up changes. The functions are 0020's (partition_events 0019's) otherwise.

-- The one dimension a grouping set of the eleven event columns groups by, given
-- GROUPING(path, referrer_host, device, browser, os, country, language, utm_source, utm_medium,
-- utm_campaign, hostname): the bit of the grouped column is 0, path's the most significant.
CREATE FUNCTION grouped_dimension(grouping_mask integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $function$
    SELECT CASE ~grouping_mask & 2047
               WHEN 1024 THEN 'path' WHEN 512 THEN 'referrer' WHEN 256 THEN 'device' WHEN 128 THEN 'browser'
               WHEN 64 THEN 'os' WHEN 32 THEN 'country' WHEN 16 THEN 'language' WHEN 8 THEN 'utm_source'
               WHEN 4 THEN 'utm_medium' WHEN 2 THEN 'utm_campaign' WHEN 1 THEN 'hostname'
           END
$function$;

-- 0020's, with the stored session-hours read and dimension_counts added up as above.
CREATE OR REPLACE FUNCTION roll_up_events() RETURNS trigger LANGUAGE plpgsql AS $function$
BEGIN
    PERFORM pg_advisory_xact_lock(72711, hashtext(site_id))
    FROM (SELECT DISTINCT site_id FROM new_events ORDER BY 1) AS sites;

    WITH new_parts AS (
        -- The new events per session-hour.
        SELECT site_id, session_id, date_bin('1 hour', occurred_at, 'epoch') AS hour,
               count(*)::integer AS pageviews,
               (array_agg(occurred_at ORDER BY occurred_at, id))[1] AS first_at,
               (array_agg(id ORDER BY occurred_at, id))[1] AS first_id,
               (array_agg(path ORDER BY occurred_at, id))[1] AS first_path,
               (array_agg(occurred_at ORDER BY occurred_at DESC, id DESC))[1] AS last_at,
               (array_agg(id ORDER BY occurred_at DESC, id DESC))[1] AS last_id,
               (array_agg(path ORDER BY occurred_at DESC, id DESC))[1] AS last_path
        FROM new_events
        GROUP BY 1, 2, 3
    ), touched AS (
        SELECT site_id, session_id, min(hour) AS low, max(hour) AS high FROM new_parts GROUP BY 1, 2
    ), stored AS MATERIALIZED (
        -- The touched sessions' session-hours, all of them: one index scan for every session, where
        -- looking up each session's window apart cost three index scans a session (most sessions
        -- are a few hours long).
        SELECT h.*, t.low AS new_low, t.high AS new_high
        FROM session_hours h
        JOIN touched t ON t.site_id = h.site_id AND t.session_id = h.session_id
        WHERE h.site_id = ANY (ARRAY(SELECT DISTINCT site_id FROM touched))
          AND h.session_id = ANY (ARRAY(SELECT session_id FROM touched))
    ), old AS (
        -- Per session, the stretch of its session-hours whose links can change: from the last
        -- existing hour before the earliest new one to the first existing hour after the latest.
        SELECT site_id, session_id, hour, pageviews, first_at, first_id, first_path, last_at, last_id, last_path,
               prev_hour, next_hour
        FROM (SELECT *,
                     coalesce(max(hour) FILTER (WHERE hour < new_low) OVER w, new_low) AS low,
                     coalesce(min(hour) FILTER (WHERE hour > new_high) OVER w, new_high) AS high
              FROM stored
              WINDOW w AS (PARTITION BY site_id, session_id)) AS s
        WHERE hour BETWEEN low AND high
    ), merged AS (
        SELECT coalesce(o.site_id, n.site_id) AS site_id, coalesce(o.session_id, n.session_id) AS session_id,
               coalesce(o.hour, n.hour) AS hour,
               coalesce(o.pageviews, 0) + coalesce(n.pageviews, 0) AS pageviews,
               CASE WHEN o.hour IS NULL OR (n.hour IS NOT NULL AND (n.first_at, n.first_id) < (o.first_at, o.first_id))
                    THEN n.first_at ELSE o.first_at END AS first_at,
               CASE WHEN o.hour IS NULL OR (n.hour IS NOT NULL AND (n.first_at, n.first_id) < (o.first_at, o.first_id))
                    THEN n.first_id ELSE o.first_id END AS first_id,
               CASE WHEN o.hour IS NULL OR (n.hour IS NOT NULL AND (n.first_at, n.first_id) < (o.first_at, o.first_id))
                    THEN n.first_path ELSE o.first_path END AS first_path,
               CASE WHEN o.hour IS NULL OR (n.hour IS NOT NULL AND (n.last_at, n.last_id) > (o.last_at, o.last_id))
                    THEN n.last_at ELSE o.last_at END AS last_at,
               CASE WHEN o.hour IS NULL OR (n.hour IS NOT NULL AND (n.last_at, n.last_id) > (o.last_at, o.last_id))
                    THEN n.last_id ELSE o.last_id END AS last_id,
               CASE WHEN o.hour IS NULL OR (n.hour IS NOT NULL AND (n.last_at, n.last_id) > (o.last_at, o.last_id))
                    THEN n.last_path ELSE o.last_path END AS last_path,
               o.prev_hour AS old_prev_hour, o.next_hour AS old_next_hour
        FROM old o
        FULL JOIN new_parts n ON n.site_id = o.site_id AND n.session_id = o.session_id AND n.hour = o.hour
    ), relinked AS (
        -- Links inside a window follow from its hours; its ends keep the links they had outward
        -- (a new end hour has none: no older or newer hour exists, or it would be in the window).
        SELECT m.site_id, m.session_id, m.hour, m.pageviews, m.first_at, m.first_id, m.first_path,
               m.last_at, m.last_id, m.last_path,
               coalesce(lag(m.hour) OVER w, m.old_prev_hour, '-infinity') AS prev_hour,
               coalesce(lead(m.hour) OVER w, m.old_next_hour, 'infinity') AS next_hour
        FROM merged m
        WINDOW w AS (PARTITION BY m.site_id, m.session_id ORDER BY m.hour)
    ), saved AS (
        INSERT INTO session_hours AS h
        SELECT site_id, session_id, hour, pageviews, first_at, first_id, first_path,
               last_at, last_id, last_path, prev_hour, next_hour
        FROM relinked
        ON CONFLICT (site_id, session_id, hour) DO UPDATE SET
            pageviews = excluded.pageviews, first_at = excluded.first_at, first_id = excluded.first_id,
            first_path = excluded.first_path, last_at = excluded.last_at, last_id = excluded.last_id,
            last_path = excluded.last_path, prev_hour = excluded.prev_hour, next_hour = excluded.next_hour
    ), contributions AS (
        -- What the window's session-hours add to the rollups now, minus what they added before.
        SELECT 1 AS sign, * FROM relinked
        UNION ALL
        SELECT -1, o.site_id, o.session_id, o.hour, o.pageviews, o.first_at, o.first_id, o.first_path,
               o.last_at, o.last_id, o.last_path, o.prev_hour, o.next_hour
        FROM old o
    ), traffic AS (
        INSERT INTO traffic_hourly AS t
        SELECT site_id, hour, prev_hour, next_hour, sum(sign), sum(sign * pageviews),
               sum(sign * (pageviews = 1)::integer),
               sum(sign * (extract(epoch FROM first_at - hour) * 1000000)::bigint),
               sum(sign * (extract(epoch FROM last_at - hour) * 1000000)::bigint)
        FROM contributions
        GROUP BY 1, 2, 3, 4
        HAVING sum(sign) <> 0 OR sum(sign * pageviews) <> 0 OR sum(sign * (pageviews = 1)::integer) <> 0
            OR sum(sign * (extract(epoch FROM first_at - hour) * 1000000)::bigint) <> 0
            OR sum(sign * (extract(epoch FROM last_at - hour) * 1000000)::bigint) <> 0
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (site_id, hour, prev_hour, next_hour) DO UPDATE SET
            session_hours = t.session_hours + excluded.session_hours,
            pageviews = t.pageviews + excluded.pageviews,
            singles = t.singles + excluded.singles,
            first_offset_us = t.first_offset_us + excluded.first_offset_us,
            last_offset_us = t.last_offset_us + excluded.last_offset_us
    )
    INSERT INTO entry_exit_counts AS c
    SELECT x.site_id, x.span, x.bucket, x.kind, x.boundary, x.path, sum(x.sign)
    FROM contributions r
    CROSS JOIN LATERAL (VALUES
        (r.site_id, 'hour', r.hour, 'entry', r.prev_hour, r.first_path, r.sign, true),
        (r.site_id, 'hour', r.hour, 'exit', r.next_hour, r.last_path, r.sign, true),
        (r.site_id, 'day', date_bin('1 day', r.hour, 'epoch'), 'entry', r.prev_hour, r.first_path, r.sign,
         r.prev_hour < date_bin('1 day', r.hour, 'epoch')),
        (r.site_id, 'day', date_bin('1 day', r.hour, 'epoch'), 'exit', r.next_hour, r.last_path, r.sign,
         r.next_hour >= date_bin('1 day', r.hour, 'epoch') + interval '1 day')
    ) AS x (site_id, span, bucket, kind, boundary, path, sign, applies)
    WHERE x.applies
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(x.sign) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (site_id, span, bucket, kind, boundary, path) DO UPDATE SET sessions = c.sessions + excluded.sessions;

    -- One hashing pass per dimension over the new events (grouping sets) gives the hours; the days
    -- are added up from them. A row per event and dimension, hashed once more for the days, cost
    -- three times as much.
    WITH hourly AS (
        SELECT site_id, date_bin('1 hour', occurred_at, 'epoch') AS hour,
               grouped_dimension(GROUPING(path, referrer_host, device, browser, os, country, language, utm_source,
                                          utm_medium, utm_campaign, hostname)) AS dimension,
               coalesce(path, referrer_host, device, browser, os, country, language, utm_source, utm_medium,
                        utm_campaign, hostname) AS value,
               count(*) AS pageviews
        FROM new_events
        GROUP BY site_id, date_bin('1 hour', occurred_at, 'epoch'), GROUPING SETS (
            (path), (referrer_host), (device), (browser), (os), (country), (language), (utm_source), (utm_medium),
            (utm_campaign), (hostname))
    )
    INSERT INTO dimension_counts AS d
    SELECT site_id, 'hour', hour, dimension, value, pageviews FROM hourly
    UNION ALL
    SELECT site_id, 'day', date_bin('1 day', hour, 'epoch'), dimension, value, sum(pageviews)
    FROM hourly
    GROUP BY site_id, date_bin('1 day', hour, 'epoch'), dimension, value
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (site_id, span, bucket, dimension, value) DO UPDATE SET pageviews = d.pageviews + excluded.pageviews;

    RETURN NULL;
END
$function$;


-- 0020's, with new values numbered, whole quarters summed per filter and pairs counted as above, and
-- the sessions looked up by the hash of their ids (end of this file).
CREATE OR REPLACE FUNCTION roll_up_filtered(event_ids bigint[], through bigint DEFAULT NULL, part text DEFAULT 'all',
                                 new_since timestamptz DEFAULT '-infinity', new_until timestamptz DEFAULT 'infinity')
RETURNS void
LANGUAGE plpgsql
SET enable_nestloop = off SET enable_sort = off SET plan_cache_mode = force_custom_plan SET jit = off
SET work_mem = '64MB'
AS $function$
DECLARE
    small_sessions text[];
    small_session_hashes integer[];
    touched_sites text[];
    sessions_since timestamptz;
    sessions_until timestamptz;
BEGIN
    IF part NOT IN ('all', 'hostname', 'all but hostname') OR (part <> 'all' AND through IS NULL) THEN
        RAISE EXCEPTION 'roll_up_filtered: part % is for backfills, which give through', part;
    END IF;
    -- Number the new values. In a fixed order, so that two sites' writers adding the same values
    -- wait for each other instead of deadlocking.
    WITH new_values AS (
        -- Each value once (grouping sets, one hash per dimension) before they are looked up.
        SELECT grouped_dimension(GROUPING(path, referrer_host, device, browser, os, country, language, utm_source,
                                          utm_medium, utm_campaign, hostname)) AS dimension,
               coalesce(path, referrer_host, device, browser, os, country, language, utm_source, utm_medium,
                        utm_campaign, hostname) AS value
        FROM events
        WHERE id = ANY (event_ids) AND occurred_at BETWEEN new_since AND new_until
        GROUP BY GROUPING SETS ((path), (referrer_host), (device), (browser), (os), (country), (language),
                                (utm_source), (utm_medium), (utm_campaign), (hostname))
    )
    INSERT INTO stat_values (dimension, value)
    SELECT dimension, value
    FROM new_values v
    WHERE NOT EXISTS (SELECT 1 FROM stat_values s WHERE s.dimension = v.dimension AND s.value = v.value)
    ORDER BY 1, 2
    ON CONFLICT DO NOTHING;

    -- The sessions whose events are reread, as an array: looked up in `events_session_idx` (by
    -- their hashes, below) in one bitmap scan. Long ones (with stored quarters) are not among them. The backfill never uses the
    -- stored quarters: it adds sessions as they were up to `through`.
    small_sessions := ARRAY(
        SELECT DISTINCT n.session_id FROM events n
        WHERE n.id = ANY (event_ids) AND n.occurred_at BETWEEN new_since AND new_until
          AND (through IS NOT NULL OR NOT EXISTS (
                  SELECT 1 FROM filtered_session_quarters q
                  WHERE q.site_id = n.site_id AND q.session_id = n.session_id AND q.filter = 0)));
    small_session_hashes := ARRAY(SELECT DISTINCT hashtext(session_id) FROM unnest(small_sessions) AS s (session_id));
    touched_sites := ARRAY(
        SELECT DISTINCT site_id FROM events WHERE id = ANY (event_ids) AND occurred_at BETWEEN new_since AND new_until);
    -- Every event of those sessions lies in one of their session-hours (0004's trigger, which fires
    -- before this one, has added the new events' hours): reading only that stretch of time reads
    -- only the partitions that can hold them.
    SELECT min(h.hour), max(h.hour) + interval '1 hour' INTO sessions_since, sessions_until
    FROM session_hours h
    WHERE h.site_id = ANY (touched_sites) AND h.session_id = ANY (small_sessions);

    WITH new_events AS MATERIALIZED (
        SELECT n.id, n.site_id, n.session_id,
               through IS NULL AND EXISTS (
                   SELECT 1 FROM filtered_session_quarters q
                   WHERE q.site_id = n.site_id AND q.session_id = n.session_id AND q.filter = 0) AS long
        FROM events n WHERE n.id = ANY (event_ids) AND n.occurred_at BETWEEN new_since AND new_until
    ), history AS MATERIALIZED (
        -- Every event of the touched short sessions, the new ones included (an AFTER trigger sees
        -- them), and the new events of the long ones, with their value ids in the order of
        -- event_filter_values (path first).
        SELECT e.site_id, e.session_id, e.id, e.occurred_at,
               date_bin('15 minutes', e.occurred_at, 'epoch') AS quarter,
               (extract(epoch FROM e.occurred_at) * 1000000)::bigint AS us,
               e.is_new, e.long,
               ARRAY[v_path.id, v_referrer.id, v_device.id, v_browser.id, v_os.id, v_country.id, v_language.id,
                     v_utm_source.id, v_utm_medium.id, v_utm_campaign.id, v_hostname.id] AS ids
        FROM (SELECT e.*, e.id IN (SELECT id FROM new_events) AS is_new, false AS long
              FROM events e
              WHERE hashtext(e.session_id) = ANY (small_session_hashes) AND e.session_id = ANY (small_sessions)
                AND e.occurred_at >= coalesce(sessions_since, '-infinity') AND e.occurred_at < coalesce(sessions_until, 'infinity')
                AND (e.site_id, e.session_id) IN (SELECT site_id, session_id FROM new_events WHERE NOT long)
                AND (through IS NULL OR e.id <= through)
              UNION ALL
              SELECT e.*, true, true
              FROM events e
              WHERE e.id = ANY (ARRAY(SELECT id FROM new_events WHERE long))
                AND e.occurred_at BETWEEN new_since AND new_until) AS e
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
        JOIN stat_values v_hostname ON v_hostname.dimension = 'hostname' AND v_hostname.value = e.hostname
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
                     CASE WHEN min(ids[10]) = max(ids[10]) THEN min(ids[10]) END,
                     CASE WHEN min(ids[11]) = max(ids[11]) THEN min(ids[11]) END] AS pure
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
    ), whole_filtered AS (
        -- A session's quarters count, under each filter whose value all its events share, as they
        -- count unfiltered. Here each whole quarter once, with those filters (`f`, by dimension: 0
        -- no filter, 1 path, … 11 hostname; NULL where the events differ or where a backfill adds
        -- another `part`), to be summed per filter by grouping sets below: one hashing pass per
        -- dimension instead of a row per quarter and filter, most of a fold's rows.
        SELECT w.sign, w.site_id, w.quarter, w.prev_quarter, w.next_quarter, w.pageviews::integer AS pageviews,
               (w.pageviews = 1)::integer AS single, w.first_path, w.last_path,
               (extract(epoch FROM w.first_at - w.quarter) * 1000000)::bigint AS first_offset_us,
               (extract(epoch FROM w.last_at - w.quarter) * 1000000)::bigint AS last_offset_us,
               date_bin('1 hour', w.quarter, 'epoch') AS hour,
               f[1] AS f0, f[2] AS f1, f[3] AS f2, f[4] AS f3, f[5] AS f4, f[6] AS f5, f[7] AS f6, f[8] AS f7,
               f[9] AS f8, f[10] AS f9, f[11] AS f10, f[12] AS f11
        FROM whole_linked w
        JOIN purity p ON p.sign = w.sign AND p.site_id = w.site_id AND p.session_id = w.session_id
        CROSS JOIN LATERAL (SELECT CASE part WHEN 'all' THEN p.pure
                                             WHEN 'hostname' THEN array_fill(NULL::integer, ARRAY[11]) || p.pure[12]
                                             ELSE p.pure[1:11] || NULL::integer END) AS included (f)
    ), rest_linked AS (
        -- The other session-quarters under a filter: per value where a session's events differ,
        -- and the long sessions' (dimension: 0 for no filter, then as event_filter_values numbers
        -- them, 1 is path).
        SELECT sign, site_id, session_id, filter, dimension::integer AS dimension, quarter, pageviews, first_at,
               last_at, first_path, last_path, coalesce(lag(quarter) OVER w, '-infinity') AS prev_quarter,
               coalesce(lead(quarter) OVER w, 'infinity') AS next_quarter
        FROM mixed_quarters
        WINDOW w AS (PARTITION BY sign, site_id COLLATE "C", session_id COLLATE "C", filter ORDER BY quarter)
        UNION ALL
        SELECT * FROM long_linked
    ), pure_traffic AS (
        SELECT site_id, coalesce(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11) AS filter, quarter, prev_quarter,
               next_quarter, sum(sign) AS session_quarters, sum(sign * pageviews) AS pageviews,
               sum(sign * single) AS singles, sum(sign * first_offset_us) AS first_offset_us,
               sum(sign * last_offset_us) AS last_offset_us
        FROM whole_filtered
        GROUP BY site_id, quarter, prev_quarter, next_quarter,
                 GROUPING SETS ((f0), (f1), (f2), (f3), (f4), (f5), (f6), (f7), (f8), (f9), (f10), (f11))
    ), traffic AS (
        INSERT INTO filtered_traffic AS t
        SELECT site_id, filter, quarter, prev_quarter, next_quarter, sum(session_quarters), sum(pageviews),
               sum(singles), sum(first_offset_us), sum(last_offset_us)
        FROM (SELECT * FROM pure_traffic WHERE filter IS NOT NULL
              UNION ALL
              SELECT site_id, filter, quarter, prev_quarter, next_quarter, sign, sign * pageviews,
                     sign * (pageviews = 1)::integer,
                     sign * (extract(epoch FROM first_at - quarter) * 1000000)::bigint,
                     sign * (extract(epoch FROM last_at - quarter) * 1000000)::bigint
              FROM rest_linked
              WHERE part = 'all' OR (dimension = 11) = (part = 'hostname')) AS contributions
        GROUP BY 1, 2, 3, 4, 5
        HAVING sum(session_quarters) <> 0 OR sum(pageviews) <> 0 OR sum(singles) <> 0 OR sum(first_offset_us) <> 0
            OR sum(last_offset_us) <> 0
        ON CONFLICT (site_id, filter, quarter, prev_quarter, next_quarter) DO UPDATE SET
            session_quarters = t.session_quarters + excluded.session_quarters,
            pageviews = t.pageviews + excluded.pageviews,
            singles = t.singles + excluded.singles,
            first_offset_us = t.first_offset_us + excluded.first_offset_us,
            last_offset_us = t.last_offset_us + excluded.last_offset_us
    ), pure_ends AS (
        -- Session ends per hour, as 0004 keeps them: a session's first quarter in an hour is the one
        -- whose previous quarter lies in an earlier hour, which is then its previous hour; its last
        -- likewise. No filter has them in 0004's tables; path filters have none: their sessions
        -- enter and leave on their path (dimension 1).
        SELECT w.site_id, w.hour, x.kind, date_bin('1 hour', x.boundary, 'epoch') AS boundary, x.path_id,
               coalesce(w.f2, w.f3, w.f4, w.f5, w.f6, w.f7, w.f8, w.f9, w.f10, w.f11) AS filter,
               sum(w.sign) AS sessions
        FROM whole_filtered w
        CROSS JOIN LATERAL (VALUES ('entry', w.prev_quarter, w.first_path, w.prev_quarter < w.hour),
                                   ('exit', w.next_quarter, w.last_path, w.next_quarter >= w.hour + interval '1 hour')
        ) AS x (kind, boundary, path_id, applies)
        WHERE x.applies
        GROUP BY w.site_id, w.hour, x.kind, date_bin('1 hour', x.boundary, 'epoch'), x.path_id,
                 GROUPING SETS ((w.f2), (w.f3), (w.f4), (w.f5), (w.f6), (w.f7), (w.f8), (w.f9), (w.f10), (w.f11))
    ), hour_ends AS (
        SELECT site_id, hour, filter, kind, boundary, path_id, sum(sessions) AS sessions
        FROM (SELECT * FROM pure_ends WHERE filter IS NOT NULL
              UNION ALL
              SELECT r.site_id, date_bin('1 hour', r.quarter, 'epoch'), x.kind, date_bin('1 hour', x.boundary, 'epoch'),
                     x.path_id, r.filter, r.sign
              FROM rest_linked r
              CROSS JOIN LATERAL (VALUES
                  ('entry', r.prev_quarter, r.first_path, r.prev_quarter < date_bin('1 hour', r.quarter, 'epoch')),
                  ('exit', r.next_quarter, r.last_path,
                   r.next_quarter >= date_bin('1 hour', r.quarter, 'epoch') + interval '1 hour')
              ) AS x (kind, boundary, path_id, applies)
              WHERE r.dimension > 1 AND x.applies AND (part = 'all' OR (r.dimension = 11) = (part = 'hostname'))
             ) AS e
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(sessions) <> 0
    ), ends AS (
        -- As 0004's entry_exit_counts: a day row only for the session-hours that can be first (last)
        -- in a range holding the whole day.
        SELECT site_id, 'hour' AS span, hour AS bucket, filter, kind, boundary, path_id, sessions FROM hour_ends
        UNION ALL
        SELECT site_id, 'day', date_bin('1 day', hour, 'epoch'), filter, kind, boundary, path_id, sum(sessions)
        FROM hour_ends
        WHERE CASE kind WHEN 'entry' THEN boundary < date_bin('1 day', hour, 'epoch')
                        ELSE boundary >= date_bin('1 day', hour, 'epoch') + interval '1 day' END
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
        -- for every two dimensions (grouping sets hash each group once per pair, without making a
        -- row of it), then each count entered twice: the value of one dimension under the other's as
        -- a filter, and the reverse. The events of an hour that share every value are one group
        -- first: about half as many rows to hash 55 times.
        SELECT site_id, hour, n,
               ids[1] AS path, ids[2] AS referrer, ids[3] AS device, ids[4] AS browser, ids[5] AS os,
               ids[6] AS country, ids[7] AS language, ids[8] AS utm_source, ids[9] AS utm_medium,
               ids[10] AS utm_campaign, ids[11] AS hostname
        FROM (SELECT site_id, date_bin('1 hour', occurred_at, 'epoch') AS hour, ids, count(*) AS n
              FROM history
              WHERE is_new
              GROUP BY 1, 2, 3) AS alike
    ), pair_counts AS (
        SELECT site_id, hour, sum(n) AS n, GROUPING(hostname) = 0 AS with_hostname,
               array_remove(ARRAY[path, referrer, device, browser, os, country, language, utm_source, utm_medium,
                                  utm_campaign, hostname], NULL) AS pair
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
            (utm_source, utm_campaign), (utm_medium, utm_campaign), (path, hostname), (referrer, hostname),
            (device, hostname), (browser, hostname), (os, hostname), (country, hostname), (language, hostname),
            (utm_source, hostname), (utm_medium, hostname), (utm_campaign, hostname))
    ), pairs AS (
        SELECT site_id, hour, x.filter, x.value_id, n
        FROM pair_counts CROSS JOIN LATERAL (VALUES (pair[1], pair[2]), (pair[2], pair[1])) AS x (filter, value_id)
        WHERE part = 'all' OR with_hostname = (part = 'hostname')
    ), spans AS (
        SELECT site_id, 'hour' AS span, hour AS bucket, filter, value_id, n FROM pairs
        UNION ALL
        SELECT site_id, 'day', date_bin('1 day', hour, 'epoch'), filter, value_id, sum(n) FROM pairs GROUP BY 1, 2, 3, 4, 5
    )
    INSERT INTO filtered_counts AS c
    SELECT site_id, span, bucket, filter, array_agg(value_id), array_agg(n::integer)
    FROM spans
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (site_id, span, bucket, filter) DO UPDATE SET
        (value_ids, pageviews) = (SELECT ids, counts FROM add_counts(c.value_ids, c.pageviews, excluded.value_ids, excluded.pageviews));
END
$function$;

-- The events of a session are found through a B-tree on the hash of its id, where a hash index on
-- the id was: the same 4-byte keys, so no larger, and each lookup adds the id itself. A hash index
-- keeps every entry of one key in one chain of overflow pages, and each insert walks that chain to
-- a page with room: the ingest benchmark's single session of 600 000 page views made the INSERT of
-- a 20 000-event fold take 3.7 s of its 4.4 (`auto_explain`), the fold slowing down as the session
-- grew, and the roll-up fell 20 s behind the benchmark. A B-tree orders equal keys by row and finds
-- the place of a new one by descending the tree, whatever the session's size. No fold runs while
-- the index is built (ingestion goes on into `event_queue`).
CREATE INDEX events_session_hash_idx ON events (hashtext(session_id));
DROP INDEX events_session_idx;
ALTER INDEX events_session_hash_idx RENAME TO events_session_idx;

-- 0020's, looking the sessions up by their hashes.
CREATE OR REPLACE FUNCTION backfill_next_batch(next_id bigint, through bigint, max_events integer, part text)
RETURNS bigint LANGUAGE plpgsql AS $function$
DECLARE
    upper bigint := least(next_id + max_events, through + 1);
    ids bigint[];
BEGIN
    ids := ARRAY(
        WITH starting AS (
            SELECT DISTINCT site_id, session_id FROM events WHERE id >= next_id AND id < upper
        )
        SELECT e.id
        FROM starting s
        JOIN events e ON hashtext(e.session_id) = hashtext(s.session_id) AND e.session_id = s.session_id
                     AND e.site_id = s.site_id AND e.id <= through
        WHERE NOT EXISTS (SELECT 1 FROM events o
                          WHERE hashtext(o.session_id) = hashtext(s.session_id) AND o.session_id = s.session_id
                            AND o.site_id = s.site_id AND o.id < next_id));
    PERFORM pg_advisory_xact_lock(72711, hashtext(site_id))
    FROM (SELECT DISTINCT site_id FROM events WHERE id = ANY (ids) ORDER BY 1) AS sites;
    PERFORM roll_up_filtered(ids, through, part);
    RETURN upper;
END
$function$;

-- 0019's, for an installation whose `events` is not partitioned yet: the new table's session
-- index is the one above, which the old table's then matches.
CREATE OR REPLACE FUNCTION partition_events() RETURNS void LANGUAGE plpgsql AS $function$
DECLARE
    job events_partitioning;
    first_partition text;
    next_id bigint;
    view record;
    views text[][] := '{}';
BEGIN
    LOCK TABLE events IN ACCESS EXCLUSIVE MODE;
    SELECT * INTO job FROM events_partitioning;
    IF job.converted_at IS NOT NULL THEN
        RETURN;
    END IF;
    first_partition := 'events_before_' || to_char(job.boundary AT TIME ZONE 'UTC', 'YYYY_MM');

    -- Views are bound to the table, not its name: they would follow it to its new name. Their
    -- text, taken while it still says `events`, defines them again over the new table.
    FOR view IN
        SELECT DISTINCT r.ev_class::regclass::text AS name, pg_get_viewdef(r.ev_class) AS definition
        FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = 'events'::regclass AND r.ev_class <> 'events'::regclass
    LOOP
        views := views || ARRAY[[view.name, view.definition]];
    END LOOP;

    SELECT last_value + 1 INTO next_id FROM events_id_seq;
    -- An identity column's sequence belongs to its table; the new table gets its own, going on
    -- from the same number.
    ALTER TABLE events ALTER COLUMN id DROP IDENTITY;
    ALTER TABLE events RENAME TO events_unpartitioned;
    EXECUTE format('ALTER TABLE events_unpartitioned RENAME TO %I', first_partition);
    EXECUTE format('ALTER INDEX events_pkey RENAME TO %I', first_partition || '_pkey');
    EXECUTE format('ALTER INDEX events_site_time_idx RENAME TO %I', first_partition || '_site_time_idx');
    EXECUTE format('ALTER INDEX events_session_idx RENAME TO %I', first_partition || '_session_idx');
    EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT events_site_id_fkey TO %I', first_partition, first_partition || '_site_id_fkey');
    EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT events_before_partitions TO %I', first_partition, first_partition || '_range');

    -- What fires for a statement on `events` moves to the new table; the guards against UPDATE and
    -- TRUNCATE stay on each partition too, where a statement naming the partition meets them.
    EXECUTE format('DROP TRIGGER events_read_committed ON %I', first_partition);
    EXECUTE format('DROP TRIGGER events_roll_up ON %I', first_partition);
    EXECUTE format('DROP TRIGGER events_roll_up_filtered ON %I', first_partition);

    EXECUTE format($sql$
        CREATE TABLE events (
            LIKE %I INCLUDING DEFAULTS,
            CONSTRAINT events_site_id_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE
        ) PARTITION BY RANGE (occurred_at)$sql$, first_partition);
    EXECUTE format('ALTER TABLE events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (START WITH %s)', next_id);
    EXECUTE format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%L)', first_partition, job.boundary);
    -- The first partition's indexes match these, and become theirs without being built again.
    CREATE INDEX events_site_time_idx ON events (site_id, occurred_at);
    CREATE INDEX events_session_idx ON events (hashtext(session_id));
    CREATE TABLE events_default PARTITION OF events DEFAULT;
    ALTER TABLE events_default ADD PRIMARY KEY (id);
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events_default
        FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
    CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events_default
        FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

    CREATE TRIGGER events_read_committed BEFORE INSERT ON events
        FOR EACH STATEMENT EXECUTE FUNCTION events_require_read_committed();
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
    CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
    CREATE TRIGGER events_roll_up AFTER INSERT ON events
        REFERENCING NEW TABLE AS new_events
        FOR EACH STATEMENT EXECUTE FUNCTION roll_up_events();
    CREATE TRIGGER events_roll_up_filtered AFTER INSERT ON events
        REFERENCING NEW TABLE AS new_events
        FOR EACH STATEMENT EXECUTE FUNCTION roll_up_filtered_events();

    FOR i IN 1 .. coalesce(array_length(views, 1), 0) LOOP
        EXECUTE format('CREATE OR REPLACE VIEW %s AS %s', views[i][1], views[i][2]);
    END LOOP;

    UPDATE events_partitioning SET converted_at = now();
END
$function$;


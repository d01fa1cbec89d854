-- Visitor profiles: questions with several filters on who the visitor is answered from rollups
-- (issue 14: two or three filters).
--
-- A page view's profile is its (device, browser, os, country, language): what a visitor's browser
-- and network say about them, the same on every page of a visit as a rule. Here it becomes a
-- twelfth filter dimension of 0012's rollups, `profile`, counted like the other eleven: its session
-- quarters in `filtered_traffic`, the values of every other dimension under it in
-- `filtered_counts`, its sessions' entry and exit pages in `filtered_session_ends`. Its values are
-- numbered in `stat_values` as the JSON array of the five (`visitor_profile`), which no value can
-- make ambiguous.
--
-- Filters on those five dimensions select the page views of a set of profiles: `device:desktop`
-- and `os:Windows` those of every profile with that device and that system. The page views,
-- top-list counts and chart page views of the set are the sums of its profiles'. Sessions,
-- bounces and durations are too when no session has page views of two different profiles in the
-- range: each session then lies under one profile. A session whose page views differ in their
-- profile (a visitor whose country changed on the way) is counted under each of its profiles, as a
-- filter on that profile counts it, and its session-quarters are also added up under filter -1, a
-- marker: a question whose range holds a marked quarter is answered from the raw events instead.
-- Long sessions (0014), whose purity is not worked out, are always marked.
--
-- `roll_up_filtered` is 0022's with the twelfth dimension; its `part` (for the backfills) gains
-- 'profile', and 'all but hostname' (0012's backfill) leaves the profiles to this migration's
-- backfill, which covers every event before it. The profiles of the events written before this
-- migration are added by `hitkeep migrate` (`backfill_profile_rollups`), in batches; until then
-- such questions read the raw events, as before. The long sessions' stored quarters get their
-- profile rows here.

-- No event is written while this migration runs, so that the events before it are exactly those
-- with an id up to the backfill's `through`.
LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE;

CREATE FUNCTION visitor_profile(device text, browser text, os text, country text, language text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $function$
    SELECT json_build_array(device, browser, os, country, language)::text
$function$;

-- Whether a backfill's `part` of roll_up_filtered adds the rows of a dimension (0: no filter, then
-- path 1 … hostname 11, profile 12).
CREATE FUNCTION part_has_dimension(part text, dimension integer) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $function$
    SELECT CASE part WHEN 'all' THEN true
                     WHEN 'hostname' THEN dimension = 11
                     WHEN 'profile' THEN dimension = 12
                     ELSE dimension < 11 END
$function$;

-- Every existing event's profile, and every value of the other dimensions, is numbered here: a fold
-- reads the earlier events of the sessions it touches joined to their values' numbers, and an event
-- with a value that had none would drop out of its session's history, so that the fold's difference
-- counted the session's new page views as a session of their own. Until a backfill (this one, or
-- 0012's or 0020's on an installation upgraded from before them) came by, the values of events
-- written before it had no numbers unless a later event shared them.
INSERT INTO stat_values (dimension, value)
SELECT 'profile', visitor_profile(device, browser, os, country, language)
FROM (SELECT DISTINCT device, browser, os, country, language FROM events) AS profiles
ORDER BY 2
ON CONFLICT DO NOTHING;
INSERT INTO stat_values (dimension, value)
SELECT grouped_dimension(GROUPING(path, referrer_host, device, browser, os, country, language, utm_source, utm_medium,
                                  utm_campaign, hostname)),
       coalesce(path, referrer_host, device, browser, os, country, language, utm_source, utm_medium, utm_campaign,
                hostname)
FROM events
GROUP BY GROUPING SETS ((path), (referrer_host), (device), (browser), (os), (country), (language), (utm_source),
                        (utm_medium), (utm_campaign), (hostname))
ORDER BY 1, 2
ON CONFLICT DO NOTHING;

-- 0022's, with the profile as dimension 12.
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
    IF part NOT IN ('all', 'hostname', 'profile', 'all but hostname') OR (part <> 'all' AND through IS NULL) THEN
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
        UNION ALL
        SELECT DISTINCT 'profile', visitor_profile(device, browser, os, country, language)
        FROM events
        WHERE id = ANY (event_ids) AND occurred_at BETWEEN new_since AND new_until
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
                     v_utm_source.id, v_utm_medium.id, v_utm_campaign.id, v_hostname.id, v_profile.id] AS ids
        -- A backfill passes every event of its sessions up to `through`: all of them are new. Said
        -- so, a session of a million page views is not looked up a million times in the CTE, which
        -- is too large to be hashed in work_mem (a backfill batch ran for over half an hour).
        FROM (SELECT e.*, through IS NOT NULL OR e.id IN (SELECT id FROM new_events) AS is_new, false AS long
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
        JOIN stat_values v_profile ON v_profile.dimension = 'profile'
                                  AND v_profile.value = visitor_profile(e.device, e.browser, e.os, e.country, e.language)
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
                     CASE WHEN min(ids[11]) = max(ids[11]) THEN min(ids[11]) END,
                     CASE WHEN min(ids[12]) = max(ids[12]) THEN min(ids[12]) END] AS pure
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
        -- no filter, 1 path, … 11 hostname, 12 profile; NULL where the events differ or where a backfill adds
        -- another `part`), to be summed per filter by grouping sets below: one hashing pass per
        -- dimension instead of a row per quarter and filter, most of a fold's rows.
        SELECT w.sign, w.site_id, w.quarter, w.prev_quarter, w.next_quarter, w.pageviews::integer AS pageviews,
               (w.pageviews = 1)::integer AS single, w.first_path, w.last_path,
               (extract(epoch FROM w.first_at - w.quarter) * 1000000)::bigint AS first_offset_us,
               (extract(epoch FROM w.last_at - w.quarter) * 1000000)::bigint AS last_offset_us,
               date_bin('1 hour', w.quarter, 'epoch') AS hour,
               f[1] AS f0, f[2] AS f1, f[3] AS f2, f[4] AS f3, f[5] AS f4, f[6] AS f5, f[7] AS f6, f[8] AS f7,
               f[9] AS f8, f[10] AS f9, f[11] AS f10, f[12] AS f11, f[13] AS f12
        FROM whole_linked w
        JOIN purity p ON p.sign = w.sign AND p.site_id = w.site_id AND p.session_id = w.session_id
        CROSS JOIN LATERAL (SELECT CASE part WHEN 'all' THEN p.pure
                                             WHEN 'hostname' THEN array_fill(NULL::integer, ARRAY[11]) || p.pure[12] || NULL::integer
                                             WHEN 'profile' THEN array_fill(NULL::integer, ARRAY[12]) || p.pure[13]
                                             ELSE p.pure[1:11] || array_fill(NULL::integer, ARRAY[2]) END) AS included (f)
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
        SELECT site_id, coalesce(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12) AS filter, quarter, prev_quarter,
               next_quarter, sum(sign) AS session_quarters, sum(sign * pageviews) AS pageviews,
               sum(sign * single) AS singles, sum(sign * first_offset_us) AS first_offset_us,
               sum(sign * last_offset_us) AS last_offset_us
        FROM whole_filtered
        GROUP BY site_id, quarter, prev_quarter, next_quarter,
                 GROUPING SETS ((f0), (f1), (f2), (f3), (f4), (f5), (f6), (f7), (f8), (f9), (f10), (f11), (f12))
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
              WHERE part_has_dimension(part, dimension)
              UNION ALL
              -- The profile-mixed marker (above): the session-quarters of sessions whose page views
              -- have more than one profile, and of long sessions, under filter -1.
              SELECT site_id, -1, quarter, prev_quarter, next_quarter, sign, sign * pageviews, 0, 0, 0
              FROM rest_linked
              WHERE dimension = 12 AND part_has_dimension(part, 12)) AS contributions
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
               coalesce(w.f2, w.f3, w.f4, w.f5, w.f6, w.f7, w.f8, w.f9, w.f10, w.f11, w.f12) AS filter,
               sum(w.sign) AS sessions
        FROM whole_filtered w
        CROSS JOIN LATERAL (VALUES ('entry', w.prev_quarter, w.first_path, w.prev_quarter < w.hour),
                                   ('exit', w.next_quarter, w.last_path, w.next_quarter >= w.hour + interval '1 hour')
        ) AS x (kind, boundary, path_id, applies)
        WHERE x.applies
        GROUP BY w.site_id, w.hour, x.kind, date_bin('1 hour', x.boundary, 'epoch'), x.path_id,
                 GROUPING SETS ((w.f2), (w.f3), (w.f4), (w.f5), (w.f6), (w.f7), (w.f8), (w.f9), (w.f10), (w.f11),
                                (w.f12))
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
              WHERE r.dimension > 1 AND x.applies AND part_has_dimension(part, r.dimension)
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
               ids[10] AS utm_campaign, ids[11] AS hostname, ids[12] AS profile
        FROM (SELECT site_id, date_bin('1 hour', occurred_at, 'epoch') AS hour, ids, count(*) AS n
              FROM history
              WHERE is_new
              GROUP BY 1, 2, 3) AS alike
    ), pair_counts AS (
        SELECT site_id, hour, sum(n) AS n, GROUPING(hostname) = 0 AS with_hostname, GROUPING(profile) = 0 AS with_profile,
               array_remove(ARRAY[path, referrer, device, browser, os, country, language, utm_source, utm_medium,
                                  utm_campaign, hostname, profile], NULL) AS pair
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
            (utm_source, hostname), (utm_medium, hostname), (utm_campaign, hostname), (path, profile),
            (referrer, profile), (device, profile), (browser, profile), (os, profile), (country, profile),
            (language, profile), (utm_source, profile), (utm_medium, profile), (utm_campaign, profile),
            (hostname, profile))
    ), pairs AS (
        SELECT site_id, hour, x.filter, x.value_id, n
        FROM pair_counts CROSS JOIN LATERAL (VALUES (pair[1], pair[2]), (pair[2], pair[1])) AS x (filter, value_id)
        -- A profile is only ever a filter: the values under it, not it under a value.
        WHERE NOT (with_profile AND x.filter = pair[1])
          AND CASE part WHEN 'all' THEN true
                        WHEN 'profile' THEN with_profile
                        WHEN 'hostname' THEN with_hostname AND NOT with_profile
                        ELSE NOT with_hostname AND NOT with_profile END
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


-- The stored quarters of long sessions (0014) gain their profile rows here, from their events, as
-- 0021 stored them whole: a fold that found them missing would reread such a session, for hundreds
-- of thousands of page views longer than the statement timeout. The rows are what
-- `roll_up_filtered` stores for a session reaching `large_session_events()`.
CREATE TEMPORARY TABLE stored_long_session_events ON COMMIT DROP AS
SELECT e.site_id, e.session_id, e.id, e.occurred_at, e.path,
       visitor_profile(e.device, e.browser, e.os, e.country, e.language) AS profile
FROM events e
JOIN (SELECT DISTINCT site_id, session_id FROM filtered_session_quarters WHERE filter = 0) AS l
  ON l.site_id = e.site_id AND l.session_id = e.session_id;
ANALYZE stored_long_session_events;

INSERT INTO stat_values (dimension, value)
SELECT DISTINCT 'profile', profile FROM stored_long_session_events ORDER BY 2
ON CONFLICT DO NOTHING;

SET LOCAL enable_sort = off;
SET LOCAL enable_nestloop = off;
SET LOCAL work_mem = '256MB';
INSERT INTO filtered_session_quarters
SELECT e.site_id, e.session_id, v.id, 12, date_bin('15 minutes', e.occurred_at, 'epoch'), count(*),
       min(ARRAY[(extract(epoch FROM e.occurred_at) * 1000000)::bigint, e.id, p.id]),
       max(ARRAY[(extract(epoch FROM e.occurred_at) * 1000000)::bigint, e.id, p.id])
FROM stored_long_session_events e
JOIN stat_values v ON v.dimension = 'profile' AND v.value = e.profile
JOIN stat_values p ON p.dimension = 'path' AND p.value = e.path
GROUP BY 1, 2, 3, 5;
RESET enable_sort;
RESET enable_nestloop;
RESET work_mem;

-- 0022's, without its join of the batch's sessions to `events`: planned once per call, it estimated
-- a few sessions and read every event for them (a parallel scan of `events`, 2.5 to 17 s a batch at
-- 16 million events, whatever the batch's size: 1 000 event ids a second). The sessions are now looked
-- up by their hashes in one bitmap scan of the session index, as `roll_up_filtered` reads them.
CREATE OR REPLACE FUNCTION backfill_next_batch(next_id bigint, through bigint, max_events integer, part text)
RETURNS bigint LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan SET enable_nestloop = off
AS $function$
DECLARE
    upper bigint := least(next_id + max_events, through + 1);
    sessions text[];
    hashes integer[];
    ids bigint[];
BEGIN
    sessions := ARRAY(SELECT DISTINCT session_id FROM events WHERE id >= next_id AND id < upper);
    hashes := ARRAY(SELECT DISTINCT hashtext(s) FROM unnest(sessions) AS s);
    -- Thousands of hashes look costly to the planner, which then reads the whole table instead.
    PERFORM set_config('enable_seqscan', 'off', true);
    ids := ARRAY(
        WITH session_events AS MATERIALIZED (
            SELECT e.id, e.site_id, e.session_id
            FROM events e
            WHERE hashtext(e.session_id) = ANY (hashes) AND e.session_id = ANY (sessions)
              AND (e.site_id, e.session_id) IN (SELECT site_id, session_id FROM events WHERE id >= next_id AND id < upper)
        )
        SELECT s.id
        FROM session_events s
        WHERE s.id <= through
          AND NOT EXISTS (SELECT 1 FROM session_events o
                          WHERE o.site_id = s.site_id AND o.session_id = s.session_id AND o.id < next_id));
    PERFORM set_config('enable_seqscan', 'on', true);
    PERFORM pg_advisory_xact_lock(72711, hashtext(site_id))
    FROM (SELECT DISTINCT site_id FROM events WHERE id = ANY (ids) ORDER BY 1) AS sites;
    PERFORM roll_up_filtered(ids, through, part);
    RETURN upper;
END
$function$;

-- The profile rows of the filtered rollups for the events written before this migration, added by
-- `hitkeep migrate` as 0020's hostname rows are: `backfill_profile_rollups` until it returns 0.
CREATE TABLE profile_rollups_backfill (
    through bigint NOT NULL,                        -- the last event written before this migration
    next_id bigint NOT NULL                         -- sessions whose first event is below it are done
);
INSERT INTO profile_rollups_backfill (through, next_id)
SELECT max(id), min(id) FROM events HAVING max(id) IS NOT NULL;

CREATE FUNCTION backfill_profile_rollups(max_events integer) RETURNS bigint LANGUAGE plpgsql AS $function$
DECLARE
    job profile_rollups_backfill;
    upper bigint;
BEGIN
    SELECT * INTO job FROM profile_rollups_backfill FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    upper := backfill_next_batch(job.next_id, job.through, max_events, 'profile');
    IF upper > job.through THEN
        DELETE FROM profile_rollups_backfill;
    ELSE
        UPDATE profile_rollups_backfill SET next_id = upper;
    END IF;
    RETURN upper - job.next_id;
END
$function$;

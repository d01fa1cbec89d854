-- The fold's first statements read the new page views once each, not five times (issue 14: the
-- roll-up keeps up at 10 000 page views a second).
--
-- Before its main statement, `roll_up_filtered` numbered the new values, listed the sessions to
-- reread, their sites, and the stretch of time their session-hours cover: four statements, which
-- looked the batch's page views up by id five times and each page view's session among the long
-- ones (0014) once per page view, then the main statement again. A fold of 20 000 page views of
-- browsers' traffic (7 557 sessions) spent 380 to 590 ms of its 2.7 s there, and the stretch of
-- time alone 164 to 312 ms, because the planner read all of `session_hours` in parallel rather
-- than the sessions' rows through its primary key (one estimate against the other, 28 000 against
-- 30 700, flipping with the table's statistics). Now the values come from one read of the page
-- views, the sites, the short sessions and the long ones from another, each session looked up once,
-- and each session's first and last hour through the primary key, which the planner cannot
-- replace by a scan of the table. The main statement looks up only the sessions named long.
--
-- The function is 0040's; only these statements change.

SELECT rewrite_function_text('roll_up_filtered(bigint[], bigint, text, timestamptz, timestamptz)', ARRAY[
    [$old$
    small_session_hashes integer[];
$old$, $new$
    small_session_hashes integer[];
    long_sessions text[];
$new$],
    [$old$
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
$old$, $new$
    WITH new_rows AS MATERIALIZED (
        -- The new events, read once (0041).
        SELECT path, referrer_host, device, browser, os, country, language, utm_source, utm_medium, utm_campaign,
               hostname
        FROM events
        WHERE id = ANY (event_ids) AND occurred_at BETWEEN new_since AND new_until
    ), new_values AS (
        -- Each value once (grouping sets, one hash per dimension) before they are looked up.
        SELECT grouped_dimension(GROUPING(path, referrer_host, device, browser, os, country, language, utm_source,
                                          utm_medium, utm_campaign, hostname)) AS dimension,
               coalesce(path, referrer_host, device, browser, os, country, language, utm_source, utm_medium,
                        utm_campaign, hostname) AS value
        FROM new_rows
        GROUP BY GROUPING SETS ((path), (referrer_host), (device), (browser), (os), (country), (language),
                                (utm_source), (utm_medium), (utm_campaign), (hostname))
        UNION ALL
        SELECT 'profile', visitor_profile(device, browser, os, country, language)
        FROM (SELECT DISTINCT device, browser, os, country, language FROM new_rows) AS profiles
    )
$new$],
    [$old$
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

$old$, $new$
    -- With the sites and the long sessions, from one read of the new events, each session looked up
    -- once among the long ones (0041).
    SELECT coalesce(array_agg(DISTINCT n.site_id), '{}'),
           coalesce(array_agg(DISTINCT n.session_id) FILTER (WHERE NOT n.long), '{}'),
           coalesce(array_agg(DISTINCT n.session_id) FILTER (WHERE n.long), '{}')
    INTO touched_sites, small_sessions, long_sessions
    FROM (SELECT s.site_id, s.session_id,
                 through IS NULL AND EXISTS (
                     SELECT 1 FROM filtered_session_quarters q
                     WHERE q.site_id = s.site_id AND q.session_id = s.session_id AND q.filter = 0) AS long
          FROM (SELECT DISTINCT site_id, session_id FROM events
                WHERE id = ANY (event_ids) AND occurred_at BETWEEN new_since AND new_until) AS s) AS n;
    small_session_hashes := ARRAY(SELECT DISTINCT hashtext(session_id) FROM unnest(small_sessions) AS s (session_id));
    -- Every event of those sessions lies in one of their session-hours (0004's trigger, which fires
    -- before this one, has added the new events' hours): reading only that stretch of time reads
    -- only the partitions that can hold them. Each session's first and last hour through the
    -- primary key (0041): as one scan for all of them the planner chose, as often as not, to read
    -- the whole table in parallel, up to a tenth of a fold at a million page views.
    SELECT min(x.low), max(x.high) INTO sessions_since, sessions_until
    FROM unnest(small_sessions) AS s (session_id)
    CROSS JOIN LATERAL (SELECT min(h.hour) AS low, max(h.hour) + interval '1 hour' AS high
                        FROM session_hours h
                        WHERE h.site_id = ANY (touched_sites) AND h.session_id = s.session_id) AS x;

$new$],
    [$old$
               through IS NULL AND EXISTS (
                   SELECT 1 FROM filtered_session_quarters q
                   WHERE q.site_id = n.site_id AND q.session_id = n.session_id AND q.filter = 0) AS long
        FROM events n WHERE n.id = ANY (event_ids) AND n.occurred_at BETWEEN new_since AND new_until
    ), history AS MATERIALIZED ($old$, $new$
               through IS NULL AND n.session_id = ANY (long_sessions) AND EXISTS (
                   SELECT 1 FROM filtered_session_quarters q
                   WHERE q.site_id = n.site_id AND q.session_id = n.session_id AND q.filter = 0) AS long
        FROM events n WHERE n.id = ANY (event_ids) AND n.occurred_at BETWEEN new_since AND new_until
    ), history AS MATERIALIZED ($new$]]);

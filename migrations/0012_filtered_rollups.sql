-- Rollups under one filter (what a click on a top-list row asks), and per quarter hour (what a
-- day in India or Nepal asks).
--
-- 0004's rollups answer unfiltered questions whose ends are whole UTC hours. A filter
-- (`filter=device:mobile`) selects page views, and the definitions then apply to those alone: a
-- session is counted when one of its *matching* page views is in the range, its duration runs from
-- its first to its last matching page view, and so on (docs/API.md §10.3). So each filter value gets
-- rollups of its own, built like 0004's, from the session's matching page views only: for the
-- filter value k, one "session-quarter" per (session, UTC quarter hour holding a page view of the
-- session with value k), linked to the session's previous and next quarter holding one. The tables
-- below add those up, per filter value, as `traffic_hourly` and `entry_exit_counts` do for all page
-- views; filter 0 (no filter) does the same per quarter for all page views.
--
-- The session-quarters themselves are not stored (ten filter types, each with a row per session
-- and quarter, would outgrow the events): whenever a statement writes events, the trigger reads
-- every event of the sessions it touches (a session is a few page views, found through
-- `events_session_idx`), derives their session-quarters before and after the new events, and adds
-- the difference to the rollups. Under a filter on a dimension in which all of a session's events
-- agree (one device, one country), its session-quarters are its unfiltered ones, computed once. A
-- session with very many events costs its whole length on every write to it (see the README's
-- Performance section).
--
-- Top lists under a filter are counts of page-view pairs: for each page view, each of its filter
-- values k and each value v of another dimension, one count of v under k, per hour and day. They
-- are additive, so the new events alone update them.

-- Every (dimension, value) the events hold, numbered: the rollups key on the number. Values can be
-- up to 4 KB (paths), more than a B-tree entry may hold, so uniqueness is kept on their MD5.
CREATE TABLE stat_values (
    id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dimension text NOT NULL,                        -- a filter type: path, referrer, device, …
    value     text NOT NULL,                        -- as stored in `events` ('' for none)
    value_md5 bytea GENERATED ALWAYS AS (decode(md5(value), 'hex')) STORED,
    UNIQUE (dimension, value_md5)
);

-- The sessions a write touches, and all their events. A hash index: 4-byte codes instead of the
-- two text keys a B-tree would copy, and a session is only ever looked up by equality.
CREATE INDEX events_session_idx ON events USING hash (session_id);

-- 0004's `traffic_hourly` per filter value, and per quarter hour rather than per hour: every UTC
-- offset in use is a whole number of quarter hours (India +05:30, Nepal +05:45, Chatham +12:45, Lord
-- Howe's half-hour summer time), so days and hours in any zone start on a quarter. Filter 0 is no
-- filter: every page view.
CREATE TABLE filtered_traffic (
    site_id         text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    filter          integer NOT NULL,               -- stat_values.id, or 0
    quarter         timestamptz NOT NULL,           -- a UTC quarter hour with a matching page view
    prev_quarter    timestamptz NOT NULL,           -- the session's previous one, or -infinity
    next_quarter    timestamptz NOT NULL,           -- its next one, or infinity
    session_quarters integer NOT NULL,
    pageviews       integer NOT NULL,
    singles         integer NOT NULL,
    first_offset_us bigint NOT NULL,                -- Σ (first_at − quarter)
    last_offset_us  bigint NOT NULL,
    -- A filter value's rows were written over time between every other value's, one per heap page:
    -- carrying the sums in the index lets a range be read in index order alone.
    PRIMARY KEY (site_id, filter, quarter, prev_quarter, next_quarter)
        INCLUDE (session_quarters, pageviews, singles, first_offset_us, last_offset_us)
) WITH (fillfactor = 80);

-- Page views of each other dimension's values under a filter value, per UTC hour and day, as two
-- parallel arrays: a filter value's whole hour is one row, whatever the number of values under it.
CREATE TABLE filtered_counts (
    site_id   text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    span      text NOT NULL CHECK (span IN ('hour', 'day')),
    bucket    timestamptz NOT NULL,
    filter    integer NOT NULL,
    value_ids integer[] NOT NULL,                   -- stat_values.id, each once
    pageviews integer[] NOT NULL,                   -- the count of value_ids[i] at [i]
    PRIMARY KEY (site_id, span, bucket, filter)
) WITH (fillfactor = 70);

-- 0004's `entry_exit_counts`, per filter value, with the paths as arrays as above. Path filters
-- have none: their sessions enter and leave on that path.
CREATE TABLE filtered_session_ends (
    site_id  text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    span     text NOT NULL CHECK (span IN ('hour', 'day')),
    bucket   timestamptz NOT NULL,
    filter   integer NOT NULL,
    kind     text NOT NULL CHECK (kind IN ('entry', 'exit')),
    boundary timestamptz NOT NULL,
    path_ids integer[] NOT NULL,                    -- stat_values.id of paths, each once
    sessions integer[] NOT NULL,
    PRIMARY KEY (site_id, span, bucket, filter, kind, boundary)
) WITH (fillfactor = 70);

-- The sum of two count vectors (ids, and counts alongside), without the ids whose sum is 0.
CREATE FUNCTION add_counts(a_ids integer[], a_counts integer[], b_ids integer[], b_counts integer[],
                           OUT ids integer[], OUT counts integer[])
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $function$
    SELECT coalesce(array_agg(id ORDER BY id), '{}'), coalesce(array_agg(n ORDER BY id), '{}')
    FROM (SELECT id, sum(n)::integer AS n
          FROM (SELECT * FROM unnest(a_ids, a_counts) UNION ALL SELECT * FROM unnest(b_ids, b_counts)) AS u (id, n)
          GROUP BY id HAVING sum(n) <> 0) AS summed
$function$;

-- The filter values of an event, one row per dimension, as the stats name the dimensions
-- (StatsDimension in the Swift sources: the filter types and the `events` columns they read).
CREATE FUNCTION event_filter_values(path text, referrer_host text, device text, browser text, os text,
                                    country text, language text, utm_source text, utm_medium text,
                                    utm_campaign text)
RETURNS TABLE (dimension text, value text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $function$
    VALUES ('path', path), ('referrer', referrer_host), ('device', device), ('browser', browser), ('os', os),
           ('country', country), ('language', language), ('utm_source', utm_source), ('utm_medium', utm_medium),
           ('utm_campaign', utm_campaign)
$function$;

-- Adds the events `event_ids` to the filtered rollups. Their sessions' other events count as
-- already added, those up to `through` only when it is given (the backfill of an existing
-- installation, `hitkeep migrate`, adds whole sessions' events written before this migration). The
-- caller holds the sites' rollup locks (0004).
--
-- Its statements join thousands of rows that the planner, seeing transition tables and CTEs, takes
-- for a handful; left alone it joins them in nested loops and groups them by sorting (on text
-- keys, in the database's collation), ten times slower. Plans are made for each call's arrays (their
-- lengths are then known), and hashing is the only way offered to join and group. Rows are
-- upserted in no particular order: one transaction at a time writes a site's rows (0004's lock).
CREATE FUNCTION roll_up_filtered(event_ids bigint[], through bigint DEFAULT NULL) RETURNS void
LANGUAGE plpgsql
SET enable_nestloop = off SET enable_sort = off SET plan_cache_mode = force_custom_plan SET jit = off
SET work_mem = '64MB'
AS $function$
DECLARE
    touched_sessions text[];
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

    -- The sessions the events belong to, as an array: looked up in `events_session_idx` by one
    -- bitmap scan.
    touched_sessions := ARRAY(SELECT DISTINCT session_id FROM events WHERE id = ANY (event_ids));

    WITH new_events AS MATERIALIZED (
        SELECT id, site_id, session_id FROM events WHERE id = ANY (event_ids)
    ), history AS MATERIALIZED (
        -- Every event of the touched sessions, the new ones included (an AFTER trigger sees them),
        -- with its value ids in the order of event_filter_values (path first), after 0: no filter.
        SELECT e.site_id, e.session_id, e.id, e.occurred_at,
               date_bin('15 minutes', e.occurred_at, 'epoch') AS quarter,
               (extract(epoch FROM e.occurred_at) * 1000000)::bigint AS us,
               e.id IN (SELECT id FROM new_events) AS is_new,
               ARRAY[v_path.id, v_referrer.id, v_device.id, v_browser.id, v_os.id, v_country.id, v_language.id,
                     v_utm_source.id, v_utm_medium.id, v_utm_campaign.id] AS ids
        FROM events e
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
        WHERE e.session_id = ANY (touched_sessions)
          AND (e.site_id, e.session_id) IN (SELECT site_id, session_id FROM new_events)
          AND (through IS NULL OR e.id <= through)
    ), states AS (
        -- The sessions after this statement (+1) and before it (-1): their difference is what the
        -- rollups must add. What did not change cancels out.
        SELECT 1 AS sign, * FROM history
        UNION ALL
        SELECT -1, * FROM history WHERE NOT is_new
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
    ), linked AS (
        -- dimension: 0 for no filter, then as event_filter_values numbers them (1 is path).
        SELECT w.sign, w.site_id, w.session_id, d.filter, d.dimension - 1 AS dimension, w.quarter, w.pageviews,
               w.first_at, w.last_at, w.first_path, w.last_path, w.prev_quarter, w.next_quarter
        FROM whole_linked w
        JOIN purity p ON p.sign = w.sign AND p.site_id = w.site_id AND p.session_id = w.session_id
        CROSS JOIN LATERAL unnest(p.pure) WITH ORDINALITY AS d (filter, dimension)
        WHERE d.filter IS NOT NULL
        UNION ALL
        SELECT *, coalesce(lag(quarter) OVER w, '-infinity'), coalesce(lead(quarter) OVER w, 'infinity')
        FROM mixed_quarters
        WINDOW w AS (PARTITION BY sign, site_id COLLATE "C", session_id COLLATE "C", filter ORDER BY quarter)
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

-- Runs after 0004's `roll_up_events` (triggers fire in name order), which takes the sites' locks.
CREATE FUNCTION roll_up_filtered_events() RETURNS trigger LANGUAGE plpgsql AS $function$
BEGIN
    PERFORM roll_up_filtered(ARRAY(SELECT id FROM new_events));
    RETURN NULL;
END
$function$;

CREATE TRIGGER events_roll_up_filtered AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION roll_up_filtered_events();

-- An installation upgraded with events already written: those events reach the filtered rollups
-- through `hitkeep migrate`, which calls `backfill_filtered_rollups` until it returns 0, in batches
-- that each hold the sites' locks only briefly, while ingestion goes on. Until then the stats answer
-- filtered questions from the raw events, as before. The events written after this migration are
-- added by the trigger above as they come: what it adds for a session is the difference its new
-- events make, so a session's older events, added by the backfill, are counted once.
CREATE TABLE filtered_rollups_backfill (
    through bigint NOT NULL,                        -- the last event written before this migration
    next_id bigint NOT NULL                         -- sessions whose first event is below it are done
);
-- CREATE INDEX above waited for every transaction writing events, and the table stays locked
-- against writes until this migration commits: no event older than `through` can appear later.
INSERT INTO filtered_rollups_backfill (through, next_id)
SELECT max(id), min(id) FROM events HAVING max(id) IS NOT NULL;

-- Adds the sessions whose first event (written before this migration) lies among the next
-- `max_events` event ids; returns how many ids it went through, 0 when the backfill is done.
CREATE FUNCTION backfill_filtered_rollups(max_events integer) RETURNS bigint LANGUAGE plpgsql AS $function$
DECLARE
    job filtered_rollups_backfill;
    upper bigint;
    ids bigint[];
BEGIN
    SELECT * INTO job FROM filtered_rollups_backfill FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    upper := least(job.next_id + max_events, job.through + 1);
    ids := ARRAY(
        WITH starting AS (
            SELECT DISTINCT site_id, session_id FROM events WHERE id >= job.next_id AND id < upper
        )
        SELECT e.id
        FROM starting s
        JOIN events e ON e.session_id = s.session_id AND e.site_id = s.site_id AND e.id <= job.through
        WHERE NOT EXISTS (SELECT 1 FROM events o
                          WHERE o.session_id = s.session_id AND o.site_id = s.site_id AND o.id < job.next_id));
    PERFORM pg_advisory_xact_lock(72711, hashtext(site_id))
    FROM (SELECT DISTINCT site_id FROM events WHERE id = ANY (ids) ORDER BY 1) AS sites;
    PERFORM roll_up_filtered(ids, job.through);
    IF upper > job.through THEN
        DELETE FROM filtered_rollups_backfill;
    ELSE
        UPDATE filtered_rollups_backfill SET next_id = upper;
    END IF;
    RETURN upper - job.next_id;
END
$function$;

-- Page views, and the rollups that answer stats queries without reading every event.
--
-- Every row of `events` is a page view. A statement-level trigger folds each INSERT (one event from
-- /ingest, thousands from `hitkeep dev seed`, or a COPY) into the rollups in the same transaction,
-- so the rollups are exactly the raw events, always, whichever path wrote them.
--
-- The rollups are built around "session-hours": one row per session and UTC hour in which the
-- session has at least one event, linked to the session's previous and next active hour. For any
-- range [F, T) whose ends are whole UTC hours, a session's restricted view of itself follows from
-- its session-hours inside the range:
--   * it has an event in the range  ⇔ exactly one of its session-hours in the range has prev_hour < F
--     (its first one there), and exactly one has next_hour >= T (its last one there);
--   * its first event in the range is that first session-hour's first event (landing page, start),
--     its last event is the last session-hour's last event (exit page, end);
--   * it bounced in the range ⇔ one session-hour is both first and last there and holds one page view.
-- Each of these is a sum over session-hours filtered on (hour, prev_hour, next_hour), so it can be
-- pre-added per (hour, prev_hour, next_hour) in `traffic_hourly` — a few rows per hour, however
-- busy the site. "No previous/next hour" is -infinity/infinity, so the filters need no NULL cases.

CREATE TABLE events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id       text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    occurred_at   timestamptz NOT NULL,
    session_id    text NOT NULL,
    path          text NOT NULL,                    -- without query string or fragment
    -- '' means none/unknown for every text field below, so that grouping needs no NULL cases.
    referrer_host text NOT NULL DEFAULT '',
    referrer_url  text NOT NULL DEFAULT '',         -- without query string or fragment
    device        text NOT NULL DEFAULT '',         -- desktop, mobile, tablet
    browser       text NOT NULL DEFAULT '',
    os            text NOT NULL DEFAULT '',
    country       text NOT NULL DEFAULT '',         -- ISO 3166-1 alpha-2, from a header nginx sets
    language      text NOT NULL DEFAULT '',
    utm_source    text NOT NULL DEFAULT '',
    utm_medium    text NOT NULL DEFAULT '',
    utm_campaign  text NOT NULL DEFAULT '',
    utm_term      text NOT NULL DEFAULT '',
    utm_content   text NOT NULL DEFAULT ''
);
-- Stats over raw events (filters, ranges that are not whole hours) and live visitors read by time.
CREATE INDEX events_site_time_idx ON events (site_id, occurred_at);

-- One row per (session, UTC hour with an event of it): the state the rollups are derived from.
CREATE TABLE session_hours (
    site_id    text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    session_id text NOT NULL,
    hour       timestamptz NOT NULL,
    pageviews  integer NOT NULL,
    -- The session's first and last event in this hour, ordered by (occurred_at, id).
    first_at   timestamptz NOT NULL,
    first_id   bigint NOT NULL,
    first_path text NOT NULL,
    last_at    timestamptz NOT NULL,
    last_id    bigint NOT NULL,
    last_path  text NOT NULL,
    prev_hour  timestamptz NOT NULL,                -- the session's previous active hour, or -infinity
    next_hour  timestamptz NOT NULL,                -- its next active hour, or infinity
    PRIMARY KEY (site_id, session_id, hour)
) WITH (fillfactor = 80);

-- Session-hours added up per (hour, prev_hour, next_hour).
CREATE TABLE traffic_hourly (
    site_id         text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    hour            timestamptz NOT NULL,
    prev_hour       timestamptz NOT NULL,
    next_hour       timestamptz NOT NULL,
    session_hours   bigint NOT NULL,                -- how many
    pageviews       bigint NOT NULL,
    singles         bigint NOT NULL,                -- of them, those holding exactly one page view
    first_offset_us bigint NOT NULL,                -- Σ (first_at − hour) in microseconds
    last_offset_us  bigint NOT NULL,                -- Σ (last_at − hour) in microseconds
    PRIMARY KEY (site_id, hour, prev_hour, next_hour)
) WITH (fillfactor = 80);

-- Page views per value of each event dimension, per UTC hour and per UTC day: a range reads whole
-- days where it can and hours at its ends.
CREATE TABLE dimension_counts (
    site_id   text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    span      text NOT NULL CHECK (span IN ('hour', 'day')),
    bucket    timestamptz NOT NULL,
    dimension text NOT NULL,                        -- path, referrer, device, browser, os, country, language, utm_*
    value     text NOT NULL,
    pageviews bigint NOT NULL,
    PRIMARY KEY (site_id, span, bucket, dimension, value)
) WITH (fillfactor = 80);

-- Landing (entry) and exit pages. An entry row counts session-hours by first path and prev_hour:
-- for a range starting at F, the landing pages are the rows with prev_hour < F. Exit rows count by
-- last path and next_hour (>= T). A day row holds only the session-hours that can be first (last)
-- in a range containing the whole day: those whose prev_hour (next_hour) lies outside that day.
CREATE TABLE entry_exit_counts (
    site_id  text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    span     text NOT NULL CHECK (span IN ('hour', 'day')),
    bucket   timestamptz NOT NULL,
    kind     text NOT NULL CHECK (kind IN ('entry', 'exit')),
    boundary timestamptz NOT NULL,                  -- prev_hour for an entry, next_hour for an exit
    path     text NOT NULL,
    sessions bigint NOT NULL,
    PRIMARY KEY (site_id, span, bucket, kind, boundary, path)
) WITH (fillfactor = 80);

-- Folds the statement's new events into the rollups. One writer per site at a time (an advisory
-- lock held to COMMIT): every event of a site touches the same few hot rollup rows anyway, and a
-- single writer cannot deadlock on them. Sites write in parallel.
CREATE FUNCTION roll_up_events() RETURNS trigger LANGUAGE plpgsql AS $function$
BEGIN
    PERFORM pg_advisory_xact_lock(72711, hashtext(site_id))
    FROM (SELECT DISTINCT site_id FROM new_events ORDER BY 1) AS sites;

    WITH new_parts AS (
        -- The new events per session-hour.
        SELECT site_id, session_id, date_trunc('hour', occurred_at, 'UTC') AS hour,
               count(*)::integer AS pageviews,
               (array_agg(occurred_at ORDER BY occurred_at, id))[1] AS first_at,
               (array_agg(id ORDER BY occurred_at, id))[1] AS first_id,
               (array_agg(path ORDER BY occurred_at, id))[1] AS first_path,
               (array_agg(occurred_at ORDER BY occurred_at DESC, id DESC))[1] AS last_at,
               (array_agg(id ORDER BY occurred_at DESC, id DESC))[1] AS last_id,
               (array_agg(path ORDER BY occurred_at DESC, id DESC))[1] AS last_path
        FROM new_events
        GROUP BY 1, 2, 3
    ), windows AS (
        -- Per session, the stretch of its session-hours whose links can change: from the last
        -- existing hour before the earliest new one to the first existing hour after the latest.
        SELECT b.site_id, b.session_id,
               coalesce((SELECT max(h.hour) FROM session_hours h
                         WHERE h.site_id = b.site_id AND h.session_id = b.session_id AND h.hour < b.low), b.low) AS low,
               coalesce((SELECT min(h.hour) FROM session_hours h
                         WHERE h.site_id = b.site_id AND h.session_id = b.session_id AND h.hour > b.high), b.high) AS high
        FROM (SELECT site_id, session_id, min(hour) AS low, max(hour) AS high FROM new_parts GROUP BY 1, 2) AS b
    ), old AS (
        SELECT h.*
        FROM windows w
        JOIN session_hours h ON h.site_id = w.site_id AND h.session_id = w.session_id AND h.hour BETWEEN w.low AND w.high
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
        (r.site_id, 'day', date_trunc('day', r.hour, 'UTC'), 'entry', r.prev_hour, r.first_path, r.sign,
         r.prev_hour < date_trunc('day', r.hour, 'UTC')),
        (r.site_id, 'day', date_trunc('day', r.hour, 'UTC'), 'exit', r.next_hour, r.last_path, r.sign,
         r.next_hour >= date_trunc('day', r.hour, 'UTC') + interval '1 day')
    ) AS x (site_id, span, bucket, kind, boundary, path, sign, applies)
    WHERE x.applies
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(x.sign) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (site_id, span, bucket, kind, boundary, path) DO UPDATE SET sessions = c.sessions + excluded.sessions;

    INSERT INTO dimension_counts AS d
    SELECT e.site_id, s.span, s.bucket, v.dimension, v.value, count(*)
    FROM new_events e
    CROSS JOIN LATERAL (VALUES ('hour', date_trunc('hour', e.occurred_at, 'UTC')),
                               ('day', date_trunc('day', e.occurred_at, 'UTC'))) AS s (span, bucket)
    CROSS JOIN LATERAL (VALUES ('path', e.path), ('referrer', e.referrer_host), ('device', e.device),
                               ('browser', e.browser), ('os', e.os), ('country', e.country),
                               ('language', e.language), ('utm_source', e.utm_source),
                               ('utm_medium', e.utm_medium), ('utm_campaign', e.utm_campaign)) AS v (dimension, value)
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (site_id, span, bucket, dimension, value) DO UPDATE SET pageviews = d.pageviews + excluded.pageviews;

    RETURN NULL;
END
$function$;

CREATE TRIGGER events_roll_up AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION roll_up_events();

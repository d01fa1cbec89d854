-- Pages under one visitor-profile filter, by whole UTC day and hour (issue 14): the dashboard's
-- click on a device, browser, OS, country or language, then "show all" on its pages. Read from the
-- raw events, such a breakdown grouped every matching page view by (path, session): 2 s at a million
-- events, 8–10 s (the statement timeout) at ten million.
--
-- A path's row under a filter counts, per session, the session's matching page views of that path
-- (docs/API.md §10.5). For a session whose page views all lie in one UTC day (or hour), those
-- numbers come from that day alone, so a day can be added up once per filter value and path: page
-- views, sessions, sessions with a single view, and the sum of the spans between a session's first
-- and last view. A range then reads the whole days it holds from here, the whole hours of the days
-- not added up (today's), and the raw events only for the rest: its partial hours, the hours not
-- added up yet, and the few sessions of its days and hours that also have page views outside them
-- ("crossing" sessions, kept with the day or hour).
--
-- A day is added up an hour after it ends, an hour half an hour after (`close_path_breakdown`: 8 s
-- for a day at ten million events a month, a twenty-fourth of that for an hour); the roll-up process
-- does one a minute, days first, newest first, so an upgrade catches up in the background and a
-- question meanwhile reads the raw events, as before. A day added up drops its hours. Its numbers
-- stay right only while no page view is added to one of its sessions: the trigger below reopens
-- (deletes) every added-up day and hour of a session that gets a page view, late or not, and the
-- roll-up adds it up again. A closing does not hold the site's folds back while it reads: it notes
-- what its snapshot saw, and keeps its result only if no write it did not see touched its day or
-- hour (`path_breakdown_touches`).

CREATE TABLE path_breakdown_closed (
    site_id           text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    span              text NOT NULL CHECK (span IN ('hour', 'day')),
    bucket            timestamptz NOT NULL,         -- a UTC midnight, or the start of a UTC hour
    crossing_sessions text[] NOT NULL,              -- sessions with page views in it and outside it
    PRIMARY KEY (site_id, span, bucket)
);

-- Per day (hour) and profile filter value, the paths of its other sessions, as parallel arrays (one
-- row for a filter value's whole day, as in `filtered_counts`).
CREATE TABLE path_breakdowns (
    site_id     text NOT NULL,
    span        text NOT NULL,
    bucket      timestamptz NOT NULL,
    filter      integer NOT NULL,                   -- stat_values.id of a device, browser, os, country or language
    path_ids    integer[] NOT NULL,                 -- stat_values.id of paths, each once, ascending
    pageviews   integer[] NOT NULL,                 -- the matching page views of path_ids[i]
    visitors    integer[] NOT NULL,                 -- sessions with one or more of them
    singles     integer[] NOT NULL,                 -- sessions with exactly one
    duration_us bigint[] NOT NULL,                  -- Σ over those sessions of last − first of them
    PRIMARY KEY (site_id, span, bucket, filter),
    FOREIGN KEY (site_id, span, bucket) REFERENCES path_breakdown_closed ON DELETE CASCADE
);

-- The hours of sessions that got page views, by the transaction that added them: what a closing
-- that read the events before that transaction committed did not count. Kept for an hour, longer
-- than any closing runs.
CREATE TABLE path_breakdown_touches (
    site_id    text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    hour       timestamptz NOT NULL,
    xact       xid8 NOT NULL DEFAULT pg_current_xact_id(),
    touched_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX path_breakdown_touches_hour_idx ON path_breakdown_touches (site_id, hour);

-- Adds up the UTC day or hour (`span`) starting at `closing` of `site`, replacing what an earlier
-- closing wrote; a day drops its hours. Returns false when a write it did not see touched it
-- meanwhile: then it stays open.
CREATE FUNCTION close_path_breakdown(site text, span text, closing timestamptz) RETURNS boolean
LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan SET jit = off SET work_mem = '64MB'
AS $function$
DECLARE
    span_length interval := CASE span WHEN 'day' THEN interval '1 day' WHEN 'hour' THEN interval '1 hour' END;
    seen pg_snapshot;
BEGIN
    IF span_length IS NULL OR date_bin(span_length, closing, 'epoch') <> closing THEN
        RAISE EXCEPTION 'close_path_breakdown: % is not the start of a UTC %', closing, span;
    END IF;
    -- One closing at a time (the roll-up process, `hitkeep roll-up --once`, an operator): two
    -- would add up the same one, and one fail on its key.
    PERFORM pg_advisory_xact_lock(72712, 0);
    seen := pg_current_snapshot();
    DELETE FROM path_breakdown_closed c WHERE c.site_id = site AND c.span = close_path_breakdown.span AND c.bucket = closing;
    -- One statement, one snapshot, taken after `seen`: whatever it counts, `seen` may have missed,
    -- never the other way round.
    WITH crossing AS MATERIALIZED (
        -- A session's session-hours are linked to its previous and next active hours (0004): one with
        -- a page view outside the day (hour) has an hour in it linked outside it.
        SELECT DISTINCT session_id FROM session_hours
        WHERE site_id = site AND hour >= closing AND hour < closing + span_length
          AND ((prev_hour < closing AND prev_hour <> '-infinity')
               OR (next_hour >= closing + span_length AND next_hour <> 'infinity'))
    ), closed AS (
        INSERT INTO path_breakdown_closed (site_id, span, bucket, crossing_sessions)
        SELECT site, span, closing, coalesce(array_agg(session_id ORDER BY session_id), '{}') FROM crossing
    ), bucket_events AS (
        SELECT e.session_id, e.occurred_at, e.path, e.device, e.browser, e.os, e.country, e.language
        FROM events e
        WHERE e.site_id = site AND e.occurred_at >= closing AND e.occurred_at < closing + span_length
          AND date_bin('1 hour', e.occurred_at, 'epoch') >= closing
          AND date_bin('1 hour', e.occurred_at, 'epoch') < closing + span_length
          AND NOT EXISTS (SELECT 1 FROM crossing c WHERE c.session_id = e.session_id)
    ), pieces AS (
        -- Per session, filter value and path: the session's page views matching both.
        SELECT f.dimension, f.value, e.path, count(*) AS n, max(e.occurred_at) - min(e.occurred_at) AS piece_span
        FROM bucket_events e
        CROSS JOIN LATERAL (VALUES ('device', e.device), ('browser', e.browser), ('os', e.os),
                                   ('country', e.country), ('language', e.language)) AS f (dimension, value)
        GROUP BY e.session_id, f.dimension, f.value, e.path
    ), sums AS (
        SELECT k.id AS filter, p.id AS path_id, sum(s.n)::integer AS pageviews, count(*)::integer AS visitors,
               count(*) FILTER (WHERE s.n = 1)::integer AS singles,
               -- As DurationSQL.microseconds, so that the sums equal the raw events' exactly.
               sum(round(date_part('epoch', s.piece_span) * 1000000)::bigint)::bigint AS duration_us
        FROM pieces s
        JOIN stat_values k ON k.dimension = s.dimension AND k.value_md5 = decode(md5(s.value), 'hex')
        JOIN stat_values p ON p.dimension = 'path' AND p.value_md5 = decode(md5(s.path), 'hex')
        GROUP BY 1, 2
    )
    INSERT INTO path_breakdowns (site_id, span, bucket, filter, path_ids, pageviews, visitors, singles, duration_us)
    SELECT site, span, closing, filter, array_agg(path_id ORDER BY path_id), array_agg(pageviews ORDER BY path_id),
           array_agg(visitors ORDER BY path_id), array_agg(singles ORDER BY path_id),
           array_agg(duration_us ORDER BY path_id)
    FROM sums
    GROUP BY filter;

    -- The fold's lock, for a moment: a fold of the site that is running commits first, and its
    -- touches are then visible; a later one waits, and reopens what it touches.
    PERFORM pg_advisory_xact_lock(72711, hashtext(site));
    IF EXISTS (SELECT 1 FROM path_breakdown_touches t
               WHERE t.site_id = site AND t.hour >= closing AND t.hour < closing + span_length
                 AND NOT pg_visible_in_snapshot(t.xact, seen)) THEN
        DELETE FROM path_breakdown_closed c WHERE c.site_id = site AND c.span = close_path_breakdown.span AND c.bucket = closing;
        RETURN false;
    END IF;
    IF span = 'day' THEN
        DELETE FROM path_breakdown_closed c
        WHERE c.site_id = site AND c.span = 'hour' AND c.bucket >= closing AND c.bucket < closing + span_length;
    END IF;
    RETURN true;
END
$function$;

-- Adds up at most `max_count` days and hours that are over and not added up: days an hour after
-- they end, then hours half an hour after they end in days not added up, newest first; each with
-- page views (`traffic_hourly`) whose raw events are all still there (retention has not begun on
-- them). Returns how many it tried (none while another closing runs). Call it with 1, in a
-- transaction of its own, as the roll-up process does: a transaction's snapshot must not outlive the
-- touches it is checked against.
CREATE FUNCTION close_path_breakdowns(max_count integer) RETURNS integer
LANGUAGE plpgsql AS $function$
DECLARE
    candidate record;
    tried integer := 0;
BEGIN
    -- Another closing is running: it goes on with the days and hours.
    IF NOT pg_try_advisory_xact_lock(72712, 0) THEN
        RETURN 0;
    END IF;
    DELETE FROM path_breakdown_touches WHERE touched_at < now() - interval '1 hour';
    FOR candidate IN
        WITH hours AS (
            SELECT DISTINCT t.site_id, t.hour
            FROM traffic_hourly t JOIN sites s ON s.id = t.site_id
            WHERE t.hour < now() - interval '90 minutes' AND t.hour >= coalesce(s.raw_events_since, '-infinity')
        ), days AS (
            SELECT DISTINCT site_id, date_bin('1 day', hour, 'epoch') AS bucket FROM hours
        )
        SELECT site_id, span, bucket FROM (
            SELECT site_id, 'day' AS span, bucket, 1 AS rank FROM days
            WHERE bucket < now() - interval '25 hours'
              -- A whole day of raw events.
              AND bucket >= (SELECT coalesce(raw_events_since, '-infinity') FROM sites WHERE id = days.site_id)
            UNION ALL
            SELECT h.site_id, 'hour', h.hour, 2 FROM hours h
            WHERE NOT EXISTS (SELECT 1 FROM path_breakdown_closed c
                              WHERE c.site_id = h.site_id AND c.span = 'day' AND c.bucket = date_bin('1 day', h.hour, 'epoch'))
        ) AS candidates
        WHERE NOT EXISTS (SELECT 1 FROM path_breakdown_closed c
                          WHERE c.site_id = candidates.site_id AND c.span = candidates.span AND c.bucket = candidates.bucket)
        ORDER BY rank, bucket DESC, site_id
        LIMIT max_count
    LOOP
        PERFORM close_path_breakdown(candidate.site_id, candidate.span, candidate.bucket);
        tried := tried + 1;
    END LOOP;
    RETURN tried;
END
$function$;

-- Reopens the added-up days and hours of every session that got a page view (its numbers there
-- would no longer be the session's), and notes its hours for a closing that is running. Fires after
-- 0004's trigger (triggers fire in name order), so the new page views' own hours are among the
-- session-hours read. Only hours that ended an hour ago matter: a closing takes an hour half an hour
-- after its end at the earliest, and one running when this statement commits started less than a
-- fold's timeout (10 minutes) from it, so it reads nothing later. Live traffic then notes nothing but
-- the sessions going on for more than an hour.
CREATE FUNCTION path_breakdown_touched() RETURNS trigger
LANGUAGE plpgsql AS $function$
BEGIN
    WITH touched AS (
        SELECT DISTINCT h.site_id, h.hour
        FROM (SELECT DISTINCT site_id, session_id FROM new_events) AS n
        JOIN session_hours h ON h.site_id = n.site_id AND h.session_id = n.session_id
                            AND h.hour < now() - interval '1 hour'
    ), noted AS (
        INSERT INTO path_breakdown_touches (site_id, hour) SELECT site_id, hour FROM touched
    )
    DELETE FROM path_breakdown_closed c
    USING touched t
    WHERE c.site_id = t.site_id
      AND ((c.span = 'hour' AND c.bucket = t.hour) OR (c.span = 'day' AND c.bucket = date_bin('1 day', t.hour, 'epoch')));
    RETURN NULL;
END
$function$;

CREATE TRIGGER events_roll_up_path_breakdowns AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION path_breakdown_touched();

-- 0023's conversion of a still unpartitioned `events`, now carrying over every trigger that fires
-- for statements on it (as it carries over the indexes) instead of the three it named: the one
-- above too, and whatever a later migration adds.
CREATE OR REPLACE FUNCTION partition_events() RETURNS void LANGUAGE plpgsql AS $function$
DECLARE
    job events_partitioning;
    first_partition text;
    next_id bigint;
    view record;
    views text[][] := '{}';
    old_index record;
    indexes text[] := '{}';
    old_trigger record;
    triggers text[] := '{}';
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
    -- So are indexes: each one's definition, taken now, is made again on the new table, where the
    -- first partition's index of the same definition becomes its part without being built again.
    -- Whatever indexes a later migration gives `events` come along without a new copy of this.
    FOR old_index IN
        SELECT c.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
        FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
        WHERE x.indrelid = 'events'::regclass AND NOT x.indisprimary
    LOOP
        indexes := indexes || old_index.definition;
        EXECUTE format('ALTER INDEX %I RENAME TO %I', old_index.name, first_partition || substr(old_index.name, length('events') + 1));
    END LOOP;

    -- And so are the triggers that fire for statements on `events` (all but the two guards, which
    -- stay on the partition and are made below): each moves to the new table.
    FOR old_trigger IN
        SELECT t.tgname AS name, pg_get_triggerdef(t.oid) AS definition
        FROM pg_trigger t
        WHERE t.tgrelid = 'events'::regclass AND NOT t.tgisinternal
          AND t.tgname NOT IN ('events_no_update', 'events_no_truncate')
    LOOP
        triggers := triggers || old_trigger.definition;
        EXECUTE format('DROP TRIGGER %I ON events', old_trigger.name);
    END LOOP;

    SELECT last_value + 1 INTO next_id FROM events_id_seq;
    -- An identity column's sequence belongs to its table; the new table gets its own, going on
    -- from the same number.
    ALTER TABLE events ALTER COLUMN id DROP IDENTITY;
    ALTER TABLE events RENAME TO events_unpartitioned;
    EXECUTE format('ALTER TABLE events_unpartitioned RENAME TO %I', first_partition);
    EXECUTE format('ALTER INDEX events_pkey RENAME TO %I', first_partition || '_pkey');
    EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT events_site_id_fkey TO %I', first_partition, first_partition || '_site_id_fkey');
    EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT events_before_partitions TO %I', first_partition, first_partition || '_range');

    EXECUTE format($sql$
        CREATE TABLE events (
            LIKE %I INCLUDING DEFAULTS,
            CONSTRAINT events_site_id_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE
        ) PARTITION BY RANGE (occurred_at)$sql$, first_partition);
    EXECUTE format('ALTER TABLE events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (START WITH %s)', next_id);
    EXECUTE format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%L)', first_partition, job.boundary);
    FOR i IN 1 .. coalesce(array_length(indexes, 1), 0) LOOP
        EXECUTE indexes[i];
    END LOOP;
    CREATE TABLE events_default PARTITION OF events DEFAULT;
    ALTER TABLE events_default ADD PRIMARY KEY (id);
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events_default
        FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
    CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events_default
        FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

    -- The guards against UPDATE and TRUNCATE stay on each partition too, where a statement naming
    -- the partition meets them.
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
    CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
    -- Each definition names `public.events`, now the new table.
    FOR i IN 1 .. coalesce(array_length(triggers, 1), 0) LOOP
        EXECUTE triggers[i];
    END LOOP;

    FOR i IN 1 .. coalesce(array_length(views, 1), 0) LOOP
        EXECUTE format('CREATE OR REPLACE VIEW %s AS %s', views[i][1], views[i][2]);
    END LOOP;

    UPDATE events_partitioning SET converted_at = now();
END
$function$;

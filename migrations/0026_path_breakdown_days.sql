-- Pages under one visitor-profile filter, by whole UTC day (issue 14): the dashboard's click on a
-- device, browser, OS, country or language, then "show all" on its pages. Read from the raw events,
-- such a breakdown grouped every matching page view by (path, session): 2 s at a million events,
-- 8–10 s (the statement timeout) at ten million.
--
-- A path's row under a filter counts, per session, the session's matching page views of that path
-- (docs/API.md §10.5). For a session whose page views all lie in one UTC day, those numbers come
-- from that day alone, so a day can be added up once per filter value and path: page views,
-- sessions, sessions with a single view, and the sum of the spans between a session's first and
-- last view. A range then reads the whole days it holds from here, and reads the raw events only for
-- the rest: its partial days, the days not added up yet, and the few sessions of its whole days that
-- also have page views on another day ("crossing" sessions, kept with the day).
--
-- A day is added up once it is over (`close_path_breakdown_day`, seconds at ten million events;
-- the roll-up process does it, newest days first, so an upgrade catches up in the background and a
-- question meanwhile reads the raw events, as before). Its numbers stay right only while no page
-- view is added to one of its sessions: the trigger below reopens (deletes) every added-up day of a
-- session that gets a page view, late or not, and the roll-up adds it up again. A closing does not
-- hold the site's folds back while it reads: it notes what its snapshot saw, and keeps its result
-- only if no write it did not see touched the day (`path_breakdown_days_touches`).

CREATE TABLE path_breakdown_days_closed (
    site_id           text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    day               timestamptz NOT NULL,         -- a UTC midnight
    crossing_sessions text[] NOT NULL,              -- sessions with page views that day and another
    PRIMARY KEY (site_id, day)
);

-- Per day and profile filter value, the paths of the day's other sessions, as parallel arrays (one
-- row for a filter value's whole day, as in `filtered_counts`).
CREATE TABLE path_breakdown_days (
    site_id     text NOT NULL,
    day         timestamptz NOT NULL,
    filter      integer NOT NULL,                   -- stat_values.id of a device, browser, os, country or language
    path_ids    integer[] NOT NULL,                 -- stat_values.id of paths, each once, ascending
    pageviews   integer[] NOT NULL,                 -- the matching page views of path_ids[i]
    visitors    integer[] NOT NULL,                 -- sessions with one or more of them
    singles     integer[] NOT NULL,                 -- sessions with exactly one
    duration_us bigint[] NOT NULL,                  -- Σ over those sessions of last − first of them
    PRIMARY KEY (site_id, day, filter),
    FOREIGN KEY (site_id, day) REFERENCES path_breakdown_days_closed ON DELETE CASCADE
);

-- The days of sessions that got page views, by the transaction that added them: what a closing
-- that read the events before that transaction committed did not count. Kept for an hour, longer
-- than any closing runs.
CREATE TABLE path_breakdown_days_touches (
    site_id    text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    day        timestamptz NOT NULL,
    xact       xid8 NOT NULL DEFAULT pg_current_xact_id(),
    touched_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX path_breakdown_days_touches_day_idx ON path_breakdown_days_touches (site_id, day);

-- Adds up the UTC day starting at `closing` of `site`, replacing what an earlier closing wrote.
-- Returns false when a write it did not see touched the day meanwhile: then the day stays open.
CREATE FUNCTION close_path_breakdown_day(site text, closing timestamptz) RETURNS boolean
LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan SET jit = off SET work_mem = '64MB'
AS $function$
DECLARE
    seen pg_snapshot;
BEGIN
    -- One closing at a time (the roll-up process, `hitkeep roll-up --once`, an operator): two
    -- would add up the same day, and one fail on its key.
    PERFORM pg_advisory_xact_lock(72712, 0);
    seen := pg_current_snapshot();
    DELETE FROM path_breakdown_days_closed WHERE site_id = site AND day = closing;
    -- One statement, one snapshot, taken after `seen`: whatever it counts, `seen` may have missed,
    -- never the other way round.
    WITH crossing AS MATERIALIZED (
        -- A session's session-hours are linked to its previous and next active hours (0004): one with
        -- a page view on another day has an hour in this day linked outside it.
        SELECT DISTINCT session_id FROM session_hours
        WHERE site_id = site AND hour >= closing AND hour < closing + interval '1 day'
          AND ((prev_hour < closing AND prev_hour <> '-infinity')
               OR (next_hour >= closing + interval '1 day' AND next_hour <> 'infinity'))
    ), closed AS (
        INSERT INTO path_breakdown_days_closed (site_id, day, crossing_sessions)
        SELECT site, closing, coalesce(array_agg(session_id ORDER BY session_id), '{}') FROM crossing
    ), day_events AS (
        SELECT e.session_id, e.occurred_at, e.path, e.device, e.browser, e.os, e.country, e.language
        FROM events e
        WHERE e.site_id = site AND e.occurred_at >= closing AND e.occurred_at < closing + interval '1 day'
          AND date_bin('1 hour', e.occurred_at, 'epoch') >= closing
          AND date_bin('1 hour', e.occurred_at, 'epoch') < closing + interval '1 day'
          AND NOT EXISTS (SELECT 1 FROM crossing c WHERE c.session_id = e.session_id)
    ), pieces AS (
        -- Per session, filter value and path: the session's page views matching both.
        SELECT f.dimension, f.value, e.path, count(*) AS n, max(e.occurred_at) - min(e.occurred_at) AS span
        FROM day_events e
        CROSS JOIN LATERAL (VALUES ('device', e.device), ('browser', e.browser), ('os', e.os),
                                   ('country', e.country), ('language', e.language)) AS f (dimension, value)
        GROUP BY e.session_id, f.dimension, f.value, e.path
    ), sums AS (
        SELECT k.id AS filter, p.id AS path_id, sum(s.n)::integer AS pageviews, count(*)::integer AS visitors,
               count(*) FILTER (WHERE s.n = 1)::integer AS singles,
               -- As DurationSQL.microseconds, so that the sums equal the raw events' exactly.
               sum(round(date_part('epoch', s.span) * 1000000)::bigint)::bigint AS duration_us
        FROM pieces s
        JOIN stat_values k ON k.dimension = s.dimension AND k.value_md5 = decode(md5(s.value), 'hex')
        JOIN stat_values p ON p.dimension = 'path' AND p.value_md5 = decode(md5(s.path), 'hex')
        GROUP BY 1, 2
    )
    INSERT INTO path_breakdown_days (site_id, day, filter, path_ids, pageviews, visitors, singles, duration_us)
    SELECT site, closing, filter, array_agg(path_id ORDER BY path_id), array_agg(pageviews ORDER BY path_id),
           array_agg(visitors ORDER BY path_id), array_agg(singles ORDER BY path_id),
           array_agg(duration_us ORDER BY path_id)
    FROM sums
    GROUP BY filter;

    -- The fold's lock, for a moment: a fold of the site that is running commits first, and its
    -- touches are then visible; a later one waits, and reopens the day if it touches it.
    PERFORM pg_advisory_xact_lock(72711, hashtext(site));
    IF EXISTS (SELECT 1 FROM path_breakdown_days_touches
               WHERE site_id = site AND day = closing AND NOT pg_visible_in_snapshot(xact, seen)) THEN
        DELETE FROM path_breakdown_days_closed WHERE site_id = site AND day = closing;
        RETURN false;
    END IF;
    RETURN true;
END
$function$;

-- Adds up at most `max_days` days that are over and not added up, newest first: days with page
-- views (`traffic_hourly`) whose raw events are all still there (retention has not begun on them).
-- Returns how many it tried (none while another closing runs). Call it with 1, in a transaction of
-- its own, as the roll-up process does: a transaction's snapshot must not outlive the touches it is
-- checked against.
CREATE FUNCTION close_path_breakdown_days(max_days integer) RETURNS integer
LANGUAGE plpgsql AS $function$
DECLARE
    candidate record;
    tried integer := 0;
BEGIN
    -- Another closing is running: it goes on with the days.
    IF NOT pg_try_advisory_xact_lock(72712, 0) THEN
        RETURN 0;
    END IF;
    DELETE FROM path_breakdown_days_touches WHERE touched_at < now() - interval '1 hour';
    FOR candidate IN
        SELECT t.site_id, t.day
        -- Over for an hour: the sessions still going at midnight (which would reopen the day at
        -- once) have mostly ended.
        FROM (SELECT DISTINCT site_id, date_bin('1 day', hour, 'epoch') AS day FROM traffic_hourly
              WHERE hour < date_bin('1 day', now() - interval '1 hour', 'epoch')) AS t
        JOIN sites s ON s.id = t.site_id
        WHERE t.day >= coalesce(s.raw_events_since, '-infinity')
          AND NOT EXISTS (SELECT 1 FROM path_breakdown_days_closed c WHERE c.site_id = t.site_id AND c.day = t.day)
        ORDER BY t.day DESC, t.site_id
        LIMIT max_days
    LOOP
        PERFORM close_path_breakdown_day(candidate.site_id, candidate.day);
        tried := tried + 1;
    END LOOP;
    RETURN tried;
END
$function$;

-- Reopens the added-up days of every session that got a page view (its numbers there would no
-- longer be the session's), and notes them for a closing that is running. Fires after 0004's
-- trigger (triggers fire in name order), so the new page views' own hours are among the
-- session-hours read. Live traffic touches today, never added up, and sessions past midnight.
CREATE FUNCTION path_breakdown_days_touched() RETURNS trigger
LANGUAGE plpgsql AS $function$
BEGIN
    WITH touched AS (
        SELECT DISTINCT h.site_id, date_bin('1 day', h.hour, 'epoch') AS day
        FROM (SELECT DISTINCT site_id, session_id FROM new_events) AS n
        JOIN session_hours h ON h.site_id = n.site_id AND h.session_id = n.session_id
                            AND h.hour < date_bin('1 day', now(), 'epoch')
    ), noted AS (
        INSERT INTO path_breakdown_days_touches (site_id, day) SELECT site_id, day FROM touched
    )
    DELETE FROM path_breakdown_days_closed c
    USING touched
    WHERE c.site_id = touched.site_id AND c.day = touched.day;
    RETURN NULL;
END
$function$;

CREATE TRIGGER events_roll_up_path_days AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION path_breakdown_days_touched();

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

-- Raw events partitioned by month, and a retention period after which they are removed (issue 19).
--
-- `events` becomes a table partitioned by range of `occurred_at`:
--   * `events_before_YYYY_MM`, from the beginning of time to the first month partition: the events
--     an installation already had (the old table itself, attached as it is), and any page view later
--     backfilled into that stretch (server ingest accepts timestamps back to 1970);
--   * `events_YYYY_MM`, one per UTC month from then on, which `hitkeep roll-up` creates a few
--     months ahead (`create_event_partitions`);
--   * `events_default`, for a page view in a month that has no partition yet (far in the future, or
--     a month the roll-up process never reached): when that month's partition is created, its rows
--     are moved out of the default into it (`create_event_partition`).
--
-- Converting an installation with millions of events must not rewrite them under a lock, since a
-- lock on `events` stops the fold (page views are still accepted into `event_queue`). This migration
-- only adds a NOT VALID check that every event lies before the first month partition (a catalog
-- change), and records the conversion as pending in `events_partitioning`. `hitkeep migrate` then,
-- in transactions of its own (EventsPartitioning in the Swift sources): reads the events through
-- in chunks with a progress bar, validates the check (a scan that lets inserts go on), and calls
-- `partition_events`, which holds `events` exclusively only to rename it and attach it, whole and
-- unread, as the first partition of a new partitioned `events`: the validated check proves the
-- partition's bounds, and its indexes become the parent's. Until then the unpartitioned table
-- works as before.
--
-- Retention: a site's `retention_days`, else the instance's HITKEEP_RETENTION_DAYS, else none.
-- `raw_events_since` is the site's horizon: raw events before it may be gone, so the stats refuse a
-- question that needs them (StatsController). The roll-up process moves the horizon on first, in a
-- transaction of its own, then removes what lies before it: a partition older than every site's
-- horizon is dropped whole; otherwise events are deleted a batch per transaction. The rollups are
-- kept: questions they answer about older ranges answer as before.

ALTER TABLE sites
    ADD COLUMN retention_days integer CHECK (retention_days BETWEEN 1 AND 3650),
    ADD COLUMN raw_events_since timestamptz NOT NULL DEFAULT '-infinity';

-- Set while the conversion is pending: `boundary` is where the month partitions start, the first of
-- a month after every event written so far and after next month, so that page views arriving
-- while the conversion is under way still pass the check.
CREATE TABLE events_partitioning (
    boundary     timestamptz NOT NULL,
    converted_at timestamptz
);

INSERT INTO events_partitioning (boundary)
SELECT (date_trunc('month', greatest(now() AT TIME ZONE 'UTC',
                                     (SELECT max(latest) AT TIME ZONE 'UTC'
                                      FROM sites s, LATERAL (SELECT max(occurred_at) AS latest FROM events e
                                                             WHERE e.site_id = s.id) AS m))) + interval '2 months')
       AT TIME ZONE 'UTC';

DO $block$
BEGIN
    EXECUTE format('ALTER TABLE events ADD CONSTRAINT events_before_partitions CHECK (occurred_at < %L) NOT VALID',
                   (SELECT boundary FROM events_partitioning));
END
$block$;

-- The name of the month partition starting at `month`.
CREATE FUNCTION event_partition_name(month timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $function$
    SELECT 'events_' || to_char(month AT TIME ZONE 'UTC', 'YYYY_MM')
$function$;

-- The rest of the conversion, under an exclusive lock on `events` that it takes at once: called by
-- `hitkeep migrate` once the check is validated. Nothing here reads the events.
CREATE FUNCTION partition_events() RETURNS void LANGUAGE plpgsql AS $function$
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
    CREATE INDEX events_session_idx ON events USING hash (session_id);
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

-- Creates the partition of the month starting at `month` unless it exists or the first partition
-- covers that month. Events the default partition caught for the month move into it: the new
-- partition is filled before it is attached, straight and not through `events`, so the rollups
-- (which already count them) do not see them again.
CREATE FUNCTION create_event_partition(month timestamptz) RETURNS boolean LANGUAGE plpgsql AS $function$
DECLARE
    name text := event_partition_name(month);
    month_end timestamptz := ((month AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
BEGIN
    IF to_regclass(name) IS NOT NULL
       OR month < (SELECT boundary FROM events_partitioning WHERE converted_at IS NOT NULL)
       OR NOT EXISTS (SELECT 1 FROM events_partitioning WHERE converted_at IS NOT NULL) THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE events INCLUDING DEFAULTS)', name);
    EXECUTE format($sql$
        WITH moved AS (DELETE FROM events_default WHERE occurred_at >= %L AND occurred_at < %L RETURNING *)
        INSERT INTO %I SELECT * FROM moved$sql$, month, month_end, name);
    EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (id)', name);
    EXECUTE format('CREATE TRIGGER events_no_update BEFORE UPDATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only()', name);
    EXECUTE format('CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only()', name);
    EXECUTE format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', name, month, month_end);
    RETURN true;
END
$function$;

-- Creates the month partitions from the first one (or the current month, once older months have
-- been dropped) through `months_ahead` months after the current one. Returns how many it created.
-- The roll-up processes of several pools take turns (lock 72712, held to COMMIT).
CREATE FUNCTION create_event_partitions(months_ahead integer) RETURNS integer LANGUAGE plpgsql AS $function$
DECLARE
    first_month timestamptz;
    last_month timestamptz := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => months_ahead))
                              AT TIME ZONE 'UTC';
    created integer := 0;
    month timestamp;
BEGIN
    PERFORM pg_advisory_xact_lock(72712);
    SELECT boundary INTO first_month FROM events_partitioning WHERE converted_at IS NOT NULL;
    IF first_month IS NULL THEN
        RETURN 0;
    END IF;
    -- Months wholly before every site's horizon need no partition.
    first_month := greatest(first_month, date_trunc('month', (SELECT min(raw_events_since) FROM sites), 'UTC'));
    FOR month IN SELECT generate_series(first_month AT TIME ZONE 'UTC', last_month AT TIME ZONE 'UTC', interval '1 month')
    LOOP
        IF create_event_partition(month AT TIME ZONE 'UTC') THEN
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$function$;

-- Moves each site's horizon to the start of the hour `retention_days` (else `instance_days`) ago;
-- never back: raw events once removed stay removed. Returns the sites whose horizon moved.
CREATE FUNCTION advance_raw_event_horizons(instance_days integer) RETURNS integer LANGUAGE plpgsql AS $function$
DECLARE
    moved integer;
BEGIN
    UPDATE sites
    SET raw_events_since = date_trunc('hour', now() - make_interval(days => coalesce(retention_days, instance_days)), 'UTC')
    WHERE coalesce(retention_days, instance_days) IS NOT NULL
      AND raw_events_since < date_trunc('hour', now() - make_interval(days => coalesce(retention_days, instance_days)), 'UTC');
    GET DIAGNOSTICS moved = ROW_COUNT;
    RETURN moved;
END
$function$;

-- One step of removing the raw events before the sites' horizons: drops the partitions that end at
-- or before every site's horizon, or else deletes up to `max_events` expired events (one site's,
-- oldest first). Returns how many events it removed; 0 when nothing is left to remove, or when
-- another roll-up process is at it (lock 72712).
CREATE FUNCTION remove_expired_events(max_events integer) RETURNS bigint LANGUAGE plpgsql AS $function$
DECLARE
    everyone_since timestamptz := (SELECT min(raw_events_since) FROM sites);
    partition record;
    site record;
    removed bigint := 0;
    dropped bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(72712) THEN
        RETURN 0;
    END IF;
    FOR partition IN
        SELECT c.oid::regclass AS name,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''(.*)''\)'))[1]::timestamptz AS upper_bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'events'::regclass AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
    LOOP
        IF everyone_since IS NOT NULL AND partition.upper_bound <= everyone_since THEN
            EXECUTE format('SELECT count(*) FROM %s', partition.name) INTO dropped;
            -- Dropping a partition locks `events`: waiting long for a slow reader would stop the
            -- fold and every reader queued behind; the next pass tries again.
            PERFORM set_config('lock_timeout', '1s', true);
            BEGIN
                EXECUTE format('DROP TABLE %s', partition.name);
            EXCEPTION WHEN lock_not_available THEN
                RETURN removed;
            END;
            PERFORM set_config('lock_timeout', '0', true);
            removed := removed + dropped;
        END IF;
    END LOOP;
    IF removed > 0 THEN
        RETURN removed;
    END IF;

    FOR site IN SELECT id, raw_events_since FROM sites WHERE raw_events_since > '-infinity' ORDER BY id LOOP
        DELETE FROM events
        WHERE site_id = site.id AND occurred_at < site.raw_events_since
          AND id = ANY (ARRAY(SELECT id FROM events
                              WHERE site_id = site.id AND occurred_at < site.raw_events_since
                              ORDER BY occurred_at LIMIT max_events));
        GET DIAGNOSTICS removed = ROW_COUNT;
        IF removed > 0 THEN
            RETURN removed;
        END IF;
    END LOOP;
    RETURN 0;
END
$function$;

-- 0014's `roll_up_filtered`, reading only the partitions of `events` that can hold what it looks for.
-- A lookup in a partitioned table looks in every partition that its conditions do not exclude: the
-- new events by id and their sessions by id would be looked up in each month's indexes, a cost
-- multiplied by the number of partitions (measured: a fold 45–130 % slower with 18 partitions, a
-- year of data). The new events lie between `new_since` and `new_until` (the trigger passes their
-- times), their sessions' events within the sessions' session-hours; plans are made for each call
-- (0012), so these bounds leave out the other partitions before anything is read. Without bounds
-- (the backfill of 0012) it reads every partition, as before.
DROP FUNCTION roll_up_filtered(bigint[], bigint);
CREATE FUNCTION roll_up_filtered(event_ids bigint[], through bigint DEFAULT NULL,
                                 new_since timestamptz DEFAULT '-infinity', new_until timestamptz DEFAULT 'infinity')
RETURNS void
LANGUAGE plpgsql
SET enable_nestloop = off SET enable_sort = off SET plan_cache_mode = force_custom_plan SET jit = off
SET work_mem = '64MB'
AS $function$
DECLARE
    small_sessions text[];
    touched_sites text[];
    sessions_since timestamptz;
    sessions_until timestamptz;
BEGIN
    -- Number the new values. In a fixed order, so that two sites' writers adding the same values
    -- wait for each other instead of deadlocking.
    WITH new_events AS MATERIALIZED (
        SELECT * FROM events WHERE id = ANY (event_ids) AND occurred_at BETWEEN new_since AND new_until)
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
        WHERE n.id = ANY (event_ids) AND n.occurred_at BETWEEN new_since AND new_until
          AND (through IS NOT NULL OR NOT EXISTS (
                  SELECT 1 FROM filtered_session_quarters q
                  WHERE q.site_id = n.site_id AND q.session_id = n.session_id AND q.filter = 0)));
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
                     v_utm_source.id, v_utm_medium.id, v_utm_campaign.id] AS ids
        FROM (SELECT e.*, e.id IN (SELECT id FROM new_events) AS is_new, false AS long
              FROM events e
              WHERE e.session_id = ANY (small_sessions)
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

-- The trigger of 0012, passing the new events' times.
CREATE OR REPLACE FUNCTION roll_up_filtered_events() RETURNS trigger LANGUAGE plpgsql AS $function$
DECLARE
    ids bigint[];
    since timestamptz;
    until timestamptz;
BEGIN
    SELECT coalesce(array_agg(id), '{}'), min(occurred_at), max(occurred_at) INTO ids, since, until FROM new_events;
    PERFORM roll_up_filtered(ids, NULL, coalesce(since, '-infinity'), coalesce(until, 'infinity'));
    RETURN NULL;
END
$function$;

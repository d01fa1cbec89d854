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

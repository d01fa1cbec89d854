-- The events' index by site and time keeps one entry per site and UTC hour (issue 14: bytes on disk
-- per event).
--
-- `events_site_time_idx` on (site_id, occurred_at) held an entry per event: a 26-character site id
-- and a timestamp, about 52 bytes, and with the splits of inserts at the end of every site's range
-- (each site's newest entries lie in the middle of the index, not at its end) 75 bytes per event at
-- 15.8 million events, more than any rollup but `session_hours`. Keyed by (site_id, UTC hour) the
-- entries of one site's hour are equal, and B-tree deduplication stores them as one key and a list
-- of row pointers: 7.4 bytes per event, built on the same events.
--
-- Every reader of a site's events in a time range states the hour as well as the time
-- (`EventTimeCondition` in the Swift sources: `date_bin('1 hour', occurred_at, 'epoch')` from the
-- hour of the start to the end), so that the index narrows the scan to the hours of the range and
-- the time picks the events exactly, as before. A range's first and last hour are read whole from
-- the index and their events outside the range dropped by the time condition: at most two hours of
-- extra row pointers.
--
-- Building the index locks `events` against writes while it runs (22 s for 15.8 million events on
-- the 2-core machine): folds wait meanwhile, ingestion does not (it only queues).

CREATE INDEX events_site_hour_idx ON events (site_id, date_bin('1 hour', occurred_at, 'epoch'));
DROP INDEX events_site_time_idx;
-- The planner knows what the expression holds only once it has been analysed.
ANALYZE events;

-- Reports in psql that read a few hours of a site's page views can name them by the same hour:
-- `WHERE site_id = … AND hour >= … AND hour < …` reads just those hours through the index, where a
-- condition on occurred_at alone now reads the site's partition through the site id. (The column
-- is new and last; the others are 0018's.)
CREATE OR REPLACE VIEW reporting.page_views AS
SELECT e.site_id, s.domain, e.occurred_at, (e.occurred_at AT TIME ZONE s.timezone)::date AS day,
       CASE WHEN e.hostname = '' THEN s.domain ELSE e.hostname END AS hostname,
       e.path, e.session_id, e.referrer_host, e.referrer_url, e.device, e.browser, e.os, e.country, e.language,
       e.utm_source, e.utm_medium, e.utm_campaign, e.utm_term, e.utm_content,
       date_bin('1 hour', e.occurred_at, 'epoch') AS hour
FROM events e
JOIN sites s ON s.id = e.site_id;
COMMENT ON COLUMN reporting.page_views.hour IS
    'The UTC hour occurred_at falls in. Conditions on it (with site_id) read only those hours of the events, through their index.';

-- 0022's, with the indexes of the table being partitioned taken from the table itself rather than
-- named one by one: the same indexes as before on the partitioned table, whichever they are.
CREATE OR REPLACE FUNCTION partition_events() RETURNS void LANGUAGE plpgsql AS $function$
DECLARE
    job events_partitioning;
    first_partition text;
    next_id bigint;
    view record;
    views text[][] := '{}';
    old_index record;
    indexes text[] := '{}';
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

    SELECT last_value + 1 INTO next_id FROM events_id_seq;
    -- An identity column's sequence belongs to its table; the new table gets its own, going on
    -- from the same number.
    ALTER TABLE events ALTER COLUMN id DROP IDENTITY;
    ALTER TABLE events RENAME TO events_unpartitioned;
    EXECUTE format('ALTER TABLE events_unpartitioned RENAME TO %I', first_partition);
    EXECUTE format('ALTER INDEX events_pkey RENAME TO %I', first_partition || '_pkey');
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
    FOR i IN 1 .. coalesce(array_length(indexes, 1), 0) LOOP
        EXECUTE indexes[i];
    END LOOP;
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

-- 0019's, reading the expired events through the new index.
CREATE OR REPLACE FUNCTION remove_expired_events(max_events integer) RETURNS bigint LANGUAGE plpgsql AS $function$
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
        -- Oldest hour first (the order the index keeps); within an hour, any of them: all are
        -- before the horizon and go in the next step if not in this one.
        DELETE FROM events
        WHERE site_id = site.id AND occurred_at < site.raw_events_since
          AND id = ANY (ARRAY(SELECT id FROM events
                              WHERE site_id = site.id AND occurred_at < site.raw_events_since
                                AND date_bin('1 hour', occurred_at, 'epoch') < site.raw_events_since
                              ORDER BY date_bin('1 hour', occurred_at, 'epoch') LIMIT max_events));
        GET DIAGNOSTICS removed = ROW_COUNT;
        IF removed > 0 THEN
            RETURN removed;
        END IF;
    END LOOP;
    RETURN 0;
END
$function$;

-- Ingestion without waiting for the rollups.
--
-- With 0004 alone, every page view folds itself into its site's rollups in its own transaction,
-- under the site's advisory lock and on the same few hot rollup rows, so a site takes one event at
-- a time: about a thousand a second, however many workers wait. Now an ingested page view is one
-- plain INSERT into `event_queue`, which nothing else writes to or locks, and it is committed (so
-- acknowledged) as soon as that row is durable.
--
-- `fold_queued_events` moves queued rows into `events` in one statement, where 0004's trigger folds
-- the whole batch into the rollups (a batch costs some 20 µs per event, a single event 600 µs). It
-- runs:
--   * about every second, for every site, in the `hitkeep roll-up` process that `hitkeep serve`
--     supervises (skipping a site another process is folding right now);
--   * for one site, waiting for its lock, at the start of every stats request, so that the stats
--     API always counts every event acknowledged before the request: the rollups it reads are exact;
--   * by hand: `SELECT fold_queued_events();`.
-- Readers of the rollups that do not fold first (the `reporting` views) see an event once the
-- roll-up process has moved it, normally within a second or two.
--
-- Deleting a site deletes its queued events with it; one queued while the deletion was under way
-- is dropped when it is folded.

-- The columns of `events`, in its order (its `id` numbers the queue, in the order events were
-- queued, which is the order they are folded in). No index and no foreign key: an insert is a heap
-- append and nothing more. The queue holds a second or two of traffic, read whole by each fold;
-- vacuuming it often keeps it that small on disk.
CREATE TABLE event_queue (
    LIKE events INCLUDING DEFAULTS INCLUDING IDENTITY
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);

-- Folds the queued events of `only_site` (waiting for that site's lock) or, when it is NULL, of
-- every site that no other transaction is folding right now; the oldest `max_events` of them, or
-- all when NULL. Returns how many events were moved. The lock is 0004's per-site rollup lock, held
-- until COMMIT, so one site's events are folded by one transaction at a time, in queue order.
CREATE FUNCTION fold_queued_events(only_site text DEFAULT NULL, max_events integer DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $function$
DECLARE
    sites text[];
    moved bigint;
BEGIN
    IF only_site IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(72711, hashtext(only_site));
        sites := ARRAY[only_site];
    ELSE
        SELECT coalesce(array_agg(site_id), '{}') INTO sites
        FROM (SELECT DISTINCT site_id FROM event_queue ORDER BY 1) AS queued
        WHERE pg_try_advisory_xact_lock(72711, hashtext(site_id));
    END IF;
    -- Nothing queued is the common case of a stats request; the INSERT below would still run the
    -- rollup trigger over an empty batch.
    IF cardinality(sites) = 0 OR NOT EXISTS (SELECT 1 FROM event_queue WHERE site_id = ANY (sites)) THEN
        RETURN 0;
    END IF;

    WITH taken AS (
        DELETE FROM event_queue
        WHERE site_id = ANY (sites)
          AND (max_events IS NULL OR ctid = ANY (ARRAY(
                  SELECT ctid FROM event_queue WHERE site_id = ANY (sites) ORDER BY id LIMIT max_events)))
        RETURNING *
    )
    INSERT INTO events (site_id, occurred_at, session_id, path, referrer_host, referrer_url, device, browser, os,
                        country, language, utm_source, utm_medium, utm_campaign, utm_term, utm_content)
    SELECT t.site_id, t.occurred_at, t.session_id, t.path, t.referrer_host, t.referrer_url, t.device, t.browser,
           t.os, t.country, t.language, t.utm_source, t.utm_medium, t.utm_campaign, t.utm_term, t.utm_content
    FROM taken t
    WHERE EXISTS (SELECT 1 FROM sites s WHERE s.id = t.site_id)
    ORDER BY t.id;
    GET DIAGNOSTICS moved = ROW_COUNT;
    RETURN moved;
END
$function$;

CREATE FUNCTION event_queue_forget_sites() RETURNS trigger LANGUAGE plpgsql AS $function$
BEGIN
    DELETE FROM event_queue q USING deleted_sites d WHERE q.site_id = d.id;
    RETURN NULL;
END
$function$;

CREATE TRIGGER sites_forget_queued_events AFTER DELETE ON sites
    REFERENCING OLD TABLE AS deleted_sites
    FOR EACH STATEMENT EXECUTE FUNCTION event_queue_forget_sites();

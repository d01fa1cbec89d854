-- The session-hours name their site by a number of 4 bytes instead of the site's id of 26
-- characters (issue 14: bytes on disk per event; narrower rows make room for more rollups).
--
-- A session-hour is the largest rollup row per page view (0004), and the site's id took 27 bytes
-- of its heap row and 27 of its primary key's entry. Each site now has a `key`, a number given
-- once and never reused, and the session-hours keep that in `keyed_session_hours`. Copied at full
-- pages on a database of 11.1 million events (4.4 million session-hours): heap 666 → 567 MB,
-- primary key 360 → 246 MB, about 19 bytes an event. The other rollups keep the site's id for now.
--
-- `session_hours` stays, as a view of the same rows by site id, for the builds before this one:
-- during an upgrade of several worker hosts, those not yet upgraded read it (the edges of ranges
-- that end inside an hour, landing and exit pages) and are served as before (README, Deployment).
-- The fold, the closings and this build's statements use the table. A later migration drops the
-- view.
--
-- As 0048 did, the rows are copied in hour order (the BRIN index reads best so) under a lock
-- taken at once, reads included; the copy takes about as long as 0048's (README).

ALTER TABLE sites ADD COLUMN key integer GENERATED ALWAYS AS IDENTITY;
ALTER TABLE sites ADD CONSTRAINT sites_key_key UNIQUE (key);

LOCK TABLE session_hours IN ACCESS EXCLUSIVE MODE;
SET LOCAL maintenance_work_mem = '256MB';
SET LOCAL work_mem = '256MB';

CREATE TABLE keyed_session_hours (
    hour       timestamptz NOT NULL,
    first_at   timestamptz NOT NULL,
    first_id   bigint NOT NULL,
    last_at    timestamptz NOT NULL,
    last_id    bigint NOT NULL,
    prev_hour  timestamptz NOT NULL,
    next_hour  timestamptz NOT NULL,
    pageviews  integer NOT NULL,
    site_key   integer NOT NULL,               -- sites.key
    session_id text NOT NULL,
    first_path text NOT NULL,
    last_path  text NOT NULL
);

INSERT INTO keyed_session_hours
       (hour, first_at, first_id, last_at, last_id, prev_hour, next_hour, pageviews,
        site_key, session_id, first_path, last_path)
SELECT h.hour, h.first_at, h.first_id, h.last_at, h.last_id, h.prev_hour, h.next_hour, h.pageviews,
       s.key, h.session_id, h.first_path, h.last_path
FROM session_hours h
JOIN sites s ON s.id = h.site_id
ORDER BY h.hour, s.key, h.session_id;

ALTER TABLE keyed_session_hours
    ADD CONSTRAINT keyed_session_hours_pkey PRIMARY KEY (site_key, session_id, hour);
CREATE INDEX keyed_session_hours_hour_brin ON keyed_session_hours
    USING brin (hour) WITH (autosummarize = on);
ALTER TABLE keyed_session_hours SET (fillfactor = 90);

DROP TABLE session_hours;
CREATE VIEW session_hours AS
SELECT s.id AS site_id, h.session_id, h.hour, h.pageviews, h.first_at, h.first_id, h.first_path,
       h.last_at, h.last_id, h.last_path, h.prev_hour, h.next_hour
FROM keyed_session_hours h
JOIN sites s ON s.key = h.site_key;
COMMENT ON VIEW session_hours IS 'keyed_session_hours by site id, for builds before migration 0051; not written to.';

-- 0036's check that every row names a site, by key: once per statement, as the fold writes.
CREATE FUNCTION rows_of_existing_site_keys() RETURNS trigger LANGUAGE plpgsql AS $function$
DECLARE
    missing integer;
BEGIN
    SELECT n.site_key INTO missing
    FROM (SELECT DISTINCT site_key FROM new_rows) AS n
    WHERE NOT EXISTS (SELECT 1 FROM sites s WHERE s.key = n.site_key FOR KEY SHARE)
    LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('insert into %I names a site that does not exist', TG_TABLE_NAME),
            DETAIL = format('Key (site_key)=(%s) is not present in table "sites".', missing);
    END IF;
    RETURN NULL;
END
$function$;

CREATE TRIGGER keyed_session_hours_check_sites AFTER INSERT ON keyed_session_hours
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rows_of_existing_site_keys();

-- The unfiltered fold: the touched sessions are found, and their rows written, by the site's key.
-- Everything it derives from them goes on carrying the site's id, which the other rollups keep.
SELECT rewrite_function_text('roll_up_events()', ARRAY[
    [$old$
        SELECT site_id, session_id, min(hour) AS low, max(hour) AS high FROM new_parts GROUP BY 1, 2$old$,
     $new$
        SELECT n.site_id, s.key AS site_key, n.session_id, min(n.hour) AS low, max(n.hour) AS high
        FROM new_parts n JOIN sites s ON s.id = n.site_id
        GROUP BY 1, 2, 3$new$],
    [$old$
        SELECT h.*, t.low AS new_low, t.high AS new_high
        FROM session_hours h
        JOIN touched t ON t.site_id = h.site_id AND t.session_id = h.session_id
        WHERE h.site_id = ANY (ARRAY(SELECT DISTINCT site_id FROM touched))$old$,
     $new$
        SELECT t.site_id, h.session_id, h.hour, h.pageviews, h.first_at, h.first_id, h.first_path,
               h.last_at, h.last_id, h.last_path, h.prev_hour, h.next_hour, t.low AS new_low, t.high AS new_high
        FROM keyed_session_hours h
        JOIN touched t ON t.site_key = h.site_key AND t.session_id = h.session_id
        WHERE h.site_key = ANY (ARRAY(SELECT DISTINCT site_key FROM touched))$new$],
    [$old$
        INSERT INTO session_hours AS h
               (site_id, session_id, hour, pageviews, first_at, first_id, first_path,
                last_at, last_id, last_path, prev_hour, next_hour)
        SELECT site_id, session_id, hour, pageviews, first_at, first_id, first_path,
               last_at, last_id, last_path, prev_hour, next_hour
        FROM relinked
        ON CONFLICT (site_id, session_id, hour) DO UPDATE SET$old$,
     $new$
        INSERT INTO keyed_session_hours AS h
               (site_key, session_id, hour, pageviews, first_at, first_id, first_path,
                last_at, last_id, last_path, prev_hour, next_hour)
        SELECT s.key, r.session_id, r.hour, r.pageviews, r.first_at, r.first_id, r.first_path,
               r.last_at, r.last_id, r.last_path, r.prev_hour, r.next_hour
        FROM relinked r JOIN sites s ON s.id = r.site_id
        ON CONFLICT (site_key, session_id, hour) DO UPDATE SET$new$]]);

-- The filtered fold reads the touched short sessions' first and last hour.
SELECT rewrite_function_text('roll_up_filtered(bigint[], bigint, text, timestamptz, timestamptz)', ARRAY[[
    $old$
                        FROM session_hours h
                        WHERE h.site_id = ANY (touched_sites) AND h.session_id = s.session_id) AS x;$old$,
    $new$
                        FROM keyed_session_hours h
                        WHERE h.site_key = ANY (ARRAY(SELECT k.key FROM sites k WHERE k.id = ANY (touched_sites)))
                          AND h.session_id = s.session_id) AS x;$new$]]);

-- A late page view reopens the closed breakdown periods of its session's earlier hours.
SELECT rewrite_function_text('filtered_breakdown_touched()', ARRAY[[
    $old$
        SELECT DISTINCT h.site_id, h.hour
        FROM (SELECT DISTINCT site_id, session_id FROM new_events) AS n
        JOIN session_hours h ON h.site_id = n.site_id AND h.session_id = n.session_id$old$,
    $new$
        SELECT DISTINCT n.site_id, h.hour
        FROM (SELECT DISTINCT e.site_id, s.key AS site_key, e.session_id
              FROM new_events e JOIN sites s ON s.id = e.site_id) AS n
        JOIN keyed_session_hours h ON h.site_key = n.site_key AND h.session_id = n.session_id$new$]]);

-- A closing finds the sessions that cross its period's bounds.
SELECT rewrite_function_text('close_filtered_breakdown(text, text, text, timestamptz)', ARRAY[[
    $old$
        SELECT DISTINCT session_id FROM session_hours
        WHERE site_id = site AND hour >= date_bin('1 hour', closing, 'epoch') AND hour < ending$old$,
    $new$
        SELECT DISTINCT session_id FROM keyed_session_hours
        WHERE site_key = (SELECT s.key FROM sites s WHERE s.id = site)
          AND hour >= date_bin('1 hour', closing, 'epoch') AND hour < ending$new$]]);

-- A deleted site's session-hours go in batches as its other rollups do, found by its key.
SELECT rewrite_function_text('remove_deleted_site_rows(integer)', ARRAY[
    [$old$'filtered_traffic', 'session_hours', 'dropped_page_views'] LOOP$old$,
     $new$'filtered_traffic', 'dropped_page_views'] LOOP$new$],
    [$old$
    -- By id alone, through each partition's primary key:$old$,
     $new$
    DELETE FROM keyed_session_hours
    WHERE ctid = ANY (ARRAY(SELECT ctid FROM keyed_session_hours
                            WHERE site_key = (SELECT s.key FROM sites s WHERE s.id = doomed)
                            LIMIT max_rows - removed));
    GET DIAGNOSTICS batch = ROW_COUNT;
    removed := removed + batch;
    IF removed >= max_rows THEN
        RETURN removed;
    END IF;
    -- By id alone, through each partition's primary key:$new$]]);

-- `hitkeep site delete` and an operator's DELETE FROM sites (0036).
SELECT rewrite_function_text('sites_forget_page_views()', ARRAY[[
    $old$DELETE FROM session_hours h USING deleted_sites d WHERE h.site_id = d.id;$old$,
    $new$DELETE FROM keyed_session_hours h USING deleted_sites d WHERE h.site_key = d.key;$new$]]);

ANALYZE sites;
ANALYZE keyed_session_hours;

-- The filtered rollups' traffic rows name their site by `sites.key` (0051) instead of the site's id
-- of 26 characters (issue 14: bytes on disk per event).
--
-- `filtered_traffic` holds a row per filter value (and profile), quarter hour and pair of
-- neighbouring quarters: 2.9 million rows for 11.1 million events, each carrying the site's id in
-- its heap row and again in its primary key, which holds every column (reads are index-only). Its
-- day rows, `filtered_traffic_days`, are built from it by 0025's triggers and have the same shape.
-- Both now keep the key: `keyed_filtered_traffic` and `keyed_filtered_traffic_days`, copied in key
-- order at full pages (README). `filtered_traffic` and `filtered_traffic_days` remain as views of
-- them by site id for the builds before this one, as 0051 left `session_hours`.
--
-- Both tables are locked for the copy, reads included: folds, closings and the stats requests
-- that read them wait (past the statement timeout they answer 503); ingestion only queues.

LOCK TABLE filtered_traffic, filtered_traffic_days IN ACCESS EXCLUSIVE MODE;
SET LOCAL maintenance_work_mem = '256MB';
SET LOCAL work_mem = '256MB';

CREATE TABLE keyed_filtered_traffic (
    site_key         integer NOT NULL REFERENCES sites (key) ON DELETE CASCADE,
    filter           integer NOT NULL,
    quarter          timestamptz NOT NULL,
    prev_quarter     timestamptz NOT NULL,
    next_quarter     timestamptz NOT NULL,
    session_quarters integer NOT NULL,
    pageviews        integer NOT NULL,
    singles          integer NOT NULL,
    first_offset_us  bigint NOT NULL,
    last_offset_us   bigint NOT NULL
) WITH (fillfactor = 100);

CREATE TABLE keyed_filtered_traffic_days (
    site_key         integer NOT NULL REFERENCES sites (key) ON DELETE CASCADE,
    filter           integer NOT NULL,
    day              timestamptz NOT NULL,
    prev_quarter     timestamptz NOT NULL,
    next_quarter     timestamptz NOT NULL,
    session_quarters integer NOT NULL,
    pageviews        integer NOT NULL,
    singles          integer NOT NULL,
    first_offset_us  bigint NOT NULL,
    last_offset_us   bigint NOT NULL
);

INSERT INTO keyed_filtered_traffic
SELECT s.key, t.filter, t.quarter, t.prev_quarter, t.next_quarter, t.session_quarters, t.pageviews, t.singles,
       t.first_offset_us, t.last_offset_us
FROM filtered_traffic t JOIN sites s ON s.id = t.site_id
ORDER BY 1, 2, 3, 4, 5;

INSERT INTO keyed_filtered_traffic_days
SELECT s.key, d.filter, d.day, d.prev_quarter, d.next_quarter, d.session_quarters, d.pageviews, d.singles,
       d.first_offset_us, d.last_offset_us
FROM filtered_traffic_days d JOIN sites s ON s.id = d.site_id
ORDER BY 1, 2, 3, 4, 5;

-- Read in index order alone, as before.
ALTER TABLE keyed_filtered_traffic ADD CONSTRAINT keyed_filtered_traffic_pkey
    PRIMARY KEY (site_key, filter, quarter, prev_quarter, next_quarter)
    INCLUDE (session_quarters, pageviews, singles, first_offset_us, last_offset_us);
ALTER TABLE keyed_filtered_traffic_days ADD CONSTRAINT keyed_filtered_traffic_days_pkey
    PRIMARY KEY (site_key, filter, day, prev_quarter, next_quarter)
    INCLUDE (session_quarters, pageviews, singles, first_offset_us, last_offset_us);

DROP TABLE filtered_traffic, filtered_traffic_days;

CREATE VIEW filtered_traffic AS
SELECT s.id AS site_id, t.filter, t.quarter, t.prev_quarter, t.next_quarter, t.session_quarters, t.pageviews,
       t.singles, t.first_offset_us, t.last_offset_us
FROM keyed_filtered_traffic t
JOIN sites s ON s.key = t.site_key;
COMMENT ON VIEW filtered_traffic IS 'keyed_filtered_traffic by site id, for builds before migration 0052; not written to.';

CREATE VIEW filtered_traffic_days AS
SELECT s.id AS site_id, d.filter, d.day, d.prev_quarter, d.next_quarter, d.session_quarters, d.pageviews,
       d.singles, d.first_offset_us, d.last_offset_us
FROM keyed_filtered_traffic_days d
JOIN sites s ON s.key = d.site_key;
COMMENT ON VIEW filtered_traffic_days IS 'keyed_filtered_traffic_days by site id, for builds before migration 0052; not written to.';

-- 0025's day rows, kept by the same triggers on the keyed table.
SELECT rewrite_function_text('filtered_traffic_days_addition()', ARRAY[
    [$old$INSERT INTO filtered_traffic_days AS d
        SELECT c.site_id, c.filter, k.day,$old$,
     $new$INSERT INTO keyed_filtered_traffic_days AS d
        SELECT c.site_key, c.filter, k.day,$new$],
    [$old$ON CONFLICT (site_id, filter, day, prev_quarter, next_quarter) DO UPDATE SET$old$,
     $new$ON CONFLICT (site_key, filter, day, prev_quarter, next_quarter) DO UPDATE SET$new$]]);

SELECT rewrite_function_text('filtered_traffic_changed()', ARRAY[
    [$old$SELECT n.site_id, n.filter, n.quarter,$old$,
     $new$SELECT n.site_key, n.filter, n.quarter,$new$],
    [$old$JOIN replaced o USING (site_id, filter, quarter, prev_quarter, next_quarter)$old$,
     $new$JOIN replaced o USING (site_key, filter, quarter, prev_quarter, next_quarter)$new$]]);

CREATE TRIGGER keyed_filtered_traffic_days_on_insert AFTER INSERT ON keyed_filtered_traffic
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION filtered_traffic_changed();
CREATE TRIGGER keyed_filtered_traffic_days_on_update AFTER UPDATE ON keyed_filtered_traffic
    REFERENCING OLD TABLE AS replaced NEW TABLE AS updated
    FOR EACH STATEMENT EXECUTE FUNCTION filtered_traffic_changed();

SELECT rewrite_function_text('close_filtered_traffic_days()', ARRAY[
    [$old$LOCK TABLE filtered_traffic IN SHARE MODE;$old$,
     $new$LOCK TABLE keyed_filtered_traffic IN SHARE MODE;$new$],
    [$old$format('SELECT * FROM filtered_traffic WHERE quarter >= %L AND quarter < %L', closed, today));$old$,
     $new$format('SELECT * FROM keyed_filtered_traffic WHERE quarter >= %L AND quarter < %L', closed, today));$new$]]);

-- The filtered fold writes the traffic rows by key.
SELECT rewrite_function_text('roll_up_filtered(bigint[], bigint, text, timestamptz, timestamptz)', ARRAY[
    [$old$
        INSERT INTO filtered_traffic AS t
        SELECT site_id, filter, quarter, prev_quarter, next_quarter, sum(session_quarters), sum(pageviews),$old$,
     $new$
        INSERT INTO keyed_filtered_traffic AS t
        SELECT k.key, filter, quarter, prev_quarter, next_quarter, sum(session_quarters), sum(pageviews),$new$],
    [$old$
              FROM profile_mixed) AS contributions
        GROUP BY 1, 2, 3, 4, 5$old$,
     $new$
              FROM profile_mixed) AS contributions
        JOIN sites k ON k.id = contributions.site_id
        GROUP BY 1, 2, 3, 4, 5$new$],
    [$old$ON CONFLICT (site_id, filter, quarter, prev_quarter, next_quarter) DO UPDATE SET
            session_quarters = t.session_quarters + excluded.session_quarters,$old$,
     $new$ON CONFLICT (site_key, filter, quarter, prev_quarter, next_quarter) DO UPDATE SET
            session_quarters = t.session_quarters + excluded.session_quarters,$new$]]);

-- A deleted site's traffic rows go in batches with its other rollups, found by its key.
SELECT rewrite_function_text('remove_deleted_site_rows(integer)', ARRAY[
    [$old$'quarter_session_ends', 'filtered_traffic_days', 'filtered_counts',$old$,
     $new$'quarter_session_ends', 'filtered_counts',$new$],
    [$old$'filtered_traffic', 'dropped_page_views'] LOOP$old$,
     $new$'dropped_page_views'] LOOP$new$],
    [$old$
    DELETE FROM keyed_session_hours
    WHERE ctid = ANY (ARRAY(SELECT ctid FROM keyed_session_hours
                            WHERE site_key = (SELECT s.key FROM sites s WHERE s.id = doomed)
                            LIMIT max_rows - removed));
    GET DIAGNOSTICS batch = ROW_COUNT;
    removed := removed + batch;
    IF removed >= max_rows THEN
        RETURN removed;
    END IF;$old$,
     $new$
    FOREACH rollup IN ARRAY ARRAY['keyed_filtered_traffic_days', 'keyed_filtered_traffic', 'keyed_session_hours'] LOOP
        EXECUTE format('DELETE FROM %1$I WHERE ctid = ANY (ARRAY(SELECT ctid FROM %1$I WHERE site_key = $1 LIMIT $2))', rollup)
            USING (SELECT s.key FROM sites s WHERE s.id = doomed), max_rows - removed;
        GET DIAGNOSTICS batch = ROW_COUNT;
        removed := removed + batch;
        IF removed >= max_rows THEN
            RETURN removed;
        END IF;
    END LOOP;$new$]]);

ANALYZE keyed_filtered_traffic;
ANALYZE keyed_filtered_traffic_days;

-- `session_hours` rewritten with its fixed-width columns first (issue 14: bytes on disk per event).
--
-- PostgreSQL stores a row's columns in the table's order and starts every timestamp and bigint on
-- a multiple of 8 bytes. 0004 put them between the texts (site, session, first path, last path),
-- whose lengths vary, so most rows carried padding before `hour`, `first_at`, `last_at` and
-- `prev_hour`: 4 to 25 bytes, about 15 on average. With the timestamps, ids and the page count
-- first and the texts last, only the row's end is aligned. Measured on a copy of the 4.6 million
-- session-hours of a 10 M and a 1 M site: 772 → 705 MB at full pages.
--
-- The table is copied in hour order, which its BRIN index on the hour (0047) reads best, into full
-- pages: the rows of past hours are never updated again. Pages written after it keep 0039's tenth
-- free for the fold's updates of a session's current hour; the few rows of the current hour that
-- the copy left on full pages take an index entry when updated, as 0039 measured.
--
-- The table is locked for the whole copy (18 s at 11.6 million events, README), reads included:
-- the folds wait, and so do the stats and breakdown requests of a site with page views queued
-- (each folds its site's queue first) and those that read session-hours (ranges with sessions
-- across their ends); past the statement timeout they answer 503. Ingestion only queues and goes
-- on. Locked for writes only, it would have to be locked again for the swap at the
-- end, and a fold that had read the table and then waited to write to it would hold that up: a
-- deadlock, which PostgreSQL breaks by failing one of the two. Taken at once, the lock waits for
-- such a fold, which finishes first. The fold is the only writer that lists the columns by
-- position, so it now names them.

LOCK TABLE session_hours IN ACCESS EXCLUSIVE MODE;
SET LOCAL maintenance_work_mem = '256MB';
SET LOCAL work_mem = '256MB';

CREATE TABLE session_hours_by_width (
    hour       timestamptz NOT NULL,
    first_at   timestamptz NOT NULL,
    first_id   bigint NOT NULL,
    last_at    timestamptz NOT NULL,
    last_id    bigint NOT NULL,
    prev_hour  timestamptz NOT NULL,
    next_hour  timestamptz NOT NULL,
    pageviews  integer NOT NULL,
    site_id    text NOT NULL,
    session_id text NOT NULL,
    first_path text NOT NULL,
    last_path  text NOT NULL
);

INSERT INTO session_hours_by_width
       (hour, first_at, first_id, last_at, last_id, prev_hour, next_hour, pageviews,
        site_id, session_id, first_path, last_path)
SELECT hour, first_at, first_id, last_at, last_id, prev_hour, next_hour, pageviews,
       site_id, session_id, first_path, last_path
FROM session_hours
ORDER BY hour, site_id, session_id;

ALTER TABLE session_hours_by_width
    ADD CONSTRAINT session_hours_by_width_pkey PRIMARY KEY (site_id, session_id, hour);
CREATE INDEX session_hours_by_width_hour_brin ON session_hours_by_width
    USING brin (hour) WITH (autosummarize = on);

DROP TABLE session_hours;
ALTER TABLE session_hours_by_width RENAME TO session_hours;
ALTER INDEX session_hours_by_width_pkey RENAME TO session_hours_pkey;
ALTER INDEX session_hours_by_width_hour_brin RENAME TO session_hours_hour_brin;
ALTER TABLE session_hours SET (fillfactor = 90);

-- 0036's check that every row names a site.
CREATE TRIGGER session_hours_check_sites AFTER INSERT ON session_hours
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rows_of_existing_sites();

SELECT rewrite_function_text('roll_up_events()', ARRAY[[
    $old$
        INSERT INTO session_hours AS h
        SELECT site_id, session_id, hour, pageviews, first_at, first_id, first_path,$old$,
    $new$
        INSERT INTO session_hours AS h
               (site_id, session_id, hour, pageviews, first_at, first_id, first_path,
                last_at, last_id, last_path, prev_hour, next_hour)
        SELECT site_id, session_id, hour, pageviews, first_at, first_id, first_path,$new$]]);

ANALYZE session_hours;

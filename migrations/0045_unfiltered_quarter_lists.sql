-- The top lists of unfiltered ranges that start or end on a quarter hour inside an hour (days in
-- Asia/Kolkata, Asia/Kathmandu, Australia/Lord_Howe, Pacific/Chatham), from rollups alone.
--
-- 0004's lists hold page views per value and session ends per UTC hour and day, so a day from
-- 18:30 UTC had its two partial hours answered from their raw events, and the entry and exit pages
-- of every session with page views there from that session's hours: 13 to 15 times the time of a
-- UTC day at ten million page views a month (README, "Measured", 7 December 2026). Two tables make
-- the partial hours rows as well:
--
--   * `quarter_counts`: page views per value of every listed dimension, per UTC quarter hour, as
--     `filtered_counts` keeps them per hour under a filter (one row per quarter, two arrays).
--   * `quarter_session_ends`: 0004's `entry_exit_counts` with the boundary to the quarter hour. A
--     session-quarter (the session's page views in one UTC quarter hour) is counted as an entry
--     with its first path and its previous session-quarter (`boundary`), as an exit with its last
--     path and its next one: every session-quarter in a `quarter` row, those first (last) in their
--     UTC hour in an `hour` row, those first (last) in their UTC day in a `day` row. A range
--     [F, T) of whole quarters then has its landing pages in the rows of the spans that tile it
--     with boundary < F, and its exit pages in those with boundary >= T: a session's first page
--     view in the range is the first of a session-quarter whose previous one lies before F, and
--     that session-quarter is first in whichever hour or day holds it. With 0004's hour boundaries
--     a session seen in the half hour before a range's first whole hour could not be told from one
--     seen in the half hour before that.
--
-- Both are added up by `roll_up_filtered` from the session-quarters it already derives without a
-- filter (0012's filter 0): the short sessions' `whole_linked` and the long ones' (0014) stored
-- quarters under filter 0. The events written before this migration are added by `hitkeep migrate`
-- (`backfill_quarter_lists`, as 0024's backfill, with `part` 'quarter lists' adding these rows and
-- nothing else); until it is done, the stats read the partial hours' events as before.

-- No event is written while this migration runs, so that the events before it are exactly those
-- with an id up to the backfill's `through`.
LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE quarter_counts (
    site_id   text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    quarter   timestamptz NOT NULL,                 -- a UTC quarter hour
    value_ids integer[] NOT NULL,                   -- stat_values.id of every dimension but profile, each once
    pageviews integer[] NOT NULL,                   -- the page views of value_ids[i] at [i]
    PRIMARY KEY (site_id, quarter)
) WITH (fillfactor = 90);

CREATE TABLE quarter_session_ends (
    site_id  text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    span     text NOT NULL CHECK (span IN ('quarter', 'hour', 'day')),
    bucket   timestamptz NOT NULL,
    kind     text NOT NULL CHECK (kind IN ('entry', 'exit')),
    boundary timestamptz NOT NULL,                  -- the previous (entry) or next (exit) session-quarter, or ±infinity
    path_ids integer[] NOT NULL,                    -- stat_values.id of paths, each once
    sessions integer[] NOT NULL,
    PRIMARY KEY (site_id, span, bucket, kind, boundary)
) WITH (fillfactor = 90);

-- The backfill's part adds no row of any filter.
CREATE OR REPLACE FUNCTION part_has_dimension(part text, dimension integer) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $function$
    SELECT CASE part WHEN 'all' THEN true
                     WHEN 'hostname' THEN dimension = 11
                     WHEN 'profile' THEN dimension = 12
                     WHEN 'quarter lists' THEN false
                     ELSE dimension < 11 END
$function$;

-- 0044's fold, with the two tables added up after the filtered session ends; the 'quarter lists'
-- part writes them alone.
SELECT rewrite_function_text('roll_up_filtered(bigint[], bigint, text, timestamptz, timestamptz)', ARRAY[
    [$old$IF part NOT IN ('all', 'hostname', 'profile', 'all but hostname')$old$,
     $new$IF part NOT IN ('all', 'hostname', 'profile', 'all but hostname', 'quarter lists')$new$],
    [$old$
                                             WHEN 'profile' THEN array_fill(NULL::integer, ARRAY[12]) || p.pure[13]
$old$, $new$
                                             WHEN 'profile' THEN array_fill(NULL::integer, ARRAY[12]) || p.pure[13]
                                             WHEN 'quarter lists' THEN array_fill(NULL::integer, ARRAY[13])
$new$],
    [$old$
    ), valued AS (
$old$, $new$
    ), unfiltered_quarters AS (
        -- Every session-quarter without a filter: the short sessions' and the long ones' (0045).
        -- A touched session's quarters that this statement leaves as they were come in twice, before
        -- (-1) and after (+1): cancelled here, before each is counted in up to six rows below (a
        -- fold of 20 000 page views took 8 % longer without).
        SELECT site_id, quarter, prev_quarter, next_quarter, first_path, last_path, sum(sign) AS sign
        FROM (SELECT sign, site_id, quarter, prev_quarter, next_quarter, first_path, last_path
              FROM whole_linked
              WHERE part IN ('all', 'quarter lists')
              UNION ALL
              SELECT sign, site_id, quarter, prev_quarter, next_quarter, first_path, last_path
              FROM rest_linked
              WHERE dimension = 0 AND part IN ('all', 'quarter lists')) AS u
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(sign) <> 0
    ), quarter_ends AS (
        SELECT u.site_id, s.span, s.bucket, x.kind, x.boundary, x.path_id, sum(u.sign) AS sessions
        FROM unfiltered_quarters u
        CROSS JOIN LATERAL (VALUES ('quarter', u.quarter, interval '15 minutes'),
                                   ('hour', date_bin('1 hour', u.quarter, 'epoch'), interval '1 hour'),
                                   ('day', date_bin('1 day', u.quarter, 'epoch'), interval '1 day')) AS s (span, bucket, length)
        CROSS JOIN LATERAL (VALUES ('entry', u.prev_quarter, u.first_path, u.prev_quarter < s.bucket),
                                   ('exit', u.next_quarter, u.last_path, u.next_quarter >= s.bucket + s.length)
        ) AS x (kind, boundary, path_id, applies)
        WHERE x.applies
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(u.sign) <> 0
    ), quarter_ends_saved AS (
        INSERT INTO quarter_session_ends AS c
        SELECT site_id, span, bucket, kind, boundary, array_agg(path_id), array_agg(sessions::integer)
        FROM quarter_ends
        GROUP BY 1, 2, 3, 4, 5
        ON CONFLICT (site_id, span, bucket, kind, boundary) DO UPDATE SET
            (path_ids, sessions) = (SELECT ids, counts FROM add_count_vectors(c.path_ids, c.sessions, excluded.path_ids, excluded.sessions))
    ), quarter_values AS (
        -- The new page views per quarter and value; those of a quarter that share every value are
        -- one group first, as for the pairs below.
        SELECT a.site_id, a.quarter, u.value_id, sum(a.n) AS n
        FROM (SELECT site_id, quarter, ids, count(*) AS n
              FROM history
              WHERE is_new AND part IN ('all', 'quarter lists')
              GROUP BY 1, 2, 3) AS a
        CROSS JOIN LATERAL unnest(a.ids[1:11]) AS u (value_id)
        GROUP BY 1, 2, 3
    ), quarter_values_saved AS (
        INSERT INTO quarter_counts AS c
        SELECT site_id, quarter, array_agg(value_id), array_agg(n::integer)
        FROM quarter_values
        GROUP BY 1, 2
        ON CONFLICT (site_id, quarter) DO UPDATE SET
            (value_ids, pageviews) = (SELECT ids, counts FROM add_count_vectors(c.value_ids, c.pageviews, excluded.value_ids, excluded.pageviews))
    ), valued AS (
$new$],
    [$old$
          AND CASE part WHEN 'all' THEN true
$old$, $new$
          AND CASE part WHEN 'all' THEN true
                        WHEN 'quarter lists' THEN false
$new$]]);

-- The quarter lists of the events written before this migration, added by `hitkeep migrate`:
-- `backfill_quarter_lists` until it returns 0, as 0024's backfill.
CREATE TABLE quarter_lists_backfill (
    through bigint NOT NULL,                        -- the last event written before this migration
    next_id bigint NOT NULL                         -- sessions whose first event is below it are done
);
INSERT INTO quarter_lists_backfill (through, next_id)
SELECT max(id), min(id) FROM events HAVING max(id) IS NOT NULL;

CREATE FUNCTION backfill_quarter_lists(max_events integer) RETURNS bigint LANGUAGE plpgsql AS $function$
DECLARE
    job quarter_lists_backfill;
    upper bigint;
BEGIN
    SELECT * INTO job FROM quarter_lists_backfill FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    upper := backfill_next_batch(job.next_id, job.through, max_events, 'quarter lists');
    IF upper > job.through THEN
        DELETE FROM quarter_lists_backfill;
    ELSE
        UPDATE quarter_lists_backfill SET next_id = upper;
    END IF;
    RETURN upper - job.next_id;
END
$function$;

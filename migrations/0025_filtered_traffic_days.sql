-- Whole UTC days of 0012's `filtered_traffic` (issue 14): a filtered question over 30 days read
-- 2 880 quarter hours of rows per filter value, half a million rows for `device:desktop` and
-- `os:Windows` (60 visitor profiles, 0024) at ten million events. Here each value's session-quarters
-- of a UTC day are added up into a few rows, and a range reads the whole UTC days inside it from
-- these and only the quarter hours at its two ends (in any zone: Kolkata's days start at 18:30 UTC)
-- from `filtered_traffic`.
--
-- A question counts a session-quarter as a session's first in the range when its previous quarter
-- lies before the range, and as its last when its next quarter lies at or after the range's end.
-- For a day inside the range, only a previous quarter before the day can lie before the range, and
-- only a next quarter at or after the day's end can lie after it: the rows keep those as they are
-- and put `infinity` (previous) and `-infinity` (next) for the ones inside the day, which then never
-- count as a first or a last. So a day row answers exactly what its quarter rows would, for any
-- range that holds the whole day, with the same SQL (`RollupUnit`); the offsets are from the day's
-- start instead of the quarter's. The profile marker (filter -1, 0024) stays in quarters: it is
-- only asked whether a range holds one.
--
-- A day is added up once it is over: about once a minute the roll-up process closes the days
-- before the current UTC midnight (`close_filtered_traffic_days`; 0.9 s for a day at 17 million
-- events), and from then on two statement triggers on `filtered_traffic` keep them, in the
-- transaction of the fold that wrote it (inserted rows are added, updated rows add the difference):
-- late page views, a session that runs on past midnight. Live traffic writes to the current day,
-- which the triggers pass over, so the fold costs what it did. Readers take days before
-- `filtered_traffic_days_closed` from here and later ones from the quarters. Nothing else changes
-- `filtered_traffic` but deleting a site, which deletes these rows too.

CREATE TABLE filtered_traffic_days (
    site_id          text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    filter           integer NOT NULL,              -- as in filtered_traffic, never -1
    day              timestamptz NOT NULL,          -- a UTC midnight
    prev_quarter     timestamptz NOT NULL,          -- before `day`, or infinity for one inside it
    next_quarter     timestamptz NOT NULL,          -- at or after its end, or -infinity for one inside it
    session_quarters integer NOT NULL,
    pageviews        integer NOT NULL,
    singles          integer NOT NULL,
    first_offset_us  bigint NOT NULL,               -- Σ (first_at − day)
    last_offset_us   bigint NOT NULL,
    -- Read in index order alone, as filtered_traffic is.
    PRIMARY KEY (site_id, filter, day, prev_quarter, next_quarter)
        INCLUDE (session_quarters, pageviews, singles, first_offset_us, last_offset_us)
);

-- The statement that adds the rows of the query put in for %s (rows of filtered_traffic, or the
-- differences of two versions of one) to the days. Written once here for the triggers below, which
-- run it on their transition tables, and for the days of the rows already there.
CREATE FUNCTION filtered_traffic_days_addition() RETURNS text
LANGUAGE sql IMMUTABLE AS $function$
    SELECT $sql$
        INSERT INTO filtered_traffic_days AS d
        SELECT c.site_id, c.filter, k.day,
               CASE WHEN c.prev_quarter < k.day THEN c.prev_quarter ELSE 'infinity' END,
               CASE WHEN c.next_quarter >= k.day + interval '1 day' THEN c.next_quarter ELSE '-infinity' END,
               sum(c.session_quarters), sum(c.pageviews), sum(c.singles),
               sum(c.first_offset_us + c.session_quarters * k.shift_us), sum(c.last_offset_us + c.session_quarters * k.shift_us)
        FROM (%s) AS c
        CROSS JOIN LATERAL (SELECT date_bin('1 day', c.quarter, 'epoch') AS day) AS b
        CROSS JOIN LATERAL (SELECT b.day, (extract(epoch FROM c.quarter - b.day) * 1000000)::bigint AS shift_us) AS k
        WHERE c.filter <> -1
        GROUP BY 1, 2, 3, 4, 5
        HAVING sum(c.session_quarters) <> 0 OR sum(c.pageviews) <> 0 OR sum(c.singles) <> 0
            OR sum(c.first_offset_us + c.session_quarters * k.shift_us) <> 0
            OR sum(c.last_offset_us + c.session_quarters * k.shift_us) <> 0
        ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (site_id, filter, day, prev_quarter, next_quarter) DO UPDATE SET
            session_quarters = d.session_quarters + excluded.session_quarters,
            pageviews = d.pageviews + excluded.pageviews,
            singles = d.singles + excluded.singles,
            first_offset_us = d.first_offset_us + excluded.first_offset_us,
            last_offset_us = d.last_offset_us + excluded.last_offset_us
    $sql$
$function$;

-- The days before `closed_before` have their rows. One row.
CREATE TABLE filtered_traffic_days_closed (
    one           boolean PRIMARY KEY DEFAULT true CHECK (one),
    closed_before timestamptz NOT NULL              -- a UTC midnight
);
INSERT INTO filtered_traffic_days_closed (closed_before) VALUES (date_bin('1 day', now(), 'epoch'));

-- Changes to closed days: rows inserted are added; the fold updates a row by adding to it, so an
-- updated row's key stays and its sums change by new − old. The transition tables are seen by the
-- statement only when it runs here (EXECUTE in the trigger's own function), not in a function this
-- one would call.
CREATE FUNCTION filtered_traffic_changed() RETURNS trigger LANGUAGE plpgsql AS $function$
DECLARE
    closed timestamptz := (SELECT closed_before FROM filtered_traffic_days_closed);
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format(filtered_traffic_days_addition(), format('SELECT * FROM inserted WHERE quarter < %L', closed));
    ELSE
        EXECUTE format(filtered_traffic_days_addition(), format($changes$
            SELECT n.site_id, n.filter, n.quarter, n.prev_quarter, n.next_quarter,
                   n.session_quarters - o.session_quarters AS session_quarters, n.pageviews - o.pageviews AS pageviews,
                   n.singles - o.singles AS singles, n.first_offset_us - o.first_offset_us AS first_offset_us,
                   n.last_offset_us - o.last_offset_us AS last_offset_us
            FROM updated n
            JOIN replaced o USING (site_id, filter, quarter, prev_quarter, next_quarter)
            WHERE n.quarter < %L
        $changes$, closed));
    END IF;
    RETURN NULL;
END
$function$;

-- Adds up the days that ended since the last call; returns how many. Waits for the folds under
-- way and holds the next ones back meanwhile (a share lock on `filtered_traffic`), so that every
-- change to those days is either in the rows added up here or, after, seen by the triggers.
CREATE FUNCTION close_filtered_traffic_days() RETURNS integer LANGUAGE plpgsql AS $function$
DECLARE
    closed timestamptz := (SELECT closed_before FROM filtered_traffic_days_closed);
    today timestamptz := date_bin('1 day', now(), 'epoch');
BEGIN
    IF closed >= today THEN
        RETURN 0;
    END IF;
    LOCK TABLE filtered_traffic IN SHARE MODE;
    SELECT closed_before INTO closed FROM filtered_traffic_days_closed FOR UPDATE;
    IF closed >= today THEN
        RETURN 0;
    END IF;
    EXECUTE format(filtered_traffic_days_addition(),
                   format('SELECT * FROM filtered_traffic WHERE quarter >= %L AND quarter < %L', closed, today));
    UPDATE filtered_traffic_days_closed SET closed_before = today;
    RETURN extract(day FROM today - closed)::integer;
END
$function$;

-- Creating the triggers locks out the folds until this migration commits, so the days below are
-- built from exactly the rows the triggers then go on from.
CREATE TRIGGER filtered_traffic_days_on_insert AFTER INSERT ON filtered_traffic
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION filtered_traffic_changed();
CREATE TRIGGER filtered_traffic_days_on_update AFTER UPDATE ON filtered_traffic
    REFERENCING OLD TABLE AS replaced NEW TABLE AS updated
    FOR EACH STATEMENT EXECUTE FUNCTION filtered_traffic_changed();

DO $block$
BEGIN
    EXECUTE format(filtered_traffic_days_addition(), format('SELECT * FROM filtered_traffic WHERE quarter < %L',
                                                            (SELECT closed_before FROM filtered_traffic_days_closed)));
END
$block$;

ANALYZE filtered_traffic_days;

-- Every update of `filtered_traffic` changes columns its primary key carries, so none is a HOT
-- update and the free fifth of each page 0012 left for them only grew the table.
ALTER TABLE filtered_traffic SET (fillfactor = 100);

-- The top lists under a filter read `filtered_counts` and `filtered_session_ends` for one value, or
-- for a set of profiles, over a range of days and hours; keyed by time first, their primary keys
-- made that a walk over every value's rows of the range, and for 60 profiles the planner read the
-- whole table instead (550 ms at ten million events). Keyed by the value first, a range is read
-- in one index range per value. The folds' ON CONFLICT names the same columns, in any order.
ALTER TABLE filtered_counts DROP CONSTRAINT filtered_counts_pkey,
    ADD PRIMARY KEY (site_id, filter, span, bucket);
ALTER TABLE filtered_session_ends DROP CONSTRAINT filtered_session_ends_pkey,
    ADD PRIMARY KEY (site_id, filter, span, bucket, kind, boundary);

-- The rollup indexes a fold writes into all over (a row per filter value and quarter hour, updated
-- while its quarter is under way) split their pages as they go and keep them half empty once those
-- quarters are over: 42 % full leaves in `filtered_traffic`'s primary key after ten million seeded
-- events, 35 bytes an event more than a fresh build. The roll-up process rebuilds such an index
-- without blocking writes (REINDEX CONCURRENTLY, `RollupIndexUpkeep`) when it has grown a quarter
-- beyond its size per entry after its last rebuild, at most once a day; each rebuild is recorded here.
CREATE TABLE rollup_index_rebuilds (
    index_name      text PRIMARY KEY,
    claimed_at      timestamptz,                    -- a roll-up process has been rebuilding it since
    rebuilt_at      timestamptz,
    bytes_per_entry double precision                -- its size over its entries right after that rebuild
);

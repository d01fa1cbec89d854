-- The breakdown closings that are due, as a function of their own (issue 14): `hitkeep roll-up
-- --once` counts the ones ahead to show its progress (after a bulk load of ten million page views,
-- 390 days of dimensions, about half an hour), and `close_filtered_breakdowns` takes the next ones
-- from the same list, so that the count and the closings cannot drift apart. The list is 0032's
-- candidates, unchanged; their order is the caller's.

CREATE FUNCTION filtered_breakdowns_due()
RETURNS TABLE (site_id text, dimension text, span text, bucket timestamptz, rank integer, dimension_rank integer)
LANGUAGE sql STABLE AS $function$
    WITH hours AS (
        SELECT DISTINCT t.site_id, s.timezone, t.hour
        FROM traffic_hourly t JOIN sites s ON s.id = t.site_id
        WHERE t.hour < now() - interval '90 minutes' AND t.hour >= coalesce(s.raw_events_since, '-infinity')
    ), days AS (
        -- The site's days that hold those hours (an hour of a zone a half hour off UTC lies in two).
        SELECT site_id, local_to_instant(day::timestamp, timezone) AS bucket,
               local_to_instant((day + 1)::timestamp, timezone) AS ends
        FROM (SELECT DISTINCT h.site_id, h.timezone, d.day
              FROM hours h
              CROSS JOIN LATERAL (VALUES ((h.hour AT TIME ZONE h.timezone)::date),
                                         (((h.hour + interval '59 minutes') AT TIME ZONE h.timezone)::date)) AS d (day)
             ) AS local_days
    ), dimensions AS (
        SELECT * FROM filtered_breakdown_dimensions()
    )
    SELECT site_id, dimension, span, bucket, rank, dimension_rank FROM (
        SELECT d.site_id, n.dimension, n.rank AS dimension_rank, 'day' AS span, d.bucket, 1 AS rank
        FROM days d CROSS JOIN dimensions n
        WHERE d.ends < now() - interval '1 hour'
          -- A whole day of raw events.
          AND d.bucket >= (SELECT coalesce(raw_events_since, '-infinity') FROM sites WHERE id = d.site_id)
        UNION ALL
        SELECT h.site_id, n.dimension, n.rank, 'hour', h.hour, 2
        FROM hours h CROSS JOIN dimensions n
        WHERE NOT EXISTS (SELECT 1 FROM filtered_breakdown_closed c
                          WHERE c.site_id = h.site_id AND c.dimension = n.dimension AND c.span = 'day'
                            AND c.bucket <= h.hour AND h.hour + interval '1 hour' <= c.ends
                            AND NOT filtered_breakdown_keeps_hours(c.bucket, h.timezone))
    ) AS candidates
    WHERE NOT EXISTS (SELECT 1 FROM filtered_breakdown_closed c
                      WHERE c.site_id = candidates.site_id AND c.dimension = candidates.dimension
                        AND c.span = candidates.span AND c.bucket = candidates.bucket)
$function$;

-- The closings ahead: those due, less the hours that a day due before them will cover (all but
-- the hours of the two days a default range starts in), which are no longer due once that day is
-- added up. An hour is covered by the day of its site's zone that it starts in, if it ends in it.
CREATE FUNCTION filtered_breakdown_closings_ahead() RETURNS bigint
LANGUAGE sql STABLE AS $function$
    WITH due AS (
        SELECT due.*, s.timezone FROM filtered_breakdowns_due() AS due JOIN sites s ON s.id = due.site_id
    ), due_days AS (
        SELECT site_id, dimension, bucket, local_to_instant(((bucket AT TIME ZONE timezone)::date + 1)::timestamp, timezone) AS ends,
               filtered_breakdown_keeps_hours(bucket, timezone) AS keeps_hours
        FROM due WHERE span = 'day'
    )
    SELECT count(*) FROM due h
    WHERE NOT EXISTS (SELECT 1 FROM due_days d
                      WHERE h.span = 'hour' AND d.site_id = h.site_id AND d.dimension = h.dimension
                        AND d.bucket = local_to_instant(((h.bucket AT TIME ZONE h.timezone)::date)::timestamp, h.timezone)
                        AND h.bucket + interval '1 hour' <= d.ends AND NOT d.keeps_hours)
$function$;

-- As in 0032, taking its candidates from the function above.
CREATE OR REPLACE FUNCTION close_filtered_breakdowns(max_count integer) RETURNS integer
LANGUAGE plpgsql AS $function$
DECLARE
    candidate record;
    tried integer := 0;
BEGIN
    -- Another closing is running: it goes on with the periods.
    IF NOT pg_try_advisory_xact_lock(72712, 0) THEN
        RETURN 0;
    END IF;
    DELETE FROM filtered_breakdown_touches WHERE touched_at < now() - interval '1 hour';
    DELETE FROM filtered_breakdown_closed h
    WHERE h.span = 'hour'
      AND EXISTS (SELECT 1 FROM filtered_breakdown_closed d JOIN sites s ON s.id = d.site_id
                  WHERE d.site_id = h.site_id AND d.dimension = h.dimension AND d.span = 'day'
                    AND d.bucket <= h.bucket AND h.ends <= d.ends
                    AND NOT filtered_breakdown_keeps_hours(d.bucket, s.timezone));
    FOR candidate IN
        SELECT due.site_id, due.dimension, due.span, due.bucket FROM filtered_breakdowns_due() AS due
        ORDER BY due.rank, due.bucket DESC, due.dimension_rank, due.site_id
        LIMIT max_count
    LOOP
        PERFORM close_filtered_breakdown(candidate.site_id, candidate.dimension, candidate.span, candidate.bucket);
        tried := tried + 1;
    END LOOP;
    RETURN tried;
END
$function$;

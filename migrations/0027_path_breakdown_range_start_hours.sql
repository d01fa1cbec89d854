-- The hours of the days a default range starts in (issue 14). The API's range without `from` is
-- the 30 days up to the end of the current hour (`StatsController.resolve`), so at most hours it
-- starts inside the day 30 days back, which 0026 had added up as a whole day and whose hours it
-- had dropped: that part of the range, up to 23 hours, was read from the raw events (280 ms at ten
-- million events a month, against 45 ms for a range of whole days).
--
-- Keeping every day's hours would cost 1–2 MB a site-day. The closings instead keep the hours of
-- two days only: the one a default range starts in today (30 days back) and the one it starts in
-- tomorrow (29 days back), added up again from their raw events after their day was (the day's
-- closing still drops them, which a late page view makes happen again; they are then added up once
-- more). Hours of an added-up day outside those two are dropped.

CREATE FUNCTION path_breakdown_keeps_hours(day timestamptz) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $function$
    SELECT day >= date_bin('1 day', now(), 'epoch') - interval '30 days'
       AND day < date_bin('1 day', now(), 'epoch') - interval '28 days'
$function$;

-- As in 0026, with the hours of the days above among the candidates whether or not their day is
-- added up, and the other added-up days' hours dropped.
CREATE OR REPLACE FUNCTION close_path_breakdowns(max_count integer) RETURNS integer
LANGUAGE plpgsql AS $function$
DECLARE
    candidate record;
    tried integer := 0;
BEGIN
    -- Another closing is running: it goes on with the days and hours.
    IF NOT pg_try_advisory_xact_lock(72712, 0) THEN
        RETURN 0;
    END IF;
    DELETE FROM path_breakdown_touches WHERE touched_at < now() - interval '1 hour';
    DELETE FROM path_breakdown_closed h
    WHERE h.span = 'hour' AND NOT path_breakdown_keeps_hours(date_bin('1 day', h.bucket, 'epoch'))
      AND EXISTS (SELECT 1 FROM path_breakdown_closed d
                  WHERE d.site_id = h.site_id AND d.span = 'day' AND d.bucket = date_bin('1 day', h.bucket, 'epoch'));
    FOR candidate IN
        WITH hours AS (
            SELECT DISTINCT t.site_id, t.hour
            FROM traffic_hourly t JOIN sites s ON s.id = t.site_id
            WHERE t.hour < now() - interval '90 minutes' AND t.hour >= coalesce(s.raw_events_since, '-infinity')
        ), days AS (
            SELECT DISTINCT site_id, date_bin('1 day', hour, 'epoch') AS bucket FROM hours
        )
        SELECT site_id, span, bucket FROM (
            SELECT site_id, 'day' AS span, bucket, 1 AS rank FROM days
            WHERE bucket < now() - interval '25 hours'
              -- A whole day of raw events.
              AND bucket >= (SELECT coalesce(raw_events_since, '-infinity') FROM sites WHERE id = days.site_id)
            UNION ALL
            SELECT h.site_id, 'hour', h.hour, 2 FROM hours h
            WHERE path_breakdown_keeps_hours(date_bin('1 day', h.hour, 'epoch'))
               OR NOT EXISTS (SELECT 1 FROM path_breakdown_closed c
                              WHERE c.site_id = h.site_id AND c.span = 'day' AND c.bucket = date_bin('1 day', h.hour, 'epoch'))
        ) AS candidates
        WHERE NOT EXISTS (SELECT 1 FROM path_breakdown_closed c
                          WHERE c.site_id = candidates.site_id AND c.span = candidates.span AND c.bucket = candidates.bucket)
        ORDER BY rank, bucket DESC, site_id
        LIMIT max_count
    LOOP
        PERFORM close_path_breakdown(candidate.site_id, candidate.span, candidate.bucket);
        tried := tried + 1;
    END LOOP;
    RETURN tried;
END
$function$;

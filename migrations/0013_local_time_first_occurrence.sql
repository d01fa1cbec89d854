-- The instant a zone's clocks read a local time, taking the first of the two when the time happens
-- twice (the hour clocks go back), as RFC 5545 and java.time do: "today until 01:00" on the day
-- summer time ends is compared with the hour up to the first 01:00 of the day before, the same
-- length as the range. PostgreSQL's `timestamp AT TIME ZONE` takes the second. A time that never
-- happened (the hour clocks skip) is resolved as PostgreSQL resolves it.
CREATE FUNCTION local_to_instant(local timestamp, zone text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $function$
    WITH chosen AS (SELECT local AT TIME ZONE zone AS instant)
    SELECT CASE WHEN earlier < instant AND earlier AT TIME ZONE zone = local THEN earlier ELSE instant END
    FROM chosen,
         -- The offset in force three hours before: the earlier reading's, if there are two. Clocks
         -- never change twice within three hours.
         LATERAL (SELECT (local - ((instant - interval '3 hours') AT TIME ZONE zone
                                   - (instant - interval '3 hours') AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC' AS earlier) AS e
$function$;

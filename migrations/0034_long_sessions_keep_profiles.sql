-- A long session no longer turns the visitor profiles' rollups off (issue 14: two or three filters).
--
-- 0024 marked every quarter of a long session (0014: 128 page views or more) as profile-mixed,
-- because the fold did not work out whether its page views share one profile, and a question
-- with filters on the profile's dimensions whose range holds a marked quarter reads raw events.
-- One script that sends its page views under a single `session_id` (server ingest, the ingest
-- benchmark) is enough: on a site of a million page views a month, `country:DE&device:desktop`
-- went from 50 ms to 500 ms for every range holding that session, at ten million to seconds.
--
-- A long session's stored quarters (`filtered_session_quarters`) hold a row per profile it had
-- and quarter, so whether it has more than one profile is a look at those rows. From here on
-- the fold marks short sessions only (those whose page views have more than one profile, as
-- before), and a question looks for a long session with two profiles in its range itself
-- (`VisitorProfiles.haveMixedSessions`), through the partial indexes below, which hold the long
-- sessions' profile rows alone.

-- Nothing folds meanwhile (ingestion goes on into `event_queue`): the markers below are counted
-- again from the events and must not change under the count.
LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE;
LOCK TABLE filtered_traffic IN SHARE ROW EXCLUSIVE MODE;

-- The long sessions' profile rows by quarter (which sessions a range holds) and by session (how
-- many profiles each had).
CREATE INDEX filtered_session_quarters_profile_quarters_idx ON filtered_session_quarters (site_id, quarter)
    INCLUDE (session_id) WHERE dimension = 12;
CREATE INDEX filtered_session_quarters_profiles_idx ON filtered_session_quarters (site_id, session_id, filter)
    WHERE dimension = 12;

-- Rewrites a function in place: each [text, replacement] pair of `replacements` in its stored
-- definition, which must hold the text exactly once (else this function was not the one the
-- migration was written against). For a migration that changes a few lines of a long function:
-- the rest stays byte for byte what the migration before wrote.
CREATE FUNCTION rewrite_function_text(target regprocedure, replacements text[]) RETURNS void
LANGUAGE plpgsql AS $function$
DECLARE
    definition text := pg_get_functiondef(target);
BEGIN
    FOR i IN 1 .. array_length(replacements, 1) LOOP
        IF array_length(string_to_array(definition, replacements[i][1]), 1) IS DISTINCT FROM 2 THEN
            RAISE EXCEPTION 'rewrite_function_text: % does not hold this text exactly once: %', target, replacements[i][1];
        END IF;
        definition := replace(definition, replacements[i][1], replacements[i][2]);
    END LOOP;
    EXECUTE definition;
END
$function$;

-- The fold's marker leaves the long sessions out: those written to as long ones (the sessions of
-- `fresh_quarters`), those with stored quarters that a backfill adds as short ones, and those that
-- become long in the statement, whose earlier marker is taken out. So a session's marker is the
-- same however its page views were written. The function is 0024's; only its marker changes.
SELECT rewrite_function_text('roll_up_filtered(bigint[], bigint, text, timestamptz, timestamptz)', ARRAY[[
    $old$
              -- The profile-mixed marker (above): the session-quarters of sessions whose page views
              -- have more than one profile, and of long sessions, under filter -1.
              SELECT site_id, -1, quarter, prev_quarter, next_quarter, sign, sign * pageviews, 0, 0, 0
              FROM rest_linked
              WHERE dimension = 12 AND part_has_dimension(part, 12)) AS contributions$old$,
    $new$
              -- The profile-mixed marker (above): the session-quarters of short sessions whose page
              -- views have more than one profile, under filter -1. A long session has none, its
              -- stored quarters tell (0034); one that becomes long here loses what it had.
              SELECT site_id, -1, quarter, prev_quarter, next_quarter, sign, sign * pageviews, 0, 0, 0
              FROM rest_linked r
              WHERE dimension = 12 AND part_has_dimension(part, 12)
                AND (site_id, session_id) NOT IN (SELECT site_id, session_id FROM fresh_quarters)
                AND (sign = -1 OR NOT (
                    EXISTS (SELECT 1 FROM filtered_session_quarters q
                            WHERE q.site_id = r.site_id AND q.session_id = r.session_id AND q.filter = 0)
                    OR (through IS NULL AND (site_id, session_id) IN (
                            SELECT site_id, session_id FROM history WHERE NOT long
                            GROUP BY 1, 2 HAVING count(*) >= large_session_events()))))) AS contributions$new$]]);

-- Take out the markers the long sessions left: in every quarter holding a long session's page
-- views, the marker is counted again from the short sessions with page views there that have
-- more than one profile, as the fold adds it up (per session and profile, its quarters linked to
-- the profile's previous and next ones). Less, for a session that a pending backfill of profiles
-- (0024) has not reached yet, what that backfill will add: the session as it was up to the
-- backfill's last page view.
CREATE TEMPORARY TABLE long_session_quarters ON COMMIT DROP AS
    SELECT DISTINCT site_id, quarter FROM filtered_session_quarters WHERE dimension = 0;

DELETE FROM filtered_traffic t USING long_session_quarters l
WHERE t.site_id = l.site_id AND t.filter = -1 AND t.quarter = l.quarter;

WITH short_sessions AS MATERIALIZED (
    SELECT DISTINCT e.site_id, e.session_id
    FROM long_session_quarters l
    JOIN events e ON e.site_id = l.site_id
                 AND date_bin('1 hour', e.occurred_at, 'epoch') = date_bin('1 hour', l.quarter, 'epoch')
                 AND date_bin('15 minutes', e.occurred_at, 'epoch') = l.quarter
    WHERE NOT EXISTS (SELECT 1 FROM filtered_session_quarters q
                      WHERE q.site_id = e.site_id AND q.session_id = e.session_id AND q.filter = 0)
), session_events AS MATERIALIZED (
    SELECT e.site_id, e.session_id, e.id, visitor_profile(e.device, e.browser, e.os, e.country, e.language) AS profile,
           date_bin('15 minutes', e.occurred_at, 'epoch') AS quarter,
           min(e.id) OVER (PARTITION BY e.site_id, e.session_id) AS first_id
    FROM short_sessions s
    JOIN events e ON hashtext(e.session_id) = hashtext(s.session_id) AND e.session_id = s.session_id
                 AND e.site_id = s.site_id
), states AS (
    SELECT 1 AS sign, site_id, session_id, profile, quarter FROM session_events
    UNION ALL
    SELECT -1, e.site_id, e.session_id, e.profile, e.quarter
    FROM session_events e
    JOIN profile_rollups_backfill b ON e.first_id BETWEEN b.next_id AND b.through AND e.id <= b.through
), profile_quarters AS MATERIALIZED (
    SELECT sign, site_id, session_id, profile, quarter, count(*) AS pageviews FROM states GROUP BY 1, 2, 3, 4, 5
), mixed_states AS (
    SELECT sign, site_id, session_id FROM profile_quarters GROUP BY 1, 2, 3 HAVING count(DISTINCT profile) > 1
), linked AS (
    SELECT p.sign, p.site_id, p.quarter, coalesce(lag(p.quarter) OVER w, '-infinity') AS prev_quarter,
           coalesce(lead(p.quarter) OVER w, 'infinity') AS next_quarter, p.pageviews
    FROM profile_quarters p
    JOIN mixed_states m ON m.sign = p.sign AND m.site_id = p.site_id AND m.session_id = p.session_id
    WINDOW w AS (PARTITION BY p.sign, p.site_id, p.session_id, p.profile ORDER BY p.quarter)
)
INSERT INTO filtered_traffic (site_id, filter, quarter, prev_quarter, next_quarter, session_quarters, pageviews, singles,
                              first_offset_us, last_offset_us)
SELECT k.site_id, -1, k.quarter, k.prev_quarter, k.next_quarter, sum(k.sign), sum(k.sign * k.pageviews), 0, 0, 0
FROM linked k
JOIN long_session_quarters l ON l.site_id = k.site_id AND l.quarter = k.quarter
GROUP BY 1, 2, 3, 4, 5
HAVING sum(k.sign) <> 0 OR sum(k.sign * k.pageviews) <> 0;

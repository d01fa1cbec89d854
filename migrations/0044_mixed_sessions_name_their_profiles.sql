-- Short sessions that change profile name their profiles (issue 14: two or three filters).
--
-- A question with filters on the profile's dimensions adds up the rows of the profiles that match
-- (0024), which counts a session once per matching profile it had. The fold marks the quarters of a
-- short session whose page views have more than one profile (filter -1 of `filtered_traffic`), and
-- until now any marked quarter in a range sent every such question to the raw events. The marker
-- says nothing of which profiles the session had, so on real traffic (a phone whose country
-- changes with its network, a browser updated mid-visit) a few such sessions an hour were enough to
-- send `country:DE&device:desktop` raw over any range, though a session that was a German desktop
-- only in part of its page views is, under those filters, exactly that part: one matching profile,
-- counted by that profile's rows alone. Long sessions (0034) were already told apart this way.
--
-- `mixed_session_quarters` keeps, for every short session the marker counts, its page views per
-- profile and quarter; the fold maintains it from the same rows as the marker, in the same
-- statement. A question looks for a session with page views of two matching profiles in its range
-- (`VisitorProfiles.haveMixedSessions`). A session that becomes long leaves rows of 0 page views,
-- as its marker leaves rows of 0.

-- Nothing folds meanwhile (ingestion goes on into `event_queue`): the rows below are counted from
-- the events and must match the marker the fold has written.
LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE;
LOCK TABLE filtered_traffic IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE mixed_session_quarters (
    site_id    text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    session_id text NOT NULL,
    profile    integer NOT NULL,                   -- stat_values.id of the profile
    quarter    timestamptz NOT NULL,
    pageviews  integer NOT NULL,
    PRIMARY KEY (site_id, session_id, profile, quarter)
);
-- What a question reads: the matching profiles' rows in its range, and the sessions they belong to.
CREATE INDEX mixed_session_quarters_profile_idx ON mixed_session_quarters (site_id, profile, quarter)
    INCLUDE (session_id);

-- The fold writes the marker's rows once, as a CTE, and from them both the marker and the
-- session's profiles. The function is 0034's; only the marker's source changes.
SELECT rewrite_function_text('roll_up_filtered(bigint[], bigint, text, timestamptz, timestamptz)', ARRAY[[
    $old$
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
                            GROUP BY 1, 2 HAVING count(*) >= large_session_events()))))) AS contributions$old$,
    $new$
              -- The profile-mixed marker, under filter -1.
              SELECT site_id, -1, quarter, prev_quarter, next_quarter, sign, sign * pageviews, 0, 0, 0
              FROM profile_mixed) AS contributions$new$],
  [
    $old$
    ), traffic AS (
        INSERT INTO filtered_traffic AS t$old$,
    $new$
    ), profile_mixed AS MATERIALIZED (
        -- The profile-mixed marker (above): the session-quarters of short sessions whose page
        -- views have more than one profile, per profile. A long session has none, its stored
        -- quarters tell (0034); one that becomes long here loses what it had.
        SELECT * FROM rest_linked r
        WHERE dimension = 12 AND part_has_dimension(part, 12)
          AND (site_id, session_id) NOT IN (SELECT site_id, session_id FROM fresh_quarters)
          AND (sign = -1 OR NOT (
              EXISTS (SELECT 1 FROM filtered_session_quarters q
                      WHERE q.site_id = r.site_id AND q.session_id = r.session_id AND q.filter = 0)
              OR (through IS NULL AND (site_id, session_id) IN (
                      SELECT site_id, session_id FROM history WHERE NOT long
                      GROUP BY 1, 2 HAVING count(*) >= large_session_events()))))
    ), profile_mixed_sessions AS (
        -- The same sessions by name and profile (0044), for questions to tell which profiles they had.
        INSERT INTO mixed_session_quarters AS m
        SELECT site_id, session_id, filter, quarter, sum(sign * pageviews)::integer
        FROM profile_mixed
        GROUP BY 1, 2, 3, 4
        HAVING sum(sign * pageviews) <> 0
        ON CONFLICT (site_id, session_id, profile, quarter) DO UPDATE SET pageviews = m.pageviews + excluded.pageviews
    ), traffic AS (
        INSERT INTO filtered_traffic AS t$new$]]);

-- The sessions the marker already counts: every short session with page views in a marked quarter
-- whose page views have more than one profile, as the fold adds it up. Less, for a session that a
-- pending backfill of profiles (0024) has not reached yet, what that backfill will add: the session
-- as it was up to the backfill's last page view (as 0034 counted the marker again).
CREATE TEMPORARY TABLE marked_quarters ON COMMIT DROP AS
    SELECT DISTINCT site_id, quarter FROM filtered_traffic
    WHERE filter = -1 AND (session_quarters <> 0 OR pageviews <> 0);

WITH short_sessions AS MATERIALIZED (
    SELECT DISTINCT e.site_id, e.session_id
    FROM marked_quarters m
    JOIN events e ON e.site_id = m.site_id
                 AND date_bin('1 hour', e.occurred_at, 'epoch') = date_bin('1 hour', m.quarter, 'epoch')
                 AND date_bin('15 minutes', e.occurred_at, 'epoch') = m.quarter
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
)
INSERT INTO mixed_session_quarters (site_id, session_id, profile, quarter, pageviews)
SELECT p.site_id, p.session_id, v.id, p.quarter, sum(p.sign * p.pageviews)
FROM profile_quarters p
JOIN mixed_states m ON m.sign = p.sign AND m.site_id = p.site_id AND m.session_id = p.session_id
JOIN stat_values v ON v.dimension = 'profile' AND v.value = p.profile
GROUP BY 1, 2, 3, 4
HAVING sum(p.sign * p.pageviews) <> 0;

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

INSERT INTO mixed_session_quarters (site_id, session_id, profile, quarter, pageviews)
SELECT site_id, session_id,
       (SELECT v.id FROM stat_values v WHERE v.dimension = 'profile' AND v.value_md5 = decode(md5(profile), 'hex')),
       quarter, pageviews
FROM (SELECT site_id, session_id, profile, quarter, sum(sign * pageviews) AS pageviews
      FROM (SELECT *, min(profile) OVER state <> max(profile) OVER state AS mixed
            FROM (SELECT e.site_id, e.session_id, visitor_profile(e.device, e.browser, e.os, e.country, e.language) AS profile,
                         date_bin('15 minutes', e.occurred_at, 'epoch') AS quarter, s.sign, count(*) AS pageviews
                  FROM (SELECT e.*, min(e.id) OVER (PARTITION BY e.site_id, e.session_id) AS first_id
                        FROM (SELECT DISTINCT e.site_id, e.session_id
                              FROM marked_quarters m
                              JOIN events e ON e.site_id = m.site_id
                                           AND date_bin('1 hour', e.occurred_at, 'epoch') = date_bin('1 hour', m.quarter, 'epoch')
                                           AND date_bin('15 minutes', e.occurred_at, 'epoch') = m.quarter
                              WHERE NOT EXISTS (SELECT 1 FROM filtered_session_quarters q
                                                WHERE q.site_id = e.site_id AND q.session_id = e.session_id AND q.filter = 0)
                             ) AS marked_sessions
                        JOIN events e ON hashtext(e.session_id) = hashtext(marked_sessions.session_id)
                                     AND e.session_id = marked_sessions.session_id AND e.site_id = marked_sessions.site_id
                       ) AS e
                  -- Counted now (+1), and, where a pending backfill will add it, taken out as it will (-1).
                  CROSS JOIN LATERAL (SELECT 1 AS sign
                                      UNION ALL
                                      SELECT -1 FROM profile_rollups_backfill b
                                      WHERE e.first_id BETWEEN b.next_id AND b.through AND e.id <= b.through) AS s
                  GROUP BY 1, 2, 3, 4, 5) AS counted
            WINDOW state AS (PARTITION BY site_id, session_id, sign)) AS states
      WHERE mixed
      GROUP BY 1, 2, 3, 4
      HAVING sum(sign * pageviews) <> 0) AS named;

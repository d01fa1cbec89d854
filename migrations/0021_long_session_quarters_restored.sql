-- Long sessions get their stored quarters (0014) back, here rather than in a fold.
--
-- 0020 emptied `filtered_session_quarters` (its rows had no hostname filter), counting on the next
-- write to each long session to reread the session's events and store them again. For a session of
-- hundreds of thousands of page views (a script sending everything under one session id, as the
-- ingest benchmark does) that reread is one statement of the roll-up process: it outlasted the
-- statement timeout, the roll-up retried it every second, and the queue stopped draining. An
-- installation upgraded from before 0014 had the same first reread waiting for it.
--
-- This stores the quarters of every long session that has none, from its events, in the migration,
-- where no statement timeout applies; later writes merge into them as 0014 intended. The rows are
-- what `roll_up_filtered` stores when a session reaches `large_session_events()`.

-- No fold runs meanwhile (ingestion goes on into `event_queue`): a fold that saw a long session
-- without quarters would reread and store it too.
LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE;

-- Candidates from the session-hours, far fewer rows than the events; the count that decides is the
-- events' own, as when a fold promotes a session.
CREATE TEMPORARY TABLE unstored_long_sessions ON COMMIT DROP AS
SELECT h.site_id, h.session_id
FROM session_hours h
GROUP BY 1, 2
HAVING sum(h.pageviews) >= large_session_events()
   AND NOT EXISTS (SELECT 1 FROM filtered_session_quarters q
                   WHERE q.site_id = h.site_id AND q.session_id = h.session_id AND q.filter = 0);

ANALYZE unstored_long_sessions;

CREATE TEMPORARY TABLE unstored_long_session_events ON COMMIT DROP AS
SELECT e.*
FROM events e
JOIN unstored_long_sessions l ON l.site_id = e.site_id AND l.session_id = e.session_id;

DELETE FROM unstored_long_session_events
WHERE (site_id, session_id) IN (SELECT site_id, session_id FROM unstored_long_session_events
                                GROUP BY 1, 2 HAVING count(*) < large_session_events());

ANALYZE unstored_long_session_events;

-- Values of events a backfill has not reached yet may not be numbered.
INSERT INTO stat_values (dimension, value)
SELECT DISTINCT v.dimension, v.value
FROM unstored_long_session_events e
CROSS JOIN LATERAL event_filter_values(e.path, e.referrer_host, e.device, e.browser, e.os, e.country, e.language,
                                       e.utm_source, e.utm_medium, e.utm_campaign, e.hostname) AS v
ORDER BY 1, 2
ON CONFLICT DO NOTHING;

-- In two steps: the events of a quarter that share every value first (a script's session repeats
-- them), then each group under each of its filter values; 12 times fewer keys to compare.
SET LOCAL enable_sort = off;
SET LOCAL enable_nestloop = off;
SET LOCAL work_mem = '256MB';
INSERT INTO filtered_session_quarters
SELECT g.site_id, g.session_id, d.filter, d.dimension - 1, g.quarter, sum(g.pageviews), min(g.first_key), max(g.last_key)
FROM (SELECT e.site_id, e.session_id, e.quarter, e.ids, count(*) AS pageviews,
             min(ARRAY[e.us, e.id, e.ids[1]]) AS first_key, max(ARRAY[e.us, e.id, e.ids[1]]) AS last_key
      FROM (SELECT e.site_id, e.session_id, e.id, date_bin('15 minutes', e.occurred_at, 'epoch') AS quarter,
                   (extract(epoch FROM e.occurred_at) * 1000000)::bigint AS us,
                   ARRAY[v_path.id, v_referrer.id, v_device.id, v_browser.id, v_os.id, v_country.id, v_language.id,
                         v_utm_source.id, v_utm_medium.id, v_utm_campaign.id, v_hostname.id] AS ids
            FROM unstored_long_session_events e
            JOIN stat_values v_path ON v_path.dimension = 'path' AND v_path.value = e.path
            JOIN stat_values v_referrer ON v_referrer.dimension = 'referrer' AND v_referrer.value = e.referrer_host
            JOIN stat_values v_device ON v_device.dimension = 'device' AND v_device.value = e.device
            JOIN stat_values v_browser ON v_browser.dimension = 'browser' AND v_browser.value = e.browser
            JOIN stat_values v_os ON v_os.dimension = 'os' AND v_os.value = e.os
            JOIN stat_values v_country ON v_country.dimension = 'country' AND v_country.value = e.country
            JOIN stat_values v_language ON v_language.dimension = 'language' AND v_language.value = e.language
            JOIN stat_values v_utm_source ON v_utm_source.dimension = 'utm_source' AND v_utm_source.value = e.utm_source
            JOIN stat_values v_utm_medium ON v_utm_medium.dimension = 'utm_medium' AND v_utm_medium.value = e.utm_medium
            JOIN stat_values v_utm_campaign ON v_utm_campaign.dimension = 'utm_campaign' AND v_utm_campaign.value = e.utm_campaign
            JOIN stat_values v_hostname ON v_hostname.dimension = 'hostname' AND v_hostname.value = e.hostname) AS e
      GROUP BY 1, 2, 3, 4) AS g
CROSS JOIN LATERAL unnest(0 || g.ids) WITH ORDINALITY AS d (filter, dimension)
GROUP BY 1, 2, 3, 4, 5;

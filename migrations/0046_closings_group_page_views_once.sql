-- Closings that group a day's page views once, not once per filter value (issue 14: breakdowns).
--
-- `close_filtered_breakdown` (0029–0035) counted each page view of a period under each of its
-- eleven filter values, as a piece per session, filter value and value, and grouped the pieces: a
-- Berlin day of the 10 M site (330 000 page views) made 3.6 million pieces for the paths, which a
-- closing's 64 MB of `work_mem` could not hold, and a day of all thirteen dimensions took about a
-- minute of a core. After a bulk load (`hitkeep dev seed`, an import with backfilled times) the
-- filtered breakdowns read raw events until the closings catch up, which took an hour at ten million.
--
-- Nearly every piece is a whole group: a session's page views of one path keep the session's device,
-- country and campaign, and mostly its referrer. So the page views are numbered per session and
-- value once (a window over one sort), each group noting in which filter dimensions its page views
-- all agree; such a group is its piece under that value, taken at its first page view, and only the
-- groups whose page views differ in a dimension (a path seen from two referrers, a session that
-- changed country) are grouped from their page views under it, as before. Landing and exit pages
-- group per session the same way. A profile's dimensions (device, browser, OS, country, language),
-- whose closings count only the six page-view filter types, keep the pieces of page views: measured,
-- the window cost them more than it saved.
--
-- Only the `pieces` step of the function changes (`rewrite_function_text`, 0034); the rows it writes
-- are the same (checked against 0035's function on the days of a 10 M and a 1 M site, every
-- dimension). Days already added up stay as they are.

SELECT rewrite_function_text('close_filtered_breakdown(text, text, text, timestamptz)', ARRAY[
        [$old$    ), pieces AS (
        -- Per session, filter value and value: the session's page views with both.
        SELECT f.dimension AS filter_dimension, f.value AS filter_value, e.value, count(*) AS n,
               max(e.occurred_at) - min(e.occurred_at) AS piece_span
        FROM period_events e
        CROSS JOIN LATERAL (VALUES ('path', e.path), ('referrer', e.referrer_host), ('utm_source', e.utm_source),
                                   ('utm_medium', e.utm_medium), ('utm_campaign', e.utm_campaign), ('hostname', e.hostname),
                                   ('device', e.device), ('browser', e.browser), ('os', e.os),
                                   ('country', e.country), ('language', e.language)) AS f (dimension, value)
        WHERE close_filtered_breakdown.dimension NOT IN ('entry', 'exit')
          -- A profile's dimension under a profile filter is the profiles' rollups' (0024).
          AND NOT (close_filtered_breakdown.dimension IN ('device', 'browser', 'os', 'country', 'language')
                   AND f.dimension IN ('device', 'browser', 'os', 'country', 'language'))
        GROUP BY e.session_id, f.dimension, f.value, e.value
        UNION ALL
        -- Per session and filter value: the path of the first (last) of its page views with the
        -- value, in the order RawEventBreakdown reads them, and the numbers of them all.
        SELECT f.dimension, f.value,
               (array_agg(e.value ORDER BY e.occurred_at, e.id))[CASE close_filtered_breakdown.dimension WHEN 'entry' THEN 1 ELSE count(*)::integer END],
               count(*), max(e.occurred_at) - min(e.occurred_at)
        FROM period_events e
        CROSS JOIN LATERAL (VALUES ('path', e.path), ('referrer', e.referrer_host), ('utm_source', e.utm_source),
                                   ('utm_medium', e.utm_medium), ('utm_campaign', e.utm_campaign), ('hostname', e.hostname),
                                   ('device', e.device), ('browser', e.browser), ('os', e.os),
                                   ('country', e.country), ('language', e.language),
                                   -- No filter (0035): every page view of the session.
                                   ('', '')) AS f (dimension, value)
        WHERE close_filtered_breakdown.dimension IN ('entry', 'exit')
        GROUP BY e.session_id, f.dimension, f.value
$old$,
         $new$    ), grouped_events AS MATERIALIZED (
        -- Each page view with its group's numbers, the group being the session's page views with its
        -- value (the session's, for entry and exit pages): their count, the time from the first to
        -- the last, the first and last value, and in each filter dimension whether they all agree.
        -- Not for a profile's dimensions: under the six filter types left them, the page views'
        -- own pieces below cost less than these.
        SELECT e.*, row_number() OVER w AS position, count(*) OVER w AS n,
               max(e.occurred_at) OVER w - min(e.occurred_at) OVER w AS piece_span,
               first_value(e.value) OVER w AS first_value, last_value(e.value) OVER w AS last_value,
               min(e.path) OVER w = max(e.path) OVER w AS path_agrees,
               min(e.referrer_host) OVER w = max(e.referrer_host) OVER w AS referrer_host_agrees,
               min(e.utm_source) OVER w = max(e.utm_source) OVER w AS utm_source_agrees,
               min(e.utm_medium) OVER w = max(e.utm_medium) OVER w AS utm_medium_agrees,
               min(e.utm_campaign) OVER w = max(e.utm_campaign) OVER w AS utm_campaign_agrees,
               min(e.hostname) OVER w = max(e.hostname) OVER w AS hostname_agrees,
               min(e.device) OVER w = max(e.device) OVER w AS device_agrees,
               min(e.browser) OVER w = max(e.browser) OVER w AS browser_agrees,
               min(e.os) OVER w = max(e.os) OVER w AS os_agrees,
               min(e.country) OVER w = max(e.country) OVER w AS country_agrees,
               min(e.language) OVER w = max(e.language) OVER w AS language_agrees
        FROM period_events e
        WHERE close_filtered_breakdown.dimension NOT IN ('device', 'browser', 'os', 'country', 'language')
        WINDOW w AS (PARTITION BY e.session_id, CASE WHEN close_filtered_breakdown.dimension IN ('entry', 'exit') THEN '' ELSE e.value END
                     ORDER BY e.occurred_at, e.id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ), grouped_filters AS NOT MATERIALIZED (
        -- Each grouped page view under each of its filter values, with whether its group agrees in
        -- that dimension. Inlined where it is read: kept, it would be the page views times their
        -- filter values that the grouping avoids.
        SELECT e.*, f.dimension AS filter_dimension, f.value AS filter_value, f.agrees
        FROM grouped_events e
        CROSS JOIN LATERAL (VALUES ('path', e.path, e.path_agrees), ('referrer', e.referrer_host, e.referrer_host_agrees),
                                   ('utm_source', e.utm_source, e.utm_source_agrees), ('utm_medium', e.utm_medium, e.utm_medium_agrees),
                                   ('utm_campaign', e.utm_campaign, e.utm_campaign_agrees), ('hostname', e.hostname, e.hostname_agrees),
                                   ('device', e.device, e.device_agrees), ('browser', e.browser, e.browser_agrees),
                                   ('os', e.os, e.os_agrees), ('country', e.country, e.country_agrees),
                                   ('language', e.language, e.language_agrees)) AS f (dimension, value, agrees)
    ), pieces AS (
        -- Per session, filter value and value: the session's page views with both. Where all of a
        -- group's page views have one value of a filter dimension (a visit keeps its device, and on
        -- one page mostly its referrer), the piece is the group, taken at its first page view; the
        -- rest are grouped from the page views. Until 0046 every page view was grouped under each
        -- of its eleven filter values: 3.6 M pieces for a day at ten million page views a month,
        -- which spilled to disk.
        SELECT g.filter_dimension, g.filter_value, g.value, g.n, g.piece_span
        FROM grouped_filters g
        WHERE close_filtered_breakdown.dimension NOT IN ('entry', 'exit') AND g.position = 1 AND g.agrees
        UNION ALL
        SELECT g.filter_dimension, g.filter_value, g.value, count(*), max(g.occurred_at) - min(g.occurred_at)
        FROM grouped_filters g
        WHERE close_filtered_breakdown.dimension NOT IN ('entry', 'exit') AND NOT g.agrees
        GROUP BY g.session_id, g.filter_dimension, g.filter_value, g.value
        UNION ALL
        -- A profile's dimension, under the filters on a page view's own dimensions (under a
        -- profile filter it is the profiles' rollups', 0024).
        SELECT f.dimension, f.value, e.value, count(*), max(e.occurred_at) - min(e.occurred_at)
        FROM period_events e
        CROSS JOIN LATERAL (VALUES ('path', e.path), ('referrer', e.referrer_host), ('utm_source', e.utm_source),
                                   ('utm_medium', e.utm_medium), ('utm_campaign', e.utm_campaign), ('hostname', e.hostname)) AS f (dimension, value)
        WHERE close_filtered_breakdown.dimension IN ('device', 'browser', 'os', 'country', 'language')
        GROUP BY e.session_id, f.dimension, f.value, e.value
        UNION ALL
        -- Per session and filter value: the path of the first (last) of its page views with the
        -- value, in the order RawEventBreakdown reads them, and the numbers of them all; with no
        -- filter (0035), every page view of the session.
        SELECT g.filter_dimension, g.filter_value,
               CASE close_filtered_breakdown.dimension WHEN 'entry' THEN g.first_value ELSE g.last_value END, g.n, g.piece_span
        FROM grouped_filters g
        WHERE close_filtered_breakdown.dimension IN ('entry', 'exit') AND g.position = 1 AND g.agrees
        UNION ALL
        SELECT '', '', CASE close_filtered_breakdown.dimension WHEN 'entry' THEN e.first_value ELSE e.last_value END, e.n, e.piece_span
        FROM grouped_events e
        WHERE close_filtered_breakdown.dimension IN ('entry', 'exit') AND e.position = 1
        UNION ALL
        SELECT g.filter_dimension, g.filter_value,
               (array_agg(g.value ORDER BY g.occurred_at, g.id))[CASE close_filtered_breakdown.dimension WHEN 'entry' THEN 1 ELSE count(*)::integer END],
               count(*), max(g.occurred_at) - min(g.occurred_at)
        FROM grouped_filters g
        WHERE close_filtered_breakdown.dimension IN ('entry', 'exit') AND NOT g.agrees
        GROUP BY g.session_id, g.filter_dimension, g.filter_value
$new$]]);

-- A long session's new page views counted under their filter values once per group of equal values
-- (issue 13: the ingest row of compare.sh; issue 14: the roll-up keeps up).
--
-- A long session (0014: a script sending everything under one `session_id`, as the ingest
-- benchmark does) is folded from its new page views alone: each one was counted under each of its
-- thirteen filter values (none, path, …, hostname, profile), thirteen rows an event, summed per
-- value and quarter hour with the first and last page view's keys as arrays (compared element by
-- element). Folding 6 000 page views of one session: 441 ms, 135 of them that aggregate over 78 000
-- rows. A script's page views in one quarter hour mostly repeat their values, so they are first
-- summed per quarter and set of values (a session, a quarter: usually one group), and the groups
-- are what is counted under the values. The sums, and the first and last keys, are the same: a key
-- is `[time in µs, event id, path]`, the first two tell events apart, and a group has one path.
--
-- The function is 0034's; only `fresh_quarters` changes.

SELECT rewrite_function_text('roll_up_filtered(bigint[], bigint, text, timestamptz, timestamptz)', ARRAY[[
    $old$
    ), fresh_quarters AS MATERIALIZED (
        -- Long sessions: the new events' quarters under every filter value.
        SELECT h.site_id, h.session_id, d.filter, (d.dimension - 1)::smallint AS dimension, h.quarter,
               count(*)::integer AS pageviews,
               min(ARRAY[h.us, h.id, h.ids[1]]) AS first_key, max(ARRAY[h.us, h.id, h.ids[1]]) AS last_key
        FROM history h
        CROSS JOIN LATERAL unnest(0 || h.ids) WITH ORDINALITY AS d (filter, dimension)
        WHERE h.long
        GROUP BY 1, 2, 3, 4, 5
$old$,
    $new$
    ), fresh_quarters AS MATERIALIZED (
        -- Long sessions: the new events' quarters under every filter value, counted per group of
        -- events with the same values in a quarter (0040).
        SELECT g.site_id, g.session_id, d.filter, (d.dimension - 1)::smallint AS dimension, g.quarter,
               sum(g.pageviews)::integer AS pageviews, min(g.first_key) AS first_key, max(g.last_key) AS last_key
        FROM (SELECT h.site_id, h.session_id, h.quarter, h.ids, count(*) AS pageviews,
                     min(ARRAY[h.us, h.id]) || h.ids[1]::bigint AS first_key,
                     max(ARRAY[h.us, h.id]) || h.ids[1]::bigint AS last_key
              FROM history h
              WHERE h.long
              GROUP BY 1, 2, 3, 4) AS g
        CROSS JOIN LATERAL unnest(0 || g.ids) WITH ORDINALITY AS d (filter, dimension)
        GROUP BY 1, 2, 3, 4, 5
$new$]]);

-- Landing and exit pages without a filter, from the added-up days and hours (issue 14: breakdowns).
--
-- `dimension=landing` (and `exit`) with no filter read a row per session and hour of the range
-- from 0004's session-hours (`SessionEndBreakdown`): 300 ms at a million page views a month, 2.4 s
-- at ten million, for the dashboard's "show all" on its entry and exit pages. The closings of
-- 0029–0032 already group a day's (an hour's) page views by session to find each session's first
-- and last page view under every filter value; the same grouping with no filter gives the
-- unfiltered rows, stored under the rollups' filter 0 (no filter, as in 0012's tables), which
-- `FilteredBreakdownPeriods` then reads as it reads a filter's: a twelfth of a closing's work more.
--
-- The function is 0032's with that one more "filter" in its landing and exit branch; only the
-- three places of its stored text that say so change (`rewrite_function_text`, 0034). The landing and exit periods added up before this
-- migration have no such rows: those whose page views are all still kept are dropped here and
-- added up again by the roll-up process, newest first (`hitkeep roll-up --once` does it at once),
-- their filtered breakdowns reading the raw events meanwhile; older ones (retention removed some of
-- their page views) stay as they are, and an unfiltered question over them reads the session-hours
-- as before.

SELECT rewrite_function_text('close_filtered_breakdown(text, text, text, timestamptz)', ARRAY[
        [$old$
                                   ('country', e.country), ('language', e.language)) AS f (dimension, value)
        WHERE close_filtered_breakdown.dimension IN ('entry', 'exit')$old$,
         $new$
                                   ('country', e.country), ('language', e.language),
                                   -- No filter (0035): every page view of the session.
                                   ('', '')) AS f (dimension, value)
        WHERE close_filtered_breakdown.dimension IN ('entry', 'exit')$new$],
        [$old$
        SELECT k.id AS filter, v.id AS value_id, s.pageviews, s.visitors, s.singles, s.duration_us
        FROM sums s
        JOIN stat_values k ON k.dimension = s.filter_dimension AND k.value_md5 = decode(md5(s.filter_value), 'hex')$old$,
         $new$
        -- No filter (dimension '', 0035) is the rollups' filter 0.
        SELECT coalesce(k.id, 0) AS filter, v.id AS value_id, s.pageviews, s.visitors, s.singles, s.duration_us
        FROM sums s
        LEFT JOIN stat_values k ON k.dimension = s.filter_dimension AND k.value_md5 = decode(md5(s.filter_value), 'hex')$new$],
        [$old$
                          AND v.value_md5 = decode(md5(s.value), 'hex')
    )$old$,
         $new$
                          AND v.value_md5 = decode(md5(s.value), 'hex')
        -- A filter value without a number is still left out, as the inner join left it.
        WHERE k.id IS NOT NULL OR s.filter_dimension = ''
    )$new$]]);

-- The landing and exit periods whose page views are all kept are added up again, with the rows
-- without a filter.
DELETE FROM filtered_breakdown_closed c USING sites s
WHERE c.site_id = s.id AND c.dimension IN ('entry', 'exit') AND c.bucket >= s.raw_events_since;

-- reporting.daily_stats of 0005 multiplied hour × 10^6 × session-hours in bigint, which overflows
-- once an hour holds more than about 5000 session-hours (a site of ~10 million page views a month).
-- The same view, with that product in numeric.

CREATE OR REPLACE VIEW reporting.daily_stats AS
SELECT s.id AS site_id, s.domain, d.day,
       sum(t.pageviews)::bigint AS pageviews,
       coalesce(sum(t.session_hours) FILTER (WHERE t.prev_hour < d.day_start), 0)::bigint AS sessions,
       coalesce(sum(t.singles) FILTER (WHERE t.prev_hour < d.day_start AND t.next_hour >= d.day_end), 0)::bigint AS bounces,
       round(100.0 * coalesce(sum(t.singles) FILTER (WHERE t.prev_hour < d.day_start AND t.next_hour >= d.day_end), 0)
             / nullif(sum(t.session_hours) FILTER (WHERE t.prev_hour < d.day_start), 0), 2) AS bounce_rate,
       round((coalesce(sum(t.last_offset_us + extract(epoch FROM t.hour) * 1000000 * t.session_hours)
                       FILTER (WHERE t.next_hour >= d.day_end), 0)
            - coalesce(sum(t.first_offset_us + extract(epoch FROM t.hour) * 1000000 * t.session_hours)
                       FILTER (WHERE t.prev_hour < d.day_start), 0))
             / 1000000.0 / nullif(sum(t.session_hours) FILTER (WHERE t.prev_hour < d.day_start), 0), 2)
           AS avg_session_seconds
FROM sites s
JOIN traffic_hourly t ON t.site_id = s.id
CROSS JOIN LATERAL (SELECT (t.hour AT TIME ZONE s.timezone)::date AS day) AS local_day
CROSS JOIN LATERAL (SELECT local_day.day,
                           local_day.day::timestamp AT TIME ZONE s.timezone AS day_start,
                           (local_day.day + 1)::timestamp AT TIME ZONE s.timezone AS day_end) AS d
GROUP BY s.id, s.domain, d.day, d.day_start, d.day_end
HAVING sum(t.pageviews) > 0;

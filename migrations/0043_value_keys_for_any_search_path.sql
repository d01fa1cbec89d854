-- The index of values on `events` (0033) evaluated correctly whatever `search_path` says.
--
-- `events_values_idx` indexes `event_value_keys(…)`, whose body called `stat_value_key` by its bare
-- name. Autovacuum runs with an empty `search_path` (only `pg_catalog`), so when it analysed a
-- partition of `events` it could not find `stat_value_key` while inlining the index's expression,
-- and the whole ANALYZE failed: the partitions' statistics never followed the page views that
-- arrived after `hitkeep migrate` (9.75 million rows of a partition with none since), a new month's
-- partition never had any, and the server's log got the error at every autovacuum round. A restore
-- of `pg_dump`'s output, which also empties `search_path`, failed to build the index the same way.
--
-- The body now names `stat_value_key` with the schema it lives in (found here rather than written
-- out, for an installation that keeps its tables outside `public`). The function keeps its
-- identity, so the index and every query that matches it stay as they are; the keys are the same.
-- Then `events` is analysed once, for the statistics missed so far.

DO $migration$
DECLARE
    schema text := (SELECT pronamespace::regnamespace::text FROM pg_proc
                    WHERE oid = 'stat_value_key(text, text, text)'::regprocedure);
BEGIN
    EXECUTE format($function$
        CREATE OR REPLACE FUNCTION %1$s.event_value_keys(
            site_id text, path text, referrer_host text, device text, browser text, os text, country text,
            language text, utm_source text, utm_medium text, utm_campaign text, hostname text)
        RETURNS integer[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$
            SELECT array_remove(ARRAY[
                CASE WHEN path <> '' THEN %1$s.stat_value_key(site_id, 'path', path) END,
                CASE WHEN referrer_host <> '' THEN %1$s.stat_value_key(site_id, 'referrer', referrer_host) END,
                CASE WHEN device <> '' THEN %1$s.stat_value_key(site_id, 'device', device) END,
                CASE WHEN browser <> '' THEN %1$s.stat_value_key(site_id, 'browser', browser) END,
                CASE WHEN os <> '' THEN %1$s.stat_value_key(site_id, 'os', os) END,
                CASE WHEN country <> '' THEN %1$s.stat_value_key(site_id, 'country', country) END,
                CASE WHEN language <> '' THEN %1$s.stat_value_key(site_id, 'language', language) END,
                CASE WHEN utm_source <> '' THEN %1$s.stat_value_key(site_id, 'utm_source', utm_source) END,
                CASE WHEN utm_medium <> '' THEN %1$s.stat_value_key(site_id, 'utm_medium', utm_medium) END,
                CASE WHEN utm_campaign <> '' THEN %1$s.stat_value_key(site_id, 'utm_campaign', utm_campaign) END,
                CASE WHEN hostname <> '' THEN %1$s.stat_value_key(site_id, 'hostname', hostname) END
            ], NULL)
        $$
    $function$, schema);
END
$migration$;

ANALYZE events;

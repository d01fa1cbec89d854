-- An index of the values each page view has (issue 14: several filters).
--
-- Two or three filters that are not all on the visitor profile are counted from the raw events,
-- and with no index on any value every such question read every page view of its range: a second
-- at ten million page views a month, however few page views the filters select
-- (`path:/docs/api&country:DE`, 30 000 of 10 million). This GIN index holds, for each page view,
-- one integer key per non-empty value of the eleven filter dimensions, and PostgreSQL finds the
-- page views that have every value of a question by intersecting the keys' lists of row pointers.
-- A key is a hash of the site, the dimension's name and the value, so that a site's lists hold its
-- own page views only (a small site's question does not wade through a big one's) and two values
-- may share a key: the statements that use the index also compare the site and the columns
-- themselves, and the answer stays exact.
-- Empty values (`(none)`) have no key: a filter on one selects many page views, which a plain
-- read of the range finds faster.
--
-- The server reads through the index only when the rollups say the filters select few of the
-- range's page views (`RedundantFilters.Reduction` in the Swift sources); otherwise the statement
-- does not name the index's expression, and the plan is what it was.
--
-- The lists of row pointers compress well (7.6 bytes a page view at 12.9 million page views). New
-- page views go to the index's pending list and are merged in bulk (GIN's fast update), by the
-- fold once the list holds 4 MB and by autovacuum. Building it locks `events` against writes while
-- it runs (21 s for 12 million page views on the 2-core machine): folds wait meanwhile, ingestion
-- does not (it only queues).

-- The key of a site's value of a dimension (the dimension's API name, as `stat_values` and the
-- rollups name it), for the index and for the questions that read through it.
CREATE FUNCTION stat_value_key(site_id text, dimension text, value text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT hashtext(site_id || ':' || dimension || ':' || value) $$;

-- A page view's keys, from its site and its columns in the order of the filter types
-- (`StatsDimension.filters`).
CREATE FUNCTION event_value_keys(site_id text, path text, referrer_host text, device text, browser text, os text, country text,
                                 language text, utm_source text, utm_medium text, utm_campaign text, hostname text)
RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT array_remove(ARRAY[
        CASE WHEN path <> '' THEN stat_value_key(site_id, 'path', path) END,
        CASE WHEN referrer_host <> '' THEN stat_value_key(site_id, 'referrer', referrer_host) END,
        CASE WHEN device <> '' THEN stat_value_key(site_id, 'device', device) END,
        CASE WHEN browser <> '' THEN stat_value_key(site_id, 'browser', browser) END,
        CASE WHEN os <> '' THEN stat_value_key(site_id, 'os', os) END,
        CASE WHEN country <> '' THEN stat_value_key(site_id, 'country', country) END,
        CASE WHEN language <> '' THEN stat_value_key(site_id, 'language', language) END,
        CASE WHEN utm_source <> '' THEN stat_value_key(site_id, 'utm_source', utm_source) END,
        CASE WHEN utm_medium <> '' THEN stat_value_key(site_id, 'utm_medium', utm_medium) END,
        CASE WHEN utm_campaign <> '' THEN stat_value_key(site_id, 'utm_campaign', utm_campaign) END,
        CASE WHEN hostname <> '' THEN stat_value_key(site_id, 'hostname', hostname) END
    ], NULL)
$$;

-- On the partitioned table (or the table, before 0019 has partitioned it): every partition gets its
-- own, and so does every partition attached later.
CREATE INDEX events_values_idx ON events USING gin (
    event_value_keys(site_id, path, referrer_host, device, browser, os, country, language, utm_source, utm_medium,
                     utm_campaign, hostname));
-- The planner knows how many page views hold a key only once the expression has been analysed.
ANALYZE events;

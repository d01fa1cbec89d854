-- The session-hours of a period found without reading them all (issue 14: breakdowns).
--
-- Every closing (0029–0046) first finds the sessions that cross its period's bounds among the
-- period's session-hours, and `session_hours` has no index by hour (its key starts with the session):
-- each closing read the whole table, 970 MB at 11 million events, 0.6 s of one core quietly and
-- 1.5 s beside other work, thirteen times for a day. Rows are written as their hours happen (and
-- a bulk load writes its page views in time order), so the table's pages follow the hours: a BRIN
-- index keeps each 128 pages' range of hours in a few bytes (48 kB for those 970 MB) and a period
-- reads the pages of its own hours. Pages written out of order (late page views, an import of an
-- old month) only widen their range, which a scan then reads for nothing; the rows found stay
-- exact, as the conditions still filter them. `autosummarize` lets autovacuum add the ranges that
-- new rows fill; until then they are read as matching.
--
-- Building it reads the table once (1.4 s at 11 million events), holding writes to it meanwhile.

CREATE INDEX session_hours_hour_brin ON session_hours USING brin (hour) WITH (autosummarize = on);

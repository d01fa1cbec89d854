-- Planner statistics for the small tables behind every authenticated request.
--
-- autovacuum analyzes a table once 50 rows (plus 10 % of it) changed since the last time. The
-- account, site and API-client tables of most installations never get there: a handful of users,
-- sites and tokens. Without statistics PostgreSQL guesses each holds a few dozen rows or more, and
-- plans the per-request lookups (a token's client, a user's sites) as hash joins over sequential
-- scans, where a table of a few rows wants a nested loop: several microseconds of every request's
-- database time. With a threshold of 0, any change gets the table analyzed at autovacuum's next
-- round (within `autovacuum_naptime`, a minute by default); the 10 % scale factor still spaces the
-- rounds out as a table grows. On tables this small an ANALYZE takes about a millisecond.
ALTER TABLE users SET (autovacuum_analyze_threshold = 0);
ALTER TABLE sessions SET (autovacuum_analyze_threshold = 0);
ALTER TABLE sites SET (autovacuum_analyze_threshold = 0);
ALTER TABLE site_members SET (autovacuum_analyze_threshold = 0);
ALTER TABLE api_clients SET (autovacuum_analyze_threshold = 0);
ALTER TABLE api_client_sites SET (autovacuum_analyze_threshold = 0);
ALTER TABLE api_client_tokens SET (autovacuum_analyze_threshold = 0);
ALTER TABLE api_client_revoked_tokens SET (autovacuum_analyze_threshold = 0);

-- Fuller pages for `session_hours` (issue 14: bytes on disk per event).
--
-- 0004 left a fifth of every page free so that a fold's update of a session's current hour stays on
-- its page (a HOT update: no new index entry). A row is updated only while its session goes on in
-- that hour, and only one new version at a time needs the room: the old one is pruned away when the
-- page is next read. The rows of every earlier hour kept the fifth for good, 11 % of the heap, about
-- 9 bytes an event at ten million, which puts the total over the 500 budgeted once every day's
-- breakdowns are added up (506).
--
-- Measured on a live-like load (500 page views a second queued in 2 000 concurrent sessions of
-- 20 s, a minute each, two thirds of the writes updates): HOT updates 98.1 and 95.8 % of them at a
-- fifth free, 100 % at a tenth, 93.2 % at a twentieth, 72.3 % with full pages. Bursts of new
-- sessions (`scripts/bench-rollup`) barely update the table at all.
--
-- New pages fill to nine tenths, and inserts top up the existing pages to nine tenths as VACUUM
-- records their free space. `VACUUM FULL session_hours` at a quiet time rewrites the rest at once
-- (it blocks the table's reads and writes meanwhile: seconds at ten million events).

ALTER TABLE session_hours SET (fillfactor = 90);

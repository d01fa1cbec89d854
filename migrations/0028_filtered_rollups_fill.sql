-- Fuller pages for the two array rollups under a filter (issue 14: bytes on disk per event).
--
-- 0012 left three tenths of every page of `filtered_counts` and `filtered_session_ends` free, for
-- the updates a fold makes to the rows of the hours going on to stay on their page (HOT updates,
-- no new index entries). But a row is updated only while its hour and day go on; the rows of every
-- earlier hour kept that space for good: after seeding 11 million page views the two heaps were
-- 38–40 % free space, 31 bytes an event of the 512 the database took.
--
-- A tenth is enough. Folding bursts of 100 000 page views ran as fast with a tenth as with three
-- (11 333 and 11 548 page views a second, 3 runs each), seven updates in ten staying HOT instead of
-- nine; those that do not add index entries, which the index upkeep (`RollupIndexUpkeep`) rebuilds
-- away. New pages fill to nine tenths; existing ones keep their space until rewritten
-- (`VACUUM FULL filtered_counts, filtered_session_ends` at a quiet time: 5 s at ten million events,
-- blocking those tables' reads and writes meanwhile).

ALTER TABLE filtered_counts SET (fillfactor = 90);
ALTER TABLE filtered_session_ends SET (fillfactor = 90);

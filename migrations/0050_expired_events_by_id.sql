-- Raw page views past their retention go by id alone (as a deleted site's do since 0049).
--
-- `remove_expired_events` (0023) deleted each batch of 5 000 with the site and the horizon named
-- beside the ids. For a site whose page views PostgreSQL had not gathered statistics on yet (a site
-- loaded in bulk, its partition not analysed again since), the plan took them for a handful: it
-- walked all of the site's page views through the site's index and compared each with the 5 000
-- ids. 1.8 s a batch for a site of 100 000 page views, so about 18 s, past the roll-up's statement
-- timeout, for a site of a million: its expired page views were never removed. By id alone, through
-- each partition's primary key, the same batch took 40 ms. The ids are picked under the same
-- conditions, and page views never change, so the same rows go.

SELECT rewrite_function_text('remove_expired_events(integer)', ARRAY[[
    $old$WHERE site_id = site.id AND occurred_at < site.raw_events_since
          AND id = ANY (ARRAY(SELECT id FROM events$old$,
    $new$WHERE id = ANY (ARRAY(SELECT id FROM events$new$]]);

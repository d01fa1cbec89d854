-- A fold takes its sites' lock before it takes their queued page views (issue 14).
--
-- Deleting a site locks its row, then deletes its queued page views (0008's trigger on `sites`). A
-- fold took the queued page views first and the site's lock last (the check of the page views it
-- writes, 0036; before that, their foreign key): a fold of a site that was being deleted held the
-- rows the deletion waited for while waiting for the deletion, and PostgreSQL broke the deadlock by
-- failing one of them (seen as a failed `DELETE FROM users` in a test's clean-up). The fold now
-- locks its sites first, in the order of their ids, with the same FOR KEY SHARE: it waits for a
-- deletion under way, then finds the site's queue emptied, or a deletion waits for the fold, then
-- removes what it wrote. The function is 0008's otherwise.

CREATE OR REPLACE FUNCTION fold_queued_events(only_site text DEFAULT NULL, max_events integer DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $function$
DECLARE
    sites text[];
    moved bigint;
BEGIN
    IF only_site IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(72711, hashtext(only_site));
        sites := ARRAY[only_site];
    ELSE
        SELECT coalesce(array_agg(site_id), '{}') INTO sites
        FROM (SELECT DISTINCT site_id FROM event_queue ORDER BY 1) AS queued
        WHERE pg_try_advisory_xact_lock(72711, hashtext(site_id));
    END IF;
    IF cardinality(sites) = 0 OR NOT EXISTS (SELECT 1 FROM event_queue WHERE site_id = ANY (sites)) THEN
        RETURN 0;
    END IF;
    PERFORM 1 FROM sites s WHERE s.id = ANY (sites) ORDER BY s.id FOR KEY SHARE;

    WITH taken AS (
        DELETE FROM event_queue
        WHERE site_id = ANY (sites)
          AND (max_events IS NULL OR ctid = ANY (ARRAY(
                  SELECT ctid FROM event_queue WHERE site_id = ANY (sites) ORDER BY id LIMIT max_events)))
        RETURNING *
    )
    INSERT INTO events (site_id, occurred_at, session_id, path, referrer_host, referrer_url, device, browser, os,
                        country, language, utm_source, utm_medium, utm_campaign, utm_term, utm_content, hostname)
    SELECT t.site_id, t.occurred_at, t.session_id, t.path, t.referrer_host, t.referrer_url, t.device, t.browser,
           t.os, t.country, t.language, t.utm_source, t.utm_medium, t.utm_campaign, t.utm_term, t.utm_content,
           t.hostname
    FROM taken t
    WHERE EXISTS (SELECT 1 FROM sites s WHERE s.id = t.site_id)
    ORDER BY t.id;
    GET DIAGNOSTICS moved = ROW_COUNT;
    RETURN moved;
END
$function$;

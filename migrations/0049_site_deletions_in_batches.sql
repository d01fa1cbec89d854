-- Deleting a site whose page views run into millions (issue 14: "deleting a site removes it all").
-- One `DELETE FROM sites` removed them in the request's transaction, through the cascades and the
-- triggers of 0008 and 0036: 8 s for 2.3 million page views, so past the 10-second statement
-- timeout a site of ten million could not be deleted from the API or the dashboard
-- (`503 query_timeout`, nothing removed), only with `hitkeep site delete`, which has no timeout
-- and held the site's rows locked meanwhile.
--
-- Now the request's transaction takes the site away from everyone at once (members, invitations,
-- client restrictions, its queued page views, its domain for a new site) and leaves a row here; the
-- roll-up process removes its rows a batch per transaction, the way retention removes expired page
-- views, and deletes the site itself last, when what is left of it cascades in no time. The keys
-- to `sites` stay, so whatever a fold or a closing still wrote for it meanwhile goes with it.

CREATE TABLE site_deletions (
    site_id      text PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    domain       text NOT NULL,                     -- the domain it had, for operators
    requested_at timestamptz NOT NULL DEFAULT now()
);

-- Takes `site` away from its people and its page views, in the caller's transaction: nobody can
-- reach it through the API (access is by membership or by its own clients, which the caller
-- deletes), no page view is counted for it any more, and its domain is free for a new site.
CREATE FUNCTION begin_site_deletion(site text) RETURNS void LANGUAGE plpgsql AS $function$
BEGIN
    -- A second deletion that waited for the first finds the site taken away already.
    INSERT INTO site_deletions (site_id, domain) SELECT id, domain FROM sites WHERE id = site
    ON CONFLICT (site_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    -- `.invalid` is reserved (RFC 2606): no page can be viewed on such a host.
    UPDATE sites SET domain = lower(site) || '.deleted.invalid' WHERE id = site;
    DELETE FROM site_members WHERE site_id = site;
    DELETE FROM site_invitations WHERE site_id = site;
    DELETE FROM api_client_sites WHERE site_id = site;
    DELETE FROM event_queue WHERE site_id = site;
END
$function$;

-- Removes up to `max_rows` rows of the site deleted first, its page views and every rollup of
-- them, in one transaction; deletes the site once none is left. Returns how many rows went (the
-- site's own row included), 0 when no deletion is waiting or a fold of the site holds its rollup
-- lock (0004): the next pass tries again. Not the closings' lock, which a backlog of closings after a
-- bulk load holds most of the time for twenty minutes; a closing of the deleted site itself takes
-- the site's lock at its end, and PostgreSQL ends the rare deadlock by failing one of the two.
CREATE FUNCTION remove_deleted_site_rows(max_rows integer) RETURNS bigint LANGUAGE plpgsql AS $function$
DECLARE
    doomed text;
    rollup text;
    batch bigint;
    removed bigint := 0;
BEGIN
    SELECT site_id INTO doomed FROM site_deletions ORDER BY requested_at, site_id LIMIT 1;
    IF NOT FOUND OR NOT pg_try_advisory_xact_lock(72711, hashtext(doomed)) THEN
        RETURN 0;
    END IF;
    -- Each table is read through its primary key or index, which starts with the site. What the
    -- reporting views read (hourly traffic, counts per value) goes first.
    FOREACH rollup IN ARRAY ARRAY['traffic_hourly', 'dimension_counts', 'entry_exit_counts', 'filtered_breakdown_touches',
                                  'filtered_breakdowns', 'filtered_breakdown_closed', 'quarter_counts',
                                  'quarter_session_ends', 'filtered_traffic_days', 'filtered_counts',
                                  'filtered_session_ends', 'filtered_session_quarters', 'mixed_session_quarters',
                                  'filtered_traffic', 'session_hours', 'dropped_page_views'] LOOP
        EXECUTE format('DELETE FROM %1$I WHERE ctid = ANY (ARRAY(SELECT ctid FROM %1$I WHERE site_id = $1 LIMIT $2))', rollup)
            USING doomed, max_rows - removed;
        GET DIAGNOSTICS batch = ROW_COUNT;
        removed := removed + batch;
        IF removed >= max_rows THEN
            RETURN removed;
        END IF;
    END LOOP;
    -- By id alone, through each partition's primary key: with the site named as well, a plan that
    -- misjudged a new site's page views as a handful read all of them for each batch (ten seconds
    -- for a million, and the batch was cancelled).
    DELETE FROM events
    WHERE id = ANY (ARRAY(SELECT id FROM events WHERE site_id = doomed LIMIT max_rows - removed));
    GET DIAGNOSTICS batch = ROW_COUNT;
    removed := removed + batch;
    IF removed >= max_rows THEN
        RETURN removed;
    END IF;
    DELETE FROM sites WHERE id = doomed;
    RETURN removed + 1;
END
$function$;

CREATE OR REPLACE VIEW reporting.sites AS
SELECT s.id AS site_id, s.domain, s.name, s.timezone, s.created_at, u.email AS owner_email
FROM sites s
JOIN users u ON u.id = s.owner_id
WHERE NOT EXISTS (SELECT 1 FROM site_deletions d WHERE d.site_id = s.id);
COMMENT ON VIEW reporting.sites IS 'Every site: id, domain, name, time zone, creation time and the owner''s email. A deleted site is not listed, though its page views may stay in the other views for a few minutes while they are removed.';

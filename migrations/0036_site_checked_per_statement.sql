-- Page views and session-hours checked against their site once per statement, not once per row
-- (issue 14: the roll-up keeps up).
--
-- A fold writes 20 000 page views and about as many session-hours, and each row's foreign key to
-- `sites` ran a check of its own (a trigger per row, a lookup and a KEY SHARE lock each): about 6 %
-- of a fold at ten million page views a month. One statement trigger per write now does the same for
-- all of its rows: it locks the sites they name as the checks did (FOR KEY SHARE, so that a site
-- cannot be deleted under a fold) and refuses the statement, with the foreign key's SQLSTATE, when
-- one of them does not exist. The cascade the keys did on deleting a site is a statement trigger on
-- `sites`, as 0008's for the queue. The rollup tables keep their keys: a fold mostly updates their
-- rows, which the key does not check again.
--
-- `visitor_profile` (0024) was declared IMMUTABLE around `json_build_array`, which is only STABLE,
-- so PostgreSQL never inlined it and called it as a function of its own for every page view the
-- fold and the closings read (about 1 µs each). Nothing indexes it, so STABLE is what it is.

ALTER TABLE events DROP CONSTRAINT events_site_id_fkey;
ALTER TABLE session_hours DROP CONSTRAINT session_hours_site_id_fkey;

-- An installation whose `events` is not partitioned yet (0019) partitions it later: the new table
-- gets no key either, and the statement trigger below moves to it with the others.
SELECT rewrite_function_text('partition_events()', ARRAY[
    [$old$
    EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT events_site_id_fkey TO %I', first_partition, first_partition || '_site_id_fkey');$old$,
     ''],
    [$old$
            LIKE %I INCLUDING DEFAULTS,
            CONSTRAINT events_site_id_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE
$old$,
     $new$
            LIKE %I INCLUDING DEFAULTS
$new$]]);

CREATE FUNCTION rows_of_existing_sites() RETURNS trigger LANGUAGE plpgsql AS $function$
DECLARE
    missing text;
BEGIN
    SELECT n.site_id INTO missing
    FROM (SELECT DISTINCT site_id FROM new_rows) AS n
    WHERE NOT EXISTS (SELECT 1 FROM sites s WHERE s.id = n.site_id FOR KEY SHARE)
    LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('insert into %I names a site that does not exist', TG_TABLE_NAME),
            DETAIL = format('Key (site_id)=(%s) is not present in table "sites".', missing);
    END IF;
    RETURN NULL;
END
$function$;

-- Named to fire before the roll-up triggers (AFTER triggers of one event fire in name order): a
-- write for a missing site is refused before anything is added up.
CREATE TRIGGER events_check_sites AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rows_of_existing_sites();
CREATE TRIGGER session_hours_check_sites AFTER INSERT ON session_hours
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rows_of_existing_sites();

CREATE FUNCTION sites_forget_page_views() RETURNS trigger LANGUAGE plpgsql AS $function$
BEGIN
    DELETE FROM events e USING deleted_sites d WHERE e.site_id = d.id;
    DELETE FROM session_hours h USING deleted_sites d WHERE h.site_id = d.id;
    RETURN NULL;
END
$function$;

CREATE TRIGGER sites_forget_page_views AFTER DELETE ON sites
    REFERENCING OLD TABLE AS deleted_sites
    FOR EACH STATEMENT EXECUTE FUNCTION sites_forget_page_views();

ALTER FUNCTION visitor_profile(text, text, text, text, text) STABLE;

-- Guards that keep the rollups of 0004 equal to the events, whoever writes with psql.
--
-- The rollup trigger reads the latest committed rollup rows under a per-site lock. In READ
-- COMMITTED each of its statements sees them; a REPEATABLE READ or SERIALIZABLE transaction would
-- keep reading the snapshot it started with and could add to stale numbers. So events are written
-- in READ COMMITTED only (the default, and what HitKeep itself does).
--
-- Events are append-only: an UPDATE or TRUNCATE would leave the rollups describing events that no
-- longer exist. Deleting a site deletes its events and its rollups together (ON DELETE CASCADE).

CREATE FUNCTION events_require_read_committed() RETURNS trigger LANGUAGE plpgsql AS $function$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'events are written in READ COMMITTED transactions only (isolation is %)',
            current_setting('transaction_isolation')
            USING HINT = 'the rollups must see the latest committed rows; see migrations/0006_events_guards.sql';
    END IF;
    RETURN NULL;
END
$function$;

CREATE TRIGGER events_read_committed BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_require_read_committed();

CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $function$
BEGIN
    RAISE EXCEPTION 'events are append-only (% refused): the rollups are kept for the events as written', TG_OP
        USING HINT = 'delete the site to delete its events and rollups together';
END
$function$;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

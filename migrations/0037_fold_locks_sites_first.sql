-- A fold takes its sites' lock before it takes their queued page views (issue 14).
--
-- Deleting a site locks its row, then deletes its queued page views (0008's trigger on `sites`). A
-- fold took the queued page views first and the site's lock last (the check of the page views it
-- writes, 0036; before that, their foreign key): a fold of a site that was being deleted held the
-- rows the deletion waited for while waiting for the deletion, and PostgreSQL broke the deadlock by
-- failing one of them (seen as a failed `DELETE FROM users` in a test's clean-up). The fold now
-- locks its sites first, in the order of their ids, with the same FOR KEY SHARE: it waits for a
-- deletion under way, then finds the site's queue emptied, or a deletion waits for the fold, then
-- removes what it wrote. Only that line is added to the function's stored text
-- (`rewrite_function_text`, 0034).

SELECT rewrite_function_text('fold_queued_events(text, integer)', ARRAY[[
    $old$
        RETURN 0;
    END IF;

    WITH taken AS ($old$,
    $new$
        RETURN 0;
    END IF;
    PERFORM 1 FROM sites s WHERE s.id = ANY (sites) ORDER BY s.id FOR KEY SHARE;

    WITH taken AS ($new$]]);

"""Sites and members (issue 3, API.md §4): create, list, read, update, delete, members, and the bad
input each must refuse with a 4xx and no write."""

from __future__ import annotations

import concurrent.futures
import time

import pytest

from accounts import (SITE_KEYS, TIME_RE, ULID_RE, Api, assert_json, assert_problem, counts, one_value,  # noqa: F401
                      people, run_cli, unique, unique_domain)
from stack import StackError, wait_until

TABLES = ["sites", "site_members"]


# --- create ---------------------------------------------------------------------------------------

def test_create_site_normalises_the_domain_and_defaults_name_and_timezone(stack, people):
    api = people.new()
    label = unique("Shop")
    response = api.post("/api/sites", json={"domain": f"  {label}.Example.COM \t"})
    site = assert_json(response, 201)
    assert set(site) == SITE_KEYS
    assert ULID_RE.match(site["id"])
    assert site["domain"] == f"{label.lower()}.example.com"
    assert site["name"] == site["domain"]
    assert site["timezone"] == "UTC"
    assert site["role"] == "owner"
    assert TIME_RE.match(site["created_at"])
    assert one_value(stack, f"SELECT owner_id FROM sites WHERE id = '{site['id']}'") == api.user.id
    assert one_value(stack, f"SELECT role FROM site_members WHERE site_id = '{site['id']}' AND user_id = '{api.user.id}'") == "owner"


def test_create_site_with_name_and_timezone(stack, people):
    api = people.new()
    site = api.create_site(name="  My Blog  ", timezone="Europe/Berlin")
    assert site["name"] == "My Blog"
    assert site["timezone"] == "Europe/Berlin"
    assert assert_json(api.get(f"/api/sites/{site['id']}")) == site


def test_a_registered_domain_is_409_for_anyone(stack, people):
    first, second = people.new(), people.new()
    domain = unique_domain()
    first.create_site(domain)
    for who, typed in ((first, domain), (second, domain.upper()), (second, f" {domain} ")):
        assert_problem(who.post("/api/sites", json={"domain": typed}), 409, "domain_taken")
    assert one_value(stack, f"SELECT count(*) FROM sites WHERE domain = '{domain}'") == "1"


def test_list_is_newest_first_and_only_the_callers(stack, people):
    api, other = people.new(), people.new()
    created = [api.create_site() for _ in range(3)]
    other.create_site()
    listed = assert_json(api.get("/api/sites"))
    assert [site["id"] for site in listed] == [site["id"] for site in reversed(created)]
    assert listed == list(reversed(created))
    assert assert_json(people.new().get("/api/sites")) == [], "an empty list is [], never null"


@pytest.mark.parametrize("domain", [
    "https://example.com",
    "http://shop.example.com",
    "//example.com",
    "example.com/blog",
    "example.com?x=1",
    "example.com#top",
    "example.com:8080",
    "www.example.com",
    "WWW.Example.com",
    "192.168.1.10",
    "10.0.0.1",
    "[::1]",
    "::1",
    "2001:db8::1",
    "com",
    "",
    "   ",
    "exa mple.com",
    "ex_ample.com",
    "-bad.example.com",
    "bad-.example.com",
    "a..b.com",
    ".example.com",
    "user@example.com",
    ("a" * 64) + ".com",
    ".".join(["abcdefghi"] * 26) + ".com",
    "x" * 10240,
    "x.com'; DROP TABLE sites;--",
    "a\u0000.example.com",
    "a\u0007.example.com",
    "ex\u00e4mple.com\u202e",
])
def test_create_site_refuses_a_bad_domain(stack, people, domain):
    api = people.new()
    before = counts(stack, TABLES)
    assert_problem(api.post("/api/sites", json={"domain": domain}), 400, "invalid_domain")
    assert counts(stack, TABLES) == before


@pytest.mark.parametrize("timezone", [
    "Mars/Olympus_Mons",
    "",
    "utc ",
    "Europe",
    "../../etc/passwd",
    "Europe/../../../etc/passwd",
    "/etc/localtime",
    "zone.tab",
    "leapseconds",
    "tzdata.zi",
    "Europe/Berlin\u0000",
    "Europe/Berlin'; DROP TABLE sites;--",
    "E" * 10240,
])
def test_create_site_refuses_an_unknown_timezone(stack, people, timezone):
    api = people.new()
    before = counts(stack, TABLES)
    response = api.post("/api/sites", json={"domain": unique_domain(), "timezone": timezone})
    assert_problem(response, 400, "invalid_timezone")
    assert counts(stack, TABLES) == before


def test_every_accepted_timezone_is_one_postgresql_knows(stack, people):
    """A timezone the API accepts is used by PostgreSQL for day boundaries later: it must know it."""
    api = people.new()
    for timezone in ("UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "Asia/Kolkata"):
        site = api.create_site(timezone=timezone)
        assert site["timezone"] == timezone
        assert one_value(stack, f"SELECT count(*) FROM pg_timezone_names WHERE name = '{timezone}'") == "1"


@pytest.mark.parametrize("body, code", [
    (b'{"domain": "a.example.com"', "invalid_json"),
    (b'["a.example.com"]', "invalid_json"),
    (b'', "invalid_json"),
    (b'{"domain": 42}', "invalid_json"),
    (b'{"domain": ["a.example.com"]}', "invalid_json"),
    (b'{"domain": "DOMAIN", "name": 5}', "invalid_json"),
    (b'{"domain": "DOMAIN", "timezone": true}', "invalid_json"),
    (b'{"domain": "DOMAIN", "owner_id": "01JFKQ4Z7W3M9X0C5T2V8B6N1R"}', "invalid_json"),
    (b'{"domain": "DOMAIN", "id": "01JFKQ4Z7W3M9X0C5T2V8B6N1R"}', "invalid_json"),
    (b'{"name": "no domain"}', "invalid_domain"),
    (b'{"domain": "DOMAIN", "name": ""}', "invalid_name"),
    (b'{"domain": "DOMAIN", "name": "   "}', "invalid_name"),
    (b'{"domain": "DOMAIN", "name": "' + b"n" * 121 + b'"}', "invalid_name"),
    (b'{"domain": "DOMAIN", "name": "' + b"n" * 10240 + b'"}', "invalid_name"),
    (b'{"domain": "DOMAIN", "name": "nul\\u0000"}', "invalid_name"),
    (b'{"domain": "DOMAIN", "name": "tab\\tname"}', "invalid_name"),
    (b'{"domain": "DOMAIN", "name": "\xff\xfe"}', "invalid_json"),
    (b'{"domain": "DOMAIN", "name": "\\udc00"}', "invalid_json"),
    (b'{"domain": "DOMAIN", "domain": "DOMAIN"}', "invalid_json"),
])
def test_create_site_refuses_bad_input(stack, people, body, code):
    api = people.new()
    before = counts(stack, TABLES)
    body = body.replace(b"DOMAIN", unique_domain().encode())
    response = api.post("/api/sites", data=body, headers={"Content-Type": "application/json"})
    problem = assert_problem(response, 400, code)
    if code == "invalid_json" and b'"owner_id"' in body:
        assert "owner_id" in problem["detail"], "the unknown field is named"
    assert counts(stack, TABLES) == before


def test_sql_metacharacters_in_a_site_name_are_stored_verbatim(stack, people):
    api = people.new()
    name = "Robert'); DROP TABLE sites;-- \"quoted\" \\ back $1 %s ${x}"
    site = api.create_site(name=name)
    assert site["name"] == name
    assert assert_json(api.get(f"/api/sites/{site['id']}"))["name"] == name
    assert one_value(stack, f"SELECT name FROM sites WHERE id = '{site['id']}'") == name


# --- read, update, delete -------------------------------------------------------------------------

@pytest.mark.parametrize("site_id", [
    "not-a-ulid",
    "01jfkq4z7w3m9x0c5t2v8b6n1r",
    "01JFKQ4Z7W3M9X0C5T2V8B6N1",
    "01JFKQ4Z7W3M9X0C5T2V8B6N1RX",
    "81JFKQ4Z7W3M9X0C5T2V8B6N1R",
    "01JFKQ4Z7W3M9X0C5T2V8B6N1U",
    "%27%20OR%20%271%27%3D%271",
    "01JFKQ4Z7W3M9X0C5T2V8B6N1R",
])
def test_ids_that_are_not_sites_are_404_on_every_site_route(stack, people, site_id):
    api = people.new()
    api.create_site()
    before = counts(stack, TABLES)
    for method, path, body in [
        ("GET", f"/api/sites/{site_id}", None),
        ("PUT", f"/api/sites/{site_id}", {"name": "x"}),
        ("DELETE", f"/api/sites/{site_id}", None),
        ("GET", f"/api/sites/{site_id}/members", None),
        ("POST", f"/api/sites/{site_id}/members", {"email": api.user.email, "role": "viewer"}),
        ("DELETE", f"/api/sites/{site_id}/members/{api.user.id}", None),
    ]:
        response = api.request(method, path, json=body)
        assert_problem(response, 404, "not_found")
    assert counts(stack, TABLES) == before


def test_a_nul_byte_in_a_site_path_is_a_4xx(stack, people):
    api = people.new()
    site = api.create_site()
    for path in (f"/api/sites/{site['id']}%00", f"/api/sites/%00{site['id']}"):
        response = api.get(path)
        assert 400 <= response.status_code < 500, response.text
    assert api.get(f"/api/sites/{site['id']}").status_code == 200


def test_update_changes_only_the_fields_sent(stack, people):
    api = people.new()
    site = api.create_site(name="Before", timezone="UTC")
    renamed = assert_json(api.put(f"/api/sites/{site['id']}", json={"name": "After"}))
    assert renamed == {**site, "name": "After"}
    moved = assert_json(api.put(f"/api/sites/{site['id']}", json={"timezone": "Asia/Tokyo"}))
    assert moved == {**site, "name": "After", "timezone": "Asia/Tokyo"}
    assert assert_json(api.get(f"/api/sites/{site['id']}")) == moved
    assert assert_json(api.put(f"/api/sites/{site['id']}", json={})) == moved


@pytest.mark.parametrize("body, code", [
    ({"name": ""}, "invalid_name"),
    ({"name": None}, "invalid_name"),
    ({"name": "n" * 121}, "invalid_name"),
    ({"name": "bad\u0000"}, "invalid_name"),
    ({"timezone": "Nowhere/Special"}, "invalid_timezone"),
    ({"timezone": None}, "invalid_timezone"),
    ({"timezone": "leapseconds"}, "invalid_timezone"),
    ({"name": "ok", "timezone": "Nowhere/Special"}, "invalid_timezone"),
    ({"domain": "other.example.com"}, "invalid_json"),
    ({"name": 7}, "invalid_json"),
    ({"owner_id": "01JFKQ4Z7W3M9X0C5T2V8B6N1R"}, "invalid_json"),
])
def test_update_refuses_bad_input_and_changes_nothing(stack, people, body, code):
    api = people.new()
    site = api.create_site(name="Unchanged")
    assert_problem(api.put(f"/api/sites/{site['id']}", json=body), 400, code)
    assert assert_json(api.get(f"/api/sites/{site['id']}")) == site


def test_delete_site_removes_it_and_everything_hanging_on_it(stack, people):
    owner, member = people.new(), people.new()
    site = owner.create_site()
    owner.add_member(site["id"], member.user.email, "viewer")
    owner.create_client(site_ids=[site["id"]])
    member.create_client(site_ids=[site["id"]])
    # Today's page views, one visit that changed device, and one of a day long over (added up into
    # filtered_traffic_days and for breakdowns).
    stack.sql("INSERT INTO events (site_id, occurred_at, session_id, path, device) VALUES "
              f"('{site['id']}', now() - interval '1 hour', 's1', '/', 'mobile'), ('{site['id']}', now(), 's1', '/a', 'mobile'), "
              f"('{site['id']}', now() - interval '9 minutes', 's2', '/', 'mobile'), ('{site['id']}', now(), 's2', '/', 'desktop'), "
              f"('{site['id']}', '2026-03-01 12:00+00', 's0', '/', 'desktop')")
    rollups = ("events", "keyed_session_hours", "traffic_hourly", "dimension_counts", "entry_exit_counts",
               "keyed_filtered_traffic", "keyed_filtered_traffic_days", "filtered_counts", "filtered_session_ends", "filtered_breakdown_closed",
               "filtered_breakdowns", "filtered_breakdown_touches", "mixed_session_quarters", "quarter_counts",
               "quarter_session_ends")
    # The old day added up for paths, then touched by a late page view of its session.
    stack.sql(f"SELECT close_filtered_breakdown('{site['id']}', 'path', 'day', '2026-03-01')")
    stack.sql("INSERT INTO events (site_id, occurred_at, session_id, path, device) VALUES "
              f"('{site['id']}', '2026-03-01 12:05+00', 's0', '/b', 'desktop')")
    stack.sql(f"SELECT close_filtered_breakdown('{site['id']}', 'path', 'day', '2026-03-01')")
    key = site_key(stack, site["id"])
    assert all(one_value(stack, f"SELECT count(*) FROM {table} WHERE {rows_of(table, site['id'], key)}") != "0"
               for table in rollups)

    response = owner.delete(f"/api/sites/{site['id']}")
    assert response.status_code == 204, response.text
    assert response.content == b""
    for who in (owner, member):
        assert_problem(who.get(f"/api/sites/{site['id']}"), 404, "not_found")
    assert_problem(owner.delete(f"/api/sites/{site['id']}"), 404, "not_found")
    for table in ("site_members", "api_client_sites"):
        assert one_value(stack, f"SELECT count(*) FROM {table} WHERE site_id = '{site['id']}'") == "0", table
    # The domain is free again.
    assert owner.post("/api/sites", json={"domain": site["domain"]}).status_code == 201
    # The page views and rollups go in the background (migrations/0049), the site's row last.
    assert_removed_in_the_background(stack, site["id"], key, rollups)


def site_key(stack, site_id: str) -> str:
    """The number that names the site in the `keyed_` rollups (migrations/0051–0052), kept before the site goes."""
    return one_value(stack, f"SELECT key FROM sites WHERE id = '{site_id}'")


def rows_of(table: str, site_id: str, key: str) -> str:
    """The condition that picks a site's rows of `table`."""
    if table == "sites":
        return f"id = '{site_id}'"
    if table.startswith("keyed_"):
        return f"site_key = {key}"
    return f"site_id = '{site_id}'"


def assert_removed_in_the_background(stack, site_id: str, key: str, tables) -> None:
    def left() -> list[str]:
        return [table for table in ("sites", *tables)
                if one_value(stack, f"SELECT count(*) FROM {table} WHERE {rows_of(table, site_id, key)}") != "0"]
    wait_until(lambda: not left(), 60, f"rows of the deleted site left in {left()}")
    assert one_value(stack, f"SELECT count(*) FROM site_deletions WHERE site_id = '{site_id}'") == "0"


def test_a_site_with_many_page_views_is_deleted_at_once_and_its_rows_in_batches(stack, people):
    # Removing a site's rows in the request took 8 s for 2.3 million page views, so a site of ten
    # million could not be deleted (503 after the statement timeout). 40 000 page views here: more
    # than one of the roll-up's deleting transactions, in every table.
    owner = people.new()
    site = owner.create_site()
    stack.sql("INSERT INTO events (site_id, occurred_at, session_id, path, device, country) "
              f"SELECT '{site['id']}', now() - (n || ' minutes')::interval, 's' || (n / 4), '/p' || (n % 300), "
              "(ARRAY['mobile', 'desktop'])[1 + n % 2], (ARRAY['DE', 'US', 'FR'])[1 + n % 3] "
              "FROM generate_series(1, 40000) AS n")
    key = site_key(stack, site["id"])
    assert int(one_value(stack, f"SELECT count(*) FROM keyed_session_hours WHERE site_key = {key}")) > 10_000

    # Two deletions at once: the second waits for the first and finds the site gone or going.
    with concurrent.futures.ThreadPoolExecutor(2) as background:
        deletions = [background.submit(owner.delete, f"/api/sites/{site['id']}") for _ in range(2)]
        statuses = sorted(deletion.result(timeout=30).status_code for deletion in deletions)
    assert statuses in ([204, 204], [204, 404]), statuses
    assert_problem(owner.get(f"/api/sites/{site['id']}/stats"), 404, "not_found")
    assert site["id"] not in [listed["id"] for listed in owner.get("/api/sites").json()]
    # Not among the instance's sites for an operator either, in psql's reporting views or the command line.
    assert one_value(stack, f"SELECT count(*) FROM reporting.sites WHERE site_id = '{site['id']}'") == "0"
    listing = run_cli(stack, "site", "list")
    assert listing.returncode == 0 and site["id"] not in listing.stdout and site["domain"] not in listing.stdout
    # The domain is free for a new site at once.
    assert owner.post("/api/sites", json={"domain": site["domain"]}).status_code == 201
    assert_removed_in_the_background(stack, site["id"], key, ("events", "keyed_session_hours", "keyed_filtered_traffic",
                                                              "filtered_counts", "filtered_session_ends",
                                                              "dimension_counts", "traffic_hourly"))


def test_page_views_and_session_hours_of_a_site_that_does_not_exist_are_refused(stack, people):
    site = people.new().create_site()
    key = site_key(stack, site["id"])
    # One row of an unknown site among good ones refuses the whole statement with the foreign key's
    # SQLSTATE, 23503 (migrations/0036 checks once per statement): the block below ends normally only
    # when the INSERT raised exactly that.
    inserts = {
        "events": "INSERT INTO events (site_id, occurred_at, session_id, path) VALUES "
                  f"('{site['id']}', now(), 'fk-1', '/'), ('nope', now(), 'fk-2', '/')",
        "keyed_session_hours": "INSERT INTO keyed_session_hours (site_key, session_id, hour, pageviews, first_at, first_id, first_path, "
                         "last_at, last_id, last_path, prev_hour, next_hour) VALUES "
                         f"({key}, 'fk-3', date_bin('1 hour', now(), 'epoch'), 1, now(), 1, '/', now(), 1, '/', "
                         "'-infinity', 'infinity'), "
                         "(-1, 'fk-4', date_bin('1 hour', now(), 'epoch'), 1, now(), 1, '/', now(), 1, '/', "
                         "'-infinity', 'infinity')",
    }
    for table, insert in inserts.items():
        stack.sql(f"DO $$BEGIN {insert}; RAISE EXCEPTION 'written'; "
                  "EXCEPTION WHEN foreign_key_violation THEN NULL; END$$")
        with pytest.raises(StackError, match="names a site that does not exist"):
            stack.sql(insert)
    for table in ("events", "traffic_hourly"):
        assert one_value(stack, f"SELECT count(*) FROM {table} WHERE site_id IN ('{site['id']}', 'nope')") == "0", table
    assert one_value(stack, f"SELECT count(*) FROM keyed_session_hours WHERE site_key IN ({key}, -1)") == "0"


def test_a_site_is_deleted_only_after_a_write_of_its_page_views_commits_and_then_with_them(stack, people):
    owner = people.new()
    site = owner.create_site()
    key = site_key(stack, site["id"])
    writer = stack.cluster.background_session("hitkeep")
    try:
        writer.begin("INSERT INTO events (site_id, occurred_at, session_id, path) VALUES "
                     f"('{site['id']}', now(), 'held', '/held')")
        # The write holds the site (FOR KEY SHARE): the deletion waits for it.
        with concurrent.futures.ThreadPoolExecutor(1) as background:
            deleted = background.submit(owner.delete, f"/api/sites/{site['id']}")
            time.sleep(1)
            assert not deleted.done(), "the site was deleted under an uncommitted write of its page views"
            writer.send("COMMIT;")
            assert deleted.result(timeout=20).status_code == 204
    finally:
        writer.close()
    assert_removed_in_the_background(stack, site["id"], key, ("events", "keyed_session_hours"))


# --- members --------------------------------------------------------------------------------------

def test_members_are_listed_added_and_removed(stack, people):
    owner, viewer, admin = people.new(), people.new(name="Vi"), people.new()
    site = owner.create_site()
    added = owner.add_member(site["id"], f"  {viewer.user.email.upper()} ", "viewer")
    assert set(added) == {"user_id", "email", "name", "role", "status", "created_at"}
    # An invitation, whether or not the email has an account (test_security.py).
    assert (added["user_id"], added["email"], added["name"], added["role"], added["status"]) \
        == (None, viewer.user.email.lower(), None, "viewer", "invited")
    owner.add_member(site["id"], admin.user.email, "admin")
    # Each accepts with their next request.
    for member in (viewer, admin):
        assert member.get("/api/user").status_code == 200

    members = assert_json(owner.get(f"/api/sites/{site['id']}/members"))
    assert {(m["name"], m["status"]) for m in members if m["user_id"] == viewer.user.id} == {("Vi", "member")}
    assert {(m["user_id"], m["role"]) for m in members} == {
        (owner.user.id, "owner"), (viewer.user.id, "viewer"), (admin.user.id, "admin")}
    assert assert_json(admin.get(f"/api/sites/{site['id']}/members")) == members

    assert [s["role"] for s in assert_json(viewer.get("/api/sites"))] == ["viewer"]
    assert assert_json(admin.get(f"/api/sites/{site['id']}"))["role"] == "admin"

    response = owner.delete(f"/api/sites/{site['id']}/members/{viewer.user.id}")
    assert response.status_code == 204 and response.content == b""
    assert_problem(owner.delete(f"/api/sites/{site['id']}/members/{viewer.user.id}"), 404)
    assert {m["user_id"] for m in assert_json(owner.get(f"/api/sites/{site['id']}/members"))} == {owner.user.id, admin.user.id}


@pytest.mark.parametrize("body, status, code", [
    ({"email": "MEMBER", "role": "owner"}, 400, None),
    ({"email": "MEMBER", "role": "superuser"}, 400, None),
    ({"email": "MEMBER", "role": ""}, 400, None),
    ({"email": "MEMBER", "role": "Viewer"}, 400, None),
    ({"email": "MEMBER", "role": "viewer\u0000"}, 400, None),
    ({"email": "MEMBER"}, 400, None),
    ({"role": "viewer"}, 400, None),
    ({"email": "", "role": "viewer"}, 400, None),
    ({"email": "x" * 10240, "role": "viewer"}, 400, None),
    ({"email": "a\u0000b@example.com", "role": "viewer"}, 400, None),
    ({"email": "' OR 1=1 --", "role": "viewer"}, 400, None),
    ({"email": 5, "role": "viewer"}, 400, "invalid_json"),
    ({"email": "MEMBER", "role": ["viewer"]}, 400, "invalid_json"),
    ({"email": "MEMBER", "role": "viewer", "user_id": "01JFKQ4Z7W3M9X0C5T2V8B6N1R"}, 400, "invalid_json"),
])
def test_add_member_refuses_bad_input(stack, people, body, status, code):
    owner, member = people.new(), people.create()
    site = owner.create_site()
    body = {key: (member.email if value == "MEMBER" else value) for key, value in body.items()}
    before = counts(stack, TABLES)
    assert_problem(owner.post(f"/api/sites/{site['id']}/members", json=body), status, code)
    assert counts(stack, TABLES) == before


def test_adding_a_member_twice_is_a_conflict(stack, people):
    owner, member = people.new(), people.create()
    site = owner.create_site()
    owner.add_member(site["id"], member.email, "viewer")
    response = owner.post(f"/api/sites/{site['id']}/members", json={"email": member.email, "role": "admin"})
    assert_problem(response, 409, "already_invited")
    people.login(member)
    response = owner.post(f"/api/sites/{site['id']}/members", json={"email": member.email, "role": "admin"})
    assert_problem(response, 409, "already_member")
    assert one_value(stack, f"SELECT role FROM site_members WHERE site_id = '{site['id']}' AND user_id = '{member.id}'") == "viewer"


def test_the_owner_cannot_be_removed(stack, people):
    owner, admin = people.new(), people.new()
    site = owner.create_site()
    owner.add_member(site["id"], admin.user.email, "admin")
    assert admin.get("/api/user").status_code == 200
    for who in (owner, admin):
        assert_problem(who.delete(f"/api/sites/{site['id']}/members/{owner.user.id}"), 403, "forbidden")
    assert assert_json(owner.get(f"/api/sites/{site['id']}"))["role"] == "owner"


def test_member_routes_refuse_a_bearer_token(stack, people):
    owner, member = people.new(), people.create()
    site = owner.create_site()
    token = owner.create_client()["token"]
    bearer = owner.with_token(token)
    assert_problem(bearer.get(f"/api/sites/{site['id']}/members"), 401)
    assert_problem(bearer.post(f"/api/sites/{site['id']}/members", json={"email": member.email, "role": "viewer"}), 401)
    assert one_value(stack, f"SELECT count(*) FROM site_members WHERE site_id = '{site['id']}'") == "1"

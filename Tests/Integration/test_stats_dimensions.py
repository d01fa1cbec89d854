"""GET /api/stats/dimensions: the one registry of stats dimensions (issue 13, item 5), which the
filter parser, the top lists, the SQL and the dashboard all read. Its body, who may read it, and
that it agrees with the database's rollup trigger and with the stats API itself."""

from __future__ import annotations

import re
from urllib.parse import quote

from accounts import Api, assert_problem, people  # noqa: F401 (people: a fixture)

PATH = "/api/stats/dimensions"


def dimension(name, label, values, filter, value_filter, list, list_label, group):
    return {"name": name, "label": label, "values": values, "filter": filter, "value_filter": value_filter,
            "list": list, "list_label": list_label, "group": group}


# The contract, written out: the names, list keys and filter types are public API (API.md §5.3).
EXPECTED = {
    "dimensions": [
        dimension("path", "Page", "path", True, "path", "top_pages", "Top pages", "Pages"),
        dimension("entry", "Entry page", "path", False, "path", "top_landing_pages", "Entry pages", "Pages"),
        dimension("exit", "Exit page", "path", False, "path", "top_exit_pages", "Exit pages", "Pages"),
        dimension("referrer", "Referrer", "host", True, "referrer", "top_referrers", "Referrers", "Sources"),
        dimension("device", "Device", "keyword", True, "device", "top_devices", "Devices", "Devices"),
        dimension("browser", "Browser", "name", True, "browser", "top_browsers", "Browsers", "Devices"),
        dimension("os", "Operating system", "name", True, "os", "top_os", "Operating systems", "Devices"),
        dimension("country", "Country", "country_code", True, "country", "top_countries", "Countries", "Locations"),
        dimension("language", "Language", "language_tag", True, "language", "top_languages", "Languages", "Locations"),
        dimension("utm_source", "UTM source", "text", True, "utm_source", "top_utm_sources", "Source", "Sources"),
        dimension("utm_medium", "UTM medium", "text", True, "utm_medium", "top_utm_mediums", "Medium", "Sources"),
        dimension("utm_campaign", "UTM campaign", "text", True, "utm_campaign", "top_utm_campaigns", "Campaign",
                  "Sources"),
        dimension("hostname", "Hostname", "host", True, "hostname", "top_hostnames", "Hostnames", "Pages"),
    ],
    "none": "(none)",
}


def registry(api: Api) -> dict:
    response = api.get(PATH)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    # The same for everyone and changed only by a new version: a browser may keep it.
    assert response.headers["Cache-Control"] == "private, max-age=3600"
    return response.json()


def test_the_registry_is_the_documented_one(stack, people):
    assert registry(people.new()) == EXPECTED


def test_anyone_who_may_read_stats_may_read_it(stack, people):
    api = people.new()
    site = api.create_site()
    # A token with stats:read, even one limited to a site, and one with every scope.
    for fields in ({"scopes": ["stats:read"]}, {"scopes": ["stats:read"], "site_ids": [site["id"]]}, {}):
        assert registry(api.with_token(api.create_client(**fields)["token"])) == EXPECTED
    # A person with no site at all: still a session.
    assert registry(people.new()) == EXPECTED
    # Not without stats:read, nor without credentials, nor with a revoked token.
    assert_problem(api.with_token(api.create_client(scopes=["sites:read"])["token"]).get(PATH), 403,
                   "insufficient_scope")
    problem = Api(stack.base_url).get(PATH)
    assert_problem(problem, 401)
    assert problem.headers["WWW-Authenticate"].startswith("Bearer")
    client = api.create_client(scopes=["stats:read"])
    assert api.delete(f"/api/user/api-clients/{client['id']}").status_code == 204
    assert_problem(api.with_token(client["token"]).get(PATH), 401, "invalid_token")
    assert_problem(api.post(PATH, json={}), 405, "method_not_allowed")


def test_the_database_counts_the_registrys_dimensions(stack):
    # Migrations are never edited, so the registry follows what the rollup trigger writes: its
    # dimension names in dimension_counts, and its kinds in entry_exit_counts. Since 0022 the trigger
    # counts each column in a grouping set of its own, named by grouped_dimension from GROUPING's
    # mask of the columns (the grouped one's bit 0, the first column's the most significant).
    function = stack.sql("SELECT pg_get_functiondef('roll_up_events'::regproc)")[0][0]
    counting = function[:function.index("INSERT INTO dimension_counts")]
    columns = [column.strip() for column in re.findall(r"GROUPING\(([a-z_,\s]+)\)", counting)[-1].split(",")]
    assert re.findall(r"\(([a-z_]+)\)", counting[counting.rindex("GROUPING SETS ("):]) == columns
    namer = stack.sql("SELECT pg_get_functiondef('grouped_dimension'::regproc)")[0][0]
    names = {int(bit): name for bit, name in re.findall(r"WHEN (\d+) THEN '([a-z_]+)'", namer)}
    written = [(names[1 << (len(columns) - 1 - index)], column) for index, column in enumerate(columns)]
    # And the name the database gives a set is the one the function's text says.
    assert [row[0] for row in stack.sql(
        "SELECT grouped_dimension(2047 - (1 << (10 - n))) FROM generate_series(0, 10) AS n ORDER BY n")] == \
        [name for name, _ in written]
    kinds = stack.sql("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                      "WHERE conrelid = 'entry_exit_counts'::regclass AND contype = 'c' "
                      "AND pg_get_constraintdef(oid) LIKE '%kind%'")[0][0]
    listed = [entry["name"] for entry in EXPECTED["dimensions"] if entry["list"]]
    assert [name for name, _ in written] + re.findall(r"'([a-z]+)'::text", kinds) == \
        [name for name in listed if name not in ("entry", "exit")] + ["entry", "exit"]
    # Each written from the column of its name (the referrer from its host).
    assert all(column == ("referrer_host" if name == "referrer" else name) for name, column in written)


def test_filters_and_lists_follow_the_registry(stack, people):
    api = people.new()
    site = api.create_site(timezone="UTC")
    # Page views on one page, with a value in every column, so that a filter on the page selects
    # them all: the filtered numbers (read from the events by the registry's columns) must then be
    # the unfiltered ones (read from the rollups by the names the trigger wrote).
    stack.sql(f"""
        INSERT INTO events (site_id, occurred_at, session_id, path, referrer_host, device, browser, os, country,
                            language, utm_source, utm_medium, utm_campaign)
        VALUES ('{site['id']}', '2026-03-02 10:00+00', 'a', '/', 'ref.test', 'tablet', 'Firefox', 'Linux', 'DE',
                'de-DE', 'news', 'email', 'spring'),
               ('{site['id']}', '2026-03-02 10:05+00', 'a', '/', '', 'tablet', 'Firefox', 'Linux', 'DE', 'de-DE', '', '',
                ''),
               ('{site['id']}', '2026-03-02 14:00+00', 'b', '/', 'other.test', 'mobile', 'Safari', 'iOS', 'FR', 'fr',
                'ads', 'cpc', 'launch')""")
    whole = api.get(f"/api/sites/{site['id']}/stats?from=2026-03-02&to=2026-03-02&compare=none").json()
    filtered = api.get(f"/api/sites/{site['id']}/stats?from=2026-03-02&to=2026-03-02&compare=none"
                       "&filter=path:/").json()
    keys = [entry["list"] for entry in EXPECTED["dimensions"] if entry["list"]]
    assert [key for key in whole if key.startswith("top_")] == keys
    for key in keys:
        assert whole[key] == filtered[key], key
        assert whole[key], key
    assert whole["top_referrers"] == [{"name": "(none)", "value": 1}, {"name": "other.test", "value": 1},
                                      {"name": "ref.test", "value": 1}]
    # Every filter type is accepted, and matches by its column; entry and exit are not filters.
    for entry in EXPECTED["dimensions"]:
        value = whole[entry["list"]][0]["name"]
        response = api.get(f"/api/sites/{site['id']}/stats?from=2026-03-02&to=2026-03-02&compare=none"
                           f"&filter={quote(entry['name'] + ':' + value, safe='')}")
        if entry["filter"]:
            assert response.status_code == 200 and response.json()["total_pageviews"] >= 1, (entry, response.text)
        else:
            assert_problem(response, 400, "invalid_filter")

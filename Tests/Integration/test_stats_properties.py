"""Property tests of the stats API (docs/API.md §10): hundreds of seeded random questions about
generated traffic, each answer compared number for number, list for list and bucket for bucket with
the §10.3 definitions computed in Python over the raw `events` rows (test_stats.py's oracle).

The traffic is built to trip the rollups (migrations/0004, 0008): sessions whose every dimension
changes from one page view to the next (within the hour too), events on hour and quarter-hour
boundaries and on the days summer time starts and ends in five zones, equal timestamps within a
session, gaps of hours and days, long sessions, two sites sharing session ids, written out of order
in batches of varying size through three paths at once: `INSERT INTO events`, `INSERT INTO
event_queue` (folded by the roll-up process or the next stats request) and the server-side ingest API.

Also here: an oracle for the breakdown endpoint (`GET /api/sites/{id}/stats/breakdown`, being built)
and its property test, expected to fail until the endpoint is merged; the oracle itself is held to
the current stats endpoint's answers so that it can be trusted when the endpoint lands.

A failure names its seed, the question's number and the query: `random.Random(seed)` replays it.
The traffic is the same on every run, except for the order in which the concurrent writers' events
get their ids (which break ties between equal timestamps); the oracle reads the ids back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import urllib.parse
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Optional
from zoneinfo import ZoneInfo

import pytest

from accounts import Api, assert_json
from test_stats import (CHROME_ANDROID, CHROME_WINDOWS, FIREFOX_LINUX, RESPONSE_KEYS, SAFARI_IPHONE, RawEvents,
                        expected_response, iso)

UTC = dt.timezone.utc
# Every zone the questions ask in. New York: summer time on whole hours; Lord Howe: a half-hour shift
# (+11 ↔ +10:30); Chatham: quarter-hour offsets (+12:45 ↔ +13:45); Kolkata and Kathmandu: half- and
# quarter-hour offsets without summer time.
ZONES = ["UTC", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kolkata", "Asia/Kathmandu"]
# The traffic lies in four stretches, each holding some of those zones' changes of summer time:
# Chatham starts 2025-09-28, Lord Howe 2025-10-05; New York ends 2025-11-02, starts 2026-03-08;
# Lord Howe and Chatham end 2026-04-05.
STRETCHES = [(dt.date(2025, 9, 26), dt.date(2025, 10, 7)), (dt.date(2025, 10, 31), dt.date(2025, 11, 4)),
             (dt.date(2026, 3, 6), dt.date(2026, 3, 10)), (dt.date(2026, 4, 3), dt.date(2026, 4, 7))]

# Small sets, so that filters hit and lists tie. '' is "no value" ((none)); the path with a comma
# and a double quote must survive CSV; "/Docs" and "/docs", "Twitter" and "twitter", and a non-ASCII
# path test the byte order of ties and exact matching.
VALUES = {
    "path": ["/", "/", "/pricing", "/blog", "/blog/post-1", "/docs", "/Docs", '/a,b"c', "/ünï", ""],
    "referrer_host": ["", "", "news.ycombinator.com", "duckduckgo.com", "t.co", "www.google.com"],
    "device": ["", "desktop", "desktop", "mobile", "tablet"],
    "browser": ["", "Chrome", "Firefox", "Safari", "Edge", "Samsung Internet"],
    "os": ["", "Windows", "macOS", "iOS", "Android", "Linux"],
    "country": ["", "DE", "US", "IN", "NP", "NZ"],
    "language": ["", "en-US", "de", "de-DE", "hi-IN", "en-NZ"],
    "utm_source": ["", "", "hn", "newsletter", "Twitter", "twitter"],
    "utm_medium": ["", "", "social", "email", "cpc"],
    "utm_campaign": ["", "", "launch", "spring sale", "q1,2026", 'say "hi"'],
    # '' is the site's own domain, named by it.
    "hostname": ["", "", "", "blog.sub.test", "docs.sub.test"],
}
DIMENSION_COLUMNS = list(VALUES)
# Filter type (API name) → events column.
FILTER_COLUMNS = {"path": "path", "referrer": "referrer_host", "device": "device", "browser": "browser", "os": "os",
                  "country": "country", "language": "language", "utm_source": "utm_source",
                  "utm_medium": "utm_medium", "utm_campaign": "utm_campaign", "hostname": "hostname"}
# Values no page view has (device has none: its three values and '' all occur). A filter on a value
# the classifier knows but nobody used (Opera) is valid and matches nothing; "Social" and "Launch"
# differ from stored values only in case, which text filters must not ignore.
ABSENT = {"path": "/nowhere", "referrer_host": "example.org", "browser": "Opera", "os": "ChromeOS", "country": "FR",
          "language": "fr-FR", "utm_source": "absent", "utm_medium": "Social", "utm_campaign": "Launch",
          "hostname": "shop.sub.test"}
# Dimensions whose filters match in any case (§10.1).
ANY_CASE = {"device", "browser", "os", "country", "hostname"}

# What the ingest API stores for these (its user-agent classifier, test_stats.py's known answers).
USER_AGENTS = {CHROME_WINDOWS: ("desktop", "Chrome", "Windows"), SAFARI_IPHONE: ("mobile", "Safari", "iOS"),
               CHROME_ANDROID: ("mobile", "Chrome", "Android"), FIREFOX_LINUX: ("desktop", "Firefox", "Linux")}
# Values the ingest API can be given in a URL or referrer without any encoding question.
API_PATHS = {"/", "/pricing", "/blog", "/blog/post-1", "/docs", "/Docs"}
API_REFERRERS = ["", "news.ycombinator.com", "duckduckgo.com", "t.co"]
API_UTM = {"utm_source": ["", "hn", "newsletter", "Twitter", "twitter"], "utm_medium": ["", "social", "email", "cpc"],
           "utm_campaign": ["", "launch"]}

SEEDS = range(16)
QUESTIONS_PER_SEED = 25


# --- the traffic ------------------------------------------------------------------------------------

def offset_changes(zone: str, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The instants in [start, end) where the zone's UTC offset changes (all lie on quarter hours)."""
    tz, out, current = ZoneInfo(zone), [], start
    offset = current.astimezone(tz).utcoffset()
    while current < end:
        current += dt.timedelta(minutes=15)
        if current.astimezone(tz).utcoffset() != offset:
            out.append(current)
            offset = current.astimezone(tz).utcoffset()
    return out


def local_midnight(day: dt.date, zone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time()).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def landmarks() -> list[dt.datetime]:
    """Instants where the buckets of some zone begin or end in an unusual way: changes of summer
    time and local midnights in every zone, on every day of the traffic."""
    out = []
    for first, last in STRETCHES:
        start, end = local_midnight(first, "UTC"), local_midnight(last + dt.timedelta(days=1), "UTC")
        for zone in ZONES:
            out += offset_changes(zone, start, end)
            out += [local_midnight(first + dt.timedelta(days=n), zone) for n in range((last - first).days + 1)]
    return sorted(set(out))


LANDMARKS = landmarks()
# Per zone, its changes of summer time during the traffic.
ZONE_CHANGES = {zone: [change for first, last in STRETCHES
                       for change in offset_changes(zone, local_midnight(first, "UTC"), local_midnight(last, "UTC"))]
                for zone in ZONES}


def floor_to(instant: dt.datetime, minutes: int) -> dt.datetime:
    seconds = int(instant.timestamp()) // (minutes * 60) * minutes * 60
    return dt.datetime.fromtimestamp(seconds, UTC)


@dataclass
class Site:
    api: Api
    id: str
    domain: str
    timezone: str
    raw: Optional[RawEvents] = None
    events: list = field(default_factory=list)   # as generated


def session_events(rng: random.Random, site: Site, session: str) -> list[dict]:
    length = rng.choice([1, 1, 1, 1, 2, 2, 3, 3, 4, 5, 7, 10, 15, 25, 42, 60])
    if rng.random() < 0.5:
        when = rng.choice(LANDMARKS) + dt.timedelta(seconds=rng.choice([0, 0, -1, 1, -900, 900, -3600, 3600, -1800]))
        when -= dt.timedelta(minutes=rng.randrange(0, 90)) if length > 3 else dt.timedelta(0)
    else:
        first, last = rng.choice(STRETCHES)
        when = local_midnight(first, "UTC") + dt.timedelta(
            seconds=rng.randrange(0, ((last - first).days + 1) * 86_400), microseconds=rng.randrange(0, 10 ** 6))
    values = {column: rng.choice(choices) for column, choices in VALUES.items()}
    out = []
    for index in range(length):
        if index:
            # Every dimension may change between two page views of a session, whatever the gap.
            for column, choices in VALUES.items():
                if rng.random() < (0.5 if column == "path" else 0.25):
                    values[column] = rng.choice(choices)
        event = {"site": site, "session_id": session, "occurred_at": when, **values,
                 "via": rng.choices(["events", "queue", "api"], weights=[6, 3, 2])[0]}
        if event["via"] == "api":
            if event["path"] not in API_PATHS:
                event["via"] = "events"
            else:
                # What the ingest API will store: its user agent's classes, the referrer's host and
                # the URL's campaign; no country (nginx finds none for 127.0.0.1), no language. Its
                # timestamps are sent in milliseconds.
                event["user_agent"] = rng.choice(list(USER_AGENTS))
                event["device"], event["browser"], event["os"] = USER_AGENTS[event["user_agent"]]
                event["referrer_host"] = rng.choice(API_REFERRERS)
                event.update({column: rng.choice(choices) for column, choices in API_UTM.items()})
                event["country"] = event["language"] = ""
                event["hostname"] = ""   # the URL is on the site's domain
                event["occurred_at"] = when.replace(microsecond=when.microsecond // 1000 * 1000)
        out.append(event)
        step = rng.choices(["same", "hour", "quarter", "seconds", "minutes", "hours", "days"],
                           weights=[2, 1, 1, 3, 5, 1, 1])[0]
        if step == "hour":
            when = floor_to(when, 60) + dt.timedelta(hours=1)
        elif step == "quarter":
            when = floor_to(when, 15) + dt.timedelta(minutes=15)
        elif step == "seconds":
            when += dt.timedelta(seconds=rng.randrange(1, 60), microseconds=rng.randrange(0, 10 ** 6))
        elif step == "minutes":
            when += dt.timedelta(minutes=rng.randrange(1, 59), seconds=rng.randrange(0, 60))
        elif step == "hours":
            when += dt.timedelta(hours=rng.randrange(1, 20), minutes=rng.randrange(0, 60))
        elif step == "days":
            when += dt.timedelta(days=rng.randrange(1, 4), minutes=rng.randrange(0, 600))
    return out


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def insert(stack, table: str, events: list[dict]) -> None:
    columns = ["site_id", "occurred_at", "session_id", "referrer_url", *DIMENSION_COLUMNS]
    rows = []
    for e in events:
        referrer_url = f"https://{e['referrer_host']}/" if e["referrer_host"] else ""
        rows.append("(" + ", ".join([sql_text(e["site"].id), sql_text(e["occurred_at"].isoformat()),
                                     sql_text(e["session_id"]), sql_text(referrer_url),
                                     *(sql_text(e[column]) for column in DIMENSION_COLUMNS)]) + ")")
    stack.sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join(rows)}")


def ingest(base_url: str, cookie: str, events: list[dict]) -> list[int]:
    api = Api(base_url, cookie=cookie)
    statuses = []
    for e in events:
        query = urllib.parse.urlencode({column: e[column] for column in API_UTM if e[column]})
        body = {"site_id": e["site"].id, "url": f"https://{e['site'].domain}{e['path']}" + (f"?{query}" if query else ""),
                "user_agent": e["user_agent"], "session_id": e["session_id"],
                "timestamp": e["occurred_at"].isoformat(timespec="milliseconds")}
        if e["referrer_host"]:
            body["referrer"] = f"https://{e['referrer_host']}/from?x=1"
        statuses.append(api.post("/api/ingest/server/pageview", json=body).status_code)
    return statuses


def stored(event: dict) -> tuple:
    micros = (event["occurred_at"] - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)
    return (event["session_id"], micros, *(event[column] for column in DIMENSION_COLUMNS))


def assert_adversarial(traffic: list[Site]) -> None:
    """What the questions rely on the traffic to hold: a change that made the generator tamer
    would leave them toothless."""
    events = [e for site in traffic for e in site.raw.events]
    by_session = defaultdict(list)
    for site in traffic:
        for e in site.raw.events:
            by_session[(site.id, e["session_id"])].append(e)
    assert max(len(group) for group in by_session.values()) >= 40
    # Session ids both sites use.
    assert {e["session_id"] for e in traffic[0].raw.events} & {e["session_id"] for e in traffic[1].raw.events}
    switching = Counter()
    for group in by_session.values():
        group.sort(key=lambda e: (e["us"], e["id"]))
        for before, after in zip(group, group[1:]):
            if before["us"] == after["us"]:
                switching["equal timestamps"] += 1
            if after["us"] - before["us"] >= 86_400 * 10 ** 6:
                switching["a day apart"] += 1
            for column in DIMENSION_COLUMNS:
                if before[column] != after[column] and after["us"] - before["us"] < 3600 * 10 ** 6:
                    switching[column] += 1
    assert all(switching[key] >= 5 for key in [*DIMENSION_COLUMNS, "equal timestamps", "a day apart"]), switching
    micros = Counter()
    for e in events:
        if e["us"] % (3600 * 10 ** 6) == 0:
            micros["hour"] += 1
        elif e["us"] % (900 * 10 ** 6) == 0:
            micros["quarter"] += 1
    assert micros["hour"] >= 20 and micros["quarter"] >= 20, micros
    for column in DIMENSION_COLUMNS:
        assert {e[column] for e in events} >= set(VALUES[column]), column


@pytest.fixture(scope="module")
def traffic(stack):
    """Two sites (New York, Kathmandu) with some 3000 page views, some of them sharing session ids."""
    from accounts import People
    crowd = People(stack)
    try:
        api = crowd.new()
        sites = []
        for zone in ("America/New_York", "Asia/Kathmandu"):
            created = api.create_site(timezone=zone)
            sites.append(Site(api, created["id"], created["domain"], zone))
        rng = random.Random(20260405)
        events = []
        for number in range(200):
            events += session_events(rng, sites[0], f"s{number}")
        for number in range(70):
            # Half of them reuse the first site's ids: sessions are counted per site.
            events += session_events(rng, sites[1], f"s{number}" if number % 2 else f"k{number}")
        rng.shuffle(events)
        by_path = {via: [e for e in events if e["via"] == via] for via in ("events", "queue", "api")}

        # The ingest API's few hundred page views arrive while the other two paths write: its
        # events are queued and folded concurrently with direct inserts of the same sessions.
        api_events = by_path["api"]
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = [pool.submit(ingest, stack.base_url, api.cookie, api_events[start::3]) for start in range(3)]
            pending = {"events": by_path["events"], "queue": by_path["queue"]}
            while any(pending.values()):
                table = rng.choice([name for name, rest in pending.items() if rest])
                size = rng.choice([1, 1, 2, 3, 5, 8, 20, 40, 90, 200])
                batch, pending[table] = pending[table][:size], pending[table][size:]
                insert(stack, "events" if table == "events" else "event_queue", batch)
            statuses = [status for future in futures for status in future.result()]
        assert statuses == [202] * len(api_events)
        assert len(api_events) > 200 and len(events) > 2500

        for site in sites:
            site.events = [e for e in events if e["site"] is site]
            site.raw = RawEvents(stack, site.id)
            # Every page view landed, as written (the oracle reads them back from `events`).
            assert Counter(stored(e) for e in site.events) == Counter(
                (e["session_id"], e["us"], *(e[column] for column in DIMENSION_COLUMNS)) for e in site.raw.events)
        assert_adversarial(sites)
        yield sites
    finally:
        crowd.cleanup()


# --- questions ------------------------------------------------------------------------------------

def local_text(instant: dt.datetime, zone: str) -> str:
    """An RFC 3339 time with the zone's offset at that instant, e.g. 2026-03-08T15:52:13+05:45."""
    return instant.astimezone(ZoneInfo(zone)).isoformat()


def utc_text(instant: dt.datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def instant_text(rng: random.Random, instant: dt.datetime) -> str:
    return utc_text(instant) if rng.random() < 0.6 else local_text(instant, rng.choice(ZONES[1:]))


@dataclass
class Question:
    site: Site
    params: list            # (name, value) in the order sent
    zone: str               # the zone the answer is in
    start: dt.datetime      # the range as it must be resolved
    end: dt.datetime
    from_is_date: bool
    interval: str
    filters: dict           # events column → stored value ('' for (none))
    limit: int
    compare: bool

    @property
    def query(self) -> str:
        # Spaces as %20, a plus of an offset as %2B: nothing is left to form-decoding conventions.
        return urllib.parse.urlencode(self.params, quote_via=urllib.parse.quote, safe=":/()")


def default_interval(seconds: float) -> str:
    if seconds <= 2 * 86_400:
        return "hour"
    return "month" if seconds >= 365 * 86_400 else "day"


def random_range(rng: random.Random, site: Site, zone: str):
    """(from text, to text, start, end, from is a date): dates, odd instants, whole hours, quarter
    hours, and mixtures, around the traffic's events and landmarks."""
    tz = ZoneInfo(zone)
    roll = rng.random()
    if roll < 0.35:
        # The days summer time starts or ends in the zone asked for (in any zone for those without).
        anchor = rng.choice(ZONE_CHANGES.get(zone) or ZONE_CHANGES["America/New_York"] + ZONE_CHANGES["Pacific/Chatham"])
        anchor += dt.timedelta(seconds=rng.randrange(-86_400, 86_400))
    elif roll < 0.75:
        anchor = rng.choice(site.events)["occurred_at"]
    else:
        anchor = rng.choice(LANDMARKS)
    shape = rng.choice(["dates", "dates", "instants", "instants", "hours", "quarters", "date-to-instant",
                        "instant-to-date", "long-dates", *(["days-to-a-changed-clock"] if ZONE_CHANGES[zone] else [])])
    if shape == "days-to-a-changed-clock":
        # Days up to a clock time that, on the first day of the previous period, summer time
        # skipped, or that lies next to the clock times it repeated: "the same clock time N days
        # earlier" must still be found. (Clock times inside the repeated span: see
        # test_days_up_to_a_repeated_clock_time_compare_with_its_first_occurrence.)
        change = rng.choice(ZONE_CHANGES[zone])
        before = (change - dt.timedelta(microseconds=1)).astimezone(tz).replace(tzinfo=None)
        after = change.astimezone(tz).replace(tzinfo=None)
        if after > before:
            clock = before + dt.timedelta(microseconds=1, seconds=rng.randrange(0, int((after - before).total_seconds())))
        else:
            clock = rng.choice([after - dt.timedelta(seconds=rng.randrange(1, 3600)), before + dt.timedelta(microseconds=1)])
        days = rng.choice([1, 2, 3])
        first = clock.date() + dt.timedelta(days=1)
        end = (clock + dt.timedelta(days=days)).replace(tzinfo=tz).astimezone(UTC)
        return first.isoformat(), instant_text(rng, end), local_midnight(first, zone), end, True
    if shape in ("dates", "long-dates", "date-to-instant"):
        if shape == "long-dates":
            first = rng.choice(STRETCHES)[0] - dt.timedelta(days=rng.randrange(0, 10))
            last = first + dt.timedelta(days=rng.randrange(20, 220))
        else:
            first = anchor.astimezone(tz).date() - dt.timedelta(days=rng.randrange(0, 2))
            last = first + dt.timedelta(days=rng.choice([0, 0, 1, 2, 4, 7, 13]))
        start = local_midnight(first, zone)
        if shape == "date-to-instant":
            # As the dashboard asks for "today": days up to a time, often the end of an hour.
            end = start + dt.timedelta(seconds=rng.randrange(1, 4 * 86_400))
            if rng.random() < 0.5:
                end = floor_to(end, 60) + dt.timedelta(hours=1)
            return first.isoformat(), instant_text(rng, end), start, end, True
        return first.isoformat(), last.isoformat(), start, local_midnight(last + dt.timedelta(days=1), zone), True
    if shape == "instant-to-date":
        start = (anchor - dt.timedelta(seconds=rng.randrange(0, 2 * 86_400))).replace(microsecond=0)
        last = start.astimezone(tz).date() + dt.timedelta(days=rng.choice([0, 0, 1, 3]))
        return instant_text(rng, start), last.isoformat(), start, local_midnight(last + dt.timedelta(days=1), zone), False
    if shape == "hours":
        start = floor_to(anchor, 60) - dt.timedelta(hours=rng.randrange(0, 30))
        end = start + dt.timedelta(hours=rng.choice([1, 2, 3, 23, 24, 25, 48, 49, rng.randrange(1, 150)]))
    elif shape == "quarters":
        start = floor_to(anchor, 15) - dt.timedelta(minutes=15 * rng.randrange(0, 100))
        end = start + dt.timedelta(minutes=15 * rng.choice([1, 2, 3, 5, 95, 97, rng.randrange(1, 500)]))
    else:
        # Odd instants: 10:07:13.
        start = anchor - dt.timedelta(seconds=rng.randrange(0, 86_400 * 2))
        end = start + dt.timedelta(seconds=rng.choice([rng.randrange(1, 3600), rng.randrange(3600, 86_400),
                                                       rng.randrange(86_400, 6 * 86_400)]))
    start, end = start.replace(microsecond=0), end.replace(microsecond=0)
    return instant_text(rng, start), instant_text(rng, end), start, end, False


def random_filters(rng: random.Random, site: Site, start: dt.datetime, end: dt.datetime):
    """0–3 filters of distinct types: (params, {column: stored value})."""
    count = rng.choices([0, 1, 2, 3], weights=[4, 3, 2, 1])[0]
    inside = [e for e in site.events if start <= e["occurred_at"] < end] or site.events
    params, filters = [], {}
    for kind in rng.sample(sorted(FILTER_COLUMNS), count):
        column = FILTER_COLUMNS[kind]
        roll = rng.random()
        if roll < 0.2:
            text, value = "(none)", ""
        elif roll < 0.35 and column in ABSENT:
            text = value = ABSENT[column]
        else:
            # A value some page view in the range has, so that most filters hit.
            value = rng.choice(inside)[column]
            text = value or "(none)"
        if column == "hostname" and not value:
            text = site.domain   # the site's own page views, by its name: every page view has a host
        if column in ANY_CASE and text != "(none)":
            text = rng.choice([text, text.lower(), text.upper()])
        params.append(("filter", f"{kind}:{text}"))
        filters[column] = value
    return params, filters


def random_question(rng: random.Random, sites: list[Site]) -> Question:
    site = sites[0] if rng.random() < 0.75 else sites[1]
    named_zone = rng.choice([None, *ZONES, *ZONES[1:]])
    zone = named_zone or site.timezone
    from_text, to_text, start, end, from_is_date = random_range(rng, site, zone)
    while start >= end:   # a date before the instant it ends at: draw again
        from_text, to_text, start, end, from_is_date = random_range(rng, site, zone)
    seconds = (end - start).total_seconds()
    # Intervals whose charts stay at most a few hundred buckets long (the oracle counts each bucket
    # over the range's events).
    intervals = [name for name, step in (("hour", 3600), ("day", 86_400), ("week", 7 * 86_400), ("month", 28 * 86_400))
                 if seconds / step <= 200]
    asked = rng.choice([None, *intervals]) if seconds <= 300 * 86_400 else rng.choice(["week", "month"])
    filter_params, filters = random_filters(rng, site, start, end)
    limit = rng.choice([None, 1, 2, 3, 5, rng.randrange(1, 101), 100])
    compare = rng.choice([None, "previous", "none"])
    params = [("from", from_text), ("to", to_text)]
    if named_zone:
        params.append(("timezone", named_zone))
    if asked:
        params.append(("interval", asked))
    if limit:
        params.append(("limit", str(limit)))
    if compare:
        params.append(("compare", compare))
    params += filter_params
    rng.shuffle(params)
    return Question(site, params, zone, start, end, from_is_date, asked or default_interval(seconds), filters,
                    limit or 10, compare != "none")


def expected_answer(question: Question) -> dict:
    """The whole response, from the raw events and zoneinfo alone (not from the server's answer)."""
    resolved = {"from": iso(question.start), "to": iso(question.end), "interval": question.interval,
                "comparison": {} if question.compare else None}
    expected = {"site_id": question.site.id, "from": iso(question.start), "to": iso(question.end),
                "timezone": question.zone, "interval": question.interval,
                # Every page view is months old: nobody is live.
                "live_visitors": 0,
                **expected_response(question.site.raw, resolved, question.filters, question.limit, question.zone,
                                    question.from_is_date)}
    if not question.compare:
        expected["comparison"] = None
    return {key: expected[key] for key in RESPONSE_KEYS}


def differences(got, expected, path: str = "") -> list[str]:
    """Where two JSON values differ, named by their path: the first few only. (Key order is not
    compared here; the stats response's is, by the caller.)"""
    if isinstance(got, dict) and isinstance(expected, dict):
        if sorted(got) != sorted(expected):
            return [f"{path or 'body'}: keys {list(got)} != {list(expected)}"]
        return [line for key in expected for line in differences(got[key], expected[key], f"{path}.{key}")][:6]
    if isinstance(got, list) and isinstance(expected, list):
        lines = [f"{path}: {len(got)} items, expected {len(expected)}"] if len(got) != len(expected) else []
        for index, (a, b) in enumerate(zip(got, expected)):
            lines += differences(a, b, f"{path}[{index}]")
        return lines[:6]
    return [] if got == expected else [f"{path}: {got!r} != {expected!r}"]


def ask(question: Question) -> tuple[Optional[dict], str]:
    """The stats API's answer to the question, or why there is none."""
    response = question.site.api.get(f"/api/sites/{question.site.id}/stats?{question.query}")
    try:
        body = assert_json(response)
    except AssertionError as error:
        return None, str(error)[:300]
    if list(body) != RESPONSE_KEYS:
        return None, f"keys {list(body)}"
    return body, ""


@pytest.mark.parametrize("seed", SEEDS)
def test_random_questions_agree_with_the_raw_events(stack, traffic, seed):
    rng = random.Random(seed)
    failures = []
    for number in range(QUESTIONS_PER_SEED):
        question = random_question(rng, traffic)
        body, error = ask(question)
        where = f"seed {seed} question {number}: GET /api/sites/{question.site.id}/stats?{question.query}"
        if body is None:
            failures.append(f"{where}\n  {error}")
            continue
        found = differences(body, expected_answer(question))
        if found:
            failures.append(f"{where}\n  " + "\n  ".join(line[:400] for line in found))
    assert not failures, f"{len(failures)} of {QUESTIONS_PER_SEED} answers differ from the raw events:\n" + \
        "\n".join(failures)


@pytest.mark.parametrize("zone, clock", [
    # The dashboard's "today" in New York at 00:30 the day after summer time ends: until 01:00,
    # compared with the day before until 01:00, which that day came twice (EDT, then EST).
    ("America/New_York", "2025-11-03T01:00:00"),
    ("Australia/Lord_Howe", "2026-04-06T01:45:00"),   # 01:30–02:00 repeats on the 5th (+11, then +10:30)
    ("Pacific/Chatham", "2026-04-06T03:00:00"),       # 02:45–03:45 repeats on the 5th (+13:45, then +12:45)
])
def test_days_up_to_a_repeated_clock_time_compare_with_its_first_occurrence(stack, traffic, zone, clock):
    # "The same clock times N days earlier" (§10.2): of a clock time that came twice, the first, as
    # RFC 5545 and java.time resolve it, so that days up to a time are compared with a period of the
    # same length (here 1 hour 00:00–01:00, not 2). The skipped clock times of spring are among the
    # random questions ("days-to-a-changed-clock"), and agree.
    site = traffic[0]
    end = dt.datetime.fromisoformat(clock).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    first = dt.date.fromisoformat(clock[:10])
    question = Question(site, [("from", first.isoformat()), ("to", utc_text(end)), ("timezone", zone),
                               ("interval", "hour")], zone, local_midnight(first, zone), end, True, "hour", {}, 10, True)
    body, error = ask(question)
    assert body is not None, error
    expected = expected_answer(question)
    assert body["comparison"]["to"] == expected["comparison"]["to"], question.query
    assert not differences(body, expected), (question.query, differences(body, expected))


# --- the breakdown endpoint -------------------------------------------------------------------------

BREAKDOWN_DIMENSIONS = [*FILTER_COLUMNS, "landing", "exit"]
ORDER_BY = ["pageviews", "visitors", "bounce_rate", "avg_session_duration"]
CSV_HEADER = ["name", "pageviews", "visitors", "bounce_rate", "avg_session_duration"]


def expected_breakdown(raw: RawEvents, start: dt.datetime, end: dt.datetime, filters: dict, dimension: str,
                       order_by: str = "pageviews", order: str = "desc") -> list[dict]:
    """Every row of `GET /api/sites/{id}/stats/breakdown?dimension=…` for the range and filters.

    A value's row holds the §10.3 numbers over the matching page views that have that value; for
    `landing` (`exit`), a path's row holds them over the matching page views of the sessions whose
    first (last) matching page view in the range is on that path. Ordered by `order_by` as shown
    (rounded: rows that read the same are tied), ties by name in byte order, whatever `order`."""
    events = raw.select(start, end, filters)
    groups = defaultdict(list)
    if dimension in ("landing", "exit"):
        sessions = defaultdict(list)
        for event in events:
            sessions[event["session_id"]].append(event)
        for group in sessions.values():
            group.sort(key=lambda e: (e["us"], e["id"]))
            groups[group[0 if dimension == "landing" else -1]["path"]].extend(group)
    else:
        column = FILTER_COLUMNS[dimension]
        for event in events:
            groups[event[column]].append(event)
    rows = []
    for value, group in groups.items():
        totals = RawEvents.totals(group)
        rows.append({"name": value or (raw.domain if dimension == "hostname" else "(none)"),
                     "pageviews": totals["total_pageviews"],
                     "visitors": totals["unique_sessions"], "bounce_rate": totals["bounce_rate"],
                     "avg_session_duration": totals["avg_session_duration"]})
    rows.sort(key=lambda row: row["name"].encode())
    # Stable, reversed or not: rows with equal values keep the name order.
    rows.sort(key=lambda row: row[order_by], reverse=order == "desc")
    return rows


def breakdown_rows_from_csv(text: str) -> list[dict]:
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    assert rows and rows[0] == CSV_HEADER, rows[:1]
    return [{"name": name, "pageviews": int(pageviews), "visitors": int(visitors), "bounce_rate": float(bounce),
             "avg_session_duration": float(duration)} for name, pageviews, visitors, bounce, duration in rows[1:]]


def test_the_breakdown_oracle_agrees_with_the_stats_endpoint(stack, traffic):
    # The breakdown endpoint does not exist yet, so its oracle is held to what the stats endpoint
    # already answers: a dimension's top rows by page views are its top list; landing and exit
    # rows count sessions as the landing and exit lists do; the rows add up to the totals; and a
    # value's row has the totals of the stats filtered on that value.
    rng = random.Random(77)
    failures = []
    for number in range(12):
        question = random_question(rng, traffic)
        question.params = [(name, value) for name, value in question.params if name not in ("limit", "compare")]
        question.params += [("limit", "100"), ("compare", "none")]
        body, error = ask(question)
        where = f"question {number}: GET /api/sites/{question.site.id}/stats?{question.query}"
        assert body is not None, f"{where}: {error}"
        raw = question.site.raw
        lists = {"path": "top_pages", "referrer": "top_referrers", "device": "top_devices", "browser": "top_browsers",
                 "os": "top_os", "country": "top_countries", "language": "top_languages",
                 "utm_source": "top_utm_sources", "utm_medium": "top_utm_mediums",
                 "utm_campaign": "top_utm_campaigns", "hostname": "top_hostnames", "landing": "top_landing_pages",
                 "exit": "top_exit_pages"}
        for dimension in BREAKDOWN_DIMENSIONS:
            session_ends = dimension in ("landing", "exit")
            counted = "visitors" if session_ends else "pageviews"
            rows = expected_breakdown(raw, question.start, question.end, question.filters, dimension, counted)
            top = [{"name": row["name"], "value": row[counted]} for row in rows[:100]]
            if top != body[lists[dimension]]:
                failures.append(f"{where}: {dimension}: {top[:5]} != {body[lists[dimension]][:5]}")
            if sum(row["pageviews"] for row in rows) != body["total_pageviews"]:
                failures.append(f"{where}: {dimension}: page views do not add up")
            if session_ends and sum(row["visitors"] for row in rows) != body["unique_sessions"]:
                failures.append(f"{where}: {dimension}: sessions do not add up")
        kind = rng.choice([kind for kind, column in FILTER_COLUMNS.items() if column not in question.filters])
        rows = expected_breakdown(raw, question.start, question.end, question.filters, kind,
                                  rng.choice(ORDER_BY), rng.choice(["asc", "desc"]))
        for row in rng.sample(rows, min(2, len(rows))):
            narrowed = [*question.params, ("filter", f"{kind}:{row['name']}")]
            filtered = assert_json(question.site.api.get(
                f"/api/sites/{question.site.id}/stats?" + urllib.parse.urlencode(narrowed, quote_via=urllib.parse.quote)))
            got = (filtered["total_pageviews"], filtered["unique_sessions"], filtered["bounce_rate"],
                   filtered["avg_session_duration"])
            if got != (row["pageviews"], row["visitors"], row["bounce_rate"], row["avg_session_duration"]):
                failures.append(f"{where}: row {row} against the stats filtered on {kind}: {got}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("seed", range(4))
def test_breakdown_pages_and_csv_agree_with_the_raw_events(stack, traffic, seed):
    rng = random.Random(5000 + seed)
    failures = []
    for number in range(10):
        question = random_question(rng, traffic)
        dimension = rng.choice(BREAKDOWN_DIMENSIONS)
        order_by, order = rng.choice([None, *ORDER_BY]), rng.choice([None, "asc", "desc"])
        page_size = rng.choice([None, 1, 2, 3, 7, 10, 25, 1000, rng.randrange(1, 1001)])
        params = [(name, value) for name, value in question.params if name in ("from", "to", "timezone", "filter")]
        params.append(("dimension", dimension))
        params += [("order_by", order_by)] if order_by else []
        params += [("order", order)] if order else []
        expected = expected_breakdown(question.site.raw, question.start, question.end, question.filters, dimension,
                                      order_by or "pageviews", order or "desc")
        path = f"/api/sites/{question.site.id}/stats/breakdown?"
        where = f"seed {seed} question {number}: GET {path}{urllib.parse.urlencode(params, quote_via=urllib.parse.quote)}"

        # Every page, following the cursors: together, every row once, in order.
        rows, cursor, pages = [], None, 0
        size = page_size or 100
        while True:
            paged = params + ([("page_size", str(page_size))] if page_size else []) + \
                ([("cursor", cursor)] if cursor else [])
            response = question.site.api.get(path + urllib.parse.urlencode(paged, quote_via=urllib.parse.quote))
            if response.status_code != 200:
                failures.append(f"{where} (page {pages}): {response.status_code} {response.text[:200]}")
                break
            body = assert_json(response)
            assert list(body) == ["site_id", "from", "to", "timezone", "dimension", "order_by", "order", "rows",
                                  "next_cursor"], f"{where}: {list(body)}"
            pages += 1
            rows += body["rows"]
            cursor = body["next_cursor"]
            # A page holds page_size rows while more follow, the last one the rest.
            if (len(body["rows"]) != size if cursor else len(body["rows"]) > size) or pages > len(expected) // size + 2:
                failures.append(f"{where}&page_size={page_size}: page {pages} has {len(body['rows'])} rows")
                break
            if cursor is None:
                found = differences(rows, expected)
                if found:
                    failures.append(f"{where}&page_size={page_size}\n  " + "\n  ".join(found))
                break

        # The CSV: every row at once, asked for either way.
        if rng.random() < 0.5:
            response = question.site.api.get(path + urllib.parse.urlencode(
                params + [("format", "csv")], quote_via=urllib.parse.quote))
        else:
            response = question.site.api.get(path + urllib.parse.urlencode(params, quote_via=urllib.parse.quote),
                                             headers={"Accept": "text/csv"})
        if response.status_code != 200 or not response.headers.get("Content-Type", "").startswith("text/csv"):
            failures.append(f"{where} as CSV: {response.status_code} {response.headers.get('Content-Type')}")
            continue
        text = response.content.decode("utf-8")
        # RFC 4180: CRLF ends every record (no value holds a line break).
        if text.replace("\r\n", "").count("\n") or not text.endswith("\r\n"):
            failures.append(f"{where} as CSV: lines not ended by CRLF")
        found = differences(breakdown_rows_from_csv(text), expected)
        if found:
            failures.append(f"{where} as CSV\n  " + "\n  ".join(found))
    assert not failures, "\n".join(failures)


# The visitor profile's dimensions and columns (`VisitorProfiles`): a breakdown by one under filters on
# these alone reads the profiles' rollups.
PROFILE_COLUMNS = ["device", "browser", "os", "country", "language"]


@pytest.mark.parametrize("seed", range(3))
def test_breakdowns_over_ranges_ending_inside_a_quarter_hour_agree_with_the_raw_events(stack, traffic, seed):
    """A dashboard or Grafana asks from an odd instant (10:07:13) to now: every value's row is the
    whole quarter hours' rollups corrected by the sessions with matching page views of that value in
    the partial quarters at either end, as exact as a count over the raw events. Without a filter,
    and for a visitor profile's dimension under filters on those (their profiles' rollups)."""
    rng = random.Random(7000 + seed)
    failures = []
    for number in range(12):
        site = traffic[0] if rng.random() < 0.75 else traffic[1]
        anchor = rng.choice(site.events)["occurred_at"]
        start = (anchor - dt.timedelta(seconds=rng.randrange(0, 2 * 86_400))).replace(microsecond=0)
        end = start + dt.timedelta(seconds=rng.choice([rng.randrange(900, 3600), rng.randrange(3600, 86_400),
                                                       rng.randrange(86_400, 6 * 86_400)]))
        # Either end, or both, inside a quarter hour, the other sometimes on one.
        if rng.random() < 0.3:
            start = floor_to(start, 15)
        elif rng.random() < 0.3:
            end = floor_to(end, 15)
        filter_params, filters = [], {}
        if rng.random() < 0.4:
            dimension = rng.choice(PROFILE_COLUMNS)
            inside = [e for e in site.events if start <= e["occurred_at"] < end] or site.events
            for kind in rng.sample(PROFILE_COLUMNS, rng.choice([1, 1, 2])):
                value = rng.choice(inside)[FILTER_COLUMNS[kind]]
                filter_params.append(("filter", f"{kind}:{value or '(none)'}"))
                filters[FILTER_COLUMNS[kind]] = value
        else:
            dimension = rng.choice(sorted(FILTER_COLUMNS))
        order_by, order = rng.choice(ORDER_BY), rng.choice(["asc", "desc"])
        params = [("from", instant_text(rng, start)), ("to", instant_text(rng, end)), ("dimension", dimension),
                  ("order_by", order_by), ("order", order), ("page_size", "1000"), *filter_params]
        expected = expected_breakdown(site.raw, start, end, filters, dimension, order_by, order)
        query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
        response = site.api.get(f"/api/sites/{site.id}/stats/breakdown?{query}")
        if response.status_code != 200:
            failures.append(f"question {number} ({query}): {response.status_code} {response.text[:200]}")
            continue
        found = differences(assert_json(response)["rows"], expected)
        if found:
            failures.append(f"question {number} ({query})\n  " + "\n  ".join(found))
    assert not failures, "\n".join(failures)

"""Strategies for the formats of docs/openapi.json that JSON Schema does not know, loaded by
schemathesis (SCHEMATHESIS_HOOKS) in test_openapi.py.

- `iana-time-zone`: a name the server's tz database knows. The server reads the same
  /usr/share/zoneinfo that Python's zoneinfo lists here.
- `future-date-time`: an RFC 3339 time after the request (an API client's expiry).
- `past-date-time`: an RFC 3339 time from 1970 up to the request (a page view's).
"""

import datetime
import zoneinfo

import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.format("iana-time-zone", st.sampled_from(sorted(zoneinfo.available_timezones())))

_DAY = datetime.timedelta(days=1)


def _future(days: int) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) + days * _DAY
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# Drawn when the request is built, so "future" means after that moment (by at least a day).
schemathesis.openapi.format("future-date-time", st.integers(min_value=1, max_value=3650).map(_future))


def _past(seconds: int) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# A page view's time: from 1970 up to the request (the server allows 5 minutes ahead).
_SINCE_1970 = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
schemathesis.openapi.format("past-date-time", st.integers(min_value=0, max_value=_SINCE_1970 - 1).map(_past))

"""The platform clock: the one place that reads the time. Every "now" and "today" comes from here.

`QZT_CLOCK` (an ISO moment with its offset, e.g. 2027-07-01T10:00:00+08:00) fixes "now" for the whole
process, web and `flask qzt …` commands alike: for demos, training and acceptance tests. Pages then show
a 演示时钟 banner. The setting is read from the app config when there is an app, else the environment.
"""

import os
from datetime import UTC, date, datetime
from functools import lru_cache

from flask import current_app, has_app_context

from qzt.rules.calendar import to_beijing

SETTING = "QZT_CLOCK"


@lru_cache(maxsize=8)
def parse(value: str) -> datetime:
    """A QZT_CLOCK value as an aware moment; ValueError says what is wrong with it."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"{SETTING}={value!r}: expected an ISO moment such as 2027-07-01T10:00:00+08:00"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"{SETTING}={value!r}: give the offset, e.g. +08:00 for Beijing time")
    return moment.astimezone(UTC)


def fixed() -> datetime | None:
    """The moment QZT_CLOCK fixes, or None when the clock runs."""
    value = current_app.config.get(SETTING) if has_app_context() else os.environ.get(SETTING)
    return parse(value) if value else None


def now() -> datetime:
    """The current moment, zone-aware UTC (how moments are stored)."""
    return fixed() or datetime.now(UTC)


def today() -> date:
    """Today's date in Beijing, whatever the server's zone."""
    return to_beijing(now()).date()


def init_app(app) -> None:
    """Refuse a malformed QZT_CLOCK at start-up rather than at the first request."""
    if app.config.get(SETTING):
        parse(app.config[SETTING])

"""The platform clock: the one place that reads the time. Every "now" and "today" comes from here."""

from datetime import UTC, date, datetime

from qzt.rules.calendar import to_beijing


def now() -> datetime:
    """The current moment, zone-aware UTC (how moments are stored)."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in Beijing, whatever the server's zone."""
    return to_beijing(now()).date()

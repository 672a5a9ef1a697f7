"""Column helpers shared by the models."""

import enum
from datetime import UTC, datetime

import sqlalchemy as sa


def utcnow() -> datetime:
    return datetime.now(UTC)


def enum_column(enum_cls: type[enum.Enum], **kw) -> sa.Enum:
    """Enums stored as their value in a VARCHAR, identical on SQLite and PostgreSQL."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        **kw,
    )


UTCDateTime = sa.DateTime(timezone=True)

# The largest integer primary key (PostgreSQL INTEGER): URL converters stop larger ids with a 404.
MAX_ID = 2**31 - 1

"""Column helpers shared by the models."""

import enum
from datetime import UTC, datetime

import sqlalchemy as sa


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


class UTCDateTime(sa.TypeDecorator):
    """A moment stored in UTC and always read back zone-aware (SQLite keeps no zone: it would come back
    naive), so no caller has to guess."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one (qzt.core.clock.now)")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, _dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


# The largest integer primary key (PostgreSQL INTEGER): URL converters stop larger ids with a 404.
MAX_ID = 2**31 - 1

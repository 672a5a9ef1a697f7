"""Small parsers for values typed into spreadsheets and forms."""

import re
from datetime import date

_SEPARATORS = re.compile(r"[、;；]")


def split_multi(value: str) -> list[str]:
    """Split 服务类别/服务项目 cells: values separated by 、 or ; or ；, blanks dropped."""
    return [part.strip() for part in _SEPARATORS.split(value or "") if part.strip()]


def parse_date(value: str | None) -> date | None:
    """A YYYY-MM-DD date as typed, or None when blank or not a date."""
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None

"""Small parsers for values typed into spreadsheets and forms."""

import re

_SEPARATORS = re.compile(r"[、;；]")


def split_multi(value: str) -> list[str]:
    """Split 服务类别/服务项目 cells: values separated by 、 or ; or ；, blanks dropped."""
    return [part.strip() for part in _SEPARATORS.split(value or "") if part.strip()]

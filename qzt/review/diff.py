"""What changed between two revisions of an application's data (pure)."""

from typing import Any


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"basic.name": ..., "services.0.title": ...}"""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, inner in items:
        flat.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def changes(old: dict, new: dict) -> list[tuple[str, Any, Any]]:
    """(path, old value, new value) for every path whose value differs, in path order."""
    a, b = flatten(old), flatten(new)
    return [
        (path, a.get(path), b.get(path)) for path in sorted(a.keys() | b.keys()) if a.get(path) != b.get(path)
    ]

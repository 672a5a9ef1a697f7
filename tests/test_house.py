"""The house rules: areas do not lean on each other, nothing registers at import time, one clock.

Areas (one blueprint package each) may import the shared rooms only: rules, models, data, core,
documents, auth (accounts and role checks) and pledges (the pledge every area shows). The shared rooms
never import an area. create_app and cli compose the areas and may import any of them.
"""

import ast
from pathlib import Path

import pytest

QZT = Path(__file__).resolve().parent.parent / "qzt"
SHARED = {"rules", "models", "data", "core", "documents", "auth", "pledges", "extensions", "config"}
COMPOSERS = {QZT / "__init__.py", QZT / "cli.py"}
# What each shared room may import besides itself: the rules and data stand on nothing of ours.
SHARED_MAY_IMPORT = {
    "rules": {"rules", "data"},
    "data": {"data"},
    "models": {"models", "data", "extensions", "core"},
    "core": {"core", "models", "rules", "data", "extensions", "config"},
    "documents": {"documents", "core"},
    "auth": {"auth", "core", "models", "rules", "data", "extensions"},
    "pledges": {"pledges", "core", "models", "rules", "data", "documents", "extensions"},
}


def modules() -> list[Path]:
    return sorted(p for p in QZT.rglob("*.py") if "migrations" not in p.parts)


def room(path: Path) -> str:
    """The top-level package or module under qzt/ a file belongs to."""
    return path.relative_to(QZT).parts[0].removesuffix(".py")


def imported_rooms(path: Path) -> set[str]:
    rooms = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "qzt" and len(parts) > 1 and parts[1] != "__init__":
                rooms.add(parts[1])
    return rooms


AREAS = sorted({room(p) for p in modules() if p.parent != QZT and room(p) not in SHARED})


def test_the_areas_are_the_blueprint_packages():
    assert AREAS == [
        "assessments",
        "consultations",
        "directory",
        "onboarding",
        "operations",
        "review",
        "statistics",
        "supervision",
        "wechat",
        "withdrawals",
    ]


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(QZT)))
def test_imports_stay_in_their_lane(path):
    if path in COMPOSERS:
        return
    own = room(path)
    allowed = SHARED_MAY_IMPORT.get(own, SHARED | {own})
    stray = imported_rooms(path) - allowed - {own}
    assert not stray, f"{path.relative_to(QZT)} imports {sorted(stray)}"


def _module_level_calls(tree: ast.Module):
    """Statements that run at import time: the module body, outside functions and classes' methods."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from node.decorator_list
        elif isinstance(node, ast.ClassDef):
            yield from node.decorator_list
            for inner in node.body:
                if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield from inner.decorator_list
        else:
            yield node


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(QZT)))
def test_no_listener_is_registered_at_import_time(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for statement in _module_level_calls(tree):
        for node in ast.walk(statement):
            if isinstance(node, ast.Attribute) and node.attr in ("listens_for", "listen", "user_loader"):
                pytest.fail(f"{path.relative_to(QZT)}:{node.lineno} registers {node.attr} at import time")


READING_THE_TIME = {("date", "today"), ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today")}


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(QZT)))
def test_only_the_clock_reads_the_time(path):
    if path == QZT / "core" / "clock.py":
        return
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in READING_THE_TIME
        ):
            pytest.fail(f"{path.relative_to(QZT)}:{node.lineno} reads the time: use qzt.core.clock")


def test_every_area_package_defines_its_blueprint():
    import importlib

    for name in [*AREAS, "auth", "pledges", "directory.api"]:
        package = importlib.import_module(f"qzt.{name}")
        assert hasattr(package, "bp"), f"qzt/{name.replace('.', '/')}/__init__.py defines no bp"

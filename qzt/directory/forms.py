"""The directory's query string, parsed and checked (shared by the pages and the JSON API)."""

from dataclasses import dataclass

from qzt.data.catalog import CATEGORY_BY_NAME, CATEGORY_NAMES, DISTRICT_BY_NAME, DISTRICT_NAMES
from qzt.directory.search import Filters

MAX_PER_PAGE = 100
MAX_QUERY = 100
MAX_PAGE = 100_000


@dataclass
class DirectoryQuery:
    filters: Filters
    page: int
    per_page: int
    errors: dict[str, str]


def _positive_int(raw: str | None, default: int, name: str, label: str, errors: dict, upper: int) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        errors[name] = f"{label}应为正整数"
        return default
    if not 1 <= value <= upper:
        errors[name] = f"{label}应在1到{upper}之间"
        return default
    return value


def _slug(raw: str | None, names: dict[str, str], by_name: dict[str, str]) -> str | None | bool:
    """The slug for a slug or a Chinese name (检验检测 → inspection); None when not given, False when
    unknown."""
    value = (raw or "").strip()
    if not value:
        return None
    if value in names:
        return value
    return by_name.get(value, by_name.get(value + "区", False))


def parse(args, default_per_page: int = 20) -> DirectoryQuery:
    """Read q, category, district (each by slug or by name), page and per_page; unknown values become
    errors, never exceptions."""
    errors: dict[str, str] = {}
    q = (args.get("q") or "").strip()
    if len(q) > MAX_QUERY:
        errors["q"] = f"搜索词不能超过{MAX_QUERY}个字"
        q = q[:MAX_QUERY]
    category = _slug(args.get("category"), CATEGORY_NAMES, CATEGORY_BY_NAME)
    if category is False:
        errors["category"] = "未知的服务类别，请从列表中选择（如“检验检测”或 inspection）"
        category = None
    district = _slug(args.get("district"), DISTRICT_NAMES, DISTRICT_BY_NAME)
    if district is False:
        errors["district"] = "未知的所在区，请从列表中选择（如“顺德区”或 shunde）"
        district = None
    page = _positive_int(args.get("page"), 1, "page", "页码", errors, MAX_PAGE)
    per_page = _positive_int(
        args.get("per_page"), default_per_page, "per_page", "每页条数", errors, MAX_PER_PAGE
    )
    return DirectoryQuery(Filters(q=q, category=category, district=district), page, per_page, errors)

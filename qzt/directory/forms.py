"""The directory's query string, parsed and checked (shared by the pages and the JSON API)."""

from dataclasses import dataclass

from qzt.data.catalog import CATEGORY_NAMES, DISTRICT_NAMES
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


def parse(args, default_per_page: int = 20) -> DirectoryQuery:
    """Read q, category, district, page and per_page; unknown values become errors, never exceptions."""
    errors: dict[str, str] = {}
    q = (args.get("q") or "").strip()
    if len(q) > MAX_QUERY:
        errors["q"] = f"搜索词不能超过{MAX_QUERY}个字"
        q = q[:MAX_QUERY]
    category = args.get("category") or None
    if category and category not in CATEGORY_NAMES:
        errors["category"] = "未知的服务类别"
        category = None
    district = args.get("district") or None
    if district and district not in DISTRICT_NAMES:
        errors["district"] = "未知的所在区"
        district = None
    page = _positive_int(args.get("page"), 1, "page", "页码", errors, MAX_PAGE)
    per_page = _positive_int(
        args.get("per_page"), default_per_page, "per_page", "每页条数", errors, MAX_PER_PAGE
    )
    return DirectoryQuery(Filters(q=q, category=category, district=district), page, per_page, errors)

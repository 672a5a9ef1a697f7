"""Reading institution lists from CSV or Excel files, and validating every row before anything is saved.

No Flask and no database here: `read_institutions(path)` returns plain records or raises
`FileProblems` naming every bad row, so the caller imports all rows or none.
"""

import csv
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from qzt.data.catalog import CATEGORIES, CATEGORY_BY_NAME, DISTRICT_BY_NAME, DISTRICTS
from qzt.models.institution import AgentRecord, InstitutionRecord, ServiceRecord
from qzt.rules import phone as phone_rules
from qzt.rules import uscc as usccs
from qzt.rules.values import split_multi

COLUMNS = (
    "机构名称",
    "统一社会信用代码",
    "所在区",
    "服务类别",
    "服务项目",
    "机构简介",
    "联系电话",
    "入驻日期",
)
# Optional: an imported institution's customer-service agent (Art. 6), so that Art. 17's one-month rule
# does not hide it for want of one. Without these columns an update keeps the agents it has.
AGENT_COLUMNS = ("客服姓名", "客服手机号码")
FEATURED_MAX = 3  # Art. 7: two to three featured service items

# Lengths of the database columns the values go into.
_MAX_NAME = 200
_MAX_TITLE = 200
_MAX_PHONE = 30

_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
# 顺德 for 顺德区: the short form is common in spreadsheets and unambiguous.
_DISTRICTS = {
    **DISTRICT_BY_NAME,
    **{d.name.removesuffix("区"): d.slug for d in DISTRICTS if d.name.endswith("区")},
}


@dataclass(frozen=True)
class Problem:
    row: int | None  # spreadsheet row number: the header is row 1; None for the file as a whole
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return f"第{self.row}行：{self.message}"


class FileProblems(Exception):
    """The file cannot be imported; `problems` says where and why, in Chinese."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems

    @property
    def rows(self) -> list[int]:
        return sorted({p.row for p in self.problems if p.row is not None})


def assign_services(categories: list[str], titles: list[str]) -> list[ServiceRecord]:
    """Pair 服务项目 with 服务类别 (slugs) as the import file gives them.

    Equal counts pair by position; a single category takes every item; otherwise the items go to
    the first category. A category left without an item gets one titled after the category. The
    first items, up to three, are the featured ones (Art. 7).
    """
    if len(categories) == len(titles):
        pairs = list(zip(categories, titles, strict=True))
    elif categories:
        pairs = [(categories[0], title) for title in titles]
    else:
        pairs = []
    covered = {category for category, _ in pairs}
    for category in dict.fromkeys(categories):
        if category not in covered:
            pairs.append((category, _category_name(category)))
    return [
        ServiceRecord(category=category, title=title, featured=i < FEATURED_MAX, position=i)
        for i, (category, title) in enumerate(pairs)
    ]


def _category_name(slug: str) -> str:
    return next(c.name for c in CATEGORIES if c.slug == slug)


def read_institutions(path: str | Path) -> list[InstitutionRecord]:
    """Every row of the file as a record, or FileProblems listing each bad row (nothing is half-read)."""
    path = Path(path)
    rows = _read_rows(path)
    header, data = _header(rows)
    records: list[InstitutionRecord] = []
    problems: list[Problem] = []
    first_row_of: dict[str, int] = {}
    for number, cells in data:
        values = {name: _text(cells[i]) if i < len(cells) else "" for name, i in header.items()}
        values["入驻日期"] = cells[header["入驻日期"]] if header["入驻日期"] < len(cells) else None
        record, messages = _record(values)
        code = usccs.normalize(values["统一社会信用代码"])
        if usccs.is_valid(code) and code in first_row_of:
            messages.append(f"统一社会信用代码 {code} 与第{first_row_of[code]}行重复")
        first_row_of.setdefault(code, number)
        problems += [Problem(number, m) for m in messages]
        if not messages:
            records.append(record)
    if problems:
        raise FileProblems(problems)
    if not records:
        raise _file_problem("文件中没有机构数据：表头（第1行）之后没有内容")
    return records


def _read_rows(path: Path) -> list[list]:
    if not path.is_file():
        raise _file_problem(f"找不到文件：{path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix == ".xls":
        raise _file_problem("不支持旧版Excel（.xls）文件：请在Excel中另存为.xlsx或“CSV UTF-8”后再导入")
    kind = suffix or path.name
    raise _file_problem(f"不支持的文件类型“{kind}”：请使用CSV（UTF-8编码）或Excel（.xlsx）文件")


def _file_problem(message: str) -> FileProblems:
    return FileProblems([Problem(None, message)])


def _read_csv(path: Path) -> list[list]:
    try:
        # utf-8-sig drops the byte-order mark Excel writes at the start of "CSV UTF-8" files.
        with path.open(encoding="utf-8-sig", newline="") as f:
            return list(csv.reader(f))
    except UnicodeDecodeError:
        message = "文件不是UTF-8编码：请在Excel中用“另存为 → CSV UTF-8（逗号分隔）”保存后再导入"
        raise _file_problem(message) from None
    except (csv.Error, OSError) as e:
        raise _file_problem(f"无法读取CSV文件：{e}") from None


def _read_xlsx(path: Path) -> list[list]:
    import openpyxl  # only needed for Excel files; it takes a moment to import

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; the cell values are all we need.
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
            finally:
                workbook.close()
    except Exception as e:  # a damaged workbook fails deep inside openpyxl in many ways (zip, XML, values)
        reason = type(e).__name__
        raise _file_problem(f"无法读取Excel文件，文件可能已损坏或不是.xlsx格式（{reason}）") from None


def _header(rows: list[list]) -> tuple[dict[str, int], Iterator[tuple[int, list]]]:
    """Column positions by name, and the data rows with their spreadsheet row numbers (blank rows skipped)."""
    if not rows or not any(_text(c) for c in rows[0]):
        raise _file_problem("文件为空：第1行应为表头（" + "、".join(COLUMNS) + "）")
    header: dict[str, int] = {}
    for i, cell in enumerate(rows[0]):
        name = _text(cell).rstrip("*＊").strip()
        header.setdefault(name, i)
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise FileProblems(
            [Problem(1, "表头缺少列：" + "、".join(missing) + "（表头应为：" + "、".join(COLUMNS) + "）")]
        )
    data = ((number, row) for number, row in enumerate(rows[1:], start=2) if any(_text(c) for c in row))
    return {name: header[name] for name in (*COLUMNS, *AGENT_COLUMNS) if name in header}, data


def _text(cell) -> str:
    """A cell as trimmed text; Excel hands numbers over as int or float (13800138000.0)."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, datetime):
        cell = cell.date()
    return str(cell).replace("\ufeff", "").strip()


def _record(values: dict) -> tuple[InstitutionRecord | None, list[str]]:
    messages: list[str] = []
    name = values["机构名称"]
    if not name:
        messages.append("请填写机构名称")
    elif len(name) > _MAX_NAME:
        messages.append(f"机构名称过长：不超过{_MAX_NAME}字")

    code = usccs.normalize(values["统一社会信用代码"])
    problem = usccs.problem(code)
    if problem:
        shown = f"（{values['统一社会信用代码']}）" if values["统一社会信用代码"] else ""
        messages.append(problem + shown)

    district = _DISTRICTS.get(values["所在区"])
    if not values["所在区"]:
        messages.append("请填写所在区")
    elif district is None:
        messages.append(f"所在区“{values['所在区']}”不存在，应为：" + "、".join(d.name for d in DISTRICTS))

    categories: list[str] = []
    names = split_multi(values["服务类别"])
    if not names:
        messages.append("请填写服务类别")
    for category_name in names:
        slug = CATEGORY_BY_NAME.get(category_name)
        if slug is None:
            choices = "、".join(c.name for c in CATEGORIES)
            messages.append(f"服务类别“{category_name}”不存在，应为以下之一：{choices}")
        else:
            categories.append(slug)

    titles = split_multi(values["服务项目"])
    messages += [f"服务项目“{t[:20]}…”过长：不超过{_MAX_TITLE}字" for t in titles if len(t) > _MAX_TITLE]

    phone = values["联系电话"]
    if len(phone) > _MAX_PHONE:
        messages.append(f"联系电话过长：不超过{_MAX_PHONE}个字符")
    elif phone and not any(ch.isdigit() for ch in phone):
        messages.append(f"联系电话“{phone}”不是电话号码")

    opened_on, date_problem = _opening_date(values["入驻日期"])
    if date_problem:
        messages.append(date_problem)

    agents = None  # not in the file: keep what the institution has
    if "客服姓名" in values or "客服手机号码" in values:
        agent_name, agent_phone = values.get("客服姓名", ""), values.get("客服手机号码", "")
        agents = []
        if agent_name or agent_phone:
            if not agent_name or len(agent_name) > 100:
                messages.append("请填写客服姓名（不超过100字），或将客服姓名和客服手机号码都留空")
            if not phone_rules.is_mobile(agent_phone):
                messages.append(f"客服手机号码“{agent_phone}”不是11位手机号码")
            agents = [AgentRecord(name=agent_name, phone=phone_rules.normalize(agent_phone))]

    if messages:
        return None, messages
    record = InstitutionRecord(
        name=name,
        uscc=code,
        district=district,
        introduction=values["机构简介"],
        phone=phone or None,
        opened_on=opened_on,
        services=assign_services(categories, titles),
        agents=agents,
    )
    return record, messages


def _opening_date(cell) -> tuple[date | None, str | None]:
    """入驻日期 as YYYY-MM-DD text, or a date cell from Excel."""
    if isinstance(cell, datetime):
        return cell.date(), None
    if isinstance(cell, date):
        return cell, None
    text = _text(cell)
    if not text:
        return None, "请填写入驻日期（格式YYYY-MM-DD，如2024-03-15）"
    match = _DATE.match(text)
    if match:
        try:
            return date(*(int(part) for part in match.groups())), None
        except ValueError:
            return None, f"入驻日期“{text}”不是有效日期"
    return None, f"入驻日期“{text}”格式不正确：应为YYYY-MM-DD，如2024-03-15"

"""`flask qzt import-institutions`: CSV and Excel files, all rows or none, clear Chinese reasons per row."""

import csv
from datetime import date, datetime

import openpyxl
import pytest
import sqlalchemy as sa

from qzt.directory.importing import AGENT_COLUMNS, COLUMNS, assign_services
from qzt.directory.search import Filters, search
from qzt.extensions import db
from qzt.models import Institution, ListingState
from qzt.rules.uscc import with_check_digit


def code(n: int) -> str:
    return with_check_digit(f"91440606MA{n:07d}")


def row(n: int = 1, **changes) -> dict:
    values = {
        "机构名称": f"佛山市顺德区华诚检测技术有限公司{n}",
        "统一社会信用代码": code(n),
        "所在区": "顺德区",
        "服务类别": "检验检测、认证认可",
        "服务项目": "陶瓷砖检测、ISO9001质量管理体系认证",
        "机构简介": "专业从事陶瓷与家电检测。",
        "联系电话": "0757-22381234",
        "入驻日期": "2024-03-15",
    }
    values.update(changes)
    return values


def write_csv(path, rows: list[dict], *, bom: bool = True, columns=COLUMNS):
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows([[r.get(c, "") for c in columns] for r in rows])
    return path


def run_import(runner, path):
    return runner.invoke(args=["qzt", "import-institutions", str(path)])


def institutions() -> list[Institution]:
    return list(db.session.scalars(sa.select(Institution).order_by(Institution.uscc)))


def assert_failed_cleanly(result):
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert "Traceback" not in result.output
    assert "未导入任何机构" in result.stderr
    assert institutions() == []


@pytest.mark.parametrize("bom", [True, False], ids=["bom", "no-bom"])
def test_csv_rows_become_listed_institutions(runner, tmp_path, bom):
    path = write_csv(
        tmp_path / "机构.csv",
        [row(1), row(2, 所在区="禅城区", 服务类别="知识产权", 服务项目="商标注册；发明专利申请")],
        bom=bom,
    )
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "新增2家" in result.output and "更新0家" in result.output

    first, second = institutions()
    assert first.name == "佛山市顺德区华诚检测技术有限公司1"
    assert first.uscc == code(1) and first.district == "shunde"
    assert first.listing_state == ListingState.LISTED
    assert first.opened_on == date(2024, 3, 15)
    assert first.phone == "0757-22381234" and first.introduction == "专业从事陶瓷与家电检测。"
    assert [(s.category, s.title) for s in first.services] == [
        ("inspection", "陶瓷砖检测"),
        ("certification", "ISO9001质量管理体系认证"),
    ]
    assert second.district == "chancheng"
    assert [(s.category, s.title) for s in second.services] == [
        ("intellectual-property", "商标注册"),
        ("intellectual-property", "发明专利申请"),
    ]


def test_xlsx_with_date_cells_and_numbers(runner, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS))
    values = row(3, 联系电话=13800138000, 所在区="南海区")
    values["入驻日期"] = datetime(2023, 6, 1)
    sheet.append([values[c] for c in COLUMNS])
    sheet.append([None] * len(COLUMNS))  # blank rows at the end are ignored
    workbook.save(tmp_path / "机构.xlsx")

    result = run_import(runner, tmp_path / "机构.xlsx")
    assert result.exit_code == 0, result.output
    (institution,) = institutions()
    assert institution.opened_on == date(2023, 6, 1)
    assert institution.phone == "13800138000"
    assert institution.district == "nanhai"


def test_reimport_updates_instead_of_duplicating(runner, tmp_path):
    assert run_import(runner, write_csv(tmp_path / "a.csv", [row(1)])).exit_code == 0
    changed = row(
        1,
        机构名称="佛山市顺德区华诚检测认证有限公司",
        服务类别="计量",
        服务项目="仪器设备校准",
        入驻日期="2024-05-06",
        所在区="高明区",
    )
    result = run_import(runner, write_csv(tmp_path / "b.csv", [changed, row(2)]))
    assert result.exit_code == 0, result.output
    assert "新增1家" in result.output and "更新1家" in result.output

    first, second = institutions()
    assert first.uscc == code(1) and second.uscc == code(2)
    assert first.name == "佛山市顺德区华诚检测认证有限公司"
    assert first.district == "gaoming" and first.opened_on == date(2024, 5, 6)
    assert [(s.category, s.title) for s in first.services] == [("metrology", "仪器设备校准")]


def test_reimport_does_not_undo_an_expulsion_art17(runner, tmp_path, make_institution):
    expelled = make_institution(state=ListingState.EXPELLED)
    result = run_import(runner, write_csv(tmp_path / "a.csv", [row(1, 统一社会信用代码=expelled.uscc)]))
    assert result.exit_code == 0, result.output
    db.session.refresh(expelled)
    assert expelled.listing_state == ListingState.EXPELLED
    assert expelled.name == "佛山市顺德区华诚检测技术有限公司1"


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"统一社会信用代码": code(2)[:-1] + ("0" if code(2)[-1] != "0" else "1")}, "校验位不符"),
        ({"统一社会信用代码": "91440606"}, "应为18位"),
        ({"服务类别": "检验检测、质量检查"}, "服务类别“质量检查”不存在"),
        ({"所在区": "番禺区"}, "所在区“番禺区”不存在"),
        ({"入驻日期": "2024/03/15"}, "入驻日期“2024/03/15”格式不正确"),
        ({"入驻日期": "2024-02-30"}, "不是有效日期"),
        ({"入驻日期": ""}, "请填写入驻日期"),
        ({"机构名称": "  "}, "请填写机构名称"),
        ({"服务类别": ""}, "请填写服务类别"),
    ],
    ids=[
        "check-digit",
        "length",
        "category",
        "district",
        "date-format",
        "date-invalid",
        "date-missing",
        "name-missing",
        "category-missing",
    ],
)
def test_a_bad_row_is_reported_with_its_row_number_and_nothing_is_imported(runner, tmp_path, changes, reason):
    path = write_csv(tmp_path / "机构.csv", [row(1), row(2, **changes), row(3)])
    result = run_import(runner, path)
    assert_failed_cleanly(result)
    lines = result.stderr.splitlines()
    assert any(line.startswith("第3行：") and reason in line for line in lines), result.stderr
    assert not any(line.startswith(("第2行", "第4行")) for line in lines)


def test_every_bad_row_is_reported_at_once(runner, tmp_path):
    rows = [row(1, 所在区="广州"), row(2), row(3, 入驻日期="明天"), row(4, 统一社会信用代码=code(2))]
    result = run_import(runner, write_csv(tmp_path / "机构.csv", rows))
    assert_failed_cleanly(result)
    assert "3行数据有误" in result.stderr
    assert "第2行：所在区“广州”不存在" in result.stderr
    assert "第4行：入驻日期“明天”格式不正确" in result.stderr
    assert f"第5行：统一社会信用代码 {code(2)} 与第3行重复" in result.stderr


def test_a_missing_column_is_named(runner, tmp_path):
    columns = [c for c in COLUMNS if c != "入驻日期"]
    result = run_import(runner, write_csv(tmp_path / "机构.csv", [row(1)], columns=columns))
    assert_failed_cleanly(result)
    assert "第1行：表头缺少列：入驻日期" in result.stderr


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("机构.txt", "机构名称\n".encode(), "不支持的文件类型“.txt”"),
        ("机构.xls", b"\xd0\xcf\x11\xe0", "不支持旧版Excel"),
        ("机构.xlsx", b"not a zip file", "无法读取Excel文件"),
        ("机构.csv", ",".join(COLUMNS).encode("gbk"), "文件不是UTF-8编码"),
        ("机构.csv", b"", "文件为空"),
        ("机构.csv", (",".join(COLUMNS) + "\n").encode(), "没有机构数据"),
    ],
)
def test_unreadable_files_are_explained(runner, tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    result = run_import(runner, path)
    assert_failed_cleanly(result)
    assert reason in result.stderr


def test_a_missing_file_is_explained(runner, tmp_path):
    result = run_import(runner, tmp_path / "nowhere.csv")
    assert_failed_cleanly(result)
    assert "找不到文件" in result.stderr


def test_imported_institutions_are_found_by_the_directory_search(runner, tmp_path):
    agency = row(
        2,
        机构名称="佛山市南海区恒达知识产权代理有限公司",
        服务类别="知识产权",
        服务项目="商标注册",
        机构简介="",
    )
    rows = [row(1), agency]
    assert run_import(runner, write_csv(tmp_path / "机构.csv", rows)).exit_code == 0
    assert [i.uscc for i in search(Filters(q="陶瓷砖")).items] == [code(1)]
    assert [i.uscc for i in search(Filters(q="商标")).items] == [code(2)]
    assert [i.uscc for i in search(Filters(q="恒达")).items] == [code(2)]
    assert search(Filters(q="ISO9001", category="certification")).total == 1

    # A re-import re-indexes: the old item is no longer found, the new one is.
    changed = row(1, 服务类别="计量", 服务项目="仪器设备校准")
    assert run_import(runner, write_csv(tmp_path / "b.csv", [changed])).exit_code == 0
    assert search(Filters(q="陶瓷砖")).total == 0
    assert [i.uscc for i in search(Filters(q="校准")).items] == [code(1)]


# assign_services: how 服务项目 meet 服务类别 (pure, no database)


def test_art7_the_first_three_items_are_featured():
    services = assign_services(["inspection"], ["甲", "乙", "丙", "丁"])
    assert [s.featured for s in services] == [True, True, True, False]
    assert [s.position for s in services] == [0, 1, 2, 3]


def test_items_pair_with_categories_by_position_when_counts_match():
    services = assign_services(["inspection", "metrology"], ["陶瓷砖检测", "仪器校准"])
    assert [(s.category, s.title) for s in services] == [
        ("inspection", "陶瓷砖检测"),
        ("metrology", "仪器校准"),
    ]


def test_one_category_takes_every_item():
    services = assign_services(["intellectual-property"], ["商标注册", "专利申请", "版权登记"])
    assert {s.category for s in services} == {"intellectual-property"}


def test_otherwise_items_go_to_the_first_category_and_others_get_an_item_named_after_them():
    services = assign_services(["inspection", "metrology", "standards"], ["陶瓷砖检测", "铝型材检测"])
    assert [(s.category, s.title) for s in services] == [
        ("inspection", "陶瓷砖检测"),
        ("inspection", "铝型材检测"),
        ("metrology", "计量"),
        ("standards", "标准"),
    ]


def test_categories_without_items_get_one_each():
    services = assign_services(["inspection", "metrology"], [])
    assert [(s.category, s.title, s.featured) for s in services] == [
        ("inspection", "检验检测", True),
        ("metrology", "计量", True),
    ]


def test_art17_optional_agent_columns_keep_imported_institutions_from_being_hidden(runner, tmp_path, app):
    columns = (*COLUMNS, *AGENT_COLUMNS)
    rows = [row(1, 客服姓名="陈客服", 客服手机号码="138 0013 8000"), row(2)]
    assert run_import(runner, write_csv(tmp_path / "a.csv", rows, columns=columns)).exit_code == 0
    with_agent, without = institutions()
    assert [(a.name, a.phone) for a in with_agent.agents] == [("陈客服", "13800138000")]
    assert without.agents == []
    app.config["QZT_CLOCK"] = "2026-11-27T09:00:00+08:00"  # both opened 2024-03-15: long past a month
    runner.invoke(args=["qzt", "tick"])
    db.session.expire_all()
    assert with_agent.listing_state == ListingState.LISTED and without.listing_state == ListingState.HIDDEN
    # A re-import without the columns keeps the agent; a bad mobile is refused with its row.
    assert run_import(runner, write_csv(tmp_path / "b.csv", [row(1)])).exit_code == 0
    db.session.expire_all()
    assert [a.name for a in with_agent.agents] == ["陈客服"]
    bad = run_import(
        runner, write_csv(tmp_path / "c.csv", [row(3, 客服姓名="王", 客服手机号码="123")], columns=columns)
    )
    assert bad.exit_code != 0 and "第2行：客服手机号码“123”不是11位手机号码" in bad.stderr

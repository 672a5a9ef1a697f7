"""Art. 13 (a complete homepage within 5 working days) and Annex 2 item 6 / note 2 (cases and orders)."""

from datetime import date

import pytest

from qzt.rules.calendar import WorkCalendar
from qzt.rules.orders import CASES_PER_YEAR, required_orders
from qzt.rules.upkeep import ServiceLine, deadline, homepage_problems, reminder_day

CAL = WorkCalendar()
TODAY = date(2026, 3, 10)
COMPLETE = dict(
    introduction="专业从事家用电器安全、能效检验检测，具备CMA和CNAS资质。",
    address="佛山市顺德区大良街道新城区1号",
    phone="0757-22223333",
    services=[ServiceLine("inspection", True, "GB 4706"), ServiceLine("inspection", True, "能效")],
    agents=1,
    certificates_valid_until=[date(2027, 1, 1)],
    today=TODAY,
)


def test_art13_a_complete_homepage_has_no_problems():
    assert homepage_problems(**COMPLETE) == []


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"introduction": "检测机构"}, "机构简介至少20个字"),
        ({"address": " "}, "请填写详细地址"),
        ({"phone": None}, "请填写联系电话"),
        ({"services": [ServiceLine("inspection", True, "GB 4706")]}, "优势服务项目应为2至3项（当前1项）"),
        (
            {"services": [ServiceLine("inspection", True, ""), ServiceLine("inspection", True, "x")]},
            "服务内容",
        ),
        ({"agents": 0}, "客服人员"),
        ({"certificates_valid_until": [date(2026, 3, 9)]}, "在有效期内的资质证书"),
        ({"certificates_valid_until": []}, "在有效期内的资质证书"),
    ],
)
def test_art13_each_missing_piece_is_named(change, problem):
    problems = homepage_problems(**{**COMPLETE, **change})
    assert len(problems) == 1 and problem in problems[0]


def test_art13_art8_institutions_need_no_certificate():
    ip_only = [ServiceLine("intellectual-property", True, "商标"), ServiceLine("branding", True, "品牌")]
    assert homepage_problems(**{**COMPLETE, "services": ip_only, "certificates_valid_until": []}) == []
    mixed = [ServiceLine("intellectual-property", True, "商标"), ServiceLine("inspection", True, "检测")]
    assert homepage_problems(**{**COMPLETE, "services": mixed, "certificates_valid_until": []})


def test_art13_five_working_days_from_the_opening_date_skip_weekends_and_holidays():
    assert deadline(date(2026, 3, 10), CAL) == date(2026, 3, 17)  # Tuesday → next Tuesday
    assert reminder_day(date(2026, 3, 10), CAL) == date(2026, 3, 13)
    # Over National Day (10-01 to 10-07 off), counting Saturday 10-10, a 调休 working day.
    assert deadline(date(2026, 9, 30), CAL) == date(2026, 10, 13)


def test_annex2_note2_orders_by_category_group_and_year():
    assert [required_orders({"inspection"}, y) for y in (1, 2, 3, 4)] == [20, 30, 50, 50]
    assert [required_orders({"certification"}, y) for y in (1, 2, 3)] == [5, 5, 5]
    assert required_orders({"branding", "metrology"}, 1) == 20  # both groups: the stricter
    assert required_orders({"experts"}, 1) == 5  # "及其他"
    with pytest.raises(ValueError):
        required_orders({"inspection"}, 0)


def test_annex2_item6_ten_cases_a_year():
    assert CASES_PER_YEAR == 10


def test_annex2_note2_service_years_count_from_the_opening_date():
    from qzt.rules.orders import service_year

    assert service_year(date(2025, 3, 10), date(2026, 3, 9)) == (1, date(2025, 3, 10), date(2026, 3, 10))
    assert service_year(date(2025, 3, 10), date(2026, 3, 10)) == (2, date(2026, 3, 10), date(2027, 3, 10))
    assert service_year(date(2024, 2, 29), date(2025, 2, 28)) == (2, date(2025, 2, 28), date(2026, 2, 28))
    assert service_year(date(2024, 2, 29), date(2025, 2, 27))[0] == 1


def test_art17_one_month_counts_calendar_months_and_ends_of_months():
    from qzt.rules.sanctions import one_month_after

    assert one_month_after(date(2026, 3, 10)) == date(2026, 4, 10)
    assert one_month_after(date(2026, 1, 31)) == date(2026, 2, 28)
    assert one_month_after(date(2028, 1, 31)) == date(2028, 2, 29)
    assert one_month_after(date(2026, 12, 15)) == date(2027, 1, 15)


def test_art17_hidden_from_the_boundary_day_while_a_service_item_or_an_agent_is_missing():
    from qzt.rules.sanctions import hidden_by_one_month_rule

    opened = date(2026, 3, 10)
    assert not hidden_by_one_month_rule(opened, date(2026, 4, 9), service_items=0, agents=0)  # the last day
    assert hidden_by_one_month_rule(opened, date(2026, 4, 10), service_items=0, agents=1)
    assert hidden_by_one_month_rule(opened, date(2026, 4, 10), service_items=2, agents=0)
    assert not hidden_by_one_month_rule(opened, date(2026, 4, 10), service_items=1, agents=1)
    assert not hidden_by_one_month_rule(None, date(2026, 4, 10), service_items=0, agents=0)

"""数据统计 (Art. 14–16): what is counted per Beijing month, the charts drawn on the server, the tables
beside them and their Excel downloads."""

import io
import re
from datetime import date, datetime

import openpyxl
import pytest
from test_assessments import at, complaint, consult

from qzt.core import charts
from qzt.core.tables import Table
from qzt.extensions import db
from qzt.models import (
    ApplicationRevision,
    ApplicationState,
    ComplaintState,
    ListingState,
    Rating,
    Role,
)
from qzt.rules import statistics as rules
from qzt.statistics import services

NOW = "2026-11-27T10:00:00+08:00"


# --- the rules, without an app ---


def test_the_default_period_is_the_last_twelve_months_up_to_this_one():
    period = rules.last_twelve_months(date(2026, 11, 27))
    assert (period.first, period.end) == (date(2025, 12, 1), date(2026, 12, 1))
    assert [rules.month_label(m) for m in period.months][::11] == ["2025年12月", "2026年11月"]
    assert period.label == "2025年12月至2026年11月"
    assert rules.year(2025).label == "2025年" and len(rules.year(2025).months) == 12


def test_a_rate_of_nothing_is_no_rate_not_zero():
    assert rules.rate(0, 0) is None and rules.percent(None) == "—"
    assert rules.percent(rules.rate(2, 3)) == "66.7%"


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0, "60分以下（不合格）"),
        (59, "60分以下（不合格）"),
        (60, "60–69分"),
        (89, "80–89分"),
        (90, "90–100分"),
    ],
)
def test_art16_every_score_falls_in_one_band_and_59_is_a_fail(score, band):
    assert rules.score_band(score) == band


def test_charts_count_in_whole_numbers():
    assert charts.counts_axis({"a": [0, 0]}, stacked=False) == [0, 1]
    assert charts.counts_axis({"a": [3, 9], "b": [2, 8]}, stacked=True) == [0, 5, 10, 15, 20]
    assert charts.counts_axis({"a": [52]}, stacked=False) == [0, 10, 20, 30, 40, 50, 60]


def test_a_chart_is_inline_svg_that_our_csp_allows(app):
    table = Table("t", "投诉（按月）", ("月份", "投诉"), [("2026年3月", 2), ("2026年4月", 0)])
    svg = str(charts.of_table(table, (1,)))
    assert svg.startswith("<svg") and 'role="img"' in svg and "投诉（按月）的图表" in svg
    for forbidden in ("<style", "<script", "style=", "ns0:", 'id="chart-', "<!--"):
        assert forbidden not in svg
    assert charts.of_table(Table("t", "空", ("月份", "投诉"), [("2026年3月", 0)]), (1,)) is None
    css = app.test_client().get("/charts.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert ".pygal-chart .color-0" in css.get_data(as_text=True) and "#chart-" not in css.get_data(
        as_text=True
    )


# --- counting, against the database ---


@pytest.fixture
def records(app, make_institution, make_user, make_application):
    """Listed, hidden and withdrawn institutions, and a year of applications, consultations, ratings and
    complaints, several of them near midnight Beijing time (the previous day in UTC)."""
    app.config["QZT_CLOCK"] = NOW
    client = make_user(Role.ENTERPRISE, phone="13700000001", name="企业用户")
    listed = make_institution("佛山市甲检测有限公司", district="chancheng")
    make_institution(
        "佛山市乙计量有限公司",
        district="nanhai",
        services=[("metrology", "衡器检定", "", True), ("inspection", "电器检测", "", True)],
        state=ListingState.HIDDEN,
    )
    make_institution("佛山市丙检测有限公司", district="shunde", state=ListingState.WITHDRAWN)
    # Applications: first submitted 1 March 00:30 Beijing (28 Feb in UTC), resubmitted in April,
    # approved in April; another rejected in May.
    approved = make_application(state=ApplicationState.APPROVED)
    _revision(approved, 1, "2026-03-01T00:30")
    _revision(approved, 2, "2026-04-02T09:00")
    approved.decided_at = at("2026-04-10T15:00")
    rejected = make_application(
        make_user(Role.INSTITUTION, phone="13600000008"), state=ApplicationState.REJECTED
    )
    _revision(rejected, 1, "2026-04-30T23:59")
    rejected.decided_at = at("2026-05-06T10:00")
    # Consultations: March has one on time (asked 00:30 on 1 March), one answered late and one never
    # answered; November has one asked an hour ago (still within its time). A deal confirmed in March.
    consult(listed, client, "2026-03-01T00:30", "2026-03-01T02:00", deal_on="2026-03-31T23:30")
    consult(listed, client, "2026-03-03T10:00", "2026-03-04T10:00")
    consult(listed, client, "2026-03-05T10:00")
    asked = consult(listed, client, "2026-11-27T09:00")
    consult(listed, client, "2025-11-30T23:00", "2025-11-30T23:30")  # before the period
    db.session.add_all(
        [
            Rating(
                consultation_id=asked.id, institution_id=listed.id, stars=1, created_at=at("2026-06-01T00:10")
            ),
            Rating(
                consultation_id=consult(listed, client, "2026-05-05T10:00", "2026-05-05T10:30").id,
                institution_id=listed.id,
                stars=5,
                created_at=at("2026-06-02T10:00"),
            ),
        ]
    )
    complaint(listed, client, "2026-04-01T00:05")
    complaint(listed, client, "2026-04-20T09:00", ComplaintState.PENDING)
    db.session.commit()


def _revision(application, number: int, submitted: str) -> None:
    db.session.add(
        ApplicationRevision(
            application=application,
            number=number,
            data={},
            snapshot_sha256="0" * 64,
            submitted_at=at(submitted),
        )
    )


def _month(table: Table, label: str) -> tuple:
    return next(row for row in table.rows if row[0] == label)


def _period():
    return rules.last_twelve_months(date(2026, 11, 27))


def test_listed_institutions_by_category_and_district_count_listed_and_hidden_only(app, records):
    categories = services.categories()
    assert _month(categories, "检验检测")[1:] == (1, 1)  # 甲 listed, 乙 hidden; 丙 withdrew
    assert _month(categories, "计量")[1:] == (0, 1)
    districts = services.districts()
    assert _month(districts, "禅城区")[1:] == (1, 0) and _month(districts, "南海区")[1:] == (0, 1)
    assert _month(districts, "顺德区")[1:] == (0, 0)


def test_applications_count_first_submissions_and_decisions_by_beijing_month(app, records):
    table = services.applications(_period())
    assert _month(table, "2026年2月")[1:] == (0, 0, 0)  # 1 March 00:30 Beijing is still February in UTC
    assert _month(table, "2026年3月")[1:] == (1, 0, 0)
    assert _month(table, "2026年4月")[1:] == (1, 1, 0)  # the resubmission is not a new application
    assert _month(table, "2026年5月")[1:] == (0, 0, 1)


def test_art14_compliance_rate_per_month_leaves_questions_still_within_their_time_out(app, records):
    table = services.consultations(_period(), now=datetime.fromisoformat(NOW))
    assert _month(table, "2026年3月") == ("2026年3月", 3, 1, 2, 0, "33.3%")
    assert _month(table, "2026年11月") == ("2026年11月", 1, 0, 0, 1, "—")
    assert _month(table, "2025年12月")[1] == 0  # November 2025 is outside the period
    assert table.total == ("合计", 5, 2, 2, 1, "50.0%")  # with May's on-time question


def test_valid_orders_ratings_and_complaints_by_beijing_month(app, records):
    period = _period()
    assert _month(services.orders(period), "2026年3月")[1] == 1  # confirmed 23:30 on 31 March, Beijing
    ratings = services.ratings_by_month(period)
    assert _month(ratings, "2026年6月") == ("2026年6月", 2, 1, "3.00")
    assert _month(ratings, "2026年5月") == ("2026年5月", 0, 0, "—")
    complaints = services.complaints(period)
    assert _month(complaints, "2026年4月")[1:] == (2, 1, 0, 1)


def test_statistics_page_shows_each_chart_with_its_table(app, records, login_as):
    page = login_as(Role.AUTHORITY).get("/staff/statistics")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "2025年12月至2026年11月" in text and 'href="/charts.css"' in text
    for key in services.SECTIONS:
        assert f'id="{key}"' in text and f"/staff/statistics/{key}.xlsx" in text
    assert text.count('<svg class="pygal-chart') == len(services.SECTIONS)
    assert "<style" not in text
    assert "33.3%" in text  # March's compliance rate, in the table


def test_a_year_and_an_unknown_period(app, records, login_as):
    operator = login_as(Role.OPERATOR)
    year = operator.get("/staff/statistics?period=2026").get_data(as_text=True)
    assert "2026年（北京时间）" in year and "2026年1月" in year and "2025年12月" not in year
    for junk in ("9999", "abc", "2026-01", ""):
        response = operator.get(f"/staff/statistics?period={junk}")
        assert response.status_code == 200 and "2025年12月至2026年11月" in response.get_data(as_text=True)


def test_excel_downloads_hold_the_same_tables(app, records, login_as):
    client = login_as(Role.OPERATOR)
    everything = client.get("/staff/statistics.xlsx")
    assert everything.status_code == 200 and everything.headers["Cache-Control"] == "private, no-store"
    assert "attachment" in everything.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(everything.data))
    assert len(book.sheetnames) == len(services.SECTIONS)
    sheet = book["在线咨询与第十四条答复（按月）"]
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows()]
    assert rows[0][0] == "在线咨询与第十四条答复（按月）（2025年12月至2026年11月）"
    assert rows[1] == ("月份", "咨询", "按时答复", "超时", "待答复", "按时答复率")
    assert ("2026年3月", 3, 1, 2, 0, "33.3%") in rows and ("合计", 5, 2, 2, 1, "50.0%") in rows
    one = client.get("/staff/statistics/complaints.xlsx?period=2026")
    book = openpyxl.load_workbook(io.BytesIO(one.data))
    assert book.sheetnames == ["投诉（按月）"]
    assert ("2026年4月", 2, 1, 0, 1) in [tuple(c.value for c in row) for row in book.active.iter_rows()]
    assert re.search(r"filename\*=UTF-8''%E6%8A%95%E8%AF%89", one.headers["Content-Disposition"])
    assert client.get("/staff/statistics/users.xlsx").status_code == 404


def test_only_staff_see_statistics(app, records, login_as):
    assert login_as(Role.ENTERPRISE).get("/staff/statistics").status_code == 403
    assert login_as(Role.INSTITUTION, "13700000002").get("/staff/statistics.xlsx").status_code == 403
    assert app.test_client().get("/staff/statistics").status_code == 302

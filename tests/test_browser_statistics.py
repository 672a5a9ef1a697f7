"""数据统计 and the assessment overview in a real browser: the charts are drawn (SVG from the server, styled
by /charts.css under our CSP, no console error), the period changes them, the Excel download opens."""

import openpyxl
import pytest
from playwright.sync_api import expect
from test_statistics import records  # noqa: F401 (a fixture)

from qzt.models import Role

pytestmark = pytest.mark.browser

AUTHORITY = "13700000005"


def test_statistics_charts_tables_and_download_in_the_browser(app, records, people, make_user, tmp_path):  # noqa: F811
    make_user(Role.AUTHORITY, phone=AUTHORITY, name="质量发展科老陈")
    authority = people()
    page = authority.login(AUTHORITY)
    page.get_by_role("link", name="工作台").first.click()
    page.get_by_role("navigation", name="工作台").get_by_role("link", name="数据统计").click()
    expect(page.get_by_role("heading", name="数据统计", exact=True)).to_be_visible()
    charts = page.locator("svg.pygal-chart")
    expect(charts).to_have_count(7)
    for n in range(7):
        box = charts.nth(n).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 150
    # The stylesheet applies (pygal would paint an unstyled background black) and the bars have colour.
    background = page.locator("svg.pygal-chart .background").first.evaluate("e => getComputedStyle(e).fill")
    assert background in ("transparent", "rgba(0, 0, 0, 0)")
    bar_fill = page.locator("svg.pygal-chart .color-0").first.evaluate("e => getComputedStyle(e).fill")
    assert bar_fill == "rgb(11, 92, 173)"
    consultations = page.get_by_role("region", name="在线咨询与第十四条答复（按月）")
    expect(consultations.get_by_role("row", name="2026年3月")).to_contain_text("33.3%")
    authority.shoot("statistics")

    page.get_by_label("统计期间").select_option("2026")
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_text("2026年（北京时间）")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="全部导出Excel").click()
    saved = tmp_path / "statistics.xlsx"
    download.value.save_as(saved)
    assert "投诉（按月）" in openpyxl.load_workbook(saved).sheetnames
    assert download.value.suggested_filename == "数据统计-2026年.xlsx"

    page.get_by_role("navigation", name="工作台").get_by_role("link", name="年度考核").click()
    expect(page.get_by_text("考核概况（全部）")).to_be_visible()

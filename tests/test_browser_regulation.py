"""The regulation's page in a real browser: reached from the footer and from the guide's article references,
its contents lead to each article, and it reads at 390 px and on the desktop without sideways scrolling.
Screenshots: regulation, guide, regulation-art-13 (tests/screenshots/)."""

import pytest
from browser import DESKTOP, PHONE, Person
from playwright.sync_api import expect
from test_browser_accessibility import violations
from test_browser_onboarding import layout_problems

from qzt.rules import regulation

pytestmark = pytest.mark.browser

TITLE = regulation.current().title


def test_the_regulation_reads_at_390px_and_on_the_desktop_and_links_land_on_the_article(browser, live_server):
    person = Person(browser, live_server)
    page = person.open("/")
    page.locator(".site-footer").get_by_role("link", name=f"《{TITLE}》").click()
    expect(page).to_have_url(f"{live_server}/regulation")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    contents = page.get_by_role("navigation", name="目录")
    expect(contents.get_by_role("link")).to_have_count(5 + 18 + 2)  # chapters, articles, annexes
    score_sheet = page.locator("#annex-2 table")
    expect(score_sheet.locator("tbody tr")).to_have_count(11)
    problems = []
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        problems += layout_problems(page, f"regulation at {size['width']}px", phone=size == PHONE)
        problems += violations(page)
        # the score sheet fits the page: no column is cut off or pushed out of the text's box
        table, text = score_sheet.bounding_box(), page.locator("article.regulation").bounding_box()
        assert table["x"] >= text["x"] and table["x"] + table["width"] <= text["x"] + text["width"] + 0.5
    page.set_viewport_size(PHONE)
    person.shoot("regulation")

    contents.get_by_role("link", name="第十四条", exact=True).click()
    expect(page).to_have_url(f"{live_server}/regulation#art-14")
    article = page.locator("#art-14")
    expect(article).to_be_in_viewport()
    expect(article).to_contain_text("在线客服响应时间平均不大于2小时")
    expect(page.locator(".reg-article:target")).to_have_attribute("id", "art-14")  # marked for the eye

    page = person.open("/guide")
    person.shoot("guide")
    page.get_by_role("link", name="第十三条").click()
    expect(page).to_have_url(f"{live_server}/regulation#art-13")
    expect(page.locator("#art-13")).to_be_in_viewport()
    expect(page.locator("#art-13")).to_contain_text("正式入驻之日起5个工作日内")
    person.shoot("regulation-art-13")
    person.context.close()
    assert problems == []
    assert person.problems == []

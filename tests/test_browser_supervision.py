"""Supervision in a real browser (Art. 15, 17): a one-star rating, the institution's follow-up and the
enterprise's 不满意; a complaint, the operator's check and 情节较重; the authority's expulsion, its 清退通知
and what the public sees afterwards. Each person has their own browser context, and logs in through
/login. The closed consultation is set up through the services: consulting is tested elsewhere."""

import re
import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from qzt.consultations import agents
from qzt.consultations import services as consultations
from qzt.extensions import db
from qzt.models import Complaint, ComplaintState, ExpulsionNotice, ListingState, Role, User

pytestmark = pytest.mark.browser

NAME = "佛山市三水区卫浴产品检测技术有限公司"
PART_OF_NAME = "卫浴产品"
OWNER, AGENT, ENTERPRISE = "13700000002", "13700000021", "13600000009"
OPERATOR, AUTHORITY = "13700000004", "13700000005"
COMPLAINT = "3月2日咨询水嘴检测，客服答应当天报价，至今未联系，差评后的跟进说明也与事实不符。"


@pytest.fixture
def closed_consultation(make_institution, make_user):
    """A listed institution with its account and an agent; an enterprise whose consultation with it was
    answered by the agent and closed; an operator and an authority."""
    owner = make_user(Role.INSTITUTION, phone=OWNER, name="机构账号")
    inst = make_institution(NAME, services=[("inspection", "水嘴检测", "GB 18145", True)])
    inst.owner_id = owner.id
    agents.add(inst, owner, name="李客服", mobile=AGENT, hours="工作日 8:00-18:00")
    client = make_user(Role.ENTERPRISE, phone=ENTERPRISE, name="佛山市某卫浴企业")
    consultation = consultations.ask(
        inst, client, service_item_id=inst.services[0].id, body="水嘴检测需要几天？请报价。"
    )
    agent = db.session.scalar(db.select(User).where(User.phone == AGENT))
    consultations.reply(consultation, agent, "一般5个工作日，今天给您报价。")
    consultations.close(consultation, client)
    db.session.commit()
    make_user(Role.OPERATOR, phone=OPERATOR, name="运维小王")
    make_user(Role.AUTHORITY, phone=AUTHORITY, name="质量发展科老陈")
    return consultation


def test_art15_art17_one_star_to_expulsion_in_the_browser(people, page, closed_consultation, tmp_path):
    inst_id, thread = closed_consultation.institution_id, f"/consultations/{closed_consultation.id}"
    homepage = f"/institutions/{inst_id}"

    # Before: anyone finds the institution in the directory and through the API.
    anonymous = people()
    expect(anonymous.open("/directory").get_by_role("link", name=NAME)).to_be_visible()
    api = anonymous.page.request
    found = api.get(f"{anonymous.base}/api/v1/institutions", params={"q": PART_OF_NAME}).json()
    assert [item["name"] for item in found["items"]] == [NAME]

    # The enterprise gives one star with a comment.
    enterprise = people()
    page_e = enterprise.login(ENTERPRISE)
    enterprise.open(thread)
    rating = page_e.locator("#rating")
    rating.get_by_label("1星").check()
    rating.get_by_label("评价内容（选填）").fill("答应当天报价，一直没有消息。")
    rating.get_by_role("button", name="提交评价").click()
    expect(page_e.get_by_text("感谢您的评价")).to_be_visible()
    expect(rating.get_by_label("1星")).to_have_text("★☆☆☆☆")
    expect(rating).to_contain_text("待机构跟进")

    # The institution follows up.
    owner = people()
    page_o = owner.login(OWNER)
    owner.open(thread)
    page_o.get_by_label("跟进说明").fill("已致电客户致歉，报价已发出，并对客服进行了培训。")
    page_o.get_by_role("button", name="提交跟进").click()
    expect(page_o.get_by_text("跟进说明已提交")).to_be_visible()
    expect(page_o.locator("#rating")).to_contain_text("待企业确认")

    # The enterprise is not satisfied.
    page_e.reload()
    expect(page_e.locator("#rating")).to_contain_text("机构跟进说明：已致电客户致歉")
    page_e.get_by_role("button", name="不满意").click()
    expect(page_e.get_by_text("已反馈")).to_be_visible()
    expect(page_e.locator("#rating")).to_contain_text("企业不满意")

    # The enterprise complains from the homepage.
    enterprise.open(homepage)
    page_e.get_by_role("link", name="投诉", exact=True).click()
    expect(page_e.get_by_role("heading", name="投诉", exact=True)).to_be_visible()
    page_e.get_by_label("发生了什么").fill(COMPLAINT)
    page_e.get_by_role("button", name="提交投诉").click()
    expect(page_e).to_have_url(re.compile(r"/complaints/\d+$"))
    expect(page_e.get_by_text("投诉已提交")).to_be_visible()
    expect(page_e.get_by_role("list", name="处理进度")).to_contain_text("待核查")
    complaint_path = page_e.url.removeprefix(enterprise.base)
    enterprise.shoot("supervision-complaint")

    # The operator checks it: 属实, then 情节较重.
    operator = people()
    page_op = operator.login(OPERATOR)
    operator.open("/staff/complaints")
    page_op.get_by_role("link", name=NAME).click()
    expect(page_op).to_have_url(operator.base + complaint_path)
    page_op.get_by_label("核查情况").fill("电话回访企业并调取聊天记录，机构未按承诺报价，跟进说明不实。")
    page_op.get_by_role("button", name="属实", exact=True).click()
    expect(page_op.get_by_text("核查结果已记录")).to_be_visible()
    page_op.get_by_label("情节较重的理由").fill("差评跟进中向企业作出不实说明，情节较重。")
    page_op.get_by_role("button", name="情节较重，提请清退").click()
    expect(page_op.get_by_text("已提请管理单位清退")).to_be_visible()
    operator.shoot("supervision-complaint-staff")
    db.session.expire_all()
    complaint = db.session.scalar(db.select(Complaint))
    assert complaint.state == ComplaintState.SUBSTANTIATED and complaint.serious

    # The authority decides the expulsion from the complaint.
    authority = people()
    page_a = authority.login(AUTHORITY)
    authority.open(complaint_path)
    page_a.get_by_role("link", name="决定清退").click()
    expect(page_a).to_have_url(
        f"{authority.base}/staff/institutions/{inst_id}?complaint={complaint.id}#expel"
    )
    expel = page_a.locator("form#expel")
    expect(expel.get_by_label("清退原因（第十七条）")).to_have_value("complaint_serious")
    expect(expel.get_by_label("清退原因（第十七条）").locator("option:checked")).to_have_text(
        "投诉查实情节较重"
    )
    expect(expel.locator("#evidence")).to_have_value(re.compile(re.escape(complaint_path) + "$"))
    expel.locator("#reason-expel").fill("投诉经查实，情节较重，依第十七条清退。")
    expel.get_by_role("button", name="清退", exact=True).click()
    expect(page_a.get_by_text("已清退该机构")).to_be_visible()
    authority.shoot("supervision-expelled")

    db.session.expire_all()
    notice = db.session.scalar(db.select(ExpulsionNotice))
    assert notice is not None and notice.institution_id == inst_id and notice.cause == "complaint_serious"
    assert notice.institution_name == NAME
    assert closed_consultation.institution.listing_state == ListingState.EXPELLED

    # The 清退通知书, downloaded by the authority from the institution's page.
    with page_a.expect_download() as download:
        page_a.get_by_role("link", name="下载PDF").click()
    pdf = tmp_path / "notice.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    fetched = page_a.request.get(f"{authority.base}/notices/{notice.code}.pdf")
    assert fetched.status == 200 and fetched.headers["content-type"] == "application/pdf"
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True, text=True, timeout=30
    ).stdout
    flat = re.sub(r"\s+", "", text)
    assert "清退通知书" in flat and NAME in flat and f"/notices/{notice.code}" in flat

    # After: gone from the directory and the API; the homepage says so; the notice verifies.
    expect(anonymous.open("/directory").get_by_role("link", name=NAME)).to_have_count(0)
    expect(anonymous.page.locator("main")).not_to_contain_text(NAME)
    assert api.get(f"{anonymous.base}/api/v1/institutions/{inst_id}").status == 404
    found = api.get(f"{anonymous.base}/api/v1/institutions", params={"q": PART_OF_NAME}).json()
    assert NAME not in [item["name"] for item in found["items"]]
    # A plain page (Chromium logs every 410 document as a console error, which people() counts).
    answer = page.goto(anonymous.base + homepage)
    assert answer.status == 410
    expect(page.get_by_text("投诉查实情节较重")).to_be_visible()
    page.get_by_role("link", name="核验清退通知").click()
    expect(page).to_have_url(f"{anonymous.base}/notices/{notice.code}")
    facts = page.locator(".facts")
    expect(facts).to_contain_text(NAME)
    expect(facts).to_contain_text("投诉查实情节较重")
    expect(page.get_by_role("link", name=re.compile("下载"))).to_have_count(0)

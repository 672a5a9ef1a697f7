"""Annex 1 (承诺书): the signed pledge as a PDF, and the public page that verifies it."""

import re
import shutil
import subprocess
from datetime import UTC, datetime

import pytest
from factories import sign, signature_png

from qzt.documents import LocalFetcher, pdf_dir
from qzt.extensions import db
from qzt.models import ApplicationState, Role, User
from qzt.pledges import signing
from qzt.pledges import texts as pledges
from qzt.rules.calendar import to_beijing
from qzt.rules.uscc import with_check_digit

NAME = "佛山市南海区质量检测技术有限公司"
SIGNER = "李承诺"
OWNER_PHONE, OTHER_PHONE, STAFF_PHONE = "13700000001", "13700000002", "13700000003"
# A distinctive phrase of each of the eight articles, in order.
ARTICLE_PHRASES = [
    "所有资料合法规范、真实有效",
    "不伪造检验检测数据、不出具虚假报告",
    "不受来自内部与外部的压力",
    "严格保守客户的技术、资料、数据",
    "将处理结果及时上报平台",
    "不擅自以平台名义在社会上开展宣传",
    "主动接受服务效能评估考核",
    "否则由本机构承担全部法律责任",
]


# How the signer signs: the evidence the verify page must not show.
SIGNING = {"typed_name": SIGNER, "ip": "203.0.113.7", "user_agent": "pytest-agent"}


@pytest.fixture
def owner(make_user):
    return make_user(Role.INSTITUTION, phone=OWNER_PHONE, name="机构经办人")


@pytest.fixture
def application(owner, make_application):
    """A draft signed once, with a drawn signature."""
    return make_application(
        owner,
        state=ApplicationState.DRAFT,
        data={"basic": {"name": NAME, "uscc": with_check_digit("91440604MA0000001")}},
        drawing=signature_png(),
        **SIGNING,
    )


@pytest.fixture
def code(application):
    return signing.latest(application).code


@pytest.fixture
def owner_client(owner, login_as):
    return login_as(Role.INSTITUTION, OWNER_PHONE)


def pdf_text(pdf: bytes) -> str:
    """The PDF's text without whitespace, so lines broken inside a phrase still match."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True)
    return re.sub(r"\s+", "", out.stdout.decode("utf-8"))


def verify_facts(client, code) -> str:
    response = client.get(f"/verify/{code}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 200),
        ("staff", 200),
        ("other institution", 404),
        ("anonymous", 404),
    ],
)
def test_annex1_pdf_only_for_its_applicant_and_staff(client, make_user, login_as, code, who, status):
    make_user(Role.INSTITUTION, phone=OTHER_PHONE, name="别家机构")
    make_user(Role.OPERATOR, phone=STAFF_PHONE, name="运维人员")
    viewer = {
        "owner": (Role.INSTITUTION, OWNER_PHONE),
        "staff": (Role.OPERATOR, STAFF_PHONE),
        "other institution": (Role.INSTITUTION, OTHER_PHONE),
    }.get(who)
    if viewer:
        client = login_as(*viewer)
    response = client.get(f"/pledges/{code}.pdf")
    assert response.status_code == status
    if status == 200:
        assert response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF-")
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''%E6%89%BF%E8%AF%BA%E4%B9%A6-" + code + ".pdf" in disposition
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    else:
        assert SIGNER not in response.get_data(as_text=True)


def test_annex1_pdf_holds_the_eight_articles(owner_client, code):
    text = pdf_text(owner_client.get(f"/pledges/{code}.pdf").data)
    pledge = pledges.current()
    assert len(pledge.articles) == len(ARTICLE_PHRASES) == 8
    for article, phrase in zip(pledge.articles, ARTICLE_PHRASES, strict=True):
        assert phrase in article and phrase in text
    for part in (pledge.title, pledge.preamble, pledge.closing, NAME, SIGNER, "法定代表人（签字）：", code):
        assert re.sub(r"\s+", "", part) in text


def test_annex1_pdf_evidence_matches_the_verify_page(client, owner_client, code):
    signature = signing.get_by_code(code)
    signed_at = to_beijing(signature.signed_at)
    page = verify_facts(client, code)
    assert signature.text_sha256 == pledges.current().sha256 and signature.text_sha256 in page
    assert signed_at.strftime("%Y-%m-%d %H:%M:%S") in page
    text = pdf_text(owner_client.get(f"/pledges/{code}.pdf").data)
    assert signature.text_sha256 in text and signature.snapshot_sha256 in text
    assert f"服务机构：{NAME}" in text
    assert f"{signed_at.year}年{signed_at.month}月{signed_at.day}日" in text
    assert signed_at.strftime("%Y-%m-%d%H:%M:%S") + "（北京时间）" in text
    assert f"/verify/{code}" in text


def test_annex1_signing_time_is_to_beijing(owner):
    # Stored in UTC; read back zone-aware from either database (SQLite keeps no zone itself).
    owner.created_at = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(User, owner.id).created_at
    assert to_beijing(stored).strftime("%Y-%m-%d %H:%M %z") == "2026-11-24 00:30 +0800"


def test_annex1_verify_is_public_and_shows_no_personal_data(client, code, owner):
    page = verify_facts(client, code)
    assert NAME in page and "2023-03" in page and "有效" in page and "已失效" not in page
    for personal in (
        SIGNER,
        owner.name,
        OWNER_PHONE,
        "203.0.113.7",
        "pytest-agent",
        "signature.png",
        "/files/",
        with_check_digit("91440604MA0000001"),
    ):
        assert personal not in page


def test_annex1_second_signature_supersedes_the_first(client, application, owner, code):
    second = sign(application, owner, drawing=signature_png(), **SIGNING).code
    assert "已失效" in verify_facts(client, code)
    page = verify_facts(client, second)
    assert "有效" in page and "已失效" not in page


def test_annex1_unknown_code_is_404(client, owner_client, code):
    response = client.get("/verify/no-such-code")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    # Said plainly, with the form to type the code again, the wrong one kept in it.
    assert "未找到该承诺书" in html and 'name="code"' in html and 'value="no-such-code"' in html
    assert owner_client.get("/pledges/no-such-code.pdf").status_code == 404


def test_annex1_verify_without_a_code_offers_a_form_that_leads_to_the_pledge(client, code):
    html = client.get("/verify").get_data(as_text=True)
    assert 'name="code"' in html and "未找到该承诺书" not in html
    response = client.get("/verify", query_string={"code": f"  {code} "})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/verify/{code}")
    assert "有效" in verify_facts(client, code)


def test_pdf_fetcher_serves_only_data_uris_and_print_files(app):
    fetcher = LocalFetcher(pdf_dir())
    assert fetcher.fetch("data:text/plain;base64,b2s=").read() == b"ok"
    assert b"@page" in fetcher.fetch((pdf_dir() / "print.css").as_uri()).read()
    for url in (
        "http://example.com/x.png",
        "https://example.com/x.css",
        (pdf_dir().parent / "base.html").as_uri(),
        "file:///etc/passwd",
        (pdf_dir() / ".." / "base.html").as_uri(),
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)

"""The onboarding wizard and the e-pledge (Art. 5–10, Annex 1)."""

import io
import re
from datetime import timedelta

import pytest
from factories import PASSWORD
from onboarding_helpers import (
    BASIC,
    DECLARATIONS,
    EXE,
    NEXT_YEAR,
    PDF,
    PNG,
    agents,
    fill_everything,
    fill_steps,
    hidden,
    post_step,
    qualification,
    register,
    review,
    services,
    sign,
    submit,
)
from shared_fixtures import csrf, log_in

from qzt.core import clock
from qzt.extensions import db
from qzt.models import Application, ApplicationState, PledgeSignature, Role, StoredFile, User


@pytest.fixture
def applicant(client):
    assert register(client).status_code == 302
    return client


def application() -> Application:
    db.session.expire_all()
    return db.session.scalar(db.select(Application))


# --- account ---


def test_register_creates_an_institution_account_and_an_application(applicant):
    user = db.session.scalar(db.select(User))
    assert user.role == Role.INSTITUTION and user.phone == "13600000001"
    assert application().applicant_id == user.id
    assert applicant.get("/onboarding").headers["Location"].endswith("/onboarding/step/1")


def test_register_requires_explicit_consent_and_matching_passwords(client):
    t = csrf(client, "/register")
    response = client.post(
        "/register",
        data={"phone": "13600000001", "password": "abcdefgh1", "confirm": "abcdefgh2", "csrf_token": t},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "两次输入的密码不一致" in html and "请阅读并勾选同意《隐私政策》" in html
    assert 'value="13600000001"' in html
    assert db.session.scalar(db.select(User)) is None


def test_register_refuses_a_taken_phone_once_the_code_is_proved(app, client, applicant):
    applicant.post("/logout", data={"csrf_token": csrf(applicant, "/")})
    app.config["QZT_CLOCK"] = (clock.now() + timedelta(minutes=2)).isoformat()  # past the resend wait
    response = register(client)
    assert response.status_code == 422 and "已注册" in response.get_data(as_text=True)


def test_consent_box_starts_unticked(client):
    html = client.get("/register").get_data(as_text=True)
    box = html.split('id="consent"')[0].rsplit("<input", 1)[1] + html.split('id="consent"')[1].split(">")[0]
    assert "checked" not in box
    assert "我已阅读并同意《隐私政策》" in html


# --- drafts ---


def test_every_step_saves_and_the_applicant_resumes_where_they_stopped(applicant):
    post_step(applicant, 1, BASIC)
    post_step(
        applicant, 3, {"s-count": "1", "s-0-category": "metrology", "s-0-title": "长度校准"}, action="save"
    )
    applicant.post("/logout", data={"csrf_token": csrf(applicant, "/")})
    log_in(applicant, "13600000001")
    assert applicant.get("/onboarding").headers["Location"].endswith("/onboarding/step/3")
    html = applicant.get("/onboarding/step/3").get_data(as_text=True)
    assert 'value="长度校准"' in html
    assert application().data["basic"]["name"] == BASIC["name"]


def test_art6_art7_steps_open_with_the_rows_the_articles_require(applicant):
    services = applicant.get("/onboarding/step/3").get_data(as_text=True)
    for i in range(2):  # Art. 7: at least two featured items
        assert f'name="s-{i}-title"' in services
        assert re.search(rf'name="s-{i}-featured" type="checkbox" value="y" checked', services)
    assert 'name="s-2-title"' not in services
    agents = applicant.get("/onboarding/step/4").get_data(as_text=True)
    assert 'name="a-0-name"' in agents and 'name="a-1-name"' not in agents  # Art. 6: at least one
    assert application().data["services"] == []  # shown, not saved until sent


def test_required_fields_are_marked_for_eyes_and_screen_readers(applicant):
    html = applicant.get("/onboarding/step/1").get_data(as_text=True)
    assert '<label for="name" class="required">机构名称</label>' in html
    assert re.search(r'<input id="name" name="name"[^>]*aria-required="true"', html)
    assert "为必填项" in html
    agents = applicant.get("/onboarding/step/4").get_data(as_text=True)
    assert '<label for="a-0-phone" class="required">客服手机号码</label>' in agents


def test_art10_guide_tells_who_may_join_what_to_prepare_and_how_long_it_takes(app, client):
    app.config["QZT_SCREENING_WORKING_DAYS"] = 4
    html = client.get("/guide").get_data(as_text=True)
    for expected in (
        "独立法人资格",
        "1–2 名在线客服人员",
        "2–3 项优势服务项目",
        "营业执照或法人证书",
        "客户名录",
    ):
        assert expected in html
    assert "一般在 4 个工作日内完成" in html and "5 个工作日内完善机构信息" in html
    assert "6 个月适应期" in html and "60 分合格" in html
    assert 'href="/register"' in html  # a visitor starts by registering
    assert 'href="/guide"' in client.get("/register").get_data(as_text=True)


def test_the_wizard_links_the_guide(applicant):
    assert 'href="/guide"' in applicant.get("/onboarding/step/1").get_data(as_text=True)


def test_error_summary_follows_the_form_and_each_item_jumps_to_its_field(applicant):
    response = post_step(applicant, 1, {**BASIC, "address": "", "uscc": "123"})
    html = response.get_data(as_text=True)
    summary = html[html.index('class="form-errors"') : html.index("</ul>", html.index('class="form-errors"'))]
    links = re.findall(r'<a href="#([\w-]+)">', summary)
    assert links == ["uscc", "address"]  # the form's order, not the checks' (address is checked first)
    assert 'id="uscc"' in html and 'id="address"' in html


def test_error_summary_orders_rows_and_points_at_the_step_message():
    from qzt.onboarding.draft import in_form_order

    errors = {"s-1-title": "b", "services": "a", "s-0-title": "c", "s-0-category": "d"}
    assert [(k, anchor) for k, anchor, _ in in_form_order(errors)] == [
        ("services", "services-msg"),
        ("s-0-category", "s-0-category"),
        ("s-0-title", "s-0-title"),
        ("s-1-title", "s-1-title"),
    ]


def test_art5_invalid_uscc_is_refused_and_nothing_typed_is_lost(applicant):
    bad = BASIC["uscc"][:-1] + ("0" if BASIC["uscc"][-1] != "0" else "1")
    response = post_step(applicant, 1, {**BASIC, "uscc": bad})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "统一社会信用代码无效" in html
    assert f'value="{bad}"' in html and BASIC["introduction"] in html
    assert application().data["basic"]["uscc"] == bad  # saved as typed


def test_art5_uscc_typed_in_lower_case_or_with_spaces_is_kept_in_upper_case(applicant):
    typed = BASIC["uscc"][:6].lower() + " " + BASIC["uscc"][6:].lower()
    assert post_step(applicant, 1, {**BASIC, "uscc": typed}).status_code == 302
    assert application().data["basic"]["uscc"] == BASIC["uscc"].upper()
    assert application().uscc == BASIC["uscc"].upper()


def test_inline_uscc_check_returns_the_message_fragment(applicant):
    t = csrf(applicant, "/onboarding/step/1")
    response = applicant.post(
        "/onboarding/check/uscc", data={"uscc": "123"}, headers={"HX-Request": "true", "X-CSRFToken": t}
    )
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="uscc-msg"' in html and "应为18位" in html
    ok = applicant.post("/onboarding/check/uscc", data={"uscc": BASIC["uscc"]}, headers={"X-CSRFToken": t})
    assert "格式正确" in ok.get_data(as_text=True)


def test_art5_expired_certificate_is_refused(applicant):
    yesterday = (clock.today() - timedelta(days=1)).isoformat()
    response = post_step(
        applicant, 2, {"licence": (io.BytesIO(PDF), "licence.pdf"), **qualification(yesterday)}
    )
    assert response.status_code == 422
    assert "过期" in response.get_data(as_text=True)


def test_art10_licence_is_required(applicant):
    response = post_step(applicant, 2, {})
    assert response.status_code == 422 and "请上传营业执照或法人证书" in response.get_data(as_text=True)


def test_add_qualification_button_works_without_javascript(applicant):
    response = post_step(applicant, 2, {"q-count": "0"}, action="add-q")
    assert response.headers["Location"].endswith("/onboarding/step/2#qualification-1")  # back at the new row
    html = applicant.get("/onboarding/step/2").get_data(as_text=True)
    assert 'id="qualification-1"' in html and 'name="q-0-name"' in html and 'name="q-0-file"' in html


@pytest.mark.parametrize("featured", [1, 4])
def test_art7_two_to_three_featured_items(applicant, featured):
    response = post_step(applicant, 3, services(featured=featured, extra=0))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "第七条" in html and f"当前{featured}项" in html


@pytest.mark.parametrize("featured", [2, 3])
def test_art7_two_or_three_featured_items_pass(applicant, featured):
    assert post_step(applicant, 3, services(featured=featured, extra=2)).status_code == 302


def test_art6_one_or_two_agents(applicant):
    assert post_step(applicant, 4, agents(0)).status_code == 422
    assert "第六条" in post_step(applicant, 4, agents(0)).get_data(as_text=True)
    assert post_step(applicant, 4, agents(1)).status_code == 302
    assert post_step(applicant, 4, agents(2)).status_code == 302
    response = post_step(applicant, 4, agents(3))  # the form offers two; a forged third is dropped
    assert len(application().data["agents"]) == 2 and response.status_code == 302


def test_art6_three_agents_are_refused_by_the_rule():
    from qzt.rules.eligibility import agent_problems

    assert agent_problems([{}, {}, {}]) and agent_problems([])


def step_bar(html: str) -> str:
    return html[
        html.index('class="wizard-progress"') : html.index("</nav>", html.index('class="wizard-progress"'))
    ]


def test_art8_evidence_step_is_shown_as_not_applicable_and_passed_over(applicant):
    post_step(applicant, 3, services(category="inspection"))
    bar = step_bar(applicant.get("/onboarding/step/3").get_data(as_text=True))
    assert "第3步/共8步 · <strong>服务项目</strong>" in bar
    assert bar.count("<li") == 8 and "证明材料" in bar and "不适用" in bar
    assert 'href="/onboarding/step/5"' not in bar  # not a link
    # [下一步] on step 4 goes to step 6, [上一步] on step 6 back to 4; step 5 itself leads on to 6.
    assert post_step(applicant, 4, agents()).headers["Location"].endswith("/onboarding/step/6")
    assert post_step(applicant, 6, {}, action="prev").headers["Location"].endswith("/onboarding/step/4")
    assert applicant.get("/onboarding/step/5").headers["Location"].endswith("/onboarding/step/6")
    assert "第6步/共8步" in applicant.get("/onboarding/step/6").get_data(as_text=True)


def test_art8_evidence_step_applies_and_the_count_stays_eight(applicant):
    post_step(applicant, 3, services(category="intellectual-property"))
    assert post_step(applicant, 4, agents()).headers["Location"].endswith("/onboarding/step/5")
    bar = step_bar(applicant.get("/onboarding/step/6").get_data(as_text=True))
    assert "第6步/共8步" in bar and bar.count("<li") == 8
    assert "不适用" not in bar and 'href="/onboarding/step/5"' in bar


def test_art8_case_evidence_step_only_when_it_applies(applicant):
    post_step(applicant, 3, services(category="intellectual-property"))
    html = applicant.get("/onboarding/step/5").get_data(as_text=True)
    assert "客户名录" in html and "案例图片" in html and "实验室认可" not in html
    response = post_step(applicant, 5, {"client_list": ""})
    assert response.status_code == 422 and "第八条" in response.get_data(as_text=True)
    ok = post_step(
        applicant,
        5,
        {"client_list": "佛山某公司 商标注册 2025-06", "case_images": (io.BytesIO(PNG), "case.png")},
    )
    assert ok.status_code == 302


def test_art9_equipment_sharing_needs_a_valid_lab_accreditation(applicant):
    post_step(applicant, 3, services(category="equipment-sharing"))
    expired = (clock.today() - timedelta(days=3)).isoformat()
    response = post_step(
        applicant,
        5,
        {
            "lab_cert_number": "CNAS L1234",
            "lab_cert_valid_until": expired,
            "lab_cert_file": (io.BytesIO(PDF), "cnas.pdf"),
            "equipment_list": "示波器",
        },
    )
    assert response.status_code == 422 and "过期" in response.get_data(as_text=True)
    ok = post_step(
        applicant,
        5,
        {
            "lab_cert_number": "CNAS L1234",
            "lab_cert_valid_until": (clock.today() + timedelta(days=90)).isoformat(),
            "equipment_list": "示波器 DSO-X 4000",
        },
    )
    assert ok.status_code == 302  # the file uploaded before is kept


def test_art5_each_declaration_is_required(applicant):
    response = post_step(applicant, 6, {k: v for k, v in DECLARATIONS.items() if k != "not_abnormal"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "经营异常名录" in html


# --- uploads ---


def test_upload_recognised_by_content_not_name(applicant):
    response = post_step(applicant, 2, {"licence": (io.BytesIO(EXE), "licence.pdf")})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "不是有效的PDF、JPG或PNG文件" in html
    assert db.session.scalar(db.select(StoredFile)) is None


def test_upload_over_10mb_is_refused_with_a_clear_message(applicant):
    big = PDF + b"0" * (11 * 1024 * 1024)
    response = post_step(applicant, 2, {"licence": (io.BytesIO(big), "big.pdf"), **qualification()})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "超过10MB" in html
    assert "10.0MB" not in html  # an 11 MB file is not "10.0MB": the size is not claimed at all
    # The qualification typed and uploaded in the same request is kept.
    assert application().data["qualifications"][0]["name"] == "检验检测机构资质认定证书"
    assert application().data["qualifications"][0]["file_id"]


def test_files_are_served_to_the_owner_as_attachments_and_404_to_others(client, applicant, make_user):
    post_step(applicant, 2, {"licence": (io.BytesIO(PDF), "营业执照.pdf")}, action="save")
    file_id = application().data["licence_file_id"]
    response = applicant.get(f"/files/{file_id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    stored = db.session.get(StoredFile, file_id)
    assert "static" not in stored.key and stored.key != "营业执照.pdf"
    applicant.post("/logout", data={"csrf_token": csrf(applicant, "/")})
    assert client.get(f"/files/{file_id}").status_code in (302, 401)  # anonymous: log in first
    register(client, phone="13600000002")  # applicant B
    assert client.get(f"/files/{file_id}").status_code == 404


def test_applicant_b_cannot_reach_a_draft(client, applicant):
    post_step(applicant, 1, BASIC, action="save")
    applicant.post("/logout", data={"csrf_token": csrf(applicant, "/")})
    register(client, phone="13600000002")
    html = client.get("/onboarding/step/1").get_data(as_text=True)
    assert BASIC["name"] not in html  # B sees its own, empty draft


def test_post_without_csrf_token_is_refused(applicant):
    response = applicant.post("/onboarding/step/1", data={**BASIC, "action": "save"})
    assert response.status_code == 400
    assert application().data["basic"]["name"] == ""


def test_staff_have_no_wizard(staff_client):
    assert staff_client.get("/onboarding").status_code == 403


# --- pledge and submission ---


def test_annex1_pledge_step_shows_the_eight_articles(applicant):
    fill_steps(applicant)
    review(applicant)
    html = applicant.get("/onboarding/step/8").get_data(as_text=True)
    assert html.count("承诺") >= 8 and "不伪造检验检测数据" in html and "签署人姓名" in html


def test_annex1_wrong_password_at_signing_is_refused(applicant):
    fill_steps(applicant)
    response = sign(applicant, password="not-my-password")
    assert response.status_code == 422 and "登录密码不正确" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(PledgeSignature)) is None


def test_annex1_signature_records_the_evidence(applicant):
    fill_steps(applicant)
    import base64

    drawn = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert sign(applicant, signature=drawn).status_code == 302
    signature = db.session.scalar(db.select(PledgeSignature))
    from qzt.pledges import texts as pledges
    from qzt.pledges.signing import snapshot_sha256

    assert signature.uscc == BASIC["uscc"] and signature.signer_name == "张三"
    assert signature.pledge_version == pledges.current().version
    assert signature.text_sha256 == pledges.current().sha256
    assert signature.snapshot_sha256 == snapshot_sha256(application().data)
    assert signature.ip and signature.signature_file.mime == "image/png"


def test_annex1_signatures_are_append_only(applicant):
    from qzt.models import AppendOnlyError

    fill_steps(applicant)
    sign(applicant)
    signature = db.session.scalar(db.select(PledgeSignature))
    signature.signer_name = "李四"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_annex1_append_only_in_the_database_too(applicant):
    import sqlalchemy as sa

    fill_steps(applicant)
    sign(applicant)
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.text("UPDATE pledge_signatures SET signer_name = 'x'"))
    db.session.rollback()


def test_art10_the_summary_lists_what_is_missing_and_does_not_lead_on_to_signing(applicant):
    post_step(applicant, 1, BASIC)
    html = applicant.get("/onboarding/step/7").get_data(as_text=True)
    for missing in ("请上传营业执照或法人证书", "第七条", "第六条"):
        assert missing in html
    assert 'href="/onboarding/step/2">第2步</a>' in html
    assert "确认无误，下一步" not in html
    response = review(applicant)  # pressed all the same (a page from before): the list again
    assert response.status_code == 422 and "请上传营业执照或法人证书" in response.get_data(as_text=True)
    # Neither the pledge nor submitting is reached without a review.
    assert applicant.get("/onboarding/step/8").headers["Location"].endswith("/onboarding/step/7")
    response = submit(applicant)
    assert response.status_code == 302 and response.headers["Location"].endswith("/onboarding/step/7")
    assert "请先在第7步核对申请资料" in applicant.get("/onboarding/step/7").get_data(as_text=True)
    assert application().state == ApplicationState.DRAFT


def test_art10_complete_signed_application_is_submitted(applicant):
    fill_everything(applicant)
    response = submit(applicant)
    assert response.status_code == 302
    app_ = application()
    assert app_.state == ApplicationState.SUBMITTED and len(app_.revisions) == 1
    html = applicant.get("/onboarding").get_data(as_text=True)
    assert "待初审" in html and "下载承诺书PDF" in html and "/verify/" in html
    assert f"QZT-{app_.id:06d}" in html and "初审一般在 5 个工作日内完成" in html
    # [撤回申请] only opens the confirmation; the button that withdraws says so.
    assert "<summary>撤回申请</summary>" in html and "确认撤回申请" in html


def test_art10_screening_time_told_to_the_applicant_comes_from_the_setting(app, applicant):
    app.config["QZT_SCREENING_WORKING_DAYS"] = 3
    fill_everything(applicant)
    submit(applicant)
    assert "初审一般在 3 个工作日内完成" in applicant.get("/onboarding").get_data(as_text=True)


def test_annex1_editing_after_signing_requires_reviewing_and_signing_again(applicant):
    fill_everything(applicant)
    post_step(applicant, 1, {**BASIC, "address": "新地址2号"})
    response = submit(applicant)
    assert response.headers["Location"].endswith("/onboarding/step/7")  # back to the summary
    html = applicant.get("/onboarding/step/7").get_data(as_text=True)
    assert "资料又有修改" in html and "新地址2号" in html
    assert application().state == ApplicationState.DRAFT
    sign(applicant)
    assert submit(applicant).status_code == 302
    assert application().revisions[0].data["basic"]["address"] == "新地址2号"


# --- the order: review everything (step 7), then sign and submit (step 8) ---


def test_the_summary_comes_before_the_pledge_each_part_with_a_link_to_edit_it(applicant):
    fill_steps(applicant)
    html = applicant.get("/onboarding/step/7").get_data(as_text=True)
    assert "<h2>核对资料</h2>" in html and "第7步/共8步" in html
    assert "承诺书全文" not in html
    edits = re.findall(
        r'<a class="summary-edit" href="/onboarding/step/(\d)">修改<span class="visually-hidden">(\w+)', html
    )
    assert edits == [
        ("1", "基本信息"),
        ("2", "执照与资质"),
        ("3", "服务项目"),
        ("4", "客服人员"),
        ("6", "入驻声明"),
    ]
    assert "不适用" in html.split("证明材料")[-1].split("入驻声明")[0]  # inspection: no Art. 8/9 evidence
    for shown in (BASIC["name"], BASIC["uscc"], "licence.pdf", "cma.pdf", "家电检测项目0", "客服0"):
        assert shown in html
    assert review(applicant).headers["Location"].endswith("/onboarding/step/8")
    pledge = applicant.get("/onboarding/step/8").get_data(as_text=True)
    assert "<h2>签署承诺书</h2>" in pledge and "第8步/共8步" in pledge and "承诺书全文" in pledge
    assert 'href="/onboarding/step/7">上一步</a>' in pledge


def test_art8_evidence_is_in_the_summary_with_its_link(applicant):
    fill_steps(applicant)
    post_step(applicant, 3, services(category="intellectual-property"))
    post_step(
        applicant,
        5,
        {"client_list": "佛山某公司 商标注册 2025-06", "case_images": (io.BytesIO(PNG), "商标.png")},
    )
    html = applicant.get("/onboarding/step/7").get_data(as_text=True)
    assert (
        '<a class="summary-edit" href="/onboarding/step/5">修改<span class="visually-hidden">证明材料' in html
    )
    assert "佛山某公司 商标注册 2025-06" in html and "商标.png" in html


def test_once_signed_the_pledge_step_shows_the_signature_before_submitting(applicant):
    import base64

    fill_steps(applicant)
    drawn = "data:image/png;base64," + base64.b64encode(PNG).decode()
    response = sign(applicant, signature=drawn)
    assert response.headers["Location"].endswith("/onboarding/step/8")
    html = applicant.get("/onboarding/step/8").get_data(as_text=True)
    assert "签名预览" in html and 'alt="张三的手写签名"' in html
    assert f'src="data:image/png;base64,{base64.b64encode(PNG).decode()}"' in html
    assert "提交申请" in html and 'href="/onboarding/step/8?sign=again"' in html
    assert application().state == ApplicationState.DRAFT  # signing alone submits nothing
    again = applicant.get("/onboarding/step/8?sign=again").get_data(as_text=True)
    assert "签署人姓名" in again and "签名预览" not in again
    assert submit(applicant).status_code == 302
    assert application().state == ApplicationState.SUBMITTED


def test_signing_refuses_data_changed_after_review(applicant):
    fill_steps(applicant)
    review(applicant)
    page = applicant.get("/onboarding/step/8").get_data(as_text=True)  # the pledge, as one tab shows it
    post_step(applicant, 4, {**agents(), "a-0-name": "王五"})  # another tab changes the agent
    t = hidden(page, "csrf_token")
    data = {"signer_name": "张三", "password": PASSWORD, "agree": "y", "csrf_token": t}
    response = applicant.post("/onboarding/sign", data={**data, "reviewed": hidden(page, "reviewed")})
    assert response.headers["Location"].endswith("/onboarding/step/7")
    assert db.session.scalar(db.select(PledgeSignature)) is None
    html = applicant.get("/onboarding/step/7").get_data(as_text=True)
    assert "资料又有修改" in html and "王五" in html
    # Reviewed again in the second tab: the first tab's page still shows the old data and is refused.
    review(applicant)
    response = applicant.post("/onboarding/sign", data={**data, "reviewed": hidden(page, "reviewed")})
    assert response.headers["Location"].endswith("/onboarding/step/7")
    assert db.session.scalar(db.select(PledgeSignature)) is None
    assert sign(applicant).status_code == 302
    assert db.session.scalar(db.select(PledgeSignature)).snapshot_sha256 == hidden(
        applicant.get("/onboarding/step/7").get_data(as_text=True), "reviewed"
    )


def test_the_summary_refuses_to_record_a_review_of_data_it_did_not_show(applicant):
    fill_steps(applicant)
    page = applicant.get("/onboarding/step/7").get_data(as_text=True)
    post_step(applicant, 1, {**BASIC, "address": "另一个窗口改的地址"})
    response = applicant.post(
        "/onboarding/step/7",
        data={
            "action": "next",
            "reviewed": hidden(page, "reviewed"),
            "csrf_token": hidden(page, "csrf_token"),
        },
    )
    assert response.headers["Location"].endswith("/onboarding/step/7")
    html = applicant.get("/onboarding/step/7").get_data(as_text=True)
    assert "申请资料在您打开本页后有修改" in html and "另一个窗口改的地址" in html
    assert applicant.get("/onboarding/step/8").headers["Location"].endswith("/onboarding/step/7")


def test_step_bar_marks_the_review_and_the_signature_done(applicant):
    fill_steps(applicant)
    bar = step_bar(applicant.get("/onboarding/step/7").get_data(as_text=True))
    assert bar.count(" done") == 5  # steps 1–4 and 6; 5 不适用
    sign(applicant)
    bar = step_bar(applicant.get("/onboarding/step/8").get_data(as_text=True))
    assert bar.count(" done") == 7


def test_submitted_application_is_no_longer_editable(applicant):
    fill_everything(applicant)
    submit(applicant)
    assert applicant.get("/onboarding/step/1").headers["Location"].endswith("/onboarding")
    response = post_step(applicant, 1, {**BASIC, "name": "改名"}, action="save")
    assert response.status_code == 302
    assert application().data["basic"]["name"] == BASIC["name"]


# --- adding rows in place, and fields in error ---


def _step_number(slug: str) -> int:
    from qzt.onboarding.draft import STEP_BY_SLUG

    return STEP_BY_SLUG[slug].number


def _hx_post_step(client, number: int, fields: dict, action: str):
    t = csrf(client, f"/onboarding/step/{number}")
    return client.post(
        f"/onboarding/step/{number}",
        data={**fields, "action": action, "csrf_token": t},
        headers={"HX-Request": "true", "X-CSRFToken": t},
    )


def test_add_service_item_without_javascript_returns_to_the_new_row(applicant):
    number = _step_number("services")
    typed = {"s-0-category": "metrology", "s-0-title": "长度校准", "s-1-title": "", "s-1-featured": "y"}
    response = post_step(applicant, number, typed, action="add-s")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/onboarding/step/{number}#service-3")
    html = applicant.get(f"/onboarding/step/{number}").get_data(as_text=True)
    assert '<fieldset class="row-card" id="service-3">' in html and 'name="s-2-title"' in html
    assert 'value="长度校准"' in html  # what was typed before adding is kept


def test_add_service_item_with_htmx_returns_only_the_new_row_and_the_button(applicant):
    number = _step_number("services")
    response = _hx_post_step(applicant, number, {"s-0-title": "长度校准", "s-0-featured": "y"}, "add-s")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert '<fieldset class="row-card" id="service-2">' in html and 'name="s-1-title"' in html
    assert 'name="s-0-title"' not in html  # the rows on the page are left as they are
    assert f'hx-post="/onboarding/step/{number}"' in html and 'value="add-s"' in html
    assert [s["title"] for s in application().data["services"]] == ["长度校准", ""]  # saved as sent


def test_add_agent_stops_at_the_art6_maximum_with_a_note(applicant):
    number = _step_number("agents")
    response = _hx_post_step(applicant, number, agents(1), "add-a")
    html = response.get_data(as_text=True)
    assert 'id="agent-2"' in html and 'name="a-1-name"' in html
    assert 'value="add-a"' not in html and "已达上限：最多配备2名客服人员（第六条）" in html
    again = _hx_post_step(applicant, number, agents(2), "add-a").get_data(as_text=True)  # a forged third
    assert 'name="a-2-name"' not in again and "已达上限" in again
    assert len(application().data["agents"]) == 2
    page = applicant.get(f"/onboarding/step/{number}").get_data(as_text=True)
    assert 'value="add-a"' not in page and "已达上限：最多配备2名客服人员" in page
    assert post_step(applicant, number, agents(2), action="add-a").headers["Location"].endswith("#agent-2")


def test_a_field_in_error_points_at_its_message(applicant):
    html = post_step(applicant, 1, {**BASIC, "name": ""}).get_data(as_text=True)
    name = re.search(r'<input id="name" name="name"[^>]*>', html)[0]
    assert 'aria-invalid="true"' in name and 'aria-describedby="name-msg"' in name
    assert re.search(r'<p class="field-error" id="name-msg" role="alert">请填写机构名称</p>', html)
    address = re.search(r'<input id="address" name="address"[^>]*>', html)[0]
    assert "aria-invalid" not in address


@pytest.mark.parametrize(
    ("field", "wrong", "right", "problem"),
    [
        ("a-1-phone", "1380013800", "13800138000", "请填写11位手机号码"),
        ("introduction", "检测", BASIC["introduction"], "机构简介至少"),
        ("q-0-valid_until", "2000-01-01", NEXT_YEAR, "过期"),
        ("s-4-title", " ", "长度校准", "请填写项目名称"),
    ],
)
def test_inline_check_judges_a_row_field_by_the_steps_rules(applicant, field, wrong, right, problem):
    t = csrf(applicant, "/onboarding/step/1")
    check = f"/onboarding/check/{field}"
    bad = applicant.post(check, data={field: wrong}, headers={"HX-Request": "true", "X-CSRFToken": t})
    assert f'<p class="field-error" id="{field}-msg" role="alert">' in bad.get_data(as_text=True)
    assert problem in bad.get_data(as_text=True)
    good = applicant.post(check, data={field: right}, headers={"HX-Request": "true", "X-CSRFToken": t})
    assert "field-error" not in good.get_data(as_text=True) and f'id="{field}-msg"' in good.get_data(
        as_text=True
    )


def test_inline_check_of_a_field_it_cannot_judge_alone_is_404(applicant):
    t = csrf(applicant, "/onboarding/step/1")
    for field in ("q-0-file", "licence", "client_list", "x-0-name", "a-999-phone"):
        assert applicant.post(f"/onboarding/check/{field}", headers={"X-CSRFToken": t}).status_code == 404

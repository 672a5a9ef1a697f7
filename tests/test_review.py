"""Screening and deciding applications (Art. 3, 10–12): the staff queue, transitions, conflicts, notices."""

import copy
from datetime import date

import pytest
from onboarding_helpers import BASIC, fill_everything, post_step, register, sign, submit
from shared_fixtures import csrf

from qzt.core import audit, clock
from qzt.directory.search import Filters, search
from qzt.extensions import db
from qzt.models import (
    Application,
    ApplicationState,
    AuditRecord,
    Institution,
    ListingState,
    Notification,
)
from qzt.rules import admission


@pytest.fixture
def applicant(app):
    client = app.test_client()
    register(client)
    fill_everything(client)
    assert submit(client).status_code == 302
    return client


@pytest.fixture
def operator(login_as):
    return login_as("operator", "13911110001", name="运维小王")


@pytest.fixture
def operator2(login_as):
    return login_as("operator", "13911110003", name="运维小李")


@pytest.fixture
def authority(login_as):
    return login_as("authority", "13911110002", name="质量发展科老陈")


def current() -> Application:
    db.session.expire_all()
    return db.session.scalar(db.select(Application))


def act(client, action, version=None, **fields):
    a = current()
    data = {
        "csrf_token": csrf(client, f"/staff/applications/{a.id}"),
        "version": str(version if version is not None else a.version),
        **fields,
    }
    return client.post(f"/staff/applications/{a.id}/actions/{action}", data=data)


# --- the state machine, as a table ---


@pytest.mark.parametrize(
    "state, action, role, expected",
    [
        ("submitted", "request_info", "operator", "info_requested"),
        ("submitted", "schedule_visit", "operator", "site_visit"),
        ("site_visit", "record_visit", "operator", "submitted"),
        ("submitted", "recommend_approval", "operator", "awaiting_decision"),
        ("site_visit", "recommend_rejection", "operator", "awaiting_decision"),
        ("awaiting_decision", "approve", "authority", "approved"),
        ("awaiting_decision", "reject", "authority", "rejected"),
        ("info_requested", "reject", "authority", "rejected"),  # Art. 11: no cooperation
        ("info_requested", "submit", "institution", "submitted"),
        ("submitted", "withdraw", "institution", "withdrawn"),
    ],
)
def test_art11_legal_transitions(state, action, role, expected):
    assert admission.target(state, action, role) == expected


@pytest.mark.parametrize(
    "state, action, role",
    [
        ("submitted", "approve", "authority"),  # not before the operator's recommendation
        ("awaiting_decision", "approve", "operator"),  # only the authority decides
        ("submitted", "recommend_approval", "authority"),
        ("approved", "reject", "authority"),
        ("rejected", "submit", "institution"),
        ("approved", "withdraw", "institution"),
        ("withdrawn", "request_info", "operator"),
        ("draft", "request_info", "operator"),
        ("submitted", "approve", "institution"),
    ],
)
def test_art11_illegal_transitions_are_refused(state, action, role):
    with pytest.raises(admission.TransitionRefused):
        admission.target(state, action, role)


def test_every_state_has_a_way_out_or_is_final():
    finals = {"approved", "rejected", "withdrawn"}
    for state in ApplicationState:
        ways = [t for t in admission.TRANSITIONS if state.value in t.sources]
        assert bool(ways) != (state.value in finals), state


# --- the whole path ---


def test_art10_screening_decision_listing(applicant, operator, authority):
    assert current().state == ApplicationState.SUBMITTED
    queue = operator.get("/staff/applications").get_data(as_text=True)
    assert BASIC["name"] in queue
    assert '<td data-label="已等待">' in queue  # on a phone each row is a card naming its cells
    assert (
        act(operator, "recommend_approval", message="资质齐全，信用良好（信用中国已核查）").status_code == 302
    )
    assert current().state == ApplicationState.AWAITING_DECISION
    assert act(authority, "approve", message="同意入驻").status_code == 302
    application = current()
    institution = db.session.get(Institution, application.institution_id)
    assert application.state == ApplicationState.APPROVED
    assert institution.listing_state == ListingState.LISTED and institution.opened_on == clock.today()
    assert institution.owner_id == application.applicant_id
    assert [i.name for i in search(Filters(q="家电检测")).items] == [BASIC["name"]]
    notice = db.session.scalar(db.select(Notification).where(Notification.kind == "approved"))
    assert notice.user_id == application.applicant_id and "第十三条" in notice.body
    assert "入驻申请已通过" in applicant.get("/notices").get_data(as_text=True)


def test_art11_more_information_loop_with_revision_diff(applicant, operator):
    response = act(operator, "request_info", message="请补充CNAS证书附表", deadline_days="5")
    assert response.status_code == 302
    application = current()
    assert application.state == ApplicationState.INFO_REQUESTED and application.info_deadline > clock.today()
    html = applicant.get("/onboarding", follow_redirects=True).get_data(as_text=True)
    assert "请补充CNAS证书附表" in html
    post_step(applicant, 1, {**BASIC, "address": "大良街道新城区8号"})
    sign(applicant)
    assert submit(applicant).status_code == 302
    application = current()
    assert application.state == ApplicationState.SUBMITTED and len(application.revisions) == 2
    page = operator.get(f"/staff/applications/{application.id}").get_data(as_text=True)
    assert "与上次提交相比的修改" in page and "basic.address" in page and "大良街道新城区8号" in page
    # The audit log holds both submissions, by the applicant, each with the version it froze.
    submissions = [r for r in audit.history(application) if r.action == "submit"]
    assert [r.note for r in submissions] == ["首次提交", "补充材料后重新提交（第2版）"]
    assert all(r.actor_id == application.applicant_id for r in submissions)
    assert [r.after["revision"] for r in submissions] == [1, 2]
    assert "补充材料后重新提交（第2版）" in page


def test_art11_reasons_are_required_and_nothing_typed_is_lost(applicant, operator):
    response = act(operator, "request_info", message="", deadline_days="5")
    assert response.status_code == 422 and "请填写需要补充的材料" in response.get_data(as_text=True)
    response = act(operator, "request_info", message="请补充附表", deadline_days="99")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "1至30个工作日" in html and "请补充附表" in html
    assert current().state == ApplicationState.SUBMITTED


def test_a_refused_action_says_why_beside_its_field_in_its_open_form(applicant, operator):
    """The message stands beside the field (and at the top); only that action's form is open, the field
    focused, and what was typed is kept."""
    html = act(operator, "recommend_approval", message="  ").get_data(as_text=True)
    form = html[html.index('id="action-recommend_approval"') :]
    form = form[: form.index("</details>")]
    assert 'id="action-recommend_approval" open' in html
    assert '<p class="field-error" id="msg-recommend_approval-error">请填写建议理由</p>' in form
    assert 'aria-invalid="true" aria-describedby="msg-recommend_approval-error" autofocus' in form
    assert html.count('<details class="review-action" name="review-action"') == 4
    assert html.count(" open>") == 1 and html.count("autofocus") == 1

    html = act(operator, "request_info", message="请补充附表", deadline_days="99").get_data(as_text=True)
    form = html[html.index('id="action-request_info"') :]
    form = form[: form.index("</details>")]
    assert 'id="action-request_info" open' in html
    assert 'value="99" aria-invalid="true" aria-describedby="days-error" autofocus' in form
    assert '<p class="field-error" id="days-error">补充期限应为1至30个工作日</p>' in form
    assert ">请补充附表</textarea>" in form

    html = act(operator, "schedule_visit", visit_on="2020-01-01", message="上午").get_data(as_text=True)
    assert 'type="date" value="2020-01-01" aria-invalid="true"' in html and ">上午</textarea>" in html


def test_without_an_error_every_action_is_a_closed_button(applicant, operator):
    html = operator.get(f"/staff/applications/{current().id}").get_data(as_text=True)
    assert html.count('<details class="review-action"') == 4 and " open>" not in html
    for label in ("要求补充材料", "安排实地调查", "建议通过", "建议不予通过"):
        assert f">{label}</summary>" in html


# --- [查看]: files in the browser ---


def _file_ids() -> dict[str, int]:
    data = current().data
    return {"licence": data["licence_file_id"], "certificate": data["qualifications"][0]["file_id"]}


def test_view_shows_a_checked_pdf_inline_with_a_strict_policy(applicant, operator):
    html = operator.get(f"/staff/applications/{current().id}").get_data(as_text=True)
    licence = _file_ids()["licence"]
    assert f'href="/staff/files/{licence}/view" target="_blank" rel="noopener"' in html
    assert f'href="/staff/files/{licence}"' in html  # and the download beside it

    response = operator.get(f"/staff/files/{licence}/view")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    # Chrome's PDF viewer does not start in a sandboxed document: no sandbox, but nothing may load.
    assert "sandbox" not in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert "frame-ancestors 'none'" in policy

    download = operator.get(f"/staff/files/{licence}")
    assert download.headers["Content-Disposition"].startswith("attachment;")


def test_view_shows_a_checked_image_sandboxed(applicant, operator):
    from onboarding_helpers import PNG

    from qzt.core import files
    from qzt.models import User

    stored = files.store_bytes(db.session.get(User, current().applicant_id), "case", PNG, "案例.png")
    db.session.commit()
    response = operator.get(f"/staff/files/{stored.id}/view")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Content-Disposition"].startswith("inline;")
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy


def test_view_hands_out_anything_unchecked_as_an_attachment(applicant, operator):
    """A row whose bytes are not what it says (a stored file changed, an old row) is only downloaded."""
    from qzt.core import files
    from qzt.models import StoredFile, User

    owner = db.session.get(User, current().applicant_id)
    html_bytes = b"<html><script>alert(1)</script></html>"
    stored = files.store_generated(owner, "case", html_bytes, "x.png", "image/png")
    db.session.commit()
    response = operator.get(f"/staff/files/{stored.id}/view")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" not in response.headers.get("Content-Security-Policy", "")

    text = files.store_generated(owner, "case", b"%PDF-1.4 not really", "y.pdf", "application/pdf")
    db.session.commit()
    response = operator.get(f"/staff/files/{text.id}/view")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert db.session.get(StoredFile, text.id) is not None


def test_view_is_allowed_exactly_where_the_download_is(applicant, login_as, app):
    licence = _file_ids()["licence"]
    for client in (app.test_client(), login_as("institution", "13600000009"), applicant):
        viewed = client.get(f"/staff/files/{licence}/view")
        assert viewed.status_code == client.get(f"/staff/files/{licence}").status_code
        assert viewed.status_code in (302, 403) and not viewed.data.startswith(b"%PDF")
    assert login_as("operator").get("/staff/files/999999/view").status_code == 404


@pytest.mark.parametrize("at", ["00:05", "01:21", "07:59"])
def test_art10_approved_in_the_small_hours_is_listed_on_that_beijing_date(
    app, applicant, operator, authority, at
):
    """The homepage's 入驻 date is the Beijing date of the approval, also before 08:00 (UTC's yesterday)."""
    app.config["QZT_CLOCK"] = f"2026-11-25T{at}:00+08:00"
    act(operator, "recommend_approval", message="资质齐全")
    assert act(authority, "approve", message="同意入驻").status_code == 302
    institution = db.session.get(Institution, current().institution_id)
    assert institution.opened_on == date(2026, 11, 25)
    html = applicant.get(f"/institutions/{institution.id}").get_data(as_text=True)
    assert "2026年11月25日入驻" in html
    # The applicant's page says it is done and what comes next (Art. 13: 5 working days, to 2 December).
    status = applicant.get("/onboarding").get_data(as_text=True)
    assert "入驻申请已通过" in status and "2026年12月02日" in status and "第十三条" in status
    assert "将对申请进行初审" not in status


def test_art8_client_list_keeps_its_lines_on_the_staff_page(applicant, operator):
    application = current()
    data = copy.deepcopy(application.data)
    data["evidence"]["client_list"] = (
        "佛山市甲公司：质量管理体系咨询，2025年3月\n佛山市乙公司：品牌培育，2025年9月"
    )
    application.data = data
    db.session.commit()
    page = operator.get(f"/staff/applications/{application.id}").get_data(as_text=True)
    assert '<div class="prewrap">佛山市甲公司：质量管理体系咨询，2025年3月\n佛山市乙公司' in page


def test_operator_cannot_approve(applicant, operator):
    act(operator, "recommend_approval", message="同意")
    response = act(operator, "approve", message="越权")
    assert response.status_code == 422 and current().state == ApplicationState.AWAITING_DECISION


def test_rejection_tells_the_applicant_why(applicant, operator, authority):
    act(operator, "recommend_rejection", message="资质证书与服务项目不符")
    act(authority, "reject", message="资质证书与服务项目不符")
    assert current().state == ApplicationState.REJECTED
    notice = db.session.scalar(db.select(Notification).where(Notification.kind == "rejected"))
    assert "资质证书与服务项目不符" in notice.body
    assert "资质证书与服务项目不符" in applicant.get("/onboarding").get_data(as_text=True)


def test_site_visit_then_result(applicant, operator):
    assert (
        act(operator, "schedule_visit", visit_on=clock.today().isoformat(), message="上午十点").status_code
        == 302
    )
    assert current().state == ApplicationState.SITE_VISIT
    assert act(operator, "record_visit", message="实验室运行良好").status_code == 302
    assert current().state == ApplicationState.SUBMITTED and current().site_visit_result == "实验室运行良好"


# --- concurrency ---


def test_two_reviewers_claiming_the_same_application_conflict(applicant, operator, operator2):
    a = current()
    version = a.version
    token1 = csrf(operator, f"/staff/applications/{a.id}")
    token2 = csrf(operator2, f"/staff/applications/{a.id}")
    first = operator.post(
        f"/staff/applications/{a.id}/claim", data={"csrf_token": token1, "version": version}
    )
    second = operator2.post(
        f"/staff/applications/{a.id}/claim", data={"csrf_token": token2, "version": version}
    )
    assert first.status_code == 302
    assert second.status_code == 409 and "其他工作人员" in second.get_data(as_text=True)
    assert current().assignee.name == "运维小王"


def test_stale_page_cannot_overwrite_a_decision(applicant, operator, operator2):
    stale = current().version
    assert act(operator, "recommend_approval", message="同意").status_code == 302
    response = act(operator2, "request_info", version=stale, message="请补充营业执照副本", deadline_days="3")
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "请补充营业执照副本" in html  # what was typed stays on the page
    assert current().state == ApplicationState.AWAITING_DECISION


# --- audit ---


def test_every_staff_action_is_audited(applicant, operator, authority):
    act(operator, "recommend_approval", message="同意")
    act(authority, "approve", message="批准")
    records = db.session.scalars(
        db.select(AuditRecord).where(AuditRecord.object_type == "applications").order_by(AuditRecord.id)
    ).all()
    assert [r.action for r in records][-2:] == ["recommend_approval", "approve"]
    last = records[-1]
    assert last.before["state"] == "awaiting_decision" and last.after["state"] == "approved"
    assert last.actor.name == "质量发展科老陈" and last.ip and last.at


def test_audit_records_cannot_be_changed(applicant, operator):
    import sqlalchemy as sa

    from qzt.models import AppendOnlyError

    act(operator, "recommend_approval", message="同意")
    record = db.session.scalar(db.select(AuditRecord))
    record.note = "改写"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.text("DELETE FROM audit_records"))
    db.session.rollback()


# --- queue ---


def test_queue_counts_filters_and_search(applicant, operator):
    html = operator.get("/staff/applications?state=submitted").get_data(as_text=True)
    assert BASIC["name"] in html and "个工作日" in html
    assert BASIC["name"] not in operator.get(
        "/staff/applications?state=submitted&category=metrology"
    ).get_data(as_text=True)
    assert BASIC["name"] in operator.get(
        "/staff/applications?state=submitted&category=inspection&district=shunde"
    ).get_data(as_text=True)
    assert BASIC["name"] in operator.get(
        f"/staff/applications?state=submitted&q={BASIC['uscc'][-6:]}"
    ).get_data(as_text=True)
    assert BASIC["name"] not in operator.get("/staff/applications?state=submitted&mine=1").get_data(
        as_text=True
    )
    fragment = operator.get("/staff/applications?state=submitted", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)


def test_art11_overdue_applicant_is_flagged(applicant, operator, authority):
    act(operator, "request_info", message="请补充", deadline_days="1")
    application = current()
    application.info_deadline = date(2020, 1, 2)  # long past
    db.session.commit()
    assert "补充逾期" in operator.get("/staff/applications?state=info_requested").get_data(as_text=True)
    assert act(authority, "reject", message="逾期未补充材料，不予通过（第十一条）").status_code == 302


# --- withdrawal (Art. 12) ---


def test_art12_applicant_withdraws(applicant):
    response = applicant.post("/onboarding/withdraw", data={"csrf_token": csrf(applicant, "/onboarding")})
    assert response.status_code == 302 and current().state == ApplicationState.WITHDRAWN


def test_art12_listed_institution_leaves_after_settlement(applicant, operator, authority):
    import io

    from onboarding_helpers import PDF

    act(operator, "recommend_approval", message="同意")
    act(authority, "approve", message="批准")
    t = csrf(applicant, "/onboarding")
    response = applicant.post(
        "/onboarding/withdrawal",
        data={"csrf_token": t, "reason": "业务调整", "letter": (io.BytesIO(PDF), "退出申请.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    from qzt.models import WithdrawalRequest

    withdrawal = db.session.scalar(db.select(WithdrawalRequest))
    early = authority.post(
        f"/staff/withdrawals/{withdrawal.id}/complete",
        data={"csrf_token": csrf(authority, "/staff/withdrawals")},
        follow_redirects=True,
    )
    assert "不能执行" in early.get_data(as_text=True)
    operator.post(
        f"/staff/withdrawals/{withdrawal.id}/settle",
        data={"csrf_token": csrf(operator, "/staff/withdrawals"), "note": "咨询均已答复"},
    )
    authority.post(
        f"/staff/withdrawals/{withdrawal.id}/complete",
        data={"csrf_token": csrf(authority, "/staff/withdrawals")},
    )
    db.session.expire_all()
    institution = db.session.get(Institution, current().institution_id)
    assert institution.listing_state == ListingState.WITHDRAWN
    assert search(Filters(q="家电检测")).total == 0
    assert institution.services  # its records stay


def test_art11_deadline_near_reminder_is_queued_once(applicant, operator, runner):
    act(operator, "request_info", message="请补充", deadline_days="1")
    first = runner.invoke(args=["qzt", "tick"])
    assert "截止提醒：新增1条" in first.output
    second = runner.invoke(args=["qzt", "tick"])
    assert "截止提醒" not in second.output
    notices = (
        db.select(Notification).where(Notification.kind != "verification-code").order_by(Notification.id)
    )
    assert [n.kind for n in db.session.scalars(notices)] == ["info_requested", "deadline_near"]
    assert all(n.state.value == "sent" for n in db.session.scalars(db.select(Notification)))


def test_stuck_sms_is_listed_for_staff_and_resent_only_on_request(applicant, operator):
    from datetime import timedelta

    from qzt.core import clock
    from qzt.models import DeliveryState

    act(operator, "request_info", message="请补充", deadline_days="3")
    notice = db.session.scalar(db.select(Notification))
    notice.state, notice.claimed_at = DeliveryState.SENDING, clock.now() - timedelta(hours=1)
    db.session.commit()
    page = operator.get("/staff/notifications").get_data(as_text=True)
    assert f"#{notice.id}" in page and "136****0001" in page  # the applicant's phone, masked
    operator.post(
        f"/staff/notifications/{notice.id}/resolve",
        data={"csrf_token": csrf(operator, "/staff/notifications"), "resend": "1"},
    )
    db.session.expire_all()
    assert db.session.get(Notification, notice.id).state == DeliveryState.PENDING
    assert db.session.scalar(db.select(AuditRecord).where(AuditRecord.action == "resend_notice"))


def test_annex1_new_pledge_version_asks_listed_institutions_to_sign_again(
    applicant, operator, authority, monkeypatch
):
    from qzt.models import PledgeSignature
    from qzt.pledges import texts as pledges

    act(operator, "recommend_approval", message="同意")
    act(authority, "approve", message="批准")
    old = db.session.scalar(db.select(PledgeSignature))
    assert "签署新版承诺书" not in applicant.get("/onboarding").get_data(as_text=True)
    newer = pledges.PledgeText("2099-01", pledges.current().text.replace("承诺遵守", "郑重承诺遵守"))
    published = {**pledges.versions(), "2099-01": newer}
    monkeypatch.setattr(pledges, "versions", lambda: published)
    assert "已失效" in applicant.get(f"/verify/{old.code}").get_data(as_text=True)
    assert "签署新版承诺书" in applicant.get("/onboarding").get_data(as_text=True)
    assert "郑重承诺遵守" in applicant.get("/onboarding/step/8").get_data(as_text=True)
    assert sign(applicant).status_code == 302
    latest = db.session.scalars(db.select(PledgeSignature).order_by(PledgeSignature.id.desc())).first()
    assert latest.pledge_version == "2099-01" and latest.text_sha256 == newer.sha256
    assert "有效" in applicant.get(f"/verify/{latest.code}").get_data(as_text=True)
    assert "签署新版承诺书" not in applicant.get("/onboarding").get_data(as_text=True)


def test_staff_filter_the_audit_log_of_an_application(applicant, operator):
    act(operator, "request_info", message="请补充附表", deadline_days="3")
    a = current()
    claims = operator.get(f"/staff/applications/{a.id}?log=claim").get_data(as_text=True).split("操作记录")[1]
    asks = (
        operator.get(f"/staff/applications/{a.id}?log=request_info")
        .get_data(as_text=True)
        .split("操作记录")[1]
    )
    assert "请补充附表" in asks and "请补充附表" not in claims.split("</form>", 1)[1]

"""Claimed applications (security issue 8): only the claimant or 质量发展科 acts on a claimed application;
another operator sees who holds it and since when, and takes it over with [转交] and a reason that the
audit log keeps. Two people transferring at once: the first wins, the second gets the conflict page."""

from datetime import date

import pytest
from shared_fixtures import csrf

from qzt.core.database import Conflict
from qzt.extensions import db
from qzt.models import Application, ApplicationState, AuditRecord, Notification, Role
from qzt.review import services
from qzt.rules import admission

WANG = ("13911110001", "运维小王")
LI = ("13911110003", "运维小李")
ZHAO = ("13911110004", "运维小赵")
CHEN = ("13911110002", "质量发展科老陈")
TODAY = date(2026, 3, 2)
VALID = {  # what each action needs, so that only the claim can refuse it
    "request_info": services.ActionInput(message="请补充CNAS证书附表", deadline_days=5),
    "schedule_visit": services.ActionInput(message="上午十点", visit_on=date(2026, 3, 9)),
    "record_visit": services.ActionInput(message="实验室运行良好"),
    "recommend_approval": services.ActionInput(message="资质齐全"),
    "recommend_rejection": services.ActionInput(message="资质不符"),
}


@pytest.fixture
def staff(make_user):
    return {
        "wang": make_user(Role.OPERATOR, *WANG),
        "li": make_user(Role.OPERATOR, *LI),
        "zhao": make_user(Role.OPERATOR, *ZHAO),
        "chen": make_user(Role.AUTHORITY, *CHEN),
        "admin": make_user(Role.ADMIN, "13911110009", "系统管理员"),
    }


@pytest.fixture
def application(make_application):
    return make_application()


def reload(application: Application) -> Application:
    db.session.expire_all()
    return db.session.get(Application, application.id)


def claimed(application: Application, user) -> Application:
    services.claim(application, user, application.version)
    db.session.commit()
    return reload(application)


def transferred(application: Application, user, reason: str = "小王休假，由我接手") -> Application:
    services.transfer(application, user, application.version, reason)
    db.session.commit()
    return reload(application)


def audit_actions(application: Application) -> list[str]:
    stmt = (
        db.select(AuditRecord.action)
        .where(AuditRecord.object_type == "applications", AuditRecord.object_id == application.id)
        .order_by(AuditRecord.id)
    )
    return list(db.session.scalars(stmt))


# --- the rule, as a table ---


@pytest.mark.parametrize(
    "user_id, role, claimant_id, expected",
    [
        (1, "operator", None, True),  # unclaimed: the transition table decides, as before
        (1, "authority", None, True),
        (1, "operator", 1, True),  # the claimant
        (2, "operator", 1, False),  # another operator
        (2, "authority", 1, True),  # 质量发展科 decides whoever holds it
        (2, "admin", 1, False),
    ],
)
def test_who_may_handle_a_claimed_application(user_id, role, claimant_id, expected):
    assert admission.may_handle(user_id, role, claimant_id) is expected


@pytest.mark.parametrize(
    "user_id, role, state, claimant_id, refusal",
    [
        (2, "operator", "submitted", 1, None),
        (2, "authority", "awaiting_decision", 1, None),
        (2, "operator", "info_requested", 1, None),
        (2, "admin", "submitted", 1, "您的角色不能转交申请"),
        (2, "operator", "approved", 1, "该申请已办结，无需转交"),
        (2, "operator", "submitted", None, "该申请尚未领取，请直接“领取”"),
        (1, "operator", "submitted", 1, "该申请已由您领取，无需转交"),
    ],
)
def test_who_may_transfer(user_id, role, state, claimant_id, refusal):
    assert admission.transfer_refusal(user_id, role, state, claimant_id) == refusal


# --- the services ---


OPERATOR_MOVES = [
    (state, action)
    for action in VALID
    for state in ("submitted", "site_visit")
    if state in admission.BY_ACTION[action].sources
]


@pytest.mark.parametrize("state, action", OPERATOR_MOVES)
def test_another_operator_cannot_decide_a_claimed_application(application, staff, state, action):
    application.state = ApplicationState(state)
    application = claimed(application, staff["wang"])
    notices = db.session.scalar(db.select(db.func.count(Notification.id)))
    with pytest.raises(admission.TransitionRefused) as refused:
        services.act(application, action, staff["li"], application.version, VALID[action], TODAY)
    assert str(refused.value) == (
        "该申请已由运维小王领取，只有领取人或质量发展科可以处理；如需接手，请先“转交”"
    )
    db.session.rollback()
    application = reload(application)
    assert application.state == ApplicationState(state) and application.assignee_id == staff["wang"].id
    assert audit_actions(application) == ["claim"]
    assert db.session.scalar(db.select(db.func.count(Notification.id))) == notices  # nobody is told


def test_the_claimant_still_acts_and_unclaimed_applications_are_anyones(make_application, make_user, staff):
    mine = claimed(make_application(), staff["wang"])
    services.act(mine, "recommend_approval", staff["wang"], mine.version, VALID["recommend_approval"], TODAY)
    db.session.commit()
    assert reload(mine).state == ApplicationState.AWAITING_DECISION

    unclaimed = make_application(make_user(Role.INSTITUTION, "13600000008", "另一家机构"))
    services.act(unclaimed, "request_info", staff["li"], unclaimed.version, VALID["request_info"], TODAY)
    db.session.commit()
    assert reload(unclaimed).state == ApplicationState.INFO_REQUESTED


def test_authority_can_act_on_a_claimed_application(application, staff):
    application = claimed(application, staff["wang"])
    services.act(
        application,
        "recommend_approval",
        staff["wang"],
        application.version,
        VALID["recommend_approval"],
        TODAY,
    )
    db.session.commit()
    application = reload(application)
    given = services.ActionInput(message="同意入驻")
    services.act(application, "approve", staff["chen"], application.version, given, TODAY)
    db.session.commit()
    application = reload(application)
    assert application.state == ApplicationState.APPROVED and application.assignee_id == staff["wang"].id
    assert audit_actions(application) == ["claim", "recommend_approval", "approve"]


def test_transfer_needs_a_reason_and_is_audited(application, staff):
    application = claimed(application, staff["wang"])
    for reason, message in [
        ("", "请填写转交原因"),
        ("   ", "请填写转交原因"),
        ("因" * 201, "转交原因请不超过200字"),
    ]:
        with pytest.raises(services.ActionRefused, match=message):
            services.transfer(application, staff["li"], application.version, reason)
        db.session.rollback()
    assert reload(application).assignee_id == staff["wang"].id

    application = transferred(application, staff["li"], "  小王休假，由我接手  ")
    assert application.assignee_id == staff["li"].id
    record = db.session.scalars(db.select(AuditRecord).order_by(AuditRecord.id.desc())).first()
    assert record.action == "transfer" and record.actor_id == staff["li"].id
    assert record.note == "小王休假，由我接手"
    assert (record.before["assignee_id"], record.before["assignee"]) == (staff["wang"].id, "运维小王")
    assert (record.after["assignee_id"], record.after["assignee"]) == (staff["li"].id, "运维小李")
    assert record.before["state"] == record.after["state"] == "submitted"  # a transfer decides nothing
    assert services.claimed_since(application) == record.at


def test_after_transfer_the_old_claimant_can_no_longer_act(application, staff):
    application = transferred(claimed(application, staff["wang"]), staff["li"])
    with pytest.raises(admission.TransitionRefused, match="该申请已由运维小李领取"):
        services.act(
            application, "request_info", staff["wang"], application.version, VALID["request_info"], TODAY
        )
    db.session.rollback()
    application = reload(application)
    assert application.state == ApplicationState.SUBMITTED
    services.act(application, "request_info", staff["li"], application.version, VALID["request_info"], TODAY)
    db.session.commit()
    assert reload(application).state == ApplicationState.INFO_REQUESTED


def test_two_transfers_at_once_only_the_first_wins(application, staff):
    application = claimed(application, staff["wang"])
    seen = application.version  # both pages were rendered at this version
    services.transfer(application, staff["li"], seen, "小王休假")
    db.session.commit()
    application = reload(application)
    with pytest.raises(Conflict):
        services.transfer(application, staff["zhao"], seen, "我来处理")
    db.session.rollback()
    with pytest.raises(Conflict):  # no version at all: refused too, never a silent takeover
        services.transfer(application, staff["zhao"], None, "我来处理")
    db.session.rollback()
    application = reload(application)
    assert application.assignee_id == staff["li"].id
    assert audit_actions(application) == ["claim", "transfer"]


def test_transfer_of_an_unclaimed_own_or_closed_application_is_refused(make_application, staff):
    application = make_application()
    with pytest.raises(admission.TransitionRefused, match="尚未领取"):
        services.transfer(application, staff["li"], application.version, "接手")
    db.session.rollback()
    application = claimed(reload(application), staff["li"])
    with pytest.raises(admission.TransitionRefused, match="已由您领取"):
        services.transfer(application, staff["li"], application.version, "接手")
    db.session.rollback()
    application = reload(application)
    application.state = ApplicationState.REJECTED
    db.session.commit()
    application = reload(application)
    with pytest.raises(admission.TransitionRefused, match="已办结"):
        services.transfer(application, staff["wang"], application.version, "接手")
    db.session.rollback()
    assert audit_actions(application) == ["claim"]


# --- the pages ---


def test_another_operators_decision_post_is_refused_on_the_page_and_changes_nothing(
    app, login_as, application, staff
):
    app.config["QZT_CLOCK"] = "2026-03-03T07:30:00+08:00"  # still 2 March in UTC
    wang, li = login_as(Role.OPERATOR, WANG[0]), login_as(Role.OPERATOR, LI[0])
    path = f"/staff/applications/{application.id}"
    response = wang.post(
        f"{path}/claim", data={"csrf_token": csrf(wang, path), "version": str(application.version)}
    )
    assert response.status_code == 302

    html = li.get(path).get_data(as_text=True)
    assert "该申请已由运维小王于 2026-03-03 07:30 领取" in html  # Beijing time
    assert "<dt>领取时间</dt><dd>2026-03-03 07:30（北京时间）</dd>" in html
    assert ">转交</button>" in html and "审核操作" not in html  # no decision buttons, [转交] instead
    assert "运维小王" in li.get("/staff/applications").get_data(as_text=True)  # the queue names the claimant

    application = reload(application)
    response = li.post(
        f"{path}/actions/request_info",
        data={
            "csrf_token": csrf(li, path),
            "version": str(application.version),
            "message": "请补充营业执照副本",
            "deadline_days": "5",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "该申请已由运维小王领取，只有领取人或质量发展科可以处理" in html
    application = reload(application)
    assert application.state == ApplicationState.SUBMITTED and application.assignee_id == staff["wang"].id
    assert audit_actions(application) == ["claim"]

    own = wang.get(path).get_data(as_text=True)  # the claimant: the buttons, no [转交]
    assert "审核操作" in own and ">转交</button>" not in own
    chen = login_as(Role.AUTHORITY, CHEN[0]).get(path).get_data(as_text=True)
    assert "审核操作" in chen and ">转交</button>" in chen  # 质量发展科: both


def test_transfer_on_the_page_keeps_the_reason_and_shows_in_the_history(login_as, application, staff):
    application = claimed(application, staff["wang"])
    li = login_as(Role.OPERATOR, LI[0])
    path = f"/staff/applications/{application.id}"

    response = li.post(
        f"{path}/transfer", data={"csrf_token": csrf(li, path), "version": str(application.version)}
    )
    assert response.status_code == 422 and "请填写转交原因" in response.get_data(as_text=True)
    response = li.post(
        f"{path}/transfer",
        data={
            "csrf_token": csrf(li, path),
            "version": str(application.version),
            "reason": "小王休假，由我接手",
        },
    )
    assert response.status_code == 302
    html = li.get(path).get_data(as_text=True)
    assert "已转交，该申请现由您处理" in html and "审核操作" in html and ">转交</button>" not in html
    history = html.split("操作记录")[1]
    assert "转交" in history and "领取人：运维小王 → 运维小李" in history and "小王休假，由我接手" in history
    assert 'value="transfer"' in html  # the log filter offers 转交

    wang = login_as(Role.OPERATOR, WANG[0]).get(path).get_data(as_text=True)
    assert "该申请已由运维小李" in wang and "审核操作" not in wang


def test_two_people_pressing_transfer_at_once_the_second_gets_the_conflict_page(login_as, application, staff):
    application = claimed(application, staff["wang"])
    li, zhao = login_as(Role.OPERATOR, LI[0]), login_as(Role.OPERATOR, ZHAO[0])
    path = f"/staff/applications/{application.id}"
    tokens = {client: csrf(client, path) for client in (li, zhao)}  # both pages open at the same version
    version = str(application.version)
    first = li.post(f"{path}/transfer", data={"csrf_token": tokens[li], "version": version, "reason": "我来"})
    second = zhao.post(
        f"{path}/transfer", data={"csrf_token": tokens[zhao], "version": version, "reason": "我也想接手"}
    )
    assert first.status_code == 302
    html = second.get_data(as_text=True)
    assert second.status_code == 409 and "其他工作人员" in html and "我也想接手" in html  # typed text kept
    assert "该申请已由运维小李" in html
    assert reload(application).assignee_id == staff["li"].id

"""Supervision (Art. 12, 17): the one-month rule, hiding and showing, expulsion and removal."""

from datetime import date

from shared_fixtures import csrf

from qzt.extensions import db
from qzt.models import AuditRecord, ListingState, Notification, Role


def tick(app, runner, moment: str) -> str:
    app.config["QZT_CLOCK"] = moment
    return runner.invoke(args=["qzt", "tick"]).output


def test_art17_one_month_rule_hides_on_the_boundary_day_and_relists_once_it_complies(
    app, runner, make_institution, make_user, client
):
    owner = make_user(Role.INSTITUTION, phone="13700000002")
    inst = make_institution("佛山市缺客服检测所", opened_on=date(2026, 3, 10), agents=[])
    inst.owner_id = owner.id
    db.session.commit()
    tick(app, runner, "2026-04-09T23:59:00+08:00")  # the last day of the first month
    db.session.refresh(inst)
    assert inst.listing_state == ListingState.LISTED
    output = tick(app, runner, "2026-04-10T00:01:00+08:00")
    assert "第十七条：隐藏1家机构主页" in output
    db.session.refresh(inst)
    assert inst.listing_state == ListingState.HIDDEN and inst.hidden_by_rule
    assert client.get(f"/institutions/{inst.id}").status_code == 404
    assert inst.name not in client.get("/directory?q=缺客服").get_data(as_text=True)
    notice = db.session.scalar(db.select(Notification).where(Notification.kind == "listing_hidden"))
    assert "客服人员" in notice.body and "自动恢复显示" in notice.body
    # Idempotent: a second tick at the same moment changes nothing more.
    records = db.session.scalar(db.select(db.func.count(AuditRecord.id)))
    assert "第十七条" not in tick(app, runner, "2026-04-10T00:01:00+08:00")
    assert db.session.scalar(db.select(db.func.count(AuditRecord.id))) == records
    # It complies: listed again by the next tick, without an operator.
    from qzt.models import ServiceAgent

    inst.agents.append(ServiceAgent(name="李客服", phone="13700000021", hours="工作日"))
    db.session.commit()
    assert "恢复显示1家" in tick(app, runner, "2026-04-10T09:00:00+08:00")
    db.session.refresh(inst)
    assert inst.listing_state == ListingState.LISTED and not inst.hidden_by_rule
    assert client.get(f"/institutions/{inst.id}").status_code == 200


def act(client, inst, action, **data):
    path = f"/staff/institutions/{inst.id}"
    return client.post(f"{path}/{action}", data={**data, "csrf_token": csrf(client, path)})


def test_staff_hide_with_a_reason_and_only_staff_show_it_again(
    make_institution, login_as, client, app, runner
):
    inst = make_institution("佛山市被隐藏检测所")
    operator = login_as("operator")
    response = act(operator, inst, "hide", reason="")
    assert response.status_code == 422 and "请填写隐藏理由" in response.get_data(as_text=True)
    assert act(operator, inst, "hide", reason="资质存疑，待核实").status_code == 302
    db.session.refresh(inst)
    assert inst.listing_state == ListingState.HIDDEN and not inst.hidden_by_rule
    tick(app, runner, "2026-04-10T09:00:00+08:00")  # the one-month rule leaves staff's hiding alone
    db.session.refresh(inst)
    assert inst.listing_state == ListingState.HIDDEN
    assert client.get(f"/institutions/{inst.id}").status_code == 404
    assert act(operator, inst, "unhide", reason="已核实").status_code == 302
    db.session.refresh(inst)
    assert inst.listing_state == ListingState.LISTED
    timeline = operator.get(f"/staff/institutions/{inst.id}").get_data(as_text=True)
    assert "隐藏主页" in timeline and "恢复显示" in timeline and "资质存疑，待核实" in timeline


def test_art17_the_authority_expels_for_a_cause_and_the_homepage_answers_410(
    make_institution, make_user, login_as, client
):
    owner = make_user(Role.INSTITUTION, phone="13700000002")
    inst = make_institution("佛山市违规检测所")
    inst.owner_id = owner.id
    db.session.commit()
    refused = act(login_as("operator"), inst, "expel", cause="logo_misuse", reason="检测报告使用平台标志")
    assert refused.status_code == 422 and "清退由平台管理单位" in refused.get_data(as_text=True)
    authority = login_as("authority")
    no_cause = act(authority, inst, "expel", cause="", reason="检测报告使用平台标志")
    assert no_cause.status_code == 422 and "请选择第十七条规定的清退原因" in no_cause.get_data(as_text=True)
    ok = act(
        authority,
        inst,
        "expel",
        cause="logo_misuse",
        reason="检测报告使用平台标志",
        evidence="报告编号 W-2026-01",
    )
    assert ok.status_code == 302
    page = client.get(f"/institutions/{inst.id}")
    assert page.status_code == 410 and "擅自使用平台标志" in page.get_data(as_text=True)
    assert client.get(f"/api/v1/institutions/{inst.id}").status_code == 404
    assert inst.name not in client.get("/directory?q=违规").get_data(as_text=True)
    notice = db.session.scalar(db.select(Notification).where(Notification.kind == "expelled"))
    assert notice.title == "清退通知" and "擅自使用平台标志" in notice.body
    record = db.session.scalar(db.select(AuditRecord).where(AuditRecord.action == "expel"))
    assert record.after["cause"] == "logo_misuse" and record.after["evidence"] == "报告编号 W-2026-01"


def test_art12_removal_by_the_authority_closes_the_homepage(make_institution, login_as, client):
    inst = make_institution("佛山市已注销检测所")
    assert act(login_as("authority"), inst, "remove", reason="机构已注销").status_code == 302
    page = client.get(f"/institutions/{inst.id}")
    assert page.status_code == 410 and "清理" in page.get_data(as_text=True)

"""Supervision (Art. 12, 17): the one-month rule, hiding and showing, expulsion and removal."""

from datetime import UTC, date, datetime

from shared_fixtures import csrf, page_text

from qzt.extensions import db
from qzt.models import AuditRecord, FollowUpState, ListingState, Notification, Rating, Role, User


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
    assert inst.name not in page_text(client.get("/directory?q=缺客服"))
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
    assert inst.name not in page_text(client.get("/directory?q=违规"))
    notice = db.session.scalar(db.select(Notification).where(Notification.kind == "expelled"))
    assert notice.title == "清退通知" and "擅自使用平台标志" in notice.body
    record = db.session.scalar(db.select(AuditRecord).where(AuditRecord.action == "expel"))
    assert record.after["cause"] == "logo_misuse" and record.after["evidence"] == "报告编号 W-2026-01"


def test_art12_removal_by_the_authority_closes_the_homepage(make_institution, login_as, client):
    inst = make_institution("佛山市已注销检测所")
    assert act(login_as("authority"), inst, "remove", reason="机构已注销").status_code == 302
    page = client.get(f"/institutions/{inst.id}")
    assert page.status_code == 410 and "清理" in page.get_data(as_text=True)


# --- ratings and negative-review follow-up (Art. 15; Annex 2 item 10) ---


def closed_consultation(app, login_as, make_institution, make_user):
    from qzt.consultations import services as consultations

    owner = make_user(Role.INSTITUTION, phone="13700000002")
    inst = make_institution("佛山市被评价检测所", agents=[("李客服", "13700000021")])
    inst.owner_id = owner.id
    db.session.commit()
    enterprise = login_as("enterprise")
    client_user = db.session.scalar(db.select(User).where(User.phone == "13700000001"))
    app.config["QZT_CLOCK"] = "2026-03-10T10:00:00+08:00"
    consultation = consultations.ask(inst, client_user, service_item_id=None, body="请问周期？")
    consultations.close(consultation, client_user)
    db.session.commit()
    return inst, consultation, enterprise, login_as("institution", "13700000002")


def test_art15_a_rating_of_two_or_less_opens_a_follow_up_the_enterprise_judges(
    app, login_as, make_institution, make_user, runner
):
    inst, consultation, enterprise, institution = closed_consultation(
        app, login_as, make_institution, make_user
    )
    thread = f"/consultations/{consultation.id}"
    response = enterprise.post(
        f"{thread}/rating", data={"stars": "1", "comment": "回复太慢", "csrf_token": csrf(enterprise, thread)}
    )
    assert response.status_code == 302
    rating = db.session.scalar(db.select(Rating))
    assert rating.follow_up == FollowUpState.OPEN and rating.follow_up_due == date(2026, 3, 17)
    told = db.session.scalar(db.select(Notification).where(Notification.kind == "negative_rating"))
    assert told.phone == "13700000002" and "2026年03月17日前" in told.body
    again = enterprise.post(f"{thread}/rating", data={"stars": "5", "csrf_token": csrf(enterprise, thread)})
    assert "已评价过该咨询" in enterprise.get(again.headers["Location"]).get_data(as_text=True)
    # The operator sees it, overdue first once the deadline passes; tick reminds the institution once.
    tick(app, runner, "2026-03-18T09:00:00+08:00")
    tick(app, runner, "2026-03-18T09:01:00+08:00")
    overdue = db.session.scalars(
        db.select(Notification).where(Notification.kind == "follow_up_overdue")
    ).all()
    assert [n.phone for n in overdue] == ["13700000002"]
    assert "已逾期" in login_as("operator").get("/staff/follow-ups").get_data(as_text=True)
    # The institution answers; the enterprise says it is not satisfied (Annex 2 item 10).
    institution.post(
        f"/ratings/{rating.id}/follow-up",
        data={"note": "已致电道歉并加急", "csrf_token": csrf(institution, thread)},
    )
    enterprise.post(
        f"/ratings/{rating.id}/verdict",
        data={"verdict": "unsatisfied", "csrf_token": csrf(enterprise, thread)},
    )
    db.session.refresh(rating)
    assert rating.follow_up == FollowUpState.UNSATISFIED and rating.institution_note == "已致电道歉并加急"


def test_art15_a_good_rating_opens_no_follow_up_and_ratings_are_rated_once_closed(
    app, login_as, make_institution, make_user
):
    inst, consultation, enterprise, _institution = closed_consultation(
        app, login_as, make_institution, make_user
    )
    thread = f"/consultations/{consultation.id}"
    enterprise.post(
        f"{thread}/rating", data={"stars": "5", "comment": "专业", "csrf_token": csrf(enterprise, thread)}
    )
    assert db.session.scalar(db.select(Rating)).follow_up is None
    bad = enterprise.post(f"{thread}/rating", data={"stars": "9", "csrf_token": csrf(enterprise, thread)})
    assert bad.status_code == 302


def test_the_homepage_shows_the_average_from_five_ratings_without_names(
    app, client, make_institution, make_user
):
    from qzt.models import Consultation

    inst = make_institution("佛山市五星检测所")
    user = make_user(Role.ENTERPRISE, phone="13700000001", name="保密企业名")
    for n, stars in enumerate((5, 4, 5, 4)):
        c = Consultation(
            institution_id=inst.id,
            client_id=user.id,
            topic=f"咨询{n}",
            due_at=datetime.now(UTC),
            state="closed",
        )
        db.session.add(Rating(consultation=c, institution_id=inst.id, stars=stars))
    db.session.commit()
    assert "服务评价" not in client.get(f"/institutions/{inst.id}").get_data(as_text=True)  # 4 ratings
    c = Consultation(
        institution_id=inst.id, client_id=user.id, topic="咨询5", due_at=datetime.now(UTC), state="closed"
    )
    db.session.add(Rating(consultation=c, institution_id=inst.id, stars=3))
    db.session.commit()
    page = client.get(f"/institutions/{inst.id}").get_data(as_text=True)
    assert "服务评价 4.2 分（5 条评价）" in page and "保密企业名" not in page


def test_art5_certificates_expiring_are_announced_at_30_and_7_days_and_staff_told_on_expiry(
    app, runner, make_institution, make_user, login_as
):
    owner = make_user(Role.INSTITUTION, phone="13700000002")
    make_user(Role.OPERATOR, phone="13700000004")
    inst = make_institution(
        "佛山市证书到期检测所",
        qualifications=[("检验检测机构资质认定证书", date(2026, 4, 30))],
        agents=[("李", "13700000021")],
    )
    inst.owner_id = owner.id
    db.session.commit()
    kinds = lambda kind: db.session.scalars(db.select(Notification).where(Notification.kind == kind)).all()  # noqa: E731
    tick(app, runner, "2026-03-30T09:00:00+08:00")  # 31 days left: nothing yet
    assert kinds("certificate_expiring") == []
    tick(app, runner, "2026-03-31T09:00:00+08:00")  # 30 days
    tick(app, runner, "2026-04-01T09:00:00+08:00")
    assert [n.phone for n in kinds("certificate_expiring")] == ["13700000002"]
    tick(app, runner, "2026-04-23T09:00:00+08:00")  # 7 days
    assert len(kinds("certificate_expiring")) == 2
    tick(app, runner, "2026-05-01T09:00:00+08:00")  # expired yesterday
    tick(app, runner, "2026-05-02T09:00:00+08:00")
    assert [n.phone for n in kinds("certificate_expired")] == ["13700000004"]
    listing = login_as("operator").get("/staff/institutions").get_data(as_text=True)
    assert "资质全部过期" in listing


def test_tick_is_idempotent_a_second_run_at_the_same_moment_changes_nothing(
    app, runner, make_institution, make_user
):
    """Every time-driven rule at once: the one-month rule, certificate expiry, an overdue 差评 follow-up,
    an overdue complaint check, a passed 整改 deadline. The first tick acts; the second adds nothing."""
    from qzt.models import Complaint, ComplaintState, Consultation, SpotCheck

    owner = make_user(Role.INSTITUTION, phone="13700000002")
    operator = make_user(Role.OPERATOR, phone="13700000004")
    client = make_user(Role.ENTERPRISE, phone="13700000001")
    inst = make_institution(
        "佛山市定时任务检测所",
        qualifications=[("CMA资质认定证书", date(2026, 5, 8)), ("CNAS认可证书", date(2026, 4, 30))],
        agents=[("李客服", "13700000021")],
    )
    inst.owner_id = owner.id
    lacking = make_institution("佛山市无客服检测所", opened_on=date(2026, 3, 1), agents=[])
    asked = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    consultation = Consultation(
        institution_id=inst.id, client_id=client.id, topic="其他", asked_at=asked, due_at=asked
    )
    db.session.add(consultation)
    db.session.add(
        Rating(
            consultation=consultation,
            institution_id=inst.id,
            stars=1,
            follow_up=FollowUpState.OPEN,
            follow_up_due=date(2026, 4, 20),
        )
    )
    db.session.add(
        Complaint(
            institution_id=inst.id,
            complainant_id=client.id,
            body="客服答应回电却一直没有联系。",
            state=ComplaintState.PENDING,
            due_on=date(2026, 4, 20),
        )
    )
    db.session.add(
        SpotCheck(
            institution_id=inst.id,
            checked_on=date(2026, 4, 1),
            subject="主页资质",
            result="rectify",
            rectify_by=date(2026, 4, 20),
            recorded_by_id=operator.id,
        )
    )
    db.session.commit()

    def snapshot():
        db.session.expire_all()
        return (
            sorted(db.session.scalars(db.select(Notification.dedupe_key)).all(), key=str),
            db.session.scalar(db.select(db.func.count(Notification.id))),
            db.session.scalar(db.select(db.func.count(AuditRecord.id))),
            [
                i.listing_state
                for i in (db.session.get(type(inst), inst.id), db.session.get(type(inst), lacking.id))
            ],
        )

    before = snapshot()
    first = tick(app, runner, "2026-05-04T09:00:00+08:00")
    after_first = snapshot()
    for said in (
        "资质证书到期提醒",
        "差评跟进逾期提醒",
        "投诉核查逾期提醒",
        "抽查整改提醒",
        "第十七条：隐藏1家",
    ):
        assert said in first
    assert after_first != before and after_first[3][1] == ListingState.HIDDEN
    second = tick(app, runner, "2026-05-04T09:00:00+08:00")
    assert snapshot() == after_first
    assert "新增" not in second and "第十七条" not in second


def test_art5_an_institution_whose_every_certificate_lapsed_is_flagged_and_staff_decide(
    app, make_institution, login_as
):
    app.config["QZT_CLOCK"] = "2026-06-01T10:00:00+08:00"
    lapsed = make_institution("佛山市证书过期检测所", qualifications=[("CMA资质认定证书", date(2026, 5, 31))])
    current = make_institution("佛山市证书有效检测所", qualifications=[("CMA资质认定证书", date(2026, 6, 1))])
    operator = login_as("operator")
    assert "全部过期" in operator.get(f"/staff/institutions/{lapsed.id}").get_data(as_text=True)
    assert "全部过期" not in operator.get(f"/staff/institutions/{current.id}").get_data(as_text=True)
    db.session.refresh(lapsed)
    assert lapsed.listing_state == ListingState.LISTED  # nothing hides it by itself: staff decide
    assert act(operator, lapsed, "hide", reason="资质证书已全部过期").status_code == 302
    db.session.refresh(lapsed)
    assert lapsed.listing_state == ListingState.HIDDEN

"""`flask qzt demo`, `create-user` and `accounts`."""

import re
from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from qzt.auth.services import authenticate
from qzt.data.catalog import CATEGORIES, DISTRICTS
from qzt.directory import demo
from qzt.directory.search import Filters, index_institution, search
from qzt.extensions import db
from qzt.models import Institution, ListingState, Notification, Role, SearchDocument, User
from qzt.review import demo as review_demo
from qzt.rules import phone as phones
from qzt.rules import uscc
from qzt.rules.calendar import BEIJING


def all_institutions() -> list[Institution]:
    stmt = (
        sa.select(Institution)
        .order_by(Institution.id)
        .options(
            selectinload(Institution.services),
            selectinload(Institution.qualifications),
            selectinload(Institution.agents),
        )
    )
    return list(db.session.scalars(stmt))


def test_demo_creates_realistic_listed_institutions(runner):
    result = runner.invoke(args=["qzt", "demo", "--count", "40"])
    assert result.exit_code == 0, result.output
    assert "已生成40家演示机构" in result.output

    institutions = all_institutions()
    assert len(institutions) == 40
    assert len({i.uscc for i in institutions}) == 40
    assert all(uscc.is_valid(i.uscc) for i in institutions)
    assert all(i.listing_state == ListingState.LISTED for i in institutions)
    assert {s.category for i in institutions for s in i.services} == {c.slug for c in CATEGORIES}
    assert {i.district for i in institutions} == {d.slug for d in DISTRICTS}
    for institution in institutions:
        assert institution.name and institution.introduction and institution.address
        assert 2 <= sum(s.featured for s in institution.services) <= 3  # Art. 7
        assert len(institution.services) > sum(s.featured for s in institution.services)
        assert 1 <= len(institution.agents) <= 2  # Art. 6
        assert all(phones.is_mobile(a.phone) for a in institution.agents)
        assert institution.qualifications and all(q.valid_until for q in institution.qualifications)
        assert institution.opened_on >= date(2023, 3, 15)


def documents() -> dict[int, tuple[str, str, str, str]]:
    rows = db.session.scalars(sa.select(SearchDocument))
    return {d.institution_id: (d.name_terms, d.head_terms, d.service_terms, d.body_terms) for d in rows}


def test_demo_fills_the_search_index_exactly_as_index_institution_would(runner):
    assert runner.invoke(args=["qzt", "demo", "--count", "25"]).exit_code == 0
    bulk = documents()
    institutions = all_institutions()
    assert set(bulk) == {i.id for i in institutions}
    for institution in institutions:
        index_institution(institution)
    db.session.flush()
    db.session.expire_all()
    assert documents() == bulk

    inspection = search(Filters(q="检测"))
    assert inspection.total > 0
    assert search(Filters(q=institutions[0].name)).items[0].id == institutions[0].id


def test_demo_is_deterministic():
    first = list(demo.institutions(12))
    assert first == list(demo.institutions(12))
    assert first[5:] == list(demo.institutions(7, start=5))


def test_a_few_demo_qualifications_have_expired():
    qualifications = [q for r in demo.institutions(300) for q in r.qualifications]
    expired = [q for q in qualifications if q.valid_until < date(2026, 11, 1)]
    assert 0 < len(expired) < len(qualifications) / 5


def test_demo_if_empty_does_nothing_the_second_time(runner):
    assert runner.invoke(args=["qzt", "demo", "--count", "5", "--if-empty"]).exit_code == 0
    users = db.session.scalar(sa.select(sa.func.count(User.id)))
    result = runner.invoke(args=["qzt", "demo", "--count", "5", "--if-empty"])
    assert result.exit_code == 0
    assert "已有5家机构" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Institution.id))) == 5
    # The demo accounts, the history's enterprises and the applicants, made once.
    assert users == len(demo.DEMO_ACCOUNTS) + 40 + review_demo.APPLICATIONS
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == users


def test_demo_without_if_empty_adds_more_without_clashing(runner, make_institution):
    make_institution()
    assert runner.invoke(args=["qzt", "demo", "--count", "5"]).exit_code == 0
    result = runner.invoke(args=["qzt", "demo", "--count", "5"])
    assert result.exit_code == 0, result.output
    codes = list(db.session.scalars(sa.select(Institution.uscc)))
    assert len(codes) == len(set(codes)) == 11
    # The demo accounts, the history's enterprises and the applicants, made by the first run only.
    users = len(demo.DEMO_ACCOUNTS) + 40 + review_demo.APPLICATIONS
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == users


def test_demo_accounts_log_in_and_accounts_lists_them(runner):
    assert runner.invoke(args=["qzt", "demo", "--count", "3"]).exit_code == 0
    roles = {}
    for account in demo.DEMO_ACCOUNTS:
        user = authenticate(account.phone, demo.DEMO_PASSWORD)
        assert user is not None
        roles[user.role] = user
    assert set(roles) == set(Role)
    owner = roles[Role.INSTITUTION]
    owned = db.session.scalar(sa.select(Institution).where(Institution.owner_id == owner.id))
    assert owned is not None and owned.is_listed

    result = runner.invoke(args=["qzt", "accounts"])
    assert result.exit_code == 0
    for account in demo.DEMO_ACCOUNTS:
        line = next(line for line in result.output.splitlines() if account.phone in line)
        assert demo.DEMO_PASSWORD in line and Role(account.role).label in line
    assert owned.name in result.output


def test_accounts_without_demo_data_gives_a_hint(runner, make_user):
    make_user(Role.ADMIN, phone="13812345678")
    result = runner.invoke(args=["qzt", "accounts"])
    assert result.exit_code == 0
    assert "没有演示账号" in result.output and "13812345678" not in result.output


def create_user(runner, *, role="operator", phone="13712345678", name="运维小李", password="s3cret-pass\n"):
    return runner.invoke(
        args=["qzt", "create-user", "--role", role, "--phone", phone, "--name", name], input=password
    )


def test_create_user_then_log_in(runner):
    result = create_user(runner)
    assert result.exit_code == 0, result.output
    assert "已创建平台运维机构账号：13712345678" in result.output
    user = authenticate("13712345678", "s3cret-pass")
    assert user is not None and user.role == Role.OPERATOR and user.name == "运维小李"
    assert authenticate("13712345678", "s3cret-pass\n") is None


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"phone": "12345"}, "手机号码无效"),
        ({"password": "short\n"}, "密码太短"),
        ({"password": ""}, "密码太短"),
        ({"role": "boss"}, "角色“boss”无效"),
    ],
    ids=["phone", "short-password", "no-password", "role"],
)
def test_create_user_refuses_with_a_reason(runner, changes, reason):
    result = create_user(runner, **changes)
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)
    assert reason in result.stderr
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_create_user_refuses_a_registered_phone(runner):
    assert create_user(runner).exit_code == 0
    result = create_user(runner, role="admin", name="另一个人")
    assert result.exit_code != 0
    assert "手机号码 13712345678 已注册" in result.stderr
    assert db.session.scalar(sa.select(User.role)) == Role.OPERATOR


def test_distribution_spreads_over_categories_and_districts():
    records = list(demo.institutions(200))
    primaries = Counter(r.services[0].category for r in records)
    assert len(primaries) == len(CATEGORIES) and min(primaries.values()) >= 10
    assert {r.district for r in records} == {d.slug for d in DISTRICTS}
    assert len({r.name for r in records}) == 200


def test_demo_history_looks_like_a_platform_in_use(runner):
    """Issue 9: enterprises and two years of consultations, some overdue, some at night, some answered
    late, deals confirmed or not, case reports; the demo institution account's institution has the most."""
    from qzt.models import CaseReport, Consultation, DealState

    result = runner.invoke(args=["qzt", "demo", "--count", "20"])
    assert result.exit_code == 0 and "已生成演示历史" in result.output
    rows = db.session.scalars(sa.select(Consultation)).all()
    assert len(rows) > 100
    owner = db.session.scalar(sa.select(User).where(User.phone == "13900000005"))
    mine = [c for c in rows if c.institution.owner_id == owner.id]
    assert len(mine) >= 30
    hours = {c.asked_at.astimezone(BEIJING).hour for c in rows}
    assert hours & {19, 20, 21, 22} and hours & set(range(8, 18))
    late = [c for c in rows if c.first_reply_at and c.first_reply_at > c.due_at]
    assert 0 < len(late) < len(rows) / 3
    assert {DealState.CONFIRMED, DealState.DISPUTED} <= {c.deal_state for c in rows}
    assert db.session.scalar(sa.select(sa.func.count(CaseReport.id))) > 10
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0  # no SMS queued


def test_demo_supervision_history_ratings_complaints_checks_and_expiring_certificates(app, runner):
    """Issue 10: ratings with 差评 follow-ups, complaints in each state, spot checks with an open 整改,
    a credit record, and certificates that run out within 30 days of today (the platform clock)."""
    from datetime import timedelta

    from qzt.models import Complaint, CreditRecord, FollowUpState, Qualification, Rating, SpotCheck

    app.config["QZT_CLOCK"] = "2026-11-27T10:00:00+08:00"
    result = runner.invoke(args=["qzt", "demo", "--count", "40"])
    assert result.exit_code == 0 and "条服务评价" in result.output
    ratings = db.session.scalars(sa.select(Rating)).all()
    assert len(ratings) > 50 and {r.stars for r in ratings} == {1, 2, 3, 4, 5}
    assert FollowUpState.SATISFIED in {r.follow_up for r in ratings}
    assert {c.state.value for c in db.session.scalars(sa.select(Complaint))} == {
        "pending",
        "substantiated",
        "unfounded",
    }
    assert any(c.awaiting_recheck for c in db.session.scalars(sa.select(SpotCheck)))
    assert db.session.scalar(sa.select(sa.func.count(CreditRecord.id))) >= 1
    today = date(2026, 11, 27)
    soon = db.session.scalars(
        sa.select(Qualification).where(
            Qualification.valid_until >= today, Qualification.valid_until <= today + timedelta(days=30)
        )
    ).all()
    assert 3 <= len(soon) <= 10
    valid = db.session.scalars(sa.select(Qualification).where(Qualification.valid_until >= today)).all()
    assert len(valid) > 0.8 * db.session.scalar(sa.select(sa.func.count(Qualification.id)))


def test_bulk_loads_leave_fresh_planner_statistics(runner):
    """After `qzt demo` (and `import-institutions`) the planner knows the tables' sizes (issue 17)."""
    assert runner.invoke(args=["qzt", "demo", "--count", "30", "--no-history"]).exit_code == 0
    if db.engine.dialect.name == "sqlite":
        stats = db.session.execute(
            sa.text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'institutions'")
        ).scalars()
        assert any(stat.startswith("30") for stat in stats)  # "rows per index": the table's size first
    else:
        rows = db.session.scalar(sa.text("SELECT reltuples FROM pg_class WHERE relname = 'institutions'"))
        assert rows == 30  # -1 until the table is analyzed


def test_demo_applications_fill_every_tab_of_the_staff_queue(runner, login_as):
    """`make run` opens a queue with work in it: applications in every state, with files, a signature and
    their history, made through the real services; each tab of the queue counts them."""
    from qzt.models import Application, ApplicationState, AuditRecord, PledgeSignature

    result = runner.invoke(args=["qzt", "demo", "--count", "12"])
    assert result.exit_code == 0, result.output
    assert "份各状态的入驻申请" in result.output
    applications = db.session.scalars(sa.select(Application)).all()
    states = Counter(a.state for a in applications)
    assert set(states) == set(ApplicationState) - {ApplicationState.DRAFT}, states
    for application in applications:
        assert application.data["licence_file_id"] and application.revisions
        signature = db.session.scalar(
            sa.select(PledgeSignature).where(PledgeSignature.application_id == application.id)
        )
        assert signature is not None and signature.signature_file_id
        actions = db.session.scalars(
            sa.select(AuditRecord.action).where(
                AuditRecord.object_type == "applications", AuditRecord.object_id == application.id
            )
        ).all()
        assert actions[0] == "submit"
    waiting = next(a for a in applications if a.state == ApplicationState.INFO_REQUESTED)
    from qzt.core import clock

    assert waiting.info_deadline > clock.today() and waiting.info_request
    resubmitted = [a for a in applications if len(a.revisions) == 2]
    assert resubmitted and resubmitted[0].state == ApplicationState.SUBMITTED
    approved = next(a for a in applications if a.state == ApplicationState.APPROVED)
    assert approved.institution is not None and approved.institution.is_listed
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0  # no SMS queued

    page = login_as(Role.OPERATOR).get("/staff/applications").get_data(as_text=True)
    tabs = re.findall(r'<a href="[^"]*state=(\w+)[^"]*"[^>]*>[^<]*<span class="count">(\d+)</span>', page)
    assert {state for state, _ in tabs} == {s.value for s in states}
    assert all(int(count) > 0 for _, count in tabs), tabs
    # The [查看] of a file opens it in the browser.
    queue = login_as(Role.AUTHORITY)
    page = queue.get(f"/staff/applications/{approved.id}").get_data(as_text=True)
    assert "查看" in page and "/view" in page


def test_demo_without_history_makes_no_applications(runner):
    from qzt.models import Application

    assert runner.invoke(args=["qzt", "demo", "--count", "5", "--no-history"]).exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Application)) == 0

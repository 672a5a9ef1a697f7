"""Demo supervision history for `qzt demo`: ratings of ended consultations with their follow-ups, a few
complaints in each state, spot checks, credit records, and certificates about to expire, so that the
staff's pages and the homepages' ratings look like a platform in use. Fixed seed: the same every time."""

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from qzt.core import calendar as work_days
from qzt.extensions import db
from qzt.models import (
    Complaint,
    ComplaintState,
    Consultation,
    ConsultationState,
    CreditRecord,
    FollowUpState,
    Qualification,
    Rating,
    SpotCheck,
    User,
)
from qzt.rules import complaints as complaint_rules
from qzt.rules import ratings as rating_rules

SEED = 20261127
STARS = (5, 5, 5, 5, 4, 4, 4, 3, 2, 1)  # mostly content, a few 差评
GOOD = (
    "回复及时，报价清楚。",
    "检测周期比预期短，很专业。",
    "客服耐心解释了标准要求。",
    "服务不错，会再合作。",
)
BAD = ("回复很慢，等了两天。", "报价和主页写的不一致。", "客服答应回电但没有联系。")
COMPLAINTS = (
    "客服承诺当天回电，三天过去一直没有联系，耽误了我们的送检计划。",
    "实际收费比线上报价高出三成，且没有事先说明加收项目。",
    "出具的检测报告漏检了两个合同约定的项目，要求补检被拒绝。",
    "客服在咨询中要求我们绕开平台私下转账付款。",
)


@dataclass(frozen=True)
class SupervisionResult:
    ratings: int
    complaints: int
    spot_checks: int


def create_history(
    institution_ids: list[int], today: date, now: datetime, operator: User | None, authority: User | None
) -> SupervisionResult:
    rng = random.Random(SEED)
    ratings = _ratings(rng, institution_ids, today)
    complaints = _complaints(rng, institution_ids, today, now, operator) if operator else 0
    checks = _spot_checks(rng, institution_ids, today, operator) if operator else 0
    if authority is not None and institution_ids:
        _credit_records(institution_ids, today, authority)
    _expiring_certificates(rng, institution_ids, today)
    db.session.flush()
    return SupervisionResult(ratings, complaints, checks)


def _ratings(rng: random.Random, institution_ids: list[int], today: date) -> int:
    calendar = work_days.work_calendar()
    ended = db.session.scalars(
        sa.select(Consultation)
        .where(
            Consultation.institution_id.in_(institution_ids), Consultation.state == ConsultationState.CLOSED
        )
        .order_by(Consultation.id)
    ).all()
    made = 0
    for consultation in ended:
        if rng.random() < 0.3:
            continue
        stars = rng.choice(STARS)
        rating = Rating(
            consultation=consultation,
            institution_id=consultation.institution_id,
            stars=stars,
            comment=rng.choice(BAD if rating_rules.is_negative(stars) else GOOD)
            if rng.random() < 0.7
            else "",
            created_at=consultation.closed_at + timedelta(hours=rng.randint(1, 30)),
        )
        if rating_rules.is_negative(stars):
            rated_on = rating.created_at.date()
            rating.follow_up_due = calendar.add_working_days(rated_on, rating_rules.FOLLOW_UP_WORKING_DAYS)
            rating.follow_up = FollowUpState.OPEN
            if rating.follow_up_due < today or rng.random() < 0.5:
                rating.institution_note = "已致电企业说明情况，并安排专人跟进后续检测。"
                rating.institution_noted_at = rating.created_at + timedelta(days=1)
                rating.follow_up = rng.choice(
                    (
                        FollowUpState.SATISFIED,
                        FollowUpState.SATISFIED,
                        FollowUpState.UNSATISFIED,
                        FollowUpState.ANSWERED,
                    )
                )
        db.session.add(rating)
        made += 1
    return made


def _complaints(rng, institution_ids, today, now, operator) -> int:
    calendar = work_days.work_calendar()
    states = (
        ComplaintState.PENDING,
        ComplaintState.PENDING,
        ComplaintState.SUBSTANTIATED,
        ComplaintState.UNFOUNDED,
    )
    clients = db.session.scalars(
        sa.select(Consultation.client_id).where(Consultation.institution_id.in_(institution_ids)).distinct()
    ).all()
    recent = [
        (
            state,
            now
            - timedelta(days=rng.randint(3, 40) if state != ComplaintState.PENDING else rng.randint(1, 20)),
        )
        for state in states
    ]
    # A settled one every two months or so over the two years before: most found 不属实.
    settled = [
        (
            ComplaintState.SUBSTANTIATED if n % 3 == 0 else ComplaintState.UNFOUNDED,
            now - timedelta(days=55 + 55 * n + rng.randint(0, 20)),
        )
        for n in range(12)
    ]
    made = 0
    for n, (state, filed) in enumerate(recent + settled):
        institution_id = institution_ids[(n * 7 + 3) % len(institution_ids)]
        complaint = Complaint(
            institution_id=institution_id,
            complainant_id=rng.choice(clients) if clients else operator.id,
            body=COMPLAINTS[n % len(COMPLAINTS)],
            may_contact=rng.random() < 0.7,
            evidence_file_ids=[],
            state=state,
            due_on=calendar.add_working_days(filed.date(), complaint_rules.VERIFY_WORKING_DAYS),
            created_at=filed,
        )
        if state != ComplaintState.PENDING:
            complaint.verified_at, complaint.verified_by_id = filed + timedelta(days=2), operator.id
            complaint.verification_note = (
                "电话回访投诉人并调阅咨询记录，情况属实，已要求机构整改。"
                if state == ComplaintState.SUBSTANTIATED
                else "调阅咨询记录，机构已按报价单收费，投诉人所述加收项目已在报价中列明。"
            )
        db.session.add(complaint)
        made += 1
    return made


def _spot_checks(rng, institution_ids, today, operator) -> int:
    plans = (
        ("服务项目与资质证书是否相符", "", "passed", None),
        ("咨询回复是否及时", "抽查10条咨询，均在时限内回复。", "passed", None),
        ("主页资质证书是否在有效期内", "CMA证书已过期，仍在主页展示。", "rectify", 10),
        ("服务案例是否真实", "两个案例的客户联系方式无法核实。", "rectify", -3),
        ("服务收费是否公示", "", "passed", None),
    )
    for n, (subject, finding, result, days) in enumerate(plans):
        checked_on = today - timedelta(days=rng.randint(5, 25))
        db.session.add(
            SpotCheck(
                institution_id=institution_ids[(n * 5 + 1) % len(institution_ids)],
                checked_on=checked_on,
                subject=subject,
                finding=finding,
                result=result,
                rectify_by=today + timedelta(days=days) if days is not None else None,
                file_ids=[],
                recorded_by_id=operator.id,
            )
        )
    return len(plans)


def _credit_records(institution_ids, today, authority) -> None:
    db.session.add(
        CreditRecord(
            institution_id=institution_ids[min(9, len(institution_ids) - 1)],
            kind="penalty",
            recorded_on=today - timedelta(days=400),
            source=f"佛市监罚〔{(today - timedelta(days=400)).year}〕217号",
            description="检验检测报告未按规定标注资质认定标志，罚款。",
            recorded_by_id=authority.id,
        )
    )


def _expiring_certificates(rng, institution_ids, today) -> None:
    """A few institutions' certificates run out within the month (Art. 5 reminders have something to do)."""
    for n, institution_id in enumerate(institution_ids[2:40:7]):
        cert = db.session.scalar(
            sa.select(Qualification).where(Qualification.institution_id == institution_id).limit(1)
        )
        if cert is not None:
            cert.valid_until = today + timedelta(days=(5, 12, 20, 27, 29, 3)[n % 6])

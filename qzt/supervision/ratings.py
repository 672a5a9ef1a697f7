"""Ratings and the follow-up of negative ones (Art. 15; Annex 2 item 10)."""

from datetime import date

import sqlalchemy as sa

from qzt.core import calendar, clock, notifications
from qzt.extensions import db
from qzt.models import Consultation, FollowUpState, Institution, Rating, User
from qzt.rules import ratings


class RatingRefused(ValueError):
    """What stops it, in Chinese."""


def answers_for(user: User, institution_id: int) -> bool:
    """The institution's account or one of its agents."""
    if not user.is_authenticated:
        return False
    institution = db.session.get(Institution, institution_id)
    return institution is not None and user.id in {u.id for u in institution.answering_users()}


def rate(consultation: Consultation, user: User, stars: int | None, comment: str, today: date) -> Rating:
    """[服务评价]: once the consultation ended, by the enterprise that asked; once."""
    if user.id != consultation.client_id:
        raise RatingRefused("只有咨询的企业可以评价")
    if consultation.is_open:
        raise RatingRefused("咨询结束后才能评价")
    if consultation.rating is not None:
        raise RatingRefused("已评价过该咨询")
    if stars not in ratings.STARS:
        raise RatingRefused("请选择1至5星")
    rating = Rating(
        consultation=consultation,
        institution_id=consultation.institution_id,
        stars=stars,
        comment=comment.strip(),
    )
    db.session.add(rating)
    if ratings.is_negative(stars):
        rating.follow_up = FollowUpState.OPEN
        rating.follow_up_due = calendar.work_calendar().add_working_days(
            today, ratings.FOLLOW_UP_WORKING_DAYS
        )
        for person in consultation.institution.answering_users():
            notifications.notify(
                person,
                "negative_rating",
                "收到差评，请跟进",
                f"企业对“{consultation.topic}”咨询给出{stars}星评价，请于{rating.follow_up_due:%Y年%m月%d日}前提交跟进说明"
                "（《管理办法》第十五条）。",
                sms_params={"due": rating.follow_up_due.isoformat()},
            )
    db.session.flush()
    return rating


def institution_follow_up(rating: Rating, user: User, note: str) -> None:
    """[提交跟进]: what the institution did about the negative rating."""
    if not answers_for(user, rating.institution_id):
        raise RatingRefused("只有该机构可以提交跟进说明")
    if rating.follow_up != FollowUpState.OPEN:
        raise RatingRefused("该差评当前不需要机构跟进")
    if not note.strip():
        raise RatingRefused("请填写跟进说明")
    rating.institution_note, rating.institution_noted_at = note.strip(), clock.now()
    rating.follow_up = FollowUpState.ANSWERED
    notifications.notify(
        rating.consultation.client,
        "follow_up_answered",
        "差评已跟进",
        f"“{rating.institution.name}”已就您的评价提交跟进说明，请登录表示满意或不满意。",
        sms_params={"name": rating.institution.name[:20]},
    )


def operator_follow_up(rating: Rating, user: User, note: str) -> None:
    """The operator's own follow-up (Art. 15: 运维机构…对于差评要跟踪处理)."""
    if not user.is_staff:
        raise RatingRefused("只有平台工作人员可以记录跟进")
    if rating.follow_up is None or not note.strip():
        raise RatingRefused("请填写跟进情况")
    rating.operator_note, rating.operator_noted_at = note.strip(), clock.now()


def verdict(rating: Rating, user: User, satisfied: bool) -> None:
    """[满意] or [不满意], by the enterprise, after the institution's follow-up (item 10)."""
    if user.id != rating.consultation.client_id:
        raise RatingRefused("只有评价的企业可以确认")
    if rating.follow_up != FollowUpState.ANSWERED:
        raise RatingRefused("机构尚未提交跟进说明")
    rating.follow_up = FollowUpState.SATISFIED if satisfied else FollowUpState.UNSATISFIED
    rating.verdict_at = clock.now()


def follow_ups(today: date) -> list[Rating]:
    """Every negative rating, the open ones first and the overdue among them first."""
    rows = db.session.scalars(sa.select(Rating).where(Rating.follow_up.is_not(None))).all()
    open_ = [FollowUpState.OPEN, FollowUpState.ANSWERED]
    return sorted(rows, key=lambda r: (r.follow_up not in open_, r.follow_up_due or today, -r.id))


def remind_overdue(today: date) -> int:
    """`qzt tick`: tell the institution once when a follow-up is past its deadline."""
    stmt = sa.select(Rating).where(Rating.follow_up == FollowUpState.OPEN, Rating.follow_up_due < today)
    return sum(
        notifications.notify_once(
            rating.institution.answering_users(),
            "follow_up_overdue",
            "差评跟进已逾期",
            f"差评跟进已于{rating.follow_up_due:%Y年%m月%d日}逾期，请尽快提交跟进说明。",
            sms_params={"due": rating.follow_up_due.isoformat()},
            key=f"follow-up-overdue:{rating.id}",
        )
        for rating in db.session.scalars(stmt)
    )


def summary(institution_id: int) -> tuple[float | None, int]:
    """The homepage's average and count (the average only from SHOWN_FROM ratings on)."""
    stars = list(db.session.scalars(sa.select(Rating.stars).where(Rating.institution_id == institution_id)))
    return ratings.shown_average(stars), len(stars)

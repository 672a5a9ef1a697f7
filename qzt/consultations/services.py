"""Asking, replying, closing, reading; the Art. 14 clock of each consultation and its figures."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_login import current_user
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from qzt.core import calendar as work_days
from qzt.core import clock, files, notifications
from qzt.extensions import db
from qzt.models import (
    Consultation,
    ConsultationMessage,
    ConsultationState,
    Institution,
    ListingState,
    Role,
    ServiceAgent,
    Side,
    User,
)
from qzt.rules.calendar import BEIJING, WORKING_DAY_REPLY
from qzt.rules.upkeep import ServiceLine, homepage_problems
from qzt.rules.upkeep import deadline as upkeep_deadline

OTHER_TOPIC = "其他"
MAX_BODY = 5000


class ConsultRefused(ValueError):
    """What the user must change, in Chinese."""


def managed_institution(user: User) -> Institution | None:
    """The institution whose consultations `user` answers: the account that applied for it, or one of
    its customer-service agents (Art. 6, 14)."""
    if not user.is_authenticated:
        return None
    if user.role == Role.INSTITUTION:
        return db.session.scalar(sa.select(Institution).where(Institution.owner_id == user.id))
    if user.role == Role.AGENT:
        stmt = sa.select(Institution).join(ServiceAgent).where(ServiceAgent.user_id == user.id)
        return db.session.scalar(stmt)
    return None


def side_of(user: User, consultation: Consultation) -> Side | None:
    """Which side of the thread `user` writes on; None for anyone else (staff read, never write)."""
    if user.is_authenticated and user.id == consultation.client_id:
        return Side.CLIENT
    institution = managed_institution(user)
    if institution is not None and institution.id == consultation.institution_id:
        return Side.INSTITUTION
    return None


def can_see(user: User, consultation: Consultation) -> bool:
    return side_of(user, consultation) is not None or (user.is_authenticated and user.is_staff)


def ask(
    institution: Institution,
    client: User,
    *,
    service_item_id: int | None,
    body: str,
    upload: FileStorage | None = None,
) -> Consultation:
    """[提交咨询]: the question starts the Art. 14 clock; the institution is told at once."""
    if institution.listing_state != ListingState.LISTED:
        raise ConsultRefused("该机构当前未在名录中公示，暂不能咨询")
    if client.role != Role.ENTERPRISE:
        raise ConsultRefused("请使用企业用户账号咨询")
    item = next((s for s in institution.services if s.id == service_item_id), None)
    now = clock.now()
    consultation = Consultation(
        institution_id=institution.id,
        client_id=client.id,
        service_item_id=item.id if item else None,
        topic=item.title if item else OTHER_TOPIC,
        asked_at=now,
        due_at=work_days.work_calendar().reply_deadline(now),
        last_message_at=now,
        client_read_at=now,
    )
    db.session.add(consultation)
    db.session.flush()
    _post(consultation, client, Side.CLIENT, body, upload, now)
    due = consultation.due_at.astimezone(BEIJING)
    for user in institution.answering_users():
        notifications.notify(
            user,
            "consultation_new",
            "新的在线咨询",
            f"企业就“{consultation.topic}”发来在线咨询，请于{due:%m月%d日%H:%M}前回复（《管理办法》第十四条）。",
            sms_params={"topic": consultation.topic[:20], "due": f"{due:%m-%d %H:%M}"},
        )
    return consultation


def reply(consultation: Consultation, user: User, body: str, upload: FileStorage | None = None) -> None:
    """[发送回复]: a message from either side; the institution's first reply stops the Art. 14 clock."""
    side = side_of(user, consultation)
    if side is None:
        raise ConsultRefused("您不能在此咨询中回复")
    if not consultation.is_open:
        raise ConsultRefused("咨询已结束，不能再回复")
    now = clock.now()
    _post(consultation, user, side, body, upload, now)
    if side == Side.INSTITUTION and consultation.first_reply_at is None:
        consultation.first_reply_at = now
        taken = work_days.work_calendar().response_time(consultation.asked_at, now)
        consultation.response_seconds = int(taken.total_seconds())
    if side == Side.INSTITUTION:
        recipients = [consultation.client]
        title, text = (
            "咨询有新回复",
            f"“{consultation.institution.name}”回复了您关于“{consultation.topic}”的咨询。",
        )
    else:
        recipients = consultation.institution.answering_users()
        title, text = "咨询有新留言", f"企业在“{consultation.topic}”咨询中发来新留言。"
    for recipient in recipients:
        notifications.notify(
            recipient, "consultation_reply", title, text, sms_params={"topic": consultation.topic[:20]}
        )


def close(consultation: Consultation, user: User) -> None:
    """[结束咨询], by either side."""
    if side_of(user, consultation) is None:
        raise ConsultRefused("您不能结束此咨询")
    if not consultation.is_open:
        raise ConsultRefused("咨询已结束")
    consultation.state = ConsultationState.CLOSED
    consultation.closed_at, consultation.closed_by_id = clock.now(), user.id


def mark_read(consultation: Consultation, user: User) -> None:
    """The user read the thread. A plain UPDATE outside the version check: the open thread polls every
    few seconds, and a read marker must never make a reply written at the same moment conflict."""
    side = side_of(user, consultation)
    if side is None:
        return
    column = "client_read_at" if side == Side.CLIENT else "institution_read_at"
    stmt = sa.update(Consultation).where(Consultation.id == consultation.id).values({column: clock.now()})
    db.session.execute(stmt, execution_options={"synchronize_session": False})


def _post(consultation, author: User, side: Side, body: str, upload, now: datetime) -> ConsultationMessage:
    body = (body or "").strip()
    if not body:
        raise ConsultRefused("请填写内容" if consultation.messages else "请填写咨询内容")
    stored = files.accept(author, "consultation", upload)
    message = ConsultationMessage(
        consultation_id=consultation.id,
        author_id=author.id,
        side=side,
        body=body[:MAX_BODY],
        file_id=stored.id if stored else None,
        created_at=now,
    )
    db.session.add(message)
    consultation.messages.append(message)
    consultation.last_message_at = now
    if side == Side.CLIENT:
        consultation.client_read_at = now
    else:
        consultation.institution_read_at = now
    return message


# Agents are reminded once when a first reply falls due within this: a quarter of the 2-hour allowance.
REMIND_BEFORE = timedelta(minutes=30)


def remind_due(now: datetime) -> int:
    """`qzt tick`: remind the institution of open consultations whose first reply is due within
    REMIND_BEFORE, once per consultation and person; returns how many notices were queued."""
    stmt = sa.select(Consultation).where(
        Consultation.first_reply_at.is_(None),
        Consultation.state == ConsultationState.OPEN,
        Consultation.due_at > now,
        Consultation.due_at <= now + REMIND_BEFORE,
    )
    queued = 0
    for consultation in db.session.scalars(stmt):
        due = consultation.due_at.astimezone(BEIJING)
        queued += notifications.notify_once(
            consultation.institution.answering_users(),
            "consultation_due",
            "咨询即将超时",
            f"企业关于“{consultation.topic}”的咨询须在{due:%H:%M}前首次回复（《管理办法》第十四条）。",
            sms_params={"topic": consultation.topic[:20], "due": f"{due:%H:%M}"},
            key=f"consultation-due:{consultation.id}",
        )
    return queued


# --- lists and figures ---


def _unread(read_at):
    return sa.or_(read_at.is_(None), Consultation.last_message_at > read_at)


def for_client(user: User) -> list[Consultation]:
    stmt = (
        sa.select(Consultation)
        .options(selectinload(Consultation.institution))
        .where(Consultation.client_id == user.id)
        .order_by(Consultation.last_message_at.desc(), Consultation.id.desc())
    )
    return list(db.session.scalars(stmt))


def for_institution(institution: Institution) -> list[Consultation]:
    """Open and unanswered first (the oldest deadline first), then the rest, latest first."""
    unanswered = sa.and_(Consultation.first_reply_at.is_(None), Consultation.state == ConsultationState.OPEN)
    stmt = (
        sa.select(Consultation)
        .options(selectinload(Consultation.client))
        .where(Consultation.institution_id == institution.id)
        .order_by(
            sa.case((unanswered, 0), else_=1),
            sa.case((unanswered, Consultation.due_at)),
            Consultation.last_message_at.desc(),
        )
    )
    return list(db.session.scalars(stmt))


def unread_count(user: User) -> int:
    if user.role == Role.ENTERPRISE:
        where = sa.and_(Consultation.client_id == user.id, _unread(Consultation.client_read_at))
    else:
        institution = managed_institution(user)
        if institution is None:
            return 0
        where = sa.and_(
            Consultation.institution_id == institution.id, _unread(Consultation.institution_read_at)
        )
    return db.session.scalar(sa.select(sa.func.count()).select_from(Consultation).where(where)) or 0


def header_counts() -> dict:
    """For the header: how many threads hold messages the user has not read."""
    user = current_user
    if not user.is_authenticated or user.role not in (Role.ENTERPRISE, Role.INSTITUTION, Role.AGENT):
        return {}
    listed = user.answers_for_institution and managed_institution(user) is not None
    return {"unread_consultations": unread_count(user), "manages_institution": listed}


@dataclass(frozen=True)
class Figures:
    """Art. 14 figures of one institution over a period."""

    institution_id: int
    asked: int
    answered: int
    overdue: int
    unanswered: int
    average: timedelta | None  # average response time of the answered ones, as the rule counts

    @property
    def meets_average(self) -> bool | None:
        """Art. 14's "平均不大于2小时", taken over every answered consultation of the period."""
        return None if self.average is None else self.average <= WORKING_DAY_REPLY


def figures(
    start: datetime, end: datetime, now: datetime, institution_id: int | None = None
) -> list[Figures]:
    """Per institution, consultations asked in [start, end): one grouped query."""
    answered = Consultation.first_reply_at.is_not(None)
    late = sa.or_(
        Consultation.first_reply_at > Consultation.due_at, sa.and_(~answered, Consultation.due_at < now)
    )
    stmt = (
        sa.select(
            Consultation.institution_id,
            sa.func.count(),
            sa.func.count(Consultation.first_reply_at),
            sa.func.sum(sa.case((late, 1), else_=0)),
            sa.func.sum(sa.case((answered, 0), else_=1)),
            sa.func.avg(Consultation.response_seconds),
        )
        .where(Consultation.asked_at >= start, Consultation.asked_at < end)
        .group_by(Consultation.institution_id)
    )
    if institution_id is not None:
        stmt = stmt.where(Consultation.institution_id == institution_id)
    return [
        Figures(
            i,
            asked,
            done,
            int(overdue or 0),
            int(open_ or 0),
            timedelta(seconds=float(avg)) if avg is not None else None,
        )
        for i, asked, done, overdue, open_, avg in db.session.execute(stmt)
    ]


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The Beijing calendar month holding `now`, as aware moments."""
    local = now.astimezone(BEIJING)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


@dataclass(frozen=True)
class Upkeep:
    """Art. 13 on the workbench: what the homepage still lacks and by when it must be complete."""

    problems: list[str]
    deadline: date | None
    overdue: bool


def upkeep(institution: Institution, today: date) -> Upkeep:
    problems = homepage_problems(
        introduction=institution.introduction,
        address=institution.address,
        phone=institution.phone,
        services=[ServiceLine(s.category, s.featured, s.content or "") for s in institution.services],
        agents=len(institution.agents),
        certificates_valid_until=[q.valid_until for q in institution.qualifications],
        today=today,
    )
    due = upkeep_deadline(institution.opened_on, work_days.work_calendar()) if institution.opened_on else None
    return Upkeep(problems, due, bool(problems) and due is not None and today > due)

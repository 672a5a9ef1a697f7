"""Demo history for `flask qzt demo`: enterprises and two years of consultations, replies, deals and
case reports, so that the workbench, the staff figures and the coming assessment look like a platform in
use. Written straight to the tables (no notices: a demo must not queue SMS). The same every run for the
same clock and institutions."""

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from qzt.core import calendar as work_days
from qzt.extensions import db
from qzt.models import (
    CaseReport,
    CaseState,
    Consultation,
    ConsultationMessage,
    ConsultationState,
    DealState,
    Enterprise,
    Institution,
    Role,
    Side,
    User,
)
from qzt.rules.calendar import BEIJING

SEED = 2023_03_15
FIRST_PHONE = 13900010000  # demo enterprises: 13900010000, 13900010001, …
HISTORY_DAYS = 730
_BRANDS = "美格科顺华信德恒瑞海联达嘉宏创新丰泰盛源兴利"
_INDUSTRIES = (
    ("家电", "电器有限公司"),
    ("陶瓷", "陶瓷有限公司"),
    ("铝材", "铝业有限公司"),
    ("家具", "家具制造有限公司"),
    ("五金", "五金制品有限公司"),
    ("照明", "照明电器有限公司"),
    ("机械", "机械设备有限公司"),
    ("食品", "食品有限公司"),
)
_DISTRICTS = ("顺德区", "南海区", "禅城区", "三水区", "高明区")
_QUESTIONS = (
    "请问{title}一般需要多长时间？费用大概多少？",
    "我们是做{industry}的，想了解{title}需要准备哪些资料。",
    "出口欧盟的产品，{title}能否出具对应的报告？",
    "请问{title}可以上门服务吗？我们在{district}。",
    "新产品下月上市，{title}最快几天可以完成？",
)
_REPLIES = (
    "您好，{title}一般5至7个工作日完成，费用按项目报价，可先发产品资料给我们评估。",
    "您好，需要准备产品说明书、样品和企业营业执照复印件，我们可安排工程师对接。",
    "可以的，我们的报告获CNAS认可，欧盟客户普遍接受，详情可电话沟通。",
    "可以上门，{district}当天可到，请留下方便联系的时间。",
    "加急可3个工作日完成，加急费另计，请尽快寄送样品。",
)
_FOLLOW_UPS = (
    "好的，谢谢，我们准备一下样品。",
    "报价收到，我们内部确认后联系您。",
    "明白了，麻烦发一份报价单。",
)


@dataclass(frozen=True)
class HistoryResult:
    enterprises: int
    consultations: int
    cases: int


def create_history(
    institution_ids: list[int], now: datetime, password_hash: str, extra_clients: list[User]
) -> HistoryResult:
    """History for the given institutions (the first, the demo institution account's, gets the most);
    `extra_clients` (the demo enterprise account) ask too."""
    rng = random.Random(SEED)
    calendar = work_days.work_calendar()
    clients = _enterprises(rng, password_hash) + list(extra_clients)
    institutions = db.session.scalars(sa.select(Institution).where(Institution.id.in_(institution_ids))).all()
    order = {id_: i for i, id_ in enumerate(institution_ids)}
    consultations = cases = 0
    for institution in sorted(institutions, key=lambda i: order[i.id]):
        count = 45 if order[institution.id] == 0 else rng.randint(4, 24)
        for _ in range(count):
            asked = _asked_at(rng, institution, now)
            if asked is None:
                continue
            client = extra_clients[0] if extra_clients and rng.random() < 0.15 else rng.choice(clients)
            made = _consultation(rng, calendar, institution, client, asked, now)
            consultations += 1
            cases += made
    db.session.flush()
    return HistoryResult(len(clients) - len(extra_clients), consultations, cases)


def _enterprises(rng: random.Random, password_hash: str) -> list[User]:
    users = []
    for n in range(40):
        industry, ending = _INDUSTRIES[n % len(_INDUSTRIES)]
        name = f"佛山市{rng.choice(_DISTRICTS)}{''.join(rng.sample(_BRANDS, 2))}{ending}"
        user = User(phone=str(FIRST_PHONE + n), name=name, role=Role.ENTERPRISE, password_hash=password_hash)
        db.session.add(user)
        db.session.flush()
        db.session.add(Enterprise(user_id=user.id, name=name))
        users.append(user)
    return users


def _asked_at(rng: random.Random, institution: Institution, now: datetime) -> datetime | None:
    """A moment in the last two years after the institution opened: mostly office hours, some nights."""
    earliest = now - timedelta(days=HISTORY_DAYS)
    if institution.opened_on:
        earliest = max(earliest, datetime.combine(institution.opened_on, time(9), BEIJING))
    span = (now - timedelta(hours=1) - earliest).total_seconds()
    if span <= 0:
        return None
    day = (earliest + timedelta(seconds=rng.random() * span)).astimezone(BEIJING)
    hour = rng.choices((rng.randint(8, 17), rng.randint(18, 22), rng.randint(0, 7)), weights=(80, 15, 5))[0]
    return day.replace(hour=hour, minute=rng.randint(0, 59), second=0, microsecond=0)


def _consultation(
    rng, calendar, institution: Institution, client: User, asked: datetime, now: datetime
) -> int:
    """One consultation with its messages, perhaps a deal and a case report; 1 when it made a case."""
    item = rng.choice(institution.services) if institution.services and rng.random() < 0.9 else None
    title = item.title if item else "相关服务"
    industry = rng.choice(_INDUSTRIES)[0]
    district = rng.choice(_DISTRICTS)
    words = {"title": title, "industry": industry, "district": district}
    due = calendar.reply_deadline(asked)
    allowance = due - asked
    recent = now - asked < timedelta(days=2)
    outcome = rng.random()
    if recent and outcome < 0.35:
        reply_at = None  # still waiting
    elif outcome < 0.8:
        reply_at = asked + timedelta(seconds=rng.random() * max(allowance.total_seconds() * 0.9, 600))
    else:
        reply_at = due + timedelta(minutes=rng.randint(10, 600))  # late
    if reply_at is not None and reply_at > now:
        reply_at = None
    consultation = Consultation(
        institution_id=institution.id,
        client_id=client.id,
        service_item_id=item.id if item else None,
        topic=title if item else "其他",
        asked_at=asked,
        due_at=due,
        last_message_at=asked,
        client_read_at=asked,
    )
    question = rng.choice(_QUESTIONS).format(**words)
    consultation.messages.append(
        ConsultationMessage(author_id=client.id, side=Side.CLIENT, body=question, created_at=asked)
    )
    made_case = 0
    if reply_at is not None:
        answer = rng.choice(_REPLIES).format(**words)
        consultation.messages.append(
            ConsultationMessage(
                author_id=institution.owner_id or client.id,
                side=Side.INSTITUTION,
                body=answer,
                created_at=reply_at,
            )
        )
        consultation.first_reply_at = reply_at
        consultation.response_seconds = int(calendar.response_time(asked, reply_at).total_seconds())
        consultation.last_message_at = consultation.institution_read_at = reply_at
        follow_up = reply_at + timedelta(minutes=rng.randint(20, 600))
        if follow_up < now and rng.random() < 0.6:
            consultation.messages.append(
                ConsultationMessage(
                    author_id=client.id, side=Side.CLIENT, body=rng.choice(_FOLLOW_UPS), created_at=follow_up
                )
            )
            consultation.last_message_at = follow_up
        consultation.client_read_at = consultation.last_message_at
        if now - reply_at > timedelta(days=3):
            consultation.state, consultation.closed_at = (
                ConsultationState.CLOSED,
                reply_at + timedelta(days=3),
            )
            consultation.closed_by_id = client.id
            consultation.institution_read_at = consultation.last_message_at
        if rng.random() < 0.3 and now - reply_at > timedelta(days=1):
            made_case = _deal(rng, consultation, institution, client, question, answer, reply_at, now)
    db.session.add(consultation)
    return made_case


def _deal(rng, consultation, institution, client, question, answer, reply_at, now) -> int:
    marked = reply_at + timedelta(days=rng.randint(1, 10))
    if marked >= now:
        return 0
    consultation.deal_state, consultation.deal_marked_at = DealState.CLAIMED, marked
    decision = rng.random()
    if decision < 0.8 and marked + timedelta(days=2) < now:
        consultation.deal_state, consultation.deal_confirmed_at = (
            DealState.CONFIRMED,
            marked + timedelta(days=2),
        )
    elif decision < 0.9:
        consultation.deal_state = DealState.DISPUTED
    submitted = rng.random() < 0.75 and marked + timedelta(days=3) < now
    db.session.add(
        CaseReport(
            consultation=consultation,
            institution_id=institution.id,
            asked_at=consultation.asked_at,
            client_name=client.name,
            client_contact=client.phone,
            topic=consultation.topic,
            details=question,
            reply_summary=answer,
            deal_status=rng.choice(("已签订服务合同", "已委托检测并出具报告", "已完成首批样品服务")),
            saved_amount=Decimal(rng.randint(5, 200) * 100),
            state=CaseState.SUBMITTED if submitted else CaseState.DRAFT,
            submitted_at=marked + timedelta(days=3) if submitted else None,
        )
    )
    return 1
